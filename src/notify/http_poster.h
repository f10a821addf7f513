// HttpPoster: one HTTP(S) POST with a bounded time, the notifier's only network
// access (an interface so tests can count or fail posts). CurlHttpPoster does it
// with libcurl: http and https only, no redirects, certificates verified against
// the system trust store or, when caFile is set, against the CAs in that PEM file
// only (a self-hosted subscriber's own CA). No proxy from the environment: the
// address check below must see the subscriber's address, not a proxy's.
// Thread-safety: post() may be called from one thread at a time per instance.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
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

// Asked for every address a connection is about to be opened to (after the name
// was resolved, so a DNS answer that changed since Subscribe cannot slip past):
// nullopt lets it through, a reason refuses it and no socket is made.
using AddressCheck = std::function<std::optional<std::string>(const sockaddr* addr, socklen_t len)>;

class CurlHttpPoster final : public HttpPoster {
 public:
  explicit CurlHttpPoster(std::chrono::milliseconds connectTimeout = std::chrono::seconds(3),
                          std::chrono::milliseconds totalTimeout = std::chrono::seconds(15), std::string caFile = {});
  ~CurlHttpPoster() override;
  HttpPostResult post(const std::string& url, const HeaderPairs& headers, const std::string& body) override;
  // Set before the first post.
  void setAddressCheck(AddressCheck check) { check_ = std::move(check); }
  // When *cancel turns true a post in progress ends within about a second (curl's
  // progress callback), so stopping the daemon does not wait out a 15 s timeout.
  void setCancel(const std::atomic<bool>* cancel) { cancel_ = cancel; }

 private:
  static int openSocket(void* self, int purpose, void* address);
  static int progress(void* self, long long, long long, long long, long long);
  AddressCheck check_;
  const std::atomic<bool>* cancel_ = nullptr;
  std::string refused_;  // why the last connection was refused
  void* curl_;  // CURL*, reused so connections are kept alive
  std::chrono::milliseconds connectTimeout_;
  std::chrono::milliseconds totalTimeout_;
  std::string caFile_;  // "" = the system trust store
};

}  // namespace lp::notify
