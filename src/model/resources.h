// The resources of the control plane as plain value types, serialized to JSON for
// the store. Each has a kKind (its store kind) and ownerId. No I/O, no behaviour
// beyond small derived values; rules live in control/.
//
// Fields that AWS computes per caller (zone names, which depend on the caller's
// zone mapping) are stored as zone ids and rendered at the API edge.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/ids.h"

namespace lp::model {

struct Tag {
  std::string key;
  std::string value;
  bool operator==(const Tag&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Tag, key, value)

using Tags = std::vector<Tag>;
const std::string* findTag(const Tags& tags, std::string_view key);

inline constexpr size_t kMaxTagsPerResource = 50;

// A secondary IPv4 CIDR block (AssociateVpcCidrBlock). Disassociated ones stay
// described, in state "disassociated", for a while as on AWS (changedAt says since when).
struct VpcCidrAssociation {
  std::string associationId;  // vpc-cidr-assoc-...
  std::string cidrBlock;
  std::string state = "associated";  // associated | disassociated
  std::string changedAt;
  bool operator==(const VpcCidrAssociation&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(VpcCidrAssociation, associationId, cidrBlock, state, changedAt)

struct Vpc {
  static constexpr std::string_view kKind = "vpc";
  VpcId id;
  AccountId ownerId;
  std::string cidrBlock;  // the primary one; the resolver is at its base+2
  std::string cidrAssociationId;
  std::vector<VpcCidrAssociation> secondaryCidrs;
  std::string state = "available";
  std::string dhcpOptionsId;
  std::string instanceTenancy = "default";
  bool enableDnsSupport = true;
  bool enableDnsHostnames = false;
  bool enableNetworkAddressUsageMetrics = false;
  SecurityGroupId defaultSecurityGroupId;
  std::string createdAt;
  Tags tags;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Vpc, id, ownerId, cidrBlock, cidrAssociationId, secondaryCidrs, state,
                                                dhcpOptionsId, instanceTenancy, enableDnsSupport, enableDnsHostnames,
                                                enableNetworkAddressUsageMetrics, defaultSecurityGroupId, createdAt,
                                                tags)

// The CIDR blocks a VPC's subnets may use: the primary and every associated secondary.
std::vector<std::string> associatedCidrs(const Vpc& vpc);

struct Subnet {
  static constexpr std::string_view kKind = "subnet";
  SubnetId id;
  AccountId ownerId;
  VpcId vpcId;
  std::string cidrBlock;
  std::string zoneId;  // "use1-az1"; the name is per account
  std::string state = "available";
  std::string createdAt;
  Tags tags;
  // ModifySubnetAttribute's settings that an IPv4-only subnet can hold. Recorded and
  // copied into what RunInstances launches there; the IPv6, DNS64, Outposts and
  // customer-owned-IP settings cannot be turned on here and so are not stored.
  bool mapPublicIpOnLaunch = false;
  std::string hostnameTypeOnLaunch = "ip-name";  // ip-name | resource-name
  bool enableResourceNameDnsARecordOnLaunch = false;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Subnet, id, ownerId, vpcId, cidrBlock, zoneId, state, createdAt, tags,
                                                mapPublicIpOnLaunch, hostnameTypeOnLaunch,
                                                enableResourceNameDnsARecordOnLaunch)

// One rule of a security group, with exactly one source/destination: a CIDR or a group.
struct SecurityGroupRule {
  SecurityGroupRuleId id;
  bool egress = false;
  std::string protocol;  // "tcp", "udp", "icmp" or "-1" (all)
  int fromPort = -1;     // -1 when the protocol has no ports
  int toPort = -1;
  std::string cidr;           // set for a CIDR rule
  SecurityGroupId groupId;    // set for a group rule
  AccountId groupOwnerId;     // owner of groupId
  std::string description;
  Tags tags;
  bool sameTarget(const SecurityGroupRule& o) const {
    return egress == o.egress && protocol == o.protocol && fromPort == o.fromPort && toPort == o.toPort &&
           cidr == o.cidr && groupId == o.groupId;
  }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SecurityGroupRule, id, egress, protocol, fromPort, toPort, cidr, groupId,
                                                groupOwnerId, description, tags)

struct SecurityGroup {
  static constexpr std::string_view kKind = "security-group";
  SecurityGroupId id;
  AccountId ownerId;
  VpcId vpcId;
  std::string name;
  std::string description;
  bool isDefault = false;  // the VPC's default group: cannot be deleted
  std::vector<SecurityGroupRule> rules;
  std::string createdAt;
  Tags tags;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SecurityGroup, id, ownerId, vpcId, name, description, isDefault, rules,
                                                createdAt, tags)

struct NetworkInterface {
  static constexpr std::string_view kKind = "network-interface";
  NetworkInterfaceId id;
  AccountId ownerId;
  VpcId vpcId;
  SubnetId subnetId;
  std::string zoneId;
  std::string privateIp;
  std::string macAddress;
  std::string description;
  std::vector<SecurityGroupId> groupIds;
  std::string interfaceType = "interface";  // "interface", "vpc_endpoint", "network_load_balancer"
  bool requesterManaged = false;
  std::string requesterId;
  std::string status = "in-use";
  bool sourceDestCheck = true;
  std::string clientToken;
  // Owner of a requester-managed interface: a vpce- id or a load balancer ARN.
  std::string managedBy;
  std::string createdAt;
  Tags tags;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NetworkInterface, id, ownerId, vpcId, subnetId, zoneId, privateIp,
                                                macAddress, description, groupIds, interfaceType, requesterManaged,
                                                requesterId, status, sourceDestCheck, clientToken, managedBy, createdAt,
                                                tags)

}  // namespace lp::model
