// FilterPlan: one VPC's security groups and network ACLs as the nftables batch
// that replaces its filter tables. Pure, no I/O; any thread. docs/security-groups.md
// explains the layout; in short, in the VPC namespace:
//
//  - table bridge lp-sg, chain prerouting (hook prerouting, priority -200): a
//    workload's port (its veth) may only send IPv4 and ARP from its own address
//    (IPv4 from any with its SourceDestCheck off, ARP never), so the address rules
//    below can trust a source address.
//  - table inet lp-sg, chains prerouting and output (hooks prerouting and output,
//    priority -150: after conntrack at -200, before any destination NAT at -100):
//      1. the VPC resolver (base+2, port 53) is exempt, as Amazon DNS is on AWS;
//      2. network ACLs, stateless, on every packet that crosses a subnet boundary:
//         the source subnet's outbound entries, then the destination subnet's
//         inbound ones, in rule-number order, first match wins (allow = return,
//         deny = drop); traffic inside one subnet meets none, as on AWS;
//      3. established and related packets pass (security groups are stateful);
//      4. a new connection passes its source workload's egress rules, then its
//         destination's ingress rules (workload, endpoint or load balancer node).
//  - chain postrouting (priority 150): a packet a route sends to a workload (the
//    route's next hop, `rt ip nexthop`) meets that workload's ingress rules when new,
//    and, with its SourceDestCheck on, is dropped unless addressed to it.
//
// Every workload port is isolated on its bridge and the bridge answers ARP for the
// whole subnet (NetHostProvisioner), so even traffic between two workloads of one
// subnet is routed by the VPC namespace and meets these chains, whether or not
// br_netfilter is loaded.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "model/network.h"
#include "model/security_group_rules.h"

namespace lp::reconciler {

inline constexpr const char* kSgTable = "lp-sg";
// Hook priorities of the chains above, for whoever adds NAT in the same namespace.
inline constexpr int kSgInetPriority = -150;
inline constexpr int kSgBridgePriority = -200;
// After source NAT (100): a connection the kernel fast path translated to a target
// meets the target's ingress rules here, from the load balancer node's address, as
// the splice path's connection from the node does in `output`.
inline constexpr int kSgTranslatedPriority = 150;

// The named counter (in table inet lp-sg) of the packets an endpoint interface's
// security groups refuse: its ingress chain's drop rules count there. The table is
// made anew on every change of the VPC's rules, so the counter starts again from
// zero then (reconciler/fastpath_sink.cc keeps the running total).
inline std::string sgDropCounter(const std::string& interfaceId) { return "drop-" + interfaceId; }

struct SubnetFilter {
  std::string subnetId;
  std::string cidr;
  std::string aclId;  // "" = no ACL associated (everything passes)
};

struct WorkloadPort {
  std::string vethName;  // in the VPC namespace
  std::string privateIp;
  // AWS's source/destination check: on, the port sends IPv4 from its own address
  // only; off (a router, NAT or firewall instance), from any.
  bool sourceDestCheck = true;
};

struct FilterInputs {
  std::string resolver;                       // VPC base+2
  std::vector<model::InterfaceRules> rules;   // model::effectiveRules of the VPC
  std::map<std::string, std::string> typeOf;  // interface id -> InterfaceType
  std::vector<SubnetFilter> subnets;
  std::map<std::string, model::NetworkAcl> acls;  // by id
  std::vector<WorkloadPort> ports;
  // Workloads an installed route sends traffic to (route_plan.h) -> their
  // SourceDestCheck: packets routed to one meet its ingress rules whatever their
  // destination, and with the check on, only those addressed to it pass.
  std::map<std::string, bool> routeTargets;
};

// The JSON batch (nft -j) that replaces tables inet lp-sg and bridge lp-sg at once.
std::string filterRuleset(const FilterInputs& in);

}  // namespace lp::reconciler
