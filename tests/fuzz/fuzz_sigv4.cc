// libFuzzer target: SigV4 parsing and canonicalization of untrusted headers.
// Input: the first line is an Authorization header value; the following lines up
// to an empty line are "Name: value" headers; the rest is the body. A header that
// parses is then put through the canonical request and signature code, and must
// verify against itself.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/sigv4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto nl = in.find('\n');
  std::string_view authz = in.substr(0, nl);
  auto parsed = lp::api::parseAuthorization(authz);
  if (!parsed.ok()) {
    if (parsed.status().code() != "IncompleteSignature") abort();
    return 0;
  }
  const lp::api::SigV4Header& auth = parsed.value();
  if (auth.signature.size() != 64 || auth.credential.date.size() != 8) abort();

  lp::api::HeaderList headers;
  std::string_view rest = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  while (!rest.empty()) {
    auto e = rest.find('\n');
    std::string_view line = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 1);
    if (line.empty()) break;
    auto colon = line.find(':');
    headers.emplace_back(std::string(line.substr(0, colon)),
                         colon == std::string_view::npos ? std::string() : std::string(line.substr(colon + 1)));
  }
  std::string creq = lp::api::canonicalRequest("POST", "/", "", headers, auth.signedHeaders, lp::api::sha256Hex(rest));
  std::string sig = lp::api::computeSignature("secret", auth, "20261122T125531Z", creq);
  if (sig.size() != 64 || !lp::api::constantTimeEquals(sig, sig)) abort();
  if (lp::api::constantTimeEquals(sig, auth.signature) != (sig == auth.signature)) abort();
  return 0;
}
