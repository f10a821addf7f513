// HostPlan: what the host should hold, as plain values (names of namespaces,
// bridges and veths, addresses, the nftables ruleset). planVpc plans one VPC from
// the reconciler's decoded state; planHost plans every VPC of a store view (tests,
// and the reference the per-VPC plans must add up to). Pure, no I/O; any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "reconciler/desired_state.h"
#include "reconciler/filter_plan.h"
#include "reconciler/route_plan.h"
#include "store/store.h"

namespace lp::reconciler {

// A subnet's bridge, made only while the subnet has workload interfaces: they are
// its ports, and it holds the router address they use as their gateway. A bridge
// costs the kernel an rcu_barrier() under the RTNL lock when it is deleted (measured
// here: about 20 ms each, so 2,000 bridges kept every namespace operation on the host
// waiting for 45 s after a clean stop); a subnet with only endpoint or load balancer
// interfaces needs none. See docs/scale.md.
struct BridgePlan {
  std::string name;        // lp-br-<9 hex of the subnet id>
  std::string routerCidr;  // base+1 with the subnet prefix
};

struct WorkloadPlan {
  std::string interfaceId;
  std::string ns;        // lp-<eni-id>
  std::string vethName;  // in the VPC namespace: lp-v<11 hex>
  std::string bridge;
  std::string cidr;      // private ip with the subnet prefix
  std::string gateway;   // subnet router
  std::string resolver;  // VPC base+2
  // ip_forward in its namespace: a route sends traffic to it and its SourceDestCheck
  // is off (route_plan.h, docs/vpc-routes.md).
  bool forwarding = false;
};

struct VpcPlan {
  std::string vpcId;
  std::string ns;  // lp-<vpc-id>
  std::vector<BridgePlan> bridges;
  std::vector<WorkloadPlan> workloads;
  std::vector<std::string> interfaceIds;  // every interface placed in this VPC
  std::string nftRuleset;                 // JSON batch replacing tables inet and bridge lp-sg (filter_plan.h)
  std::string resolverCidr;               // VPC base+2 as a /32 on lo: the VPC resolver (dns/)
  // Endpoint and load balancer node addresses, as /32 on the namespace's lo: local
  // addresses whatever subnet they are in (a workload on a bridge gets ARP replies for
  // them), and never moved when a subnet gains or loses its bridge.
  std::vector<std::string> hostAddresses;
  RoutingPlan routing;  // its route tables (route_plan.h)
};

struct HostPlan {
  std::vector<VpcPlan> vpcs;
  // endpoint id -> the interfaces it needs in place.
  std::map<std::string, std::vector<std::string>> endpointInterfaces;
};

HostPlan planHost(const store::ReadView& view);
// One VPC's plan; nullopt when the VPC is gone (or its CIDR unreadable): its
// namespace should not exist.
std::optional<VpcPlan> planVpc(const DesiredState& state, const std::string& vpcId);
// The interfaces an endpoint needs in place before it may be available.
std::vector<std::string> endpointInterfaces(const DesiredState& state, const std::string& endpointId);
// Bridge name for a subnet id (IFNAMSIZ: 15 characters at most).
std::string bridgeName(const std::string& subnetId);
std::string vethName(const std::string& interfaceId);

}  // namespace lp::reconciler
