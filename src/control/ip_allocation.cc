#include "control/ip_allocation.h"

#include <set>

#include <fmt/format.h>

#include "control/errors.h"
#include "model/cidr.h"

namespace lp::control {

namespace {

std::set<uint32_t> usedAddresses(const View& v, const model::Subnet& subnet) {
  std::set<uint32_t> used;
  v.forEachIndexed<model::NetworkInterface>(index::kSubnet, subnet.id.str(), [&](const model::NetworkInterface& eni) {
    if (auto ip = model::Ipv4::parse(eni.privateIp)) used.insert(ip->value);
    return true;
  });
  return used;
}

}  // namespace

Result<std::string> allocatePrivateIp(const View& v, const model::Subnet& subnet, const std::string& requested) {
  auto cidr = model::Cidr::parse(subnet.cidrBlock);
  if (!cidr) return err::make(err::kInternalError, "subnet {} has a bad CIDR", subnet.id.str());
  auto used = usedAddresses(v, subnet);
  if (!requested.empty()) {
    auto ip = model::Ipv4::parse(requested);
    if (!ip) return err::badValue("PrivateIpAddress", requested);
    if (!model::isAssignable(*cidr, *ip))
      return err::make(err::kInvalidParameterValue, "Address {} does not fall within the subnet's address range",
                       requested);
    if (used.count(ip->value))
      return err::make(err::kInvalidIpAddressInUse, "The specified address {} is already in use.", requested);
    return ip->toString();
  }
  for (uint64_t off = model::kReservedAtStart; off + model::kReservedAtEnd < cidr->size(); ++off) {
    auto ip = cidr->at(off);
    if (!used.count(ip.value)) return ip.toString();
  }
  return err::make(err::kInsufficientFreeAddresses, "There are not enough free addresses in subnet '{}' to satisfy the requested number of instances.",
                   subnet.id.str());
}

uint64_t availableIpCount(const View& v, const model::Subnet& subnet) {
  auto cidr = model::Cidr::parse(subnet.cidrBlock);
  if (!cidr) return 0;
  uint64_t usable = model::usableAddressCount(*cidr);
  uint64_t used = 0;
  for (uint32_t a : usedAddresses(v, subnet))
    if (model::isAssignable(*cidr, model::Ipv4{a})) ++used;
  return usable > used ? usable - used : 0;
}

std::string macForInterface(const std::string& interfaceId) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : interfaceId) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  // 02:xx:... = locally administered, unicast.
  return fmt::format("02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", (h >> 32) & 0xff, (h >> 24) & 0xff, (h >> 16) & 0xff,
                     (h >> 8) & 0xff, h & 0xff);
}

}  // namespace lp::control
