#include "api/http/proxy_header.h"

#include <cstdint>
#include <cstring>

namespace lp::api {

namespace {
constexpr char kSignature[12] = {'\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n'};
constexpr unsigned char kTypeAws = 0xEA;
constexpr unsigned char kSubtypeVpceId = 0x01;
// Longest header accepted: addresses plus TLVs well beyond what any sender adds.
constexpr size_t kMaxPayload = 1024;

uint16_t get16(std::string_view s, size_t at) {
  return static_cast<uint16_t>((static_cast<unsigned char>(s[at]) << 8) | static_cast<unsigned char>(s[at + 1]));
}
}  // namespace

ProxyParse parseProxyV2(std::string_view data, ProxyHeader& out, size_t& consumed) {
  size_t sig = std::min(data.size(), sizeof kSignature);
  if (std::memcmp(data.data(), kSignature, sig) != 0) return ProxyParse::kNotProxy;
  if (data.size() < kProxyV2FixedBytes) return ProxyParse::kIncomplete;
  const auto verCmd = static_cast<unsigned char>(data[12]);
  const auto family = static_cast<unsigned char>(data[13]);
  const size_t len = get16(data, 14);
  if ((verCmd & 0xF0) != 0x20 || (verCmd & 0x0F) > 1 || len > kMaxPayload) return ProxyParse::kInvalid;
  if (data.size() < kProxyV2FixedBytes + len) return ProxyParse::kIncomplete;
  std::string_view payload = data.substr(kProxyV2FixedBytes, len);
  ProxyHeader h;
  size_t tlvAt = len;  // no TLVs unless the address block says where they start
  if ((verCmd & 0x0F) == 1 && family == 0x11) {
    if (len < 12) return ProxyParse::kInvalid;
    const auto* a = reinterpret_cast<const unsigned char*>(payload.data());
    h.sourceIp = std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
                 std::to_string(a[3]);
    h.sourcePort = get16(payload, 8);
    tlvAt = 12;
  } else if ((verCmd & 0x0F) == 1 && family == 0x21) {
    tlvAt = len < 36 ? len : 36;  // TCP over IPv6: addresses not used here
  } else {
    tlvAt = 0;  // LOCAL or an unspecified family: the whole payload is TLVs
  }
  for (size_t i = tlvAt; i < len;) {
    if (len - i < 3) return ProxyParse::kInvalid;
    const auto type = static_cast<unsigned char>(payload[i]);
    const size_t vlen = get16(payload, i + 1);
    if (len - i - 3 < vlen) return ProxyParse::kInvalid;
    std::string_view value = payload.substr(i + 3, vlen);
    if (type == kTypeAws && !value.empty() && static_cast<unsigned char>(value[0]) == kSubtypeVpceId)
      h.vpceId = std::string(value.substr(1));
    i += 3 + vlen;
  }
  out = std::move(h);
  consumed = kProxyV2FixedBytes + len;
  return ProxyParse::kOk;
}

}  // namespace lp::api
