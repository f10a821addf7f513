// ConsoleService: the VPC console at /console/ on the API listener. It serves the
// embedded page (console_assets.h), signs a browser in with an account's access key
// and secret, and runs the page's calls through ApiService::callAs() as the
// session's account, so the console and the SigV4 API share every handler and every
// authorization rule. It adds no rule of its own about resources.
//
// Protection of a session: the cookie is HttpOnly, SameSite=Strict, Path=/console,
// expires, and is Secure when the page came over the HTTPS listener; every POST must
// come from the console's own origin (Origin header equal to the Host it was sent to)
// and, once signed in, carry the session's CSRF token in X-Lp-Csrf, which only a page
// of that origin can read (GET /console/session sends no CORS headers). Responses
// carry a strict Content-Security-Policy. Failed sign-ins slow down further ones from
// that address and for that key (signin_limiter.h).
//
// Owned by ApiService. Thread-safe: handle() runs on any HTTP thread.
#pragma once

#include <chrono>
#include <string>

#include "api/api_service.h"
#include "api/console/session_table.h"
#include "api/console/signin_limiter.h"

namespace lp::api::console {

struct ConsoleOptions {
  std::chrono::seconds sessionLifetime{std::chrono::hours(8)};
  SignInLimits signInLimits;
};

inline constexpr std::string_view kCookieName = "lp_console";
inline constexpr std::string_view kCsrfHeader = "x-lp-csrf";

bool isConsoleTarget(std::string_view target);

class ConsoleService {
 public:
  ConsoleService(const ApiService& api, const control::ControlContext& ctx, ConsoleOptions options);
  HttpResponse handle(const HttpRequest& req);
  // After a reload: ends the sessions whose key is gone or changed (they would end
  // at their next request anyway); returns how many.
  size_t endSessionsOfChangedKeys();

 private:
  HttpResponse asset(std::string_view name) const;
  HttpResponse signIn(const HttpRequest& req);
  HttpResponse whoAmI(const HttpRequest& req);
  HttpResponse signOut(const HttpRequest& req);
  HttpResponse apiCall(const HttpRequest& req, std::string_view service);
  HttpResponse lifecycle(const HttpRequest& req);  // console_lifecycle.cc
  // The session of a state-changing request, after the origin and CSRF checks;
  // otherwise the refusal to send.
  // settings: the snapshot the request holds; a session whose key it lacks ends.
  std::optional<ConsoleSession> authorize(const HttpRequest& req, const control::Settings& settings,
                                          HttpResponse& refusal);
  std::optional<ConsoleSession> sessionOf(const HttpRequest& req, const control::Settings& settings);

  const ApiService& api_;
  const control::ControlContext& ctx_;
  ConsoleOptions options_;
  SessionTable sessions_;
  SignInLimiter limiter_;
};

}  // namespace lp::api::console
