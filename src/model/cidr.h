// IPv4 addresses and CIDR blocks: parsing, containment, overlap, host ranges.
// Pure value types, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lp::model {

struct Ipv4 {
  uint32_t value = 0;  // host byte order
  auto operator<=>(const Ipv4&) const = default;
  std::string toString() const;
  static std::optional<Ipv4> parse(std::string_view s);
};

struct Cidr {
  Ipv4 base;         // network address (host bits zero)
  int prefix = 32;   // 0..32
  auto operator<=>(const Cidr&) const = default;

  // Strict parse: "a.b.c.d/n" with host bits zero. nullopt otherwise.
  static std::optional<Cidr> parse(std::string_view s);
  std::string toString() const;
  uint64_t size() const { return uint64_t{1} << (32 - prefix); }
  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  Ipv4 last() const { return Ipv4{base.value | ~mask()}; }
  Ipv4 at(uint64_t offset) const { return Ipv4{static_cast<uint32_t>(base.value + offset)}; }
  bool contains(Ipv4 ip) const { return (ip.value & mask()) == base.value; }
  bool contains(const Cidr& other) const { return other.prefix >= prefix && contains(other.base); }
  bool overlaps(const Cidr& other) const { return contains(other.base) || other.contains(base); }
};

// AWS reserves the first four addresses and the last of every subnet.
inline constexpr uint64_t kReservedAtStart = 4;
inline constexpr uint64_t kReservedAtEnd = 1;
inline uint64_t usableAddressCount(const Cidr& c) {
  return c.size() > kReservedAtStart + kReservedAtEnd ? c.size() - kReservedAtStart - kReservedAtEnd : 0;
}
// True when ip is inside c and not one of its reserved addresses.
bool isAssignable(const Cidr& c, Ipv4 ip);

}  // namespace lp::model
