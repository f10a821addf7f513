// The JSON protocols of a Query service (CloudWatch): which one a request speaks,
// its action, its body as Params, and the answers. Both carry the same Doc:
// - awsJson1_0: POST /, X-Amz-Target: <prefix>.<Action>, application/x-amz-json-1.0,
//   timestamps as epoch seconds;
// - Smithy RPC v2 CBOR: POST /service/<prefix>/operation/<Action>, header
//   smithy-protocol: rpc-v2-cbor, application/cbor, timestamps as tag 1.
// Errors: {"__type": "<namespace>#<ShapeName>", "message"} in the request's codec;
// the service is awsQueryCompatible, so x-amzn-query-error: <QueryCode>;Sender
// gives the SDKs the Query protocol's code (InvalidParameterValue, ...).
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/api_service.h"
#include "api/document.h"

namespace lp::api {

enum class DocCodec { kJson10, kCbor };

struct DocumentRequest {
  DocCodec codec;
  std::string_view signingName;  // the service the target prefix names
  std::string action;            // "" when the target names no operation
};

// The JSON-protocol request req makes, or nullopt for a form (Query/EC2) or
// another JSON service's (CloudTrail's X-Amz-Target) request.
std::optional<DocumentRequest> documentRequestOf(const HttpRequest& req);

// The members of a service's input shapes that are timestamps (JSON sends them as
// numbers).
const std::set<std::string, std::less<>>& timestampMembersOf(std::string_view signingName);

HttpResponse documentResponse(DocCodec codec, const Doc& output, const std::string& requestId);
HttpResponse documentError(DocCodec codec, std::string_view signingName, const Status& st,
                           const std::string& requestId);

}  // namespace lp::api
