#include "model/subscriber_networks.h"

#include <array>

namespace lp::model {

namespace {

struct Range {
  const char* cidr;
  const char* what;
};

// Never a subscriber, whatever the config says.
constexpr std::array kNever = {
    Range{"169.254.0.0/16", "link-local"},  Range{"fe80::/10", "link-local"},
    Range{"224.0.0.0/4", "multicast"},      Range{"ff00::/8", "multicast"},
    Range{"255.255.255.255/32", "broadcast"},
};
// Only when [sns] subscriber_networks names them.
constexpr std::array kPrivate = {
    Range{"127.0.0.0/8", "loopback"},   Range{"::1/128", "loopback"},
    Range{"10.0.0.0/8", "private (RFC 1918)"}, Range{"172.16.0.0/12", "private (RFC 1918)"},
    Range{"192.168.0.0/16", "private (RFC 1918)"}, Range{"100.64.0.0/10", "shared address space (RFC 6598)"},
    Range{"0.0.0.0/8", "\"this network\" (RFC 1122)"}, Range{"fc00::/7", "unique-local (RFC 4193)"},
};

const Range* find(const auto& ranges, const IpAddress& ip) {
  for (const auto& r : ranges)
    if (IpNetwork::parse(r.cidr)->contains(ip)) return &r;
  return nullptr;
}

bool isLoopback(const IpAddress& ip) {
  return IpNetwork::parse("127.0.0.0/8")->contains(ip) || IpNetwork::parse("::1/128")->contains(ip);
}

bool isOwnListener(const IpAddress& ip, uint16_t port, const SubscriberNetworkPolicy& p) {
  for (const auto& l : p.ownListeners) {
    if (l.port != port) continue;
    if (l.ip == ip) return true;
    if (l.ip.isUnspecified()) {
      if (isLoopback(ip)) return true;
      for (const auto& h : p.hostAddresses)
        if (h == ip) return true;
    }
  }
  return false;
}

}  // namespace

std::optional<std::string> subscriberRefusal(const IpAddress& ip, uint16_t port, const SubscriberNetworkPolicy& policy,
                                             const std::vector<IpNetwork>& vpcRanges) {
  std::string where = ip.toString();
  if (ip.isUnspecified()) return where + " is the unspecified address";
  if (isOwnListener(ip, port, policy))
    return where + ":" + std::to_string(port) + " is one of linkplane's own listeners";
  if (const Range* r = find(kNever, ip)) return where + " is " + r->what + " (" + r->cidr + ")";
  for (const auto& v : vpcRanges)
    if (v.contains(ip)) return where + " is inside a VPC's CIDR block (" + v.toString() + ")";
  for (const auto& a : policy.allowed)
    if (a.contains(ip)) return std::nullopt;
  if (const Range* r = find(kPrivate, ip))
    return where + " is " + r->what + " (" + r->cidr + ") and not in [sns] subscriber_networks";
  return std::nullopt;
}

}  // namespace lp::model
