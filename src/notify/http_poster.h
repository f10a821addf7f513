// HttpPoster: one HTTP(S) POST with a bounded time, the notifier's only network
// access (an interface so tests can count or fail posts). CurlHttpPoster does it
// with libcurl: http and https only, no redirects, certificates verified against
// the system trust store or, when caFile is set, against the CAs in that PEM file
// only (a self-hosted subscriber's own CA).
// Thread-safety: post() may be called from one thread at a time per instance.
#pragma once

#include <chrono>
#include <string>

#include "notify/message.h"

namespace lp::notify {

struct HttpPostResult {
  int status = 0;     // HTTP status; 0 when no HTTP answer came
  std::string error;  // why, when status is 0
  bool ok() const { return status >= 200 && status < 300; }
};

class HttpPoster {
 public:
  virtual ~HttpPoster() = default;
  virtual HttpPostResult post(const std::string& url, const HeaderPairs& headers, const std::string& body) = 0;
};

class CurlHttpPoster final : public HttpPoster {
 public:
  explicit CurlHttpPoster(std::chrono::milliseconds connectTimeout = std::chrono::seconds(3),
                          std::chrono::milliseconds totalTimeout = std::chrono::seconds(15), std::string caFile = {});
  ~CurlHttpPoster() override;
  HttpPostResult post(const std::string& url, const HeaderPairs& headers, const std::string& body) override;

 private:
  void* curl_;  // CURL*, reused so connections are kept alive
  std::chrono::milliseconds connectTimeout_;
  std::chrono::milliseconds totalTimeout_;
  std::string caFile_;  // "" = the system trust store
};

}  // namespace lp::notify
