#include "model/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

#include "common/strings.h"

namespace lp::model {

namespace {

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

IpAddress IpAddress::fromV4(Ipv4 ip) {
  IpAddress a;
  a.bytes[0] = static_cast<uint8_t>(ip.value >> 24);
  a.bytes[1] = static_cast<uint8_t>(ip.value >> 16);
  a.bytes[2] = static_cast<uint8_t>(ip.value >> 8);
  a.bytes[3] = static_cast<uint8_t>(ip.value);
  return a;
}

IpAddress IpAddress::fromBytes(const uint8_t* p, size_t n) {
  IpAddress a;
  if (n == 16 && std::memcmp(p, kMappedPrefix, 12) == 0) {
    std::memcpy(a.bytes.data(), p + 12, 4);
  } else if (n == 16) {
    a.v6 = true;
    std::memcpy(a.bytes.data(), p, 16);
  } else if (n == 4) {
    std::memcpy(a.bytes.data(), p, 4);
  }
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view s) {
  std::string z(s);
  uint8_t buf[16];
  if (z.find(':') == std::string::npos) {
    auto v4 = Ipv4::parse(s);  // strict dotted quad, no "010" or "1.2.3"
    if (!v4) return std::nullopt;
    return fromV4(*v4);
  }
  if (inet_pton(AF_INET6, z.c_str(), buf) != 1) return std::nullopt;
  return fromBytes(buf, 16);
}

std::string IpAddress::toString() const {
  char out[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), out, sizeof out);
  return out;
}

bool IpAddress::isUnspecified() const {
  for (int i = 0; i < (v6 ? 16 : 4); ++i)
    if (bytes[i]) return false;
  return true;
}

std::optional<IpNetwork> IpNetwork::parse(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto base = IpAddress::parse(s.substr(0, slash));
  auto prefix = parseInt(s.substr(slash + 1));
  bool spelledV6 = s.substr(0, slash).find(':') != std::string_view::npos;
  if (!base || !prefix || *prefix < 0 || *prefix > (spelledV6 ? 128 : 32)) return std::nullopt;
  // A mapped v6 spelling folds to v4; its prefix counted 96 bits of mapping.
  int p = static_cast<int>(*prefix);
  if (!base->v6 && spelledV6) {
    if (p < 96) return std::nullopt;
    p -= 96;
  }
  IpNetwork n{*base, p};
  for (int bit = p; bit < base->bits(); ++bit)
    if (base->bytes[bit / 8] & (0x80 >> (bit % 8))) return std::nullopt;  // host bits set
  return n;
}

bool IpNetwork::contains(const IpAddress& a) const {
  if (a.v6 != base.v6) return false;
  int full = prefix / 8;
  if (std::memcmp(a.bytes.data(), base.bytes.data(), static_cast<size_t>(full)) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.bytes[full] & mask) == (base.bytes[full] & mask);
}

std::string IpNetwork::toString() const { return base.toString() + "/" + std::to_string(prefix); }

}  // namespace lp::model
