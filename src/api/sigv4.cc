#include "api/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>

#include "common/strings.h"

namespace lp::api {

namespace {

Status incomplete(std::string_view why) {
  return Status("IncompleteSignature", "Authorization header is malformed: " + std::string(why));
}

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

// Trims and collapses runs of spaces, as SigV4 canonical headers require.
std::string canonicalValue(std::string_view v) {
  std::string t = trim(v), out;
  bool space = false;
  for (char c : t) {
    if (c == ' ') {
      if (!space) out.push_back(' ');
      space = true;
    } else {
      out.push_back(c);
      space = false;
    }
  }
  return out;
}

}  // namespace

Result<SigV4Header> parseAuthorization(std::string_view value) {
  constexpr std::string_view kAlg = "AWS4-HMAC-SHA256";
  if (!startsWith(value, kAlg) || value.size() == kAlg.size() || value[kAlg.size()] != ' ')
    return incomplete("unsupported algorithm");
  SigV4Header h;
  bool haveCred = false, haveSigned = false, haveSig = false;
  for (auto& part : split(value.substr(kAlg.size() + 1), ',')) {
    std::string p = trim(part);
    auto eq = p.find('=');
    if (eq == std::string::npos) return incomplete("expected key=value");
    std::string key = p.substr(0, eq), val = p.substr(eq + 1);
    if (key == "Credential") {
      auto f = split(val, '/');
      if (f.size() != 5 || f[4] != "aws4_request" || f[0].empty() || f[1].size() != 8 || f[2].empty() || f[3].empty())
        return incomplete("bad Credential scope");
      h.credential = {f[0], f[1], f[2], f[3]};
      haveCred = true;
    } else if (key == "SignedHeaders") {
      h.signedHeaders = split(val, ';');
      for (auto& s : h.signedHeaders)
        if (s.empty() || s != toLower(s)) return incomplete("bad SignedHeaders");
      haveSigned = true;
    } else if (key == "Signature") {
      if (val.size() != 64) return incomplete("bad Signature");
      h.signature = val;
      haveSig = true;
    }
  }
  if (!haveCred || !haveSigned || !haveSig) return incomplete("missing Credential, SignedHeaders or Signature");
  return h;
}

std::string sha256Hex(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return toHex(std::string_view(reinterpret_cast<char*>(out), sizeof out));
}

std::string canonicalRequest(std::string_view method, std::string_view path, std::string_view query,
                             const HeaderList& headers, const std::vector<std::string>& signedHeaders,
                             std::string_view payloadHash) {
  std::string out;
  out += method;
  out += '\n';
  out += path.empty() ? "/" : path;
  out += '\n';
  out += query;
  out += '\n';
  for (auto& name : signedHeaders) {
    std::string joined;
    bool first = true;
    for (auto& [k, v] : headers) {
      if (toLower(k) != name) continue;
      if (!first) joined += ',';
      joined += canonicalValue(v);
      first = false;
    }
    out += name;
    out += ':';
    out += joined;
    out += '\n';
  }
  out += '\n';
  for (size_t i = 0; i < signedHeaders.size(); ++i) {
    if (i) out += ';';
    out += signedHeaders[i];
  }
  out += '\n';
  out += payloadHash;
  return out;
}

std::string computeSignature(std::string_view secret, const SigV4Header& auth, std::string_view amzDate,
                             std::string_view canonicalRequestText) {
  const auto& c = auth.credential;
  std::string scope = c.date + "/" + c.region + "/" + c.service + "/aws4_request";
  std::string toSign = "AWS4-HMAC-SHA256\n" + std::string(amzDate) + "\n" + scope + "\n" + sha256Hex(canonicalRequestText);
  std::string k = hmac("AWS4" + std::string(secret), c.date);
  k = hmac(k, c.region);
  k = hmac(k, c.service);
  k = hmac(k, "aws4_request");
  return toHex(hmac(k, toSign));
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

}  // namespace lp::api
