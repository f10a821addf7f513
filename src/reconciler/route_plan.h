// RoutePlan: a VPC's route tables as Linux policy routing in its namespace. Pure, no
// I/O; any thread. docs/vpc-routes.md explains it; in short:
//
//  - a route table with routes of its own (CreateRoute) that a subnet with workloads
//    uses (explicitly associated, or the main table for the subnets without an
//    association) becomes a routing table of the VPC namespace, its number derived
//    from the route table id (tableNumber), so the same after a restart;
//  - one rule `pref kRoutePref iif <subnet bridge> lookup <table>` per such subnet:
//    what its workloads send is routed by its route table. Subnets on a main table
//    without routes of its own keep the namespace's main table;
//  - the table holds, as AWS's table does, the local route first: every VPC CIDR block
//    as a blackhole (nothing answers there but the subnets) with each bridge's subnet
//    more specific, on its bridge; then each route: to its target interface's address
//    on the target's bridge while the route is active, a blackhole route otherwise.
//    Longest prefix wins, as on AWS: a route to 0.0.0.0/0 or 10.0.0.0/8 does not take
//    the VPC's own addresses, and a route whose destination is a subnet's CIDR replaces
//    that subnet's local one (AWS's "more specific" middlebox routing).
//
// The namespace's local table (its own addresses: endpoints, load balancer nodes, the
// resolver) is looked up before these rules, so those stay local whatever a table says.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "net/netlink.h"
#include "reconciler/desired_state.h"

namespace lp::reconciler {

// Rule preferences this code owns in a VPC namespace: it adds its rules at
// kRoutePref and removes only rules in [kRoutePrefMin, kRoutePrefMax]. The BPF fast
// path's rules (100, 150) and the local table's (0 or 200) come first.
inline constexpr uint32_t kRoutePref = 30000;
inline constexpr uint32_t kRoutePrefMin = 30000;
inline constexpr uint32_t kRoutePrefMax = 32765;
// Table numbers: [kRouteTableBase, kRouteTableBase + kRouteTableSpan), far from the
// kernel's (253-255), the fast path's (0x4c50) and the small numbers people pick.
inline constexpr uint32_t kRouteTableBase = 0x10000000;
inline constexpr uint32_t kRouteTableSpan = 0x10000000;

// A subnet of the VPC that has a bridge (workloads).
struct SubnetBridge {
  std::string subnetId;
  std::string cidr;
  std::string bridge;
};

struct RouteTablePlan {
  std::string routeTableId;
  uint32_t table = 0;
  std::vector<net::RouteInfo> routes;  // sorted, as Netlink::routes() lists them
  bool operator==(const RouteTablePlan&) const = default;
};

struct RoutingPlan {
  std::vector<net::RuleInfo> rules;  // sorted, as Netlink::rules() lists them
  std::vector<RouteTablePlan> tables;
  // Interfaces an installed route sends traffic to (active routes only).
  std::set<std::string> targets;
  bool operator==(const RoutingPlan&) const = default;
};

// The table number a route table id hashes to (before collisions are resolved).
uint32_t tableNumber(const std::string& routeTableId);

RoutingPlan planRouting(const DesiredState& state, const std::string& vpcId, const std::vector<SubnetBridge>& bridges);

}  // namespace lp::reconciler
