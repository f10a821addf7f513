#include "api/api_service.h"

#include <array>

#include "api/console/console_service.h"
#include "api/handlers.h"
#include "api/sns/sns_public.h"
#include "common/log.h"
#include "common/strings.h"
#include "control/metrics_attribution.h"

namespace lp::api {

namespace {

constexpr std::array<ServiceInfo, 5> kServices{{
    {"ec2", "http://ec2.amazonaws.com/doc/2016-11-15/", Protocol::kEc2},
    {"elasticloadbalancing", "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/", Protocol::kQuery},
    {"sns", "http://sns.amazonaws.com/doc/2010-03-31/", Protocol::kQuery},
    {"sts", "https://sts.amazonaws.com/doc/2011-06-15/", Protocol::kQuery},
    {"monitoring", "http://monitoring.amazonaws.com/doc/2010-08-01/", Protocol::kQuery},
}};

constexpr std::string_view kXmlDecl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

// The auth error a protocol uses for each failure (EC2 answers AuthFailure for all).
Status authError(Protocol p, std::string_view queryCode, std::string_view message) {
  if (p == Protocol::kEc2) return Status("AuthFailure", std::string(message));
  return Status(std::string(queryCode), std::string(message));
}

}  // namespace

const ServiceInfo* serviceBySigningName(std::string_view name) {
  for (auto& s : kServices)
    if (s.signingName == name) return &s;
  return nullptr;
}

const std::string* HttpRequest::header(std::string_view name) const {
  for (auto& [k, v] : headers)
    if (k.size() == name.size() && toLower(k) == toLower(name)) return &v;
  return nullptr;
}

void Router::add(std::string_view signingName, std::string_view action, Handler h, bool hasResult) {
  routes_[std::string(signingName) + "/" + std::string(action)] = Route{std::move(h), hasResult};
}

const Route* Router::find(std::string_view signingName, std::string_view action) const {
  auto it = routes_.find(std::string(signingName) + "/" + std::string(action));
  return it == routes_.end() ? nullptr : &it->second;
}

ApiService::ApiService(control::ControlContext& ctx, const metrics::SeriesStore* metrics) : ctx_(ctx) {
  registerAllHandlers(router_, ctx, metrics);
  console_ = std::make_unique<console::ConsoleService>(*this, ctx, console::ConsoleOptions{});
}

ApiService::~ApiService() = default;

HttpResponse ApiService::errorResponse(const ServiceInfo& svc, const Status& st, const std::string& requestId) const {
  HttpResponse resp;
  resp.status = httpStatusFor(svc.protocol, st.code());
  XmlWriter x;
  x.raw(kXmlDecl);
  if (svc.protocol == Protocol::kEc2) {
    auto r = x.scope("Response");
    {
      auto es = x.scope("Errors");
      auto e = x.scope("Error");
      x.leaf("Code", st.code());
      x.leaf("Message", st.message());
    }
    x.leaf("RequestID", requestId);
  } else {
    x.openWithXmlns("ErrorResponse", svc.xmlns);
    {
      auto e = x.scope("Error");
      x.leaf("Type", resp.status >= 500 ? "Receiver" : "Sender");
      x.leaf("Code", st.code());
      x.leaf("Message", st.message());
    }
    x.leaf("RequestId", requestId);
    x.close("ErrorResponse");
  }
  resp.body = std::move(x.str());
  return resp;
}

HttpResponse ApiService::handle(const HttpRequest& req) const {
  // The console (its page, session and calls) shares the listener, not the SigV4 path.
  if (console::isConsoleTarget(req.target)) return console_->handle(req);
  RequestNote note;
  HttpResponse resp = handleRequest(req, note);
  // Requests through an interface endpoint are attributed to it, as AWS does in
  // the aws:SourceVpce and aws:SourceVpc condition keys and in CloudTrail.
  if (!req.sourceVpce.empty())
    LP_LOG_INFO("api: {} {} by {} from {} aws:SourceVpce={} aws:SourceVpc={} -> {}", note.service, note.action,
                note.account.empty() ? "-" : note.account, req.sourceIp, req.sourceVpce,
                control::vpcOfEndpoint(ctx_, req.sourceVpce), resp.status);
  return resp;
}

HttpResponse ApiService::handleRequest(const HttpRequest& req, RequestNote& note) const {
  const std::string requestId = ctx_.random.uuid();
  const ServiceInfo& ec2 = kServices[0];

  const std::string* authz = req.header("authorization");
  // SNS's SubscribeURL and SigningCertURL work without SigV4 (only those two).
  if (!authz) {
    if (auto r = handleSnsPublicGet(req, ctx_, requestId)) return std::move(*r);
  }
  if (!authz) return errorResponse(ec2, authError(Protocol::kEc2, "MissingAuthenticationToken",
                                                  "AWS was not able to validate the provided access credentials"),
                                   requestId);
  auto parsed = parseAuthorization(*authz);
  if (!parsed.ok()) return errorResponse(ec2, parsed.status(), requestId);
  const SigV4Header& auth = parsed.value();
  const ServiceInfo* svc = serviceBySigningName(auth.credential.service);
  note.service = auth.credential.service;
  if (!svc)
    return errorResponse(ec2, Status("AuthFailure", "Credential should be scoped to a valid service, not '" +
                                                        auth.credential.service + "'."),
                         requestId);
  if (req.method != "POST")
    return errorResponse(*svc, Status("InvalidAction", "Only POST requests are supported."), requestId);

  // Identity and signature, before anything in the request is acted on.
  if (auth.credential.region != ctx_.region.name)
    return errorResponse(*svc, authError(svc->protocol, "SignatureDoesNotMatch",
                                         "Credential should be scoped to a valid region, not '" +
                                             auth.credential.region + "'."),
                         requestId);
  const model::Account* account = ctx_.region.accountByKey(auth.credential.accessKeyId);
  if (account) note.account = account->id;
  if (!account)
    return errorResponse(*svc, authError(svc->protocol, "InvalidClientTokenId",
                                         "AWS was not able to validate the provided access credentials"),
                         requestId);
  const std::string* amzDate = req.header("x-amz-date");
  auto when = amzDate ? parseAmzDate(*amzDate) : std::nullopt;
  if (!when || amzDate->substr(0, 8) != auth.credential.date)
    return errorResponse(*svc, authError(svc->protocol, "IncompleteSignature",
                                         "AWS was not able to validate the provided access credentials: bad or "
                                         "missing X-Amz-Date"),
                         requestId);
  auto skew = ctx_.clock.now() - *when;
  if (skew > kMaxClockSkew || skew < -kMaxClockSkew)
    return errorResponse(*svc, authError(svc->protocol, "SignatureDoesNotMatch",
                                         "Signature expired: " + *amzDate + " is more than 15 minutes away from now."),
                         requestId);
  std::string path = req.target.substr(0, req.target.find('?'));
  std::string canonical = canonicalRequest(req.method, path, "", req.headers, auth.signedHeaders, sha256Hex(req.body));
  std::string expected = computeSignature(account->secretAccessKey, auth, *amzDate, canonical);
  if (!constantTimeEquals(expected, auth.signature))
    return errorResponse(*svc, authError(svc->protocol, "SignatureDoesNotMatch",
                                         "The request signature we calculated does not match the signature you "
                                         "provided."),
                         requestId);
  bool hostSigned = false;
  for (auto& h : auth.signedHeaders) hostSigned |= h == "host";
  if (!hostSigned)
    return errorResponse(*svc, authError(svc->protocol, "IncompleteSignature", "The host header must be signed."),
                         requestId);

  return dispatch(*svc, *account, req.body, requestId, &note);
}

HttpResponse ApiService::callAs(std::string_view signingName, const model::Account& account,
                                std::string_view formBody) const {
  const ServiceInfo* svc = serviceBySigningName(signingName);
  const std::string requestId = ctx_.random.uuid();
  if (!svc)
    return errorResponse(kServices[0], Status("InvalidAction", "Unknown service '" + std::string(signingName) + "'."),
                         requestId);
  return dispatch(*svc, account, formBody, requestId);
}

// After authentication (SigV4 or a console session): decode, route and run as account.
HttpResponse ApiService::dispatch(const ServiceInfo& service, const model::Account& caller, std::string_view formBody,
                                  const std::string& requestId, RequestNote* note) const {
  const ServiceInfo* svc = &service;
  const model::Account* account = &caller;
  auto params = Params::parseForm(formBody);
  if (!params.ok()) return errorResponse(*svc, params.status(), requestId);
  const std::string* action = params->find("Action");
  if (action && note) note->action = *action;
  if (!action || action->empty())
    return errorResponse(*svc, Status("MissingAction", "The request must contain the parameter Action."), requestId);
  const Route* route = router_.find(svc->signingName, *action);
  if (!route)
    return errorResponse(*svc, Status("InvalidAction", "The action " + *action + " is not valid for this web service."),
                         requestId);

  control::CallContext call{account->id, requestId, false};
  if (svc->protocol == Protocol::kEc2) {
    auto dry = params->getBool("DryRun");
    if (!dry.ok()) return errorResponse(*svc, dry.status(), requestId);
    call.dryRun = dry->value_or(false);
  }

  XmlWriter body;
  HandlerContext hc{call, params.value(), body, ctx_.region};
  Status st;
  try {
    st = route->handler(hc);
  } catch (const std::exception& e) {
    // A handler bug must not take the daemon down; the client sees a server error.
    LP_LOG_ERROR("{} {} failed: {}", svc->signingName, *action, e.what());
    st = Status(svc->protocol == Protocol::kEc2 ? "InternalError" : "InternalFailure",
                "An internal error has occurred.");
  }
  if (!st.ok()) return errorResponse(*svc, st, requestId);

  HttpResponse resp;
  XmlWriter x;
  x.raw(kXmlDecl);
  std::string root = *action + "Response";
  x.openWithXmlns(root, svc->xmlns);
  if (svc->protocol == Protocol::kEc2) {
    x.leaf("requestId", requestId);
    x.raw(body.str());
  } else {
    if (route->hasResult) {
      std::string result = *action + "Result";
      if (body.str().empty()) {
        x.empty(result);
      } else {
        x.open(result);
        x.raw(body.str());
        x.close(result);
      }
    }
    auto md = x.scope("ResponseMetadata");
    x.leaf("RequestId", requestId);
  }
  x.close(root);
  resp.body = std::move(x.str());
  return resp;
}

}  // namespace lp::api
