#include "dataplane/proxy_protocol.h"

namespace lp::dataplane {

namespace {
constexpr char kSignature[12] = {'\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n'};

void put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}
// Network-order fields (s_addr, sin_port) are copied as they are.
void putRaw(std::string& out, const void* p, size_t n) { out.append(static_cast<const char*>(p), n); }
}  // namespace

std::string encodeProxyV2(const sockaddr_in& src, const sockaddr_in& dst, const std::string& vpceId) {
  std::string tlv;
  tlv.push_back(static_cast<char>(kPp2TypeAws));
  put16(tlv, static_cast<uint16_t>(1 + vpceId.size()));
  tlv.push_back(static_cast<char>(kPp2SubtypeAwsVpceId));
  tlv += vpceId;

  std::string out(kSignature, sizeof kSignature);
  out.push_back(0x21);  // version 2, command PROXY
  out.push_back(0x11);  // AF_INET, STREAM
  put16(out, static_cast<uint16_t>(12 + tlv.size()));
  putRaw(out, &src.sin_addr.s_addr, 4);
  putRaw(out, &dst.sin_addr.s_addr, 4);
  putRaw(out, &src.sin_port, 2);
  putRaw(out, &dst.sin_port, 2);
  out += tlv;
  return out;
}

}  // namespace lp::dataplane
