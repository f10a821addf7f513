#include "notify/http_poster.h"

#include <curl/curl.h>

#include <mutex>

namespace lp::notify {

namespace {

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

}  // namespace

int CurlHttpPoster::openSocket(void* self, int purpose, void* address) {
  auto* me = static_cast<CurlHttpPoster*>(self);
  auto* a = static_cast<curl_sockaddr*>(address);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  if (me->check_) {
    if (auto why = me->check_(&a->addr, a->addrlen)) {
      me->refused_ = *why;
      return CURL_SOCKET_BAD;
    }
  }
  return ::socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

int CurlHttpPoster::progress(void* self, long long, long long, long long, long long) {
  auto* me = static_cast<CurlHttpPoster*>(self);
  return me->cancel_ && me->cancel_->load() ? 1 : 0;
}

CurlHttpPoster::CurlHttpPoster(std::chrono::milliseconds connectTimeout, std::chrono::milliseconds totalTimeout,
                               std::string caFile)
    : connectTimeout_(connectTimeout), totalTimeout_(totalTimeout), caFile_(std::move(caFile)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
}

CurlHttpPoster::~CurlHttpPoster() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

HttpPostResult CurlHttpPoster::post(const std::string& url, const HeaderPairs& headers, const std::string& body) {
  HttpPostResult r;
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) {
    r.error = "libcurl could not be initialised";
    return r;
  }
  curl_easy_reset(c);
  curl_slist* hl = nullptr;
  for (const auto& [k, v] : headers) hl = curl_slist_append(hl, (k + ": " + v).c_str());
  hl = curl_slist_append(hl, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // never http_proxy & co. from the environment
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, +[](void* p, curlsocktype purpose, curl_sockaddr* a) {
    return static_cast<curl_socket_t>(openSocket(p, purpose, a));
  });
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, this);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION,
                   +[](void* p, curl_off_t a, curl_off_t b, curl_off_t x, curl_off_t y) { return progress(p, a, b, x, y); });
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, this);
  refused_.clear();
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!caFile_.empty()) {  // these CAs only: not also the directory libcurl was built with (/etc/ssl/certs)
    curl_easy_setopt(c, CURLOPT_CAINFO, caFile_.c_str());
    curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);
  }
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connectTimeout_.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(totalTimeout_.count()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    r.status = static_cast<int>(status);
    if (!r.ok()) r.error = "HTTP " + std::to_string(status);
  } else if (!refused_.empty()) {
    r.error = "not sent: " + refused_;
  } else {
    r.error = curl_easy_strerror(rc);
  }
  curl_slist_free_all(hl);
  return r;
}

}  // namespace lp::notify
