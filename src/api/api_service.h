// ApiService: one HTTP request in, one HTTP response out. Verifies SigV4, picks the
// account, decodes the form, dispatches (service, Action) to a handler and wraps
// the result in the protocol's envelope (EC2 or Query) or error document.
// Independent of the HTTP server, so tests and fuzzers call handle() directly.
//
// Thread-safety: handle() may run concurrently on any number of threads; the
// router is immutable after construction.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "api/console/signin_limiter.h"
#include "api/document.h"
#include "api/in_flight.h"
#include "api/params.h"
#include "api/sigv4.h"
#include "api/throttle.h"
#include "api/xml_writer.h"
#include "control/context.h"

namespace lp::metrics {
class SeriesStore;
}
namespace lp::audit {
class AuditLog;
}

namespace lp::api {

namespace console {
class ConsoleService;
}

struct HttpRequest {
  std::string method;
  std::string target;
  HeaderList headers;
  std::string body;
  // The client's address: the TCP peer, or, when the request came through an
  // interface endpoint (the data plane's PROXY v2 header), the client's address in
  // its VPC, with the endpoint in sourceVpce.
  std::string sourceIp;
  std::string sourceVpce;
  // The TCP peer's address (for a request through an endpoint, the data plane's
  // loopback address; sourceIp is the client) and whether it came over TLS (the
  // HTTPS listener): the console limits sign-in attempts by address and marks its
  // cookie Secure over HTTPS.
  std::string peerIp;
  bool overTls = false;
  const std::string* header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string contentType = "text/xml;charset=UTF-8";
  std::string body;
  HeaderList headers;  // extra response headers (the console's cookies and security headers)
  std::string errorCode;  // an error response's AWS code ("" = success), for the request metrics
  // A throttling refusal: how long until the account's bucket could grant a token. The
  // HTTP server holds this connection's next read at least that long (doubling while its
  // requests keep being refused, up to HttpServerOptions::refusalHoldMax). 0: no hold.
  std::chrono::microseconds refusalHold{0};
};

// kJson: the JSON 1.1 protocol (X-Amz-Target), CloudTrail's LookupEvents only.
enum class Protocol { kEc2, kQuery, kJson };

struct ServiceInfo {
  std::string_view signingName;
  std::string_view xmlns;
  Protocol protocol;
};

const ServiceInfo* serviceBySigningName(std::string_view name);

// What a handler sees. It writes the children of <ActionResponse> (EC2) or of
// <ActionResult> (Query) into out, and returns ok or the error to send instead.
struct HandlerContext {
  control::CallContext& call;
  const Params& params;
  XmlWriter& out;
  const model::RegionConfig& region;
};
using Handler = std::function<Status(HandlerContext&)>;

// An operation served in the JSON protocols too (awsJson1_0, Smithy RPC v2 CBOR):
// the handler reads the request as Query-style Params (a JSON or CBOR body is
// flattened to them) and returns its output as a Doc, which each protocol writes.
using DocHandler = std::function<Result<Doc>(const control::CallContext&, const Params&)>;

struct Route {
  Handler handler;
  // Query protocol: whether the operation has an output shape (<XResult> present).
  bool hasResult = true;
};

class Router {
 public:
  void add(std::string_view signingName, std::string_view action, Handler h, bool hasResult = true);
  const Route* find(std::string_view signingName, std::string_view action) const;
  // One handler for the three protocols: also added as the Query route (the Doc
  // written as the <ActionResult> members).
  void addDocument(std::string_view signingName, std::string_view action, DocHandler h);
  const DocHandler* findDocument(std::string_view signingName, std::string_view action) const;

