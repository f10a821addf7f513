#include "control/security_group_rule_service.h"

#include <algorithm>

namespace lp::control {

using model::SecurityGroup;
using model::SecurityGroupRuleId;

namespace {

FilterSpec<SecurityGroupRuleInfo> ruleFilters() {
  using V = std::vector<std::string>;
  FilterSpec<SecurityGroupRuleInfo> s;
  s.add("group-id", [](const SecurityGroupRuleInfo& i) { return V{i.group.id.str()}; })
      .add("security-group-rule-id", [](const SecurityGroupRuleInfo& i) { return V{i.rule.id.str()}; });
  return s;
}

}  // namespace

Result<Page<SecurityGroupRuleInfo>> describeSecurityGroupRules(ControlContext& ctx, const CallContext& call,
                                                               const DescribeSecurityGroupRulesInput& in) {
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 5, 1000));
  for (const auto& id : in.ruleIds)
    if (!model::isWellFormed<SecurityGroupRuleId>(id))
      return err::make(err::kSecurityGroupRuleIdMalformed, "Invalid id: \"{}\" (expecting \"sgr-...\")", id);
  static const auto filters = ruleFilters();
  LP_RETURN_IF_ERROR(filters.validate(in.filters));
  if (call.dryRun) return err::dryRun();
  std::vector<SecurityGroup> groups;
  ctx.store.read(
      [&](const store::ReadView& r) { groups = View(r).listIndexed<SecurityGroup>(index::kOwner, call.account); });
  std::vector<SecurityGroupRuleInfo> rules;
  for (auto& g : groups) {
    auto held = std::move(g.rules);
    g.rules.clear();
    for (auto& r : held) {
      model::Tags tags = r.tags;
      rules.push_back({g, std::move(r), std::move(tags)});
    }
  }
  for (const auto& id : in.ruleIds)
    if (std::none_of(rules.begin(), rules.end(), [&](const SecurityGroupRuleInfo& i) { return i.rule.id.str() == id; }))
      return err::make(err::kSecurityGroupRuleIdNotFound, "The security group rule ID '{}' does not exist", id);
  std::erase_if(rules, [&](const SecurityGroupRuleInfo& i) {
    if (!in.ruleIds.empty() && std::find(in.ruleIds.begin(), in.ruleIds.end(), i.rule.id.str()) == in.ruleIds.end())
      return true;
    return !filters.matches(i, in.filters);
  });
  std::sort(rules.begin(), rules.end(),
            [](const SecurityGroupRuleInfo& a, const SecurityGroupRuleInfo& b) { return a.rule.id < b.rule.id; });
  return paginate(std::move(rules), in.page,
                  [](const SecurityGroupRuleInfo& i) -> const std::string& { return i.rule.id.str(); });
}

}  // namespace lp::control
