#include "api/api_service.h"

#include <fmt/format.h>

#include <array>
#include <nlohmann/json.hpp>

#include "api/cbor.h"
#include "api/cloudtrail/lookup_events.h"
#include "api/console/console_service.h"
#include "api/document_protocols.h"
#include "api/early_refusal.h"
#include "api/handlers.h"
#include "api/sns/sns_public.h"
#include "audit/audit_log.h"
#include "audit/resource_ids.h"
#include "common/log.h"
#include "common/strings.h"
#include "control/metrics_attribution.h"
#include "metrics/prometheus.h"

namespace lp::api {

namespace {

constexpr std::array<ServiceInfo, 6> kServices{{
    {"ec2", "http://ec2.amazonaws.com/doc/2016-11-15/", Protocol::kEc2},
    {"elasticloadbalancing", "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/", Protocol::kQuery},
    {"sns", "http://sns.amazonaws.com/doc/2010-03-31/", Protocol::kQuery},
    {"sts", "https://sts.amazonaws.com/doc/2011-06-15/", Protocol::kQuery},
    {"monitoring", "http://monitoring.amazonaws.com/doc/2010-08-01/", Protocol::kQuery},
    {"cloudtrail", "", Protocol::kJson},
}};

// CloudTrail's X-Amz-Target prefix, with or without botocore's
// "com.amazonaws.cloudtrail.v20131101." before it.
constexpr std::string_view kCloudTrailTarget = "CloudTrail_20131101.";

// An action name a client sent, as the audit log keeps it.
std::string clip(std::string_view s) { return std::string(s.substr(0, 128)); }

constexpr std::string_view kXmlDecl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

// The auth error a protocol uses for each failure (EC2 answers AuthFailure for all).
Status authError(Protocol p, std::string_view queryCode, std::string_view message) {
  if (p == Protocol::kEc2) return Status("AuthFailure", std::string(message));
  if (p == Protocol::kJson) {
    if (queryCode == "InvalidClientTokenId") return Status("UnrecognizedClientException", std::string(message));
    if (queryCode == "SignatureDoesNotMatch") return Status("InvalidSignatureException", std::string(message));
    return Status(std::string(queryCode) + "Exception", std::string(message));
  }
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

void Router::addDocument(std::string_view signingName, std::string_view action, DocHandler h) {
  add(signingName, action, [h](HandlerContext& hc) -> Status {
    LP_ASSIGN_OR_RETURN(Doc out, h(hc.call, hc.params));
    writeQueryXml(hc.out, out);
    return Status::Ok();
  });
  documents_[std::string(signingName) + "/" + std::string(action)] = std::move(h);
}

const DocHandler* Router::findDocument(std::string_view signingName, std::string_view action) const {
  auto it = documents_.find(std::string(signingName) + "/" + std::string(action));
  return it == documents_.end() ? nullptr : &it->second;
}

ApiService::ApiService(control::ControlContext& ctx, const metrics::SeriesStore* metrics, ApiOptions apiOptions)
    : ctx_(ctx), options_(std::move(apiOptions)) {
  if (options_.throttle) throttle_ = std::make_unique<AccountThrottle>(*options_.throttle, ctx.settings()->region, ctx.clock);
  if (options_.throttle && options_.throttle->enabled && options_.throttle->maxInFlight > 0)
    inFlight_ = std::make_unique<InFlightLimiter>(options_.throttle->maxInFlight);
  registerAllHandlers(router_, ctx, metrics);
  console::ConsoleOptions consoleOptions;
  consoleOptions.signInLimits = options_.consoleSignIn;
  console_ = std::make_unique<console::ConsoleService>(*this, ctx, consoleOptions);
}

ApiService::~ApiService() = default;

HttpResponse ApiService::errorResponse(const ServiceInfo& svc, const Status& st, const std::string& requestId) const {
  HttpResponse resp;
  resp.status = httpStatusFor(svc.protocol, st.code());
  resp.errorCode = st.code();
  if (svc.protocol == Protocol::kJson) {
    resp.contentType = "application/x-amz-json-1.1";
    resp.headers.emplace_back("x-amzn-RequestId", requestId);
    resp.body = nlohmann::json{{"__type", st.code()}, {"message", st.message()}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
    return resp;
  }
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

namespace {

// linkplane_api_requests_total and _duration_seconds, by service and action as the
// router knows them: a name the client made up is counted as "-", so what a
// client sends cannot grow the page.
void recordRequestMetrics(const ServiceInfo* svc, const std::string& action, bool routed, const HttpResponse& resp,
                          std::chrono::steady_clock::duration took) {
  static auto& requests = metrics::prom::processRegistry().counter(
      "linkplane_api_requests_total", "API requests by service, action and result (OK or the AWS error code).",
      {"service", "action", "code"});
  static auto& latency = metrics::prom::processRegistry().histogram(
      "linkplane_api_request_duration_seconds", "Time to answer an API request, by service and action.",
      {"service", "action"});
  std::string service = svc ? std::string(svc->signingName) : "-";
  std::string name = routed ? action : "-";
  requests.add({service, name, resp.errorCode.empty() ? "OK" : resp.errorCode});
  latency.observe({service, name}, std::chrono::duration<double>(took).count());
}

}  // namespace

void ApiService::countRequest(const RequestNote& note, const HttpResponse& resp,
                              std::chrono::steady_clock::duration took) const {
  const ServiceInfo* svc = serviceBySigningName(note.service);
  bool routed = svc && !note.action.empty() && router_.find(svc->signingName, note.action);
  recordRequestMetrics(svc, note.action, routed, resp, took);
}

HttpResponse ApiService::handle(const HttpRequest& req) const { return *answer(req, false); }

std::optional<HttpResponse> ApiService::answerAtOnce(const HttpRequest& req) const { return answer(req, true); }

std::optional<HttpResponse> ApiService::answer(const HttpRequest& req, bool atOnceOnly) const {
  // The console (its page, session and calls) shares the listener, not the SigV4 path.
  if (console::isConsoleTarget(req.target)) {
    if (atOnceOnly) return std::nullopt;
    return console_->handle(req);
  }
  RequestNote note;
  const auto started = std::chrono::steady_clock::now();
  std::optional<HttpResponse> resp = handleRequest(req, note, atOnceOnly);
  if (!resp) return std::nullopt;
  countRequest(note, *resp, std::chrono::steady_clock::now() - started);
  // Requests through an interface endpoint are attributed to it, as AWS does in
  // the aws:SourceVpce and aws:SourceVpc condition keys and in CloudTrail.
  if (!req.sourceVpce.empty())
    LP_LOG_INFO("api: {} {} by {} from {} aws:SourceVpce={} aws:SourceVpc={} -> {}", note.service, note.action,
                note.account.empty() ? "-" : note.account, req.sourceIp, req.sourceVpce,
                control::vpcOfEndpoint(ctx_, req.sourceVpce), resp->status);
  return resp;
}

std::optional<HttpResponse> ApiService::handleRequest(const HttpRequest& req, RequestNote& note,
                                                      bool atOnceOnly) const {
  const std::string requestId = ctx_.random.uuid();
  const ServiceInfo& ec2 = kServices[0];
  note.sourceIp = req.sourceIp;
  note.sourceVpce = req.sourceVpce;
  // CloudWatch's JSON and CBOR requests get every answer, errors included, in their codec.
  const auto doc = documentRequestOf(req);

  const std::string* authz = req.header("authorization");
  // SNS's SubscribeURL and SigningCertURL work without SigV4 (only those two).
  if (!authz) {
    if (atOnceOnly) return std::nullopt;  // the public GETs write to the store
    if (auto r = handleSnsPublicGet(req, ctx_, requestId)) return std::move(*r);
  }
  // One snapshot of the accounts for the whole request: the account found in it
  // (and its secret) stays valid while it is held, whatever a reload does meanwhile.
  const std::shared_ptr<const control::Settings> settings = ctx_.settings();
  const model::Account* account = nullptr;
  // Every refused authentication goes to the audit log, with what the request
  // claimed (its access key id and action), never its signature.
  auto refuse = [&](const ServiceInfo& svc, const Status& st) {
    HttpResponse resp =
        doc ? documentError(doc->codec, svc.signingName, st, requestId) : errorResponse(svc, st, requestId);
    if (options_.audit) {
      if (doc) {
        note.action = clip(doc->action);
      } else if (const std::string* target = req.header("x-amz-target")) {
        note.action = clip(target->substr(target->rfind('.') == std::string::npos ? 0 : target->rfind('.') + 1));
      } else if (auto form = Params::parseForm(req.body); form.ok() && form->find("Action")) {
        note.action = clip(*form->find("Action"));
      }
      record(note, account, false, {}, st, resp.status, requestId, true);
    }
    return resp;
  };
  if (!authz) return refuse(ec2, authError(Protocol::kEc2, "MissingAuthenticationToken",
                                           "AWS was not able to validate the provided access credentials"));
  auto parsed = parseAuthorization(*authz);
  if (!parsed.ok()) return refuse(ec2, parsed.status());
  const SigV4Header& auth = parsed.value();
  const ServiceInfo* svc = serviceBySigningName(auth.credential.service);
  note.service = clip(auth.credential.service);
  note.accessKeyId = clip(auth.credential.accessKeyId);
  if (!svc)
    return refuse(ec2, Status("AuthFailure", "Credential should be scoped to a valid service, not '" +
                                                 auth.credential.service + "'."));
  if (req.method != "POST") {
    Status st("InvalidAction", "Only POST requests are supported.");
    return doc ? documentError(doc->codec, svc->signingName, st, requestId) : errorResponse(*svc, st, requestId);
  }

  // Identity and signature, before anything in the request is acted on.
  if (auth.credential.region != ctx_.regionName())
    return refuse(*svc, authError(svc->protocol, "SignatureDoesNotMatch",
                                  "Credential should be scoped to a valid region, not '" + auth.credential.region + "'."));
  account = settings->region.accountByKey(auth.credential.accessKeyId);
  if (account) note.account = account->id;
  if (!account)
    return refuse(*svc, authError(svc->protocol, "InvalidClientTokenId",
                                  "AWS was not able to validate the provided access credentials"));
  // The account over its limit: refused before the signature is verified, charging
  // nothing (early_refusal.h says why that is safe).
  std::string_view claimed = doc                                 ? std::string_view(doc->action)
                             : svc->protocol == Protocol::kJson ? std::string_view()
                                                                 : formActionInPlace(req.body);
  if (overLimitBeforeVerifying(throttle_.get(), inFlight_.get(), account->id, claimed)) {
    note.action = clip(claimed);
    HttpResponse r = throttledResponse(*svc, *account, claimed, requestId, &note);
    if (!doc) return r;
    HttpResponse d = documentError(doc->codec, svc->signingName, Status(r.errorCode, "Rate exceeded"), requestId);
    d.refusalHold = r.refusalHold;
    return d;
  }
  if (atOnceOnly) return std::nullopt;  // what follows hashes, verifies and runs the call
  const std::string* amzDate = req.header("x-amz-date");
  auto when = amzDate ? parseAmzDate(*amzDate) : std::nullopt;
  if (!when || amzDate->substr(0, 8) != auth.credential.date)
    return refuse(*svc, authError(svc->protocol, "IncompleteSignature",
                                  "AWS was not able to validate the provided access credentials: bad or "
                                  "missing X-Amz-Date"));
  auto skew = ctx_.clock.now() - *when;
  if (skew > kMaxClockSkew || skew < -kMaxClockSkew)
    return refuse(*svc, authError(svc->protocol, "SignatureDoesNotMatch",
                                  "Signature expired: " + *amzDate + " is more than 15 minutes away from now."));
  std::string path = req.target.substr(0, req.target.find('?'));
  std::string canonical = canonicalRequest(req.method, path, "", req.headers, auth.signedHeaders, sha256Hex(req.body));
  std::string expected = computeSignature(account->secretAccessKey, auth, *amzDate, canonical);
  if (!constantTimeEquals(expected, auth.signature))
    return refuse(*svc, authError(svc->protocol, "SignatureDoesNotMatch",
                                  "The request signature we calculated does not match the signature you "
                                  "provided."));
  bool hostSigned = false;
  for (auto& h : auth.signedHeaders) hostSigned |= h == "host";
  if (!hostSigned)
    return refuse(*svc, authError(svc->protocol, "IncompleteSignature", "The host header must be signed."));

  if (doc) return dispatchDocument(*svc, *account, req, requestId, note);
  if (svc->protocol == Protocol::kJson) return dispatchJson(*svc, *account, req, requestId, note);
  return dispatch(*svc, settings->region, *account, req.body, requestId, &note);
}

size_t ApiService::settingsChanged() {
  if (throttle_) throttle_->setAccounts(ctx_.settings()->region);
  return console_->endSessionsOfChangedKeys();
}

HttpResponse ApiService::callAs(std::string_view signingName, const model::Account& account,
                                std::string_view formBody, std::string_view sourceIp) const {
  const ServiceInfo* svc = serviceBySigningName(signingName);
  const std::string requestId = ctx_.random.uuid();
  if (!svc)
    return errorResponse(kServices[0], Status("InvalidAction", "Unknown service '" + std::string(signingName) + "'."),
                         requestId);
  RequestNote note{std::string(signingName), "", account.id, account.accessKeyId, std::string(sourceIp), ""};
  // The handlers read the region's name and zones from it, which no reload changes.
  const auto settings = ctx_.settings();
  return dispatch(*svc, settings->region, account, formBody, requestId, &note);
}

std::optional<HttpResponse> ApiService::throttled(const ServiceInfo& svc, const model::Account& account,
                                                  std::string_view action, const std::string& requestId,
                                                  const RequestNote* note,
                                                  std::optional<InFlightLimiter::Slot>* slot) const {
  bool readOnly = isReadOnlyAction(action);
  // The cap first: a call refused for it is not charged a token.
  if (inFlight_)
    if (auto s = inFlight_->enter(account.id)) slot->emplace(std::move(*s));
  bool admitted = (!inFlight_ || slot->has_value()) && (!throttle_ || throttle_->admit(account.id, readOnly));
  if (admitted) return std::nullopt;
  slot->reset();
  return throttledResponse(svc, account, action, requestId, note);
}

HttpResponse ApiService::throttledResponse(const ServiceInfo& svc, const model::Account& account,
                                           std::string_view action, const std::string& requestId,
                                           const RequestNote* note) const {
  bool readOnly = isReadOnlyAction(action);
  // The codes and statuses AWS sends, which the SDKs' retry handlers know.
  Status st = svc.protocol == Protocol::kEc2    ? Status("RequestLimitExceeded", "Request limit exceeded.")
              : svc.protocol == Protocol::kJson ? Status("ThrottlingException", "Rate exceeded")
                                                : Status("Throttling", "Rate exceeded");
  HttpResponse resp = errorResponse(svc, st, requestId);
  // Per connection (the HTTP server holds only the connection this answer goes to), and
  // read from the bucket without charging it, so a forged request naming the account
  // changes no other connection's wait.
  if (throttle_) resp.refusalHold = throttle_->refusalHold(account.id, readOnly);
  if (note && !readOnly) record(*note, &account, false, {}, st, resp.status, requestId, true);
  return resp;
}

void ApiService::record(const RequestNote& note, const model::Account* account, bool readOnly,
                        std::vector<std::string> resources, const Status& result, int httpStatus,
                        const std::string& requestId, bool refused) const {
  if (!options_.audit) return;
  auto make = [&] {
    audit::AuditRecord r;
    r.time = ctx_.clock.now();
    r.eventId = ctx_.random.uuid();
    r.account = account ? account->id : "";
    r.userName = account ? account->name : "";
    r.accessKeyId = note.accessKeyId;
    r.sourceIp = note.sourceIp;
    r.sourceVpce = note.sourceVpce;
    r.service = note.service;
    r.action = note.action;
    r.readOnly = readOnly;
    r.resources = std::move(resources);
    r.result = result.ok() ? std::string(audit::kSuccess) : result.code();
    r.httpStatus = httpStatus;
    r.requestId = requestId;
    return r;
  };
  // A call that changed something is on disk before its response is sent; a refused
  // one's record is made only if the rate limit keeps it.
  Status st = refused ? options_.audit->appendRefused(make) : options_.audit->append(make(), result.ok());
  if (!st.ok()) LP_LOG_ERROR("audit: {}", st.toString());
}

HttpResponse ApiService::dispatchJson(const ServiceInfo& svc, const model::Account& account, const HttpRequest& req,
                                      const std::string& requestId, RequestNote& note) const {
  const std::string* target = req.header("x-amz-target");
  std::string_view t = target ? std::string_view(*target) : std::string_view();
  auto at = t.find(kCloudTrailTarget);
  std::string_view action = at == std::string_view::npos ? std::string_view() : t.substr(at + kCloudTrailTarget.size());
  note.action = clip(action);
  if (action != "LookupEvents")
    return errorResponse(svc, Status("UnknownOperationException", "This service answers LookupEvents only."),
                         requestId);
  std::optional<InFlightLimiter::Slot> slot;
  if (auto r = throttled(svc, account, action, requestId, &note, &slot)) return std::move(*r);
  auto query = cloudtrail::parseLookupEventsRequest(req.body);
  if (!query.ok()) return errorResponse(svc, query.status(), requestId);
  query->account = account.id;  // an account sees only its own events
  audit::AuditPage page;
  if (!options_.auditDir.empty()) {
    auto found = audit::lookup(options_.auditDir, *query);
    if (!found.ok()) return errorResponse(svc, found.status(), requestId);
    page = std::move(*found);
  }
  HttpResponse resp;
  resp.contentType = "application/x-amz-json-1.1";
  resp.headers.emplace_back("x-amzn-RequestId", requestId);
  resp.body = cloudtrail::lookupEventsResponse(page, ctx_.regionName());
  return resp;
}

HttpResponse ApiService::dispatchDocument(const ServiceInfo& svc, const model::Account& account, const HttpRequest& req,
                                          const std::string& requestId, RequestNote& note) const {
  const auto doc = documentRequestOf(req);
  const DocCodec codec = doc->codec;
  auto fail = [&](const Status& st) { return documentError(codec, svc.signingName, st, requestId); };
  note.action = clip(doc->action);
  // The operation's service must be the one the request is signed for.
  const DocHandler* handler =
      doc->signingName == svc.signingName ? router_.findDocument(svc.signingName, doc->action) : nullptr;
  if (!handler)
    return fail(Status("UnknownOperationException",
                       fmt::format("The operation '{}' is not one {} serves in this protocol.",
                                   clip(doc->action), svc.signingName)));
  std::optional<InFlightLimiter::Slot> slot;
  if (auto r = throttled(svc, account, doc->action, requestId, &note, &slot)) {
    HttpResponse d = fail(Status(r->errorCode, "Rate exceeded"));
    d.refusalHold = r->refusalHold;
    return d;
  }
  // An operation with no input members may come with no body at all.
  Result<Doc> body = req.body.empty()         ? Result<Doc>(Doc::map())
                     : codec == DocCodec::kCbor ? cbor::decode(req.body)
                                                : parseJsonDocument(req.body);
  if (!body.ok()) return fail(body.status());
  auto params = flattenToParams(*body, timestampMembersOf(svc.signingName));
  if (!params.ok()) return fail(params.status());
  control::CallContext call{account.id, requestId, false};
  Result<Doc> out = Status("InternalFailure", "An internal error has occurred.");
  try {
    out = (*handler)(call, *params);
  } catch (const std::exception& e) {
    LP_LOG_ERROR("{} {} failed: {}", svc.signingName, doc->action, e.what());
  }
  if (!out.ok()) return fail(out.status());
  return documentResponse(codec, *out, requestId);
}

// After authentication (SigV4 or a console session): decode, route and run as account.
HttpResponse ApiService::dispatch(const ServiceInfo& service, const model::RegionConfig& region,
                                  const model::Account& caller, std::string_view formBody,
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

  std::optional<InFlightLimiter::Slot> slot;
  if (auto r = throttled(*svc, *account, *action, requestId, note, &slot)) return std::move(*r);

  control::CallContext call{account->id, requestId, false};
  if (svc->protocol == Protocol::kEc2) {
    auto dry = params->getBool("DryRun");
    if (!dry.ok()) return errorResponse(*svc, dry.status(), requestId);
    call.dryRun = dry->value_or(false);
  }

  XmlWriter body;
  HandlerContext hc{call, params.value(), body, region};
  Status st;
  try {
    st = route->handler(hc);
  } catch (const std::exception& e) {
    // A handler bug must not take the daemon down; the client sees a server error.
    LP_LOG_ERROR("{} {} failed: {}", svc->signingName, *action, e.what());
    st = Status(svc->protocol == Protocol::kEc2 ? "InternalError" : "InternalFailure",
                "An internal error has occurred.");
  }
  const bool audited = note && options_.audit && !isReadOnlyAction(*action);
  std::vector<std::string> resources;
  if (audited) {
    for (auto& [key, value] : params->all())
      if (key != "Action" && key != "Version") audit::collectResourceIds(value, resources);
    if (st.ok()) audit::collectResourceIds(body.str(), resources);  // what the call made
  }
  if (!st.ok()) {
    HttpResponse err = errorResponse(*svc, st, requestId);
    if (audited) record(*note, account, false, std::move(resources), st, err.status, requestId, false);
    return err;
  }
  if (audited) record(*note, account, false, std::move(resources), st, 200, requestId, false);

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
