#include "model/cidr.h"

#include <fmt/format.h>

#include "common/strings.h"

namespace lp::model {

std::string Ipv4::toString() const {
  return fmt::format("{}.{}.{}.{}", value >> 24, (value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff);
}

std::optional<Ipv4> Ipv4::parse(std::string_view s) {
  auto parts = split(s, '.');
  if (parts.size() != 4) return std::nullopt;
  uint32_t v = 0;
  for (auto& p : parts) {
    if (p.empty() || p.size() > 3) return std::nullopt;
    if (p.size() > 1 && p[0] == '0') return std::nullopt;  // no octal-looking octets
    for (char c : p)
      if (c < '0' || c > '9') return std::nullopt;
    auto n = parseInt(p);
    if (!n || *n > 255) return std::nullopt;
    v = (v << 8) | static_cast<uint32_t>(*n);
  }
  return Ipv4{v};
}

std::optional<Cidr> Cidr::parse(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = Ipv4::parse(s.substr(0, slash));
  auto len = s.substr(slash + 1);
  if (!ip || len.empty() || len.size() > 2) return std::nullopt;
  for (char c : len)
    if (c < '0' || c > '9') return std::nullopt;
  auto n = parseInt(len);
  if (!n || *n > 32) return std::nullopt;
  Cidr c{*ip, static_cast<int>(*n)};
  if ((ip->value & c.mask()) != ip->value) return std::nullopt;
  return c;
}

std::string Cidr::toString() const { return fmt::format("{}/{}", base.toString(), prefix); }

bool isAssignable(const Cidr& c, Ipv4 ip) {
  if (!c.contains(ip)) return false;
  uint64_t off = ip.value - c.base.value;
  return off >= kReservedAtStart && off < c.size() - kReservedAtEnd;
}

}  // namespace lp::model
