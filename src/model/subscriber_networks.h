// Where the daemon may send SNS deliveries (issue 19: any account could make it
// post to the host's loopback services, a cloud metadata service at
// 169.254.169.254, its own API, or into other tenants' VPCs). The rule, for one
// resolved address and port:
//   never:  unspecified (0.0.0.0 reaches loopback), link-local (169.254/16,
//           fe80::/10), multicast and broadcast, the daemon's own listeners, the
//           VPCs' CIDR blocks;
//   only when [sns] subscriber_networks holds it: loopback (127/8, ::1), RFC 1918
//           (10/8, 172.16/12, 192.168/16), shared 100.64/10, 0/8, unique-local fc00::/7;
//   else:   allowed (public addresses, as AWS delivers from the internet).
// Pure; no I/O (resolution and the live VPC list are the caller's).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/ip_address.h"

namespace lp::model {

struct ListenAddress {
  IpAddress ip;  // unspecified = every address of the host
  uint16_t port = 0;
};

struct SubscriberNetworkPolicy {
  std::vector<IpNetwork> allowed;         // [sns] subscriber_networks
  std::vector<ListenAddress> ownListeners;  // the daemon's API, HTTPS API and DNS listeners
  std::vector<IpAddress> hostAddresses;   // what a wildcard listener also listens on
};

// nullopt when a delivery may be sent to ip:port; otherwise the reason, as a
// phrase ("is link-local (169.254.0.0/16)").
std::optional<std::string> subscriberRefusal(const IpAddress& ip, uint16_t port, const SubscriberNetworkPolicy& policy,
                                             const std::vector<IpNetwork>& vpcRanges);

}  // namespace lp::model
