// Route tables and network ACLs as plain value types, stored as JSON like the
// other resources (model/resources.h). No I/O.
//
// Every VPC has one main route table (its local route) and one default network
// ACL, made with the VPC and removed with it. A subnet is associated with exactly
// one ACL at any time (the default one unless replaced) and with at most one route
// table explicitly (the main one implicitly otherwise), as in AWS.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model/ids.h"
#include "model/resources.h"

namespace lp::model {

// A route: the local one of each VPC CIDR block (gatewayId "local", origin
// CreateRouteTable), or one a user made (origin CreateRoute) to a network interface
// or an instance (its primary interface) of the same VPC, gatewayId "". The state
// of a user's route is worked out when it is described (active while its target
// can take traffic, blackhole otherwise); the stored one is what it was made with.
struct Route {
  std::string destinationCidrBlock;
  std::string gatewayId = "local";
  std::string origin = "CreateRouteTable";
  std::string state = "active";
  NetworkInterfaceId networkInterfaceId;
  InstanceId instanceId;
  AccountId instanceOwnerId;
  bool isLocal() const { return gatewayId == "local"; }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Route, destinationCidrBlock, gatewayId, origin, state,
                                                networkInterfaceId, instanceId, instanceOwnerId)

// The local route of a VPC CIDR block.
inline Route localRoute(std::string cidr) {
  Route r;
  r.destinationCidrBlock = std::move(cidr);
  return r;
}

// One association of a route table: the main one (no subnet) or a subnet's.
struct RouteTableAssociation {
  RouteTableAssociationId id;
  bool main = false;
  SubnetId subnetId;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RouteTableAssociation, id, main, subnetId)

struct RouteTable {
  static constexpr std::string_view kKind = "route-table";
  RouteTableId id;
  AccountId ownerId;
  VpcId vpcId;
  std::vector<Route> routes;
  std::vector<RouteTableAssociation> associations;
  std::string clientToken;
  std::string createdAt;
  Tags tags;
  bool isMain() const {
    for (const auto& a : associations)
      if (a.main) return true;
    return false;
  }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RouteTable, id, ownerId, vpcId, routes, associations, clientToken,
                                                createdAt, tags)

// Rule numbers run 1..32766; 32767 is the "*" rule every ACL ends with (deny),
// shown but not changeable.
inline constexpr int kAclMinRule = 1;
inline constexpr int kAclMaxRule = 32766;
inline constexpr int kAclDefaultRule = 32767;

struct NetworkAclEntry {
  int ruleNumber = 0;
  bool egress = false;
  std::string protocol = "-1";  // IANA number as a string ("6", "17", "1") or "-1" (all)
  std::string ruleAction;       // "allow" | "deny"
  std::string cidrBlock;
  int fromPort = -1;  // set for tcp/udp only
  int toPort = -1;
  int icmpType = -2;  // set for icmp only (-1 = all types)
  int icmpCode = -2;
  bool hasPortRange() const { return fromPort >= 0; }
  bool hasIcmp() const { return icmpType >= -1; }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NetworkAclEntry, ruleNumber, egress, protocol, ruleAction, cidrBlock,
                                                fromPort, toPort, icmpType, icmpCode)

struct NetworkAclAssociation {
  NetworkAclAssociationId id;
  SubnetId subnetId;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NetworkAclAssociation, id, subnetId)

struct NetworkAcl {
  static constexpr std::string_view kKind = "network-acl";
  NetworkAclId id;
  AccountId ownerId;
  VpcId vpcId;
  bool isDefault = false;
  std::vector<NetworkAclEntry> entries;  // sorted by (egress, ruleNumber); the 32767 rules included
  std::vector<NetworkAclAssociation> associations;
  std::string clientToken;
  std::string createdAt;
  Tags tags;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NetworkAcl, id, ownerId, vpcId, isDefault, entries, associations,
                                                clientToken, createdAt, tags)

// The entries a network ACL starts with: the default ACL allows everything (rule
// 100) before the final deny; a new one denies everything.
std::vector<NetworkAclEntry> initialAclEntries(bool isDefault);

}  // namespace lp::model
