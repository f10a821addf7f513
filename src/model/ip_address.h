// IPv4 and IPv6 addresses and networks, for checks that must cover both families
// (where SNS subscribers may be sent). cidr.h stays the IPv4-only maths of VPCs.
// Pure value types, no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/cidr.h"

namespace lp::model {

struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // v4: the first 4, network order
  auto operator<=>(const IpAddress&) const = default;

  static IpAddress fromV4(Ipv4 ip);
  // "10.0.0.1", "::1", "fe80::1"; an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
  // becomes the IPv4 address it names, so no check can be dodged by spelling.
  static std::optional<IpAddress> parse(std::string_view s);
  // From raw bytes (4 or 16 of them, network order); mapped v6 folded to v4.
  static IpAddress fromBytes(const uint8_t* p, size_t n);
  std::string toString() const;
  bool isUnspecified() const;  // 0.0.0.0 or ::
  int bits() const { return v6 ? 128 : 32; }
};

struct IpNetwork {
  IpAddress base;
  int prefix = 0;
  auto operator<=>(const IpNetwork&) const = default;
  // "a.b.c.d/n" or "x::/n" with host bits zero; nullopt otherwise.
  static std::optional<IpNetwork> parse(std::string_view s);
  static IpNetwork fromCidr(const Cidr& c) { return {IpAddress::fromV4(c.base), c.prefix}; }
  bool contains(const IpAddress& a) const;
  std::string toString() const;
};

}  // namespace lp::model
