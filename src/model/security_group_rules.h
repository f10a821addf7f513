// SecurityGroupRules: the security groups of a host turned into the rules that
// apply to each network interface, for the data plane (net/ turns them into
// nftables). A rule naming a group as its source or destination stands for the
// private addresses of the interfaces that carry that group, so those rules are
// resolved here to /32 peers. Pure functions over value types; any thread.
#pragma once

#include <string>
#include <vector>

#include "model/resources.h"

namespace lp::model {

struct EffectiveRule {
  model::SecurityGroupId groupId;  // the group the rule belongs to
  model::SecurityGroupRuleId ruleId;
  std::string protocol;  // "tcp", "udp", "icmp", "-1" (all) or a protocol number
  int fromPort = -1;     // tcp/udp: port range; icmp: type/code (-1 = any)
  int toPort = -1;
  // Sorted, unique CIDRs ("10.0.0.0/8", "10.1.1.10/32"). Never empty: a group rule
  // whose group no interface carries matches nothing and is left out.
  std::vector<std::string> peers;
  bool operator==(const EffectiveRule&) const = default;
};

struct InterfaceRules {
  model::NetworkInterfaceId interfaceId;
  model::VpcId vpcId;
  std::string privateIp;
  std::vector<EffectiveRule> ingress;  // who may open connections to the interface
  std::vector<EffectiveRule> egress;   // what the interface may open
};

// One entry per interface that has a private address, in interface id order;
// rules in the order of the interface's groups, then of each group's rules.
// Group ids an interface names that are not in groups are skipped (a group being
// deleted); a peer group is resolved only within the same VPC, as in AWS.
std::vector<InterfaceRules> effectiveRules(const std::vector<model::SecurityGroup>& groups,
                                           const std::vector<model::NetworkInterface>& interfaces);

}  // namespace lp::model
