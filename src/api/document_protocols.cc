#include "api/document_protocols.h"

#include <array>
#include <map>

#include "api/cbor.h"
#include "common/strings.h"

namespace lp::api {

namespace {

// The services served in the JSON protocols, by the target prefix of their model
// (botocore: metadata.targetPrefix) and the namespace of their error shapes.
struct DocumentService {
  std::string_view signingName;
  std::string_view targetPrefix;
  std::string_view shapeNamespace;
};
constexpr std::array<DocumentService, 1> kDocumentServices{{
    {"monitoring", "GraniteServiceVersion20100801", "com.amazonaws.cloudwatch"},
}};

constexpr std::string_view kRpcV2Prefix = "/service/";
constexpr std::string_view kRpcV2Operation = "/operation/";

const DocumentService* byPrefix(std::string_view prefix) {
  for (const auto& s : kDocumentServices)
    if (s.targetPrefix == prefix) return &s;
  return nullptr;
}

const DocumentService* bySigningName(std::string_view name) {
  for (const auto& s : kDocumentServices)
    if (s.signingName == name) return &s;
  return nullptr;
}

// CloudWatch's modeled error shapes for the Query codes the handlers answer
// (service-2.json: InvalidParameterValueException has code InvalidParameterValue).
std::string_view shapeOf(std::string_view code) {
  static const std::map<std::string_view, std::string_view, std::less<>> kShapes = {
      {"InvalidParameterValue", "InvalidParameterValueException"},
      {"MissingParameter", "MissingRequiredParameterException"},
      {"InvalidParameterCombination", "InvalidParameterCombinationException"},
      {"InvalidNextToken", "InvalidNextToken"},
      {"InternalFailure", "InternalServiceFault"},
      {"InternalServiceError", "InternalServiceFault"},
      {"LimitExceeded", "LimitExceededException"},
  };
  auto it = kShapes.find(code);
  return it == kShapes.end() ? code : it->second;
}

// Errors of the protocol itself, not of the service: no Query code to translate.
bool protocolError(std::string_view code) {
  return code == "UnknownOperationException" || code == "SerializationException";
}

}  // namespace

std::optional<DocumentRequest> documentRequestOf(const HttpRequest& req) {
  if (const std::string* target = req.header("x-amz-target")) {
    std::string_view t = *target;
    auto dot = t.find('.');
    const DocumentService* s = byPrefix(t.substr(0, dot));
    if (!s) return std::nullopt;
    return DocumentRequest{DocCodec::kJson10, s->signingName,
                           dot == std::string_view::npos ? "" : std::string(t.substr(dot + 1))};
  }
  std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
  if (!startsWith(path, kRpcV2Prefix)) return std::nullopt;
  path.remove_prefix(kRpcV2Prefix.size());
  auto op = path.find(kRpcV2Operation);
  const DocumentService* s = byPrefix(path.substr(0, op));
  if (!s) {
    // /service/<unknown>/...: still a CBOR request, answered in CBOR.
    return DocumentRequest{DocCodec::kCbor, "", ""};
  }
  std::string action = op == std::string_view::npos ? "" : std::string(path.substr(op + kRpcV2Operation.size()));
  return DocumentRequest{DocCodec::kCbor, s->signingName, std::move(action)};
}

const std::set<std::string, std::less<>>& timestampMembersOf(std::string_view signingName) {
  static const std::set<std::string, std::less<>> kCloudWatch = {"StartTime", "EndTime"};
  static const std::set<std::string, std::less<>> kNone;
  return signingName == "monitoring" ? kCloudWatch : kNone;
}

HttpResponse documentResponse(DocCodec codec, const Doc& output, const std::string& requestId) {
  HttpResponse resp;
  resp.headers.emplace_back("x-amzn-RequestId", requestId);
  if (codec == DocCodec::kJson10) {
    resp.contentType = "application/x-amz-json-1.0";
    resp.body = toJson(output);
  } else {
    resp.contentType = "application/cbor";
    resp.headers.emplace_back("smithy-protocol", "rpc-v2-cbor");
    resp.body = cbor::encode(output);
  }
  return resp;
}

HttpResponse documentError(DocCodec codec, std::string_view signingName, const Status& st,
                           const std::string& requestId) {
  const DocumentService* s = bySigningName(signingName);
  std::string type(shapeOf(st.code()));
  if (s && !protocolError(st.code())) type = std::string(s->shapeNamespace) + "#" + type;
  Doc body = Doc::map();
  body.add("__type", type);
  body.add("message", st.message());
  HttpResponse resp = documentResponse(codec, body, requestId);
  resp.status = httpStatusFor(Protocol::kQuery, st.code());
  if (st.code() == "UnknownOperationException" && codec == DocCodec::kCbor) resp.status = 404;
  resp.errorCode = st.code();
  if (!protocolError(st.code()))
    resp.headers.emplace_back("x-amzn-query-error", st.code() + (resp.status >= 500 ? ";Receiver" : ";Sender"));
  return resp;
}

}  // namespace lp::api
