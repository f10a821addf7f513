// SecurityGroupService: CreateSecurityGroup, DescribeSecurityGroups,
// DeleteSecurityGroup and Authorize/Revoke SecurityGroup Ingress/Egress.
// Rules are stored flat (one source each, an sgr- id per rule) and grouped back
// into IpPermission entries only for Describe. Stateless over a ControlContext;
// any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/common.h"
#include "control/query.h"

namespace lp::control {

struct CreateSecurityGroupInput {
  std::string groupName;
  std::string description;  // GroupDescription on the wire
  std::string vpcId;
  std::vector<TagSpecification> tagSpecs;
};

struct DescribeSecurityGroupsInput {
  std::vector<std::string> groupIds;
  std::vector<std::string> groupNames;
  Filters filters;
  PageRequest page;
};

// A group named by id, or by name among the caller's groups.
struct SecurityGroupRef {
  std::string groupId;
  std::string groupName;
};

// One IpPermission as the request spells it, before validation.
struct IpRangeSpec {
  std::string cidrIp;
  std::string description;
};
struct GroupPairSpec {
  std::string groupId;
  std::string groupName;
  std::string userId;
  std::string description;
};
struct IpPermissionSpec {
  std::string ipProtocol;
  std::optional<int64_t> fromPort;
  std::optional<int64_t> toPort;
  std::vector<IpRangeSpec> ipRanges;
  std::vector<GroupPairSpec> groups;
  bool hasIpv6Ranges = false;  // unsupported: this cloud is IPv4-only
  bool hasPrefixLists = false;
};

struct RuleChangeInput {
  SecurityGroupRef group;
  bool egress = false;
  std::vector<IpPermissionSpec> permissions;
  std::vector<std::string> ruleIds;        // Revoke only: SecurityGroupRuleId.N
  std::vector<TagSpecification> tagSpecs;  // Authorize only: tags of the new rules
};

// One ModifySecurityGroupRules item: the rule named by id takes this content
// (protocol, ports, exactly one peer, description); its id, direction and tags stay.
struct RuleUpdateSpec {
  std::string ruleId;
  bool hasRule = false;  // SecurityGroupRule.N.SecurityGroupRule present
  std::string ipProtocol;
  std::optional<int64_t> fromPort;
  std::optional<int64_t> toPort;
  std::string cidrIpv4;
  std::string cidrIpv6;
  std::string prefixListId;
  std::string referencedGroupId;
  std::string description;
};

struct ModifyRulesInput {
  std::string groupId;
  std::vector<RuleUpdateSpec> updates;
};

struct RuleChangeResult {
  model::SecurityGroup group;                   // the group after the change
  std::vector<model::SecurityGroupRule> rules;  // the rules added or revoked
};

class SecurityGroupService {
 public:
  explicit SecurityGroupService(ControlContext& ctx) : ctx_(ctx) {}

  Result<model::SecurityGroup> createSecurityGroup(const CallContext& call, const CreateSecurityGroupInput& in);
  Result<Page<model::SecurityGroup>> describeSecurityGroups(const CallContext& call,
                                                            const DescribeSecurityGroupsInput& in);
  // Returns the deleted group's id.
  Result<model::SecurityGroupId> deleteSecurityGroup(const CallContext& call, const SecurityGroupRef& ref);
  // All or nothing: a duplicate, a missing source or the rule limit adds no rule.
  Result<RuleChangeResult> authorize(const CallContext& call, const RuleChangeInput& in);
  // All or nothing: any rule that does not exist revokes nothing.
  Result<RuleChangeResult> revoke(const CallContext& call, const RuleChangeInput& in);
  // ModifySecurityGroupRules. All or nothing: a rule id not in the group, a bad
  // value, or a result equal to another rule of the group changes no rule.
  // RuleChangeResult::rules holds the rules as they now are.
  Result<RuleChangeResult> modifyRules(const CallContext& call, const ModifyRulesInput& in);

 private:
  ControlContext& ctx_;
};

// arn:aws:ec2:<region>:<account>:security-group/<id>
std::string securityGroupArn(const model::RegionConfig& region, const model::SecurityGroup& g);
std::string securityGroupRuleArn(const model::RegionConfig& region, const model::SecurityGroup& g,
                                 const model::SecurityGroupRule& r);

// The IpPermission view of a group's rules in one direction: rules sharing
// (protocol, fromPort, toPort) form one entry, in order of first appearance.
struct IpPermissionView {
  std::string protocol;
  int fromPort = -1;
  int toPort = -1;
  bool hasPorts = false;  // tcp, udp and icmp carry ports; -1 and other protocols do not
  std::vector<const model::SecurityGroupRule*> cidrRules;
  std::vector<const model::SecurityGroupRule*> groupRules;
};
std::vector<IpPermissionView> ipPermissionsOf(const model::SecurityGroup& g, bool egress);

// "tcp"/"6" -> "tcp", "udp"/"17" -> "udp", "icmp"/"1" -> "icmp", "-1" -> "-1",
// other protocol numbers 0..255 as themselves; nullopt for anything else.
std::optional<std::string> normalizeProtocol(std::string_view p);
bool protocolHasPorts(std::string_view normalized);

}  // namespace lp::control