 private:
  std::map<std::string, Route, std::less<>> routes_;
  std::map<std::string, DocHandler, std::less<>> documents_;
};

// HTTP status for an error code under a protocol (the one mapping table).
int httpStatusFor(Protocol protocol, std::string_view code);

// What guards the API beyond authorization: throttling and the audit log.
struct ApiOptions {
  std::optional<ThrottleConfig> throttle;  // none: no throttling (unit tests, fuzzers)
  audit::AuditLog* audit = nullptr;        // none: nothing recorded; owned by the daemon
  std::string auditDir;                    // read by LookupEvents ("": no events)
  console::SignInLimits consoleSignIn;     // the console's sign-in backoff ([console])
};

class ApiService {
 public:
  // metrics: the CloudWatch figures (null: the data plane is off, no figures);
  // the console's traffic charts read them through GetMetricData too.
  explicit ApiService(control::ControlContext& ctx, const metrics::SeriesStore* metrics = nullptr,
                      ApiOptions options = {});
  ~ApiService();
  HttpResponse handle(const HttpRequest& req) const;
  // The answer handle() would give when it needs no signature check and nothing that
  // may block: a malformed or unknown credential, an account already over its limit
  // (early_refusal.h); nullopt for everything else. The HTTP server calls it on its
  // I/O threads, so a flooding account's refusals never wait for, or hand off to, the
  // threads that run the calls.
  std::optional<HttpResponse> answerAtOnce(const HttpRequest& req) const;
  // One Query/EC2 form body as account, already authenticated by the caller (the
  // console's session): the same routes, handlers and authorization as a signed request.
  // sourceIp: the console's client, for the audit log.
  HttpResponse callAs(std::string_view signingName, const model::Account& account, std::string_view formBody,
                      std::string_view sourceIp = {}) const;
  // After ControlContext::replaceSettings (a reload): the throttle keeps buckets for
  // exactly the accounts now configured, and console sessions signed in with a key
  // that is gone or changed end. Returns how many sessions ended.
  size_t settingsChanged();
  // Maximum skew between X-Amz-Date and our clock.
  static constexpr std::chrono::minutes kMaxClockSkew{15};

 private:
  // What the request log says of a request, filled in as handle() learns it.
  // The audit log's fields come from here too.
  struct RequestNote {
    std::string service, action, account;
    std::string accessKeyId, sourceIp, sourceVpce;
  };
  // handle() and answerAtOnce(): atOnceOnly stops (nullopt) before the signature check.
  std::optional<HttpResponse> answer(const HttpRequest& req, bool atOnceOnly) const;
  std::optional<HttpResponse> handleRequest(const HttpRequest& req, RequestNote& note, bool atOnceOnly) const;
  void countRequest(const RequestNote& note, const HttpResponse& resp, std::chrono::steady_clock::duration took) const;
  // After authentication (SigV4 or a console session); note: the request log's, if any.
  // region and account: from the snapshot the caller holds for the request.
  HttpResponse dispatch(const ServiceInfo& svc, const model::RegionConfig& region, const model::Account& account,
                        std::string_view formBody,
                        const std::string& requestId, RequestNote* note = nullptr) const;
  HttpResponse errorResponse(const ServiceInfo& svc, const Status& st, const std::string& requestId) const;
  // CloudTrail's LookupEvents (JSON protocol), after authentication.
  HttpResponse dispatchJson(const ServiceInfo& svc, const model::Account& account, const HttpRequest& req,
                            const std::string& requestId, RequestNote& note) const;
  // CloudWatch in awsJson1_0 or Smithy RPC v2 CBOR, after authentication.
  HttpResponse dispatchDocument(const ServiceInfo& svc, const model::Account& account, const HttpRequest& req,
                                const std::string& requestId, RequestNote& note) const;
  // RequestLimitExceeded / Throttling / ThrottlingException when the account's bucket
  // for this kind of call is empty (recorded if the call would have changed something).
  // Also when the account already has its maximum of calls running (in_flight.h);
  // otherwise *slot holds this call's place among them until it goes out of scope.
  std::optional<HttpResponse> throttled(const ServiceInfo& svc, const model::Account& account, std::string_view action,
                                        const std::string& requestId, const RequestNote* note,
                                        std::optional<InFlightLimiter::Slot>* slot) const;
  // The throttled call's answer (recorded if the call would have changed something).
  HttpResponse throttledResponse(const ServiceInfo& svc, const model::Account& account, std::string_view action,
                                 const std::string& requestId, const RequestNote* note) const;
  // One audit record of a mutating call (or a refused request: refused = true).
  void record(const RequestNote& note, const model::Account* account, bool readOnly, std::vector<std::string> resources,
              const Status& result, int httpStatus, const std::string& requestId, bool refused) const;

  control::ControlContext& ctx_;
  Router router_;
  ApiOptions options_;
  std::unique_ptr<AccountThrottle> throttle_;  // null: no throttling
  std::unique_ptr<InFlightLimiter> inFlight_;  // null: no cap on calls running at once
  std::unique_ptr<console::ConsoleService> console_;  // the page at /console/
};

}  // namespace lp::api
