// AWS Signature Version 4 verification for POST requests signed in the
// Authorization header (what the AWS CLI and SDKs send). Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace lp::api {

struct SigV4Credential {
  std::string accessKeyId;
  std::string date;     // yyyymmdd
  std::string region;
  std::string service;  // ec2, elasticloadbalancing, sns, sts
};

struct SigV4Header {
  SigV4Credential credential;
  std::vector<std::string> signedHeaders;  // lower case, as listed
  std::string signature;                   // 64 lower-case hex digits
};

// A header as received; names compared case-insensitively.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Parses "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
// Errors carry code IncompleteSignature.
Result<SigV4Header> parseAuthorization(std::string_view value);

std::string sha256Hex(std::string_view data);
std::string canonicalRequest(std::string_view method, std::string_view path, std::string_view query,
                             const HeaderList& headers, const std::vector<std::string>& signedHeaders,
                             std::string_view payloadHash);
// The signature the client must have sent.
std::string computeSignature(std::string_view secret, const SigV4Header& auth, std::string_view amzDate,
                             std::string_view canonicalRequestText);
bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace lp::api
