#include "api/console/console_service.h"

#include <nlohmann/json.hpp>

#include "api/console/console_assets.h"
#include "api/console/console_json.h"
#include "api/params.h"
#include "api/sigv4.h"
#include "common/strings.h"

namespace lp::api::console {

HttpResponse consoleJson(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.contentType = "application/json";
  // replace: a message may quote what the client sent, which need not be UTF-8.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

namespace {

// No inline script or style, nothing from another origin, no framing.
constexpr std::string_view kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

void secure(HttpResponse& r) {
  r.headers.emplace_back("Content-Security-Policy", std::string(kCsp));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  r.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
}

HttpResponse json(int status, const nlohmann::json& body) { return consoleJson(status, body); }

HttpResponse jsonError(int status, std::string_view code, std::string_view message) {
  return json(status, {{"code", code}, {"message", message}});
}

std::string cookieValue(const HttpRequest& req, std::string_view name) {
  const std::string* cookie = req.header("cookie");
  if (!cookie) return "";
  for (auto part : split(*cookie, ';')) {
    std::string p = trim(part);
    if (p.size() > name.size() && p.substr(0, name.size()) == name && p[name.size()] == '=')
      return p.substr(name.size() + 1);
  }
  return "";
}

std::string pathOf(std::string_view target) { return std::string(target.substr(0, target.find('?'))); }

}  // namespace

bool isConsoleTarget(std::string_view target) {
  return target == "/console" || target.starts_with("/console/") || target.starts_with("/console?");
}

ConsoleService::ConsoleService(const ApiService& api, const control::ControlContext& ctx, ConsoleOptions options)
    : api_(api),
      ctx_(ctx),
      options_(std::move(options)),
      sessions_(ctx.clock, options_.sessionLifetime),
      limiter_(ctx.clock, options_.signInLimits) {}

HttpResponse ConsoleService::handle(const HttpRequest& req) {
  std::string path = pathOf(req.target);
  HttpResponse r;
  if (req.method == "GET" && path == "/console") {
    r.status = 302;
    r.contentType = "text/plain";
    r.headers.emplace_back("Location", "/console/");
  } else if (path == "/console/session" && req.method == "GET") {
    r = whoAmI(req);
  } else if (path == "/console/session" && req.method == "POST") {
    r = signIn(req);
  } else if (path == "/console/signout" && req.method == "POST") {
    r = signOut(req);
  } else if (path.starts_with("/console/api/") && req.method == "POST") {
    r = apiCall(req, std::string_view(path).substr(std::string_view("/console/api/").size()));
  } else if (path == "/console/lifecycle" && req.method == "POST") {
    r = lifecycle(req);
  } else if (req.method == "GET") {
    r = asset(path == "/console/" ? "index.html" : std::string_view(path).substr(std::string_view("/console/").size()));
  } else {
    r = jsonError(405, "MethodNotAllowed", "The console does not accept " + req.method + " " + path + ".");
  }
  secure(r);
  return r;
}

HttpResponse ConsoleService::asset(std::string_view name) const {
  for (const auto& a : consoleAssets()) {
    if (a.path != name) continue;
    HttpResponse r;
    r.contentType = std::string(a.contentType);
    r.body = std::string(a.bytes);
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  }
  HttpResponse r;
  r.status = 404;
  r.contentType = "text/plain";
  r.body = "Not found";
  return r;
}

namespace {

// What a session remembers of the key it signed in with (never the secret itself).
std::string credentialOf(const model::Account& a) { return a.accessKeyId + ":" + sha256Hex(a.secretAccessKey); }

// The account a session acts as, while that account still has the session's key.
const model::Account* accountOf(const ConsoleSession& s, const control::Settings& settings) {
  const model::Account* a = settings.region.accountById(s.account);
  return a && constantTimeEquals(credentialOf(*a), s.credential) ? a : nullptr;
}

}  // namespace

std::optional<ConsoleSession> ConsoleService::sessionOf(const HttpRequest& req, const control::Settings& settings) {
  std::string id = cookieValue(req, kCookieName);
  if (id.empty()) return std::nullopt;
  auto s = sessions_.find(id);
  if (s && !accountOf(*s, settings)) {
    sessions_.remove(s->id);  // its key was removed or rotated by a reload
    return std::nullopt;
  }
  return s;
}

size_t ConsoleService::endSessionsOfChangedKeys() {
  const auto settings = ctx_.settings();
  return sessions_.removeUnless([&](const ConsoleSession& s) { return accountOf(s, *settings) != nullptr; });
}

// Only a page served from this listener may post: its Origin is http(s)://<Host>.
static bool sameOrigin(const HttpRequest& req) {
  const std::string* origin = req.header("origin");
  const std::string* host = req.header("host");
  if (!origin || !host || host->empty()) return false;
  return *origin == "http://" + *host || *origin == "https://" + *host;
}

std::optional<ConsoleSession> ConsoleService::authorize(const HttpRequest& req, const control::Settings& settings,
                                                       HttpResponse& refusal) {
  if (!sameOrigin(req)) {
    refusal = jsonError(403, "InvalidOrigin", "The request did not come from the console's own page.");
    return std::nullopt;
  }
  auto s = sessionOf(req, settings);
  if (!s) {
    refusal = jsonError(401, "NotSignedIn", "Your console session has ended. Sign in again.");
    return std::nullopt;
  }
  const std::string* token = req.header(kCsrfHeader);
  if (!token || !constantTimeEquals(*token, s->csrf)) {
    refusal = jsonError(403, "InvalidCsrfToken", "The request did not carry this session's console token.");
    return std::nullopt;
  }
  return s;
}

HttpResponse ConsoleService::signIn(const HttpRequest& req) {
  if (!sameOrigin(req)) return jsonError(403, "InvalidOrigin", "The request did not come from the console's own page.");
  auto form = Params::parseForm(req.body);
  if (!form.ok()) return jsonError(400, form.status().code(), form.status().message());
  std::string key = std::string(trim(form->get("accessKeyId")));
  std::string secret = form->get("secretAccessKey");
  // Through an endpoint the peer is the data plane; the client is the PROXY header's.
  std::vector<std::string> limitKeys = {"address " + (req.sourceIp.empty() ? req.peerIp : req.sourceIp),
                                        "key " + key.substr(0, 128)};
  if (auto wait = limiter_.blocked(limitKeys)) {
    HttpResponse r = jsonError(429, "TooManySignInAttempts",
                               "Too many failed sign-in attempts from this address or for this access key. Try "
                               "again in " +
                                   std::to_string(wait->count()) + (wait->count() == 1 ? " second." : " seconds."));
    r.headers.emplace_back("Retry-After", std::to_string(wait->count()));
    return r;
  }
  const auto settings = ctx_.settings();
  const model::Account* account = key.empty() ? nullptr : settings->region.accountByKey(key);
  // One answer for an unknown key and a wrong secret: neither says which was wrong.
  if (!account || !constantTimeEquals(account->secretAccessKey, secret)) {
    limiter_.failed(limitKeys);
    return jsonError(401, "InvalidClientTokenId",
                     "The access key ID or secret access key is not valid for this region's accounts.");
  }
  limiter_.succeeded(limitKeys);
  ConsoleSession s = sessions_.create(account->id, credentialOf(*account));
  HttpResponse r = json(200, {{"accountId", account->id},
                              {"accountName", account->name},
                              {"accessKeyId", account->accessKeyId},
                              {"region", ctx_.regionName()},
                              {"csrf", s.csrf},
                              {"expiresInSeconds", sessions_.lifetime().count()}});
  r.headers.emplace_back(
      "Set-Cookie", std::string(kCookieName) + "=" + s.id + "; Path=/console; HttpOnly; SameSite=Strict; Max-Age=" +
                        std::to_string(sessions_.lifetime().count()) + (req.overTls ? "; Secure" : ""));
  return r;
}

HttpResponse ConsoleService::whoAmI(const HttpRequest& req) {
  const auto settings = ctx_.settings();
  auto s = sessionOf(req, *settings);
  if (!s) return jsonError(401, "NotSignedIn", "Sign in with an access key ID and secret access key.");
  const model::Account* account = accountOf(*s, *settings);
  if (!account) return jsonError(401, "NotSignedIn", "This account is no longer configured.");
  auto left = std::chrono::duration_cast<std::chrono::seconds>(s->expires - ctx_.clock.now()).count();
  return json(200, {{"accountId", account->id},
                    {"accountName", account->name},
                    {"accessKeyId", account->accessKeyId},
                    {"region", ctx_.regionName()},
                    {"zones", ctx_.zoneIds().size()},
                    {"csrf", s->csrf},
                    {"expiresInSeconds", left}});
}

HttpResponse ConsoleService::signOut(const HttpRequest& req) {
  HttpResponse refusal;
  auto s = authorize(req, *ctx_.settings(), refusal);
  if (!s) return refusal;
  sessions_.remove(s->id);
  HttpResponse r = json(200, {{"signedOut", true}});
  r.headers.emplace_back("Set-Cookie", std::string(kCookieName) +
                                           "=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0" +
                                           (req.overTls ? "; Secure" : ""));
  return r;
}

HttpResponse ConsoleService::apiCall(const HttpRequest& req, std::string_view service) {
  // One snapshot for the call: the session's key is checked against it and the
  // account handed to the API stays valid in it until the call returns.
  const auto settings = ctx_.settings();
  HttpResponse refusal;
  auto s = authorize(req, *settings, refusal);
  if (!s) return refusal;
  // monitoring: the traffic charts read CloudWatch's figures as the session's account.
  if (service != "ec2" && service != "elasticloadbalancing" && service != "sns" && service != "monitoring")
    return jsonError(404, "UnknownService", "The console calls ec2, elasticloadbalancing, sns and monitoring only.");
  const model::Account* account = accountOf(*s, *settings);
  if (!account) return jsonError(401, "NotSignedIn", "This account is no longer configured.");
  HttpResponse r = api_.callAs(service, *account, req.body, req.sourceIp);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace lp::api::console
