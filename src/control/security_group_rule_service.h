// DescribeSecurityGroupRules: every rule of the caller's security groups as its
// own object (sgr- id), the view Terraform's aws_security_group_rule and
// aws_vpc_security_group_{ingress,egress}_rule read back after each change.
// Stateless over a ControlContext; any thread.
#pragma once

#include <string>
#include <vector>

#include "control/common.h"
#include "control/query.h"

namespace lp::control {

struct DescribeSecurityGroupRulesInput {
  std::vector<std::string> ruleIds;  // SecurityGroupRuleId.N
  Filters filters;                   // group-id, security-group-rule-id, tag:KEY, tag-key
  PageRequest page;                  // MaxResults 5..1000
};

// One rule with the group that holds it (the group's rules left out: the rule is
// the object here). tags: the rule's, for the tag filters.
struct SecurityGroupRuleInfo {
  model::SecurityGroup group;
  model::SecurityGroupRule rule;
  model::Tags tags;
};

// Rules in rule-id order. An id that is malformed or not one of the caller's rules
// fails the whole call, as AWS does.
Result<Page<SecurityGroupRuleInfo>> describeSecurityGroupRules(ControlContext& ctx, const CallContext& call,
                                                               const DescribeSecurityGroupRulesInput& in);

}  // namespace lp::control
