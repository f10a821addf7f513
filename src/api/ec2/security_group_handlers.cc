// EC2 security groups and their rules: CreateSecurityGroup,
// DescribeSecurityGroups, DeleteSecurityGroup, Authorize/Revoke
// SecurityGroupIngress/Egress, DescribeSecurityGroupRules,
// ModifySecurityGroupRules.
#include "api/ec2/codec.h"
#include "api/handlers.h"
#include "control/security_group_rule_service.h"
#include "control/security_group_service.h"

namespace lp::api {

namespace {

using control::IpPermissionSpec;

Result<IpPermissionSpec> readPermission(const Params& p) {
  IpPermissionSpec s;
  s.ipProtocol = p.get("IpProtocol");
  LP_ASSIGN_OR_RETURN(s.fromPort, p.getInt("FromPort"));
  LP_ASSIGN_OR_RETURN(s.toPort, p.getInt("ToPort"));
  for (auto& r : p.structList("IpRanges")) s.ipRanges.push_back({r.get("CidrIp"), r.get("Description")});
  for (auto& g : p.structList("Groups"))
    s.groups.push_back({g.get("GroupId"), g.get("GroupName"), g.get("UserId"), g.get("Description")});
  s.hasIpv6Ranges = !p.structList("Ipv6Ranges").empty();
  s.hasPrefixLists = !p.structList("PrefixListIds").empty();
  return s;
}

// IpPermissions.N, or the legacy top-level form (CidrIp, IpProtocol, FromPort,
// ToPort, SourceSecurityGroupName/OwnerId) that older SDK callers still send.
Result<control::RuleChangeInput> readRuleChange(const Params& p, bool egress) {
  control::RuleChangeInput in;
  in.egress = egress;
  in.group = {p.get("GroupId"), p.get("GroupName")};
  for (auto& perm : p.structList("IpPermissions")) {
    LP_ASSIGN_OR_RETURN(auto s, readPermission(perm));
    in.permissions.push_back(std::move(s));
  }
  bool legacy = p.has("CidrIp") || p.has("IpProtocol") || p.has("FromPort") || p.has("ToPort") ||
                p.has("SourceSecurityGroupName") || p.has("SourceSecurityGroupOwnerId");
  if (legacy) {
    if (!in.permissions.empty())
      return Status(std::string(control::err::kInvalidParameterCombination),
                    "The parameter IpPermissions cannot be used with CidrIp, IpProtocol, FromPort, ToPort or "
                    "SourceSecurityGroupName.");
    LP_ASSIGN_OR_RETURN(auto s, readPermission(p));
    // A bare source group means all traffic from it.
    if (s.ipProtocol.empty() && p.has("SourceSecurityGroupName")) s.ipProtocol = "-1";
    if (p.has("CidrIp")) s.ipRanges.push_back({p.get("CidrIp"), ""});
    if (p.has("SourceSecurityGroupName"))
      s.groups.push_back({"", p.get("SourceSecurityGroupName"), p.get("SourceSecurityGroupOwnerId"), ""});
    in.permissions.push_back(std::move(s));
  }
  in.ruleIds = p.list("SecurityGroupRuleId");
  in.tagSpecs = ec2::readTagSpecs(p);
  return in;
}

void writeRange(XmlWriter& x, const model::SecurityGroupRule& r) {
  auto i = x.scope("item");
  x.leaf("cidrIp", r.cidr);
  x.leafIf("description", r.description);
}

void writeGroupPair(XmlWriter& x, const model::SecurityGroupRule& r) {
  auto i = x.scope("item");
  x.leaf("userId", r.groupOwnerId);
  x.leaf("groupId", r.groupId.str());
  x.leafIf("description", r.description);
}

void writePermissions(XmlWriter& x, std::string_view element, const model::SecurityGroup& g, bool egress) {
  auto perms = control::ipPermissionsOf(g, egress);
  if (perms.empty()) return x.empty(element);
  auto s = x.scope(element);
  for (const auto& p : perms) {
    auto i = x.scope("item");
    x.leaf("ipProtocol", p.protocol);
    if (p.hasPorts) {
      x.leaf("fromPort", p.fromPort);
      x.leaf("toPort", p.toPort);
    }
    if (p.groupRules.empty()) {
      x.empty("groups");
    } else {
      auto gs = x.scope("groups");
      for (auto* r : p.groupRules) writeGroupPair(x, *r);
    }
    if (p.cidrRules.empty()) {
      x.empty("ipRanges");
    } else {
      auto rs = x.scope("ipRanges");
      for (auto* r : p.cidrRules) writeRange(x, *r);
    }
    x.empty("ipv6Ranges");
    x.empty("prefixListIds");
  }
}

void writeGroup(XmlWriter& x, const model::RegionConfig& region, const model::SecurityGroup& g) {
  x.leaf("ownerId", g.ownerId);
  x.leaf("groupId", g.id.str());
  x.leaf("groupName", g.name);
  x.leaf("groupDescription", g.description);
  x.leaf("vpcId", g.vpcId.str());
  x.leaf("securityGroupArn", control::securityGroupArn(region, g));
  writePermissions(x, "ipPermissions", g, false);
  writePermissions(x, "ipPermissionsEgress", g, true);
  ec2::writeTags(x, g.tags);
}

void writeRule(XmlWriter& x, const model::RegionConfig& region, const model::SecurityGroup& g,
               const model::SecurityGroupRule& r) {
  auto i = x.scope("item");
  x.leaf("securityGroupRuleId", r.id.str());
  x.leaf("groupId", g.id.str());
  x.leaf("groupOwnerId", g.ownerId);
  x.leaf("isEgress", r.egress);
  x.leaf("ipProtocol", r.protocol);
  x.leaf("fromPort", r.fromPort);
  x.leaf("toPort", r.toPort);
  if (!r.cidr.empty()) {
    x.leaf("cidrIpv4", r.cidr);
  } else {
    auto ref = x.scope("referencedGroupInfo");
    x.leaf("groupId", r.groupId.str());
    x.leaf("userId", r.groupOwnerId);
  }
  x.leafIf("description", r.description);
  ec2::writeTags(x, r.tags);
  x.leaf("securityGroupRuleArn", control::securityGroupRuleArn(region, g, r));
}

void writeRevoked(XmlWriter& x, const model::SecurityGroup& g, const model::SecurityGroupRule& r) {
  auto i = x.scope("item");
  x.leaf("securityGroupRuleId", r.id.str());
  x.leaf("groupId", g.id.str());
  x.leaf("isEgress", r.egress);
  x.leaf("ipProtocol", r.protocol);
  x.leaf("fromPort", r.fromPort);
  x.leaf("toPort", r.toPort);
  if (!r.cidr.empty()) x.leaf("cidrIpv4", r.cidr);
  if (!r.groupId.empty()) x.leaf("referencedGroupId", r.groupId.str());
  x.leafIf("description", r.description);
}

void registerRuleChange(Router& r, control::ControlContext& ctx, std::string_view action, bool egress, bool authorize) {
  r.add("ec2", action, [&ctx, egress, authorize](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, readRuleChange(h.params, egress));
    control::SecurityGroupService svc(ctx);
    if (authorize) {
      LP_ASSIGN_OR_RETURN(auto res, svc.authorize(h.call, in));
      ec2::writeReturnTrue(h.out);
      auto s = h.out.scope("securityGroupRuleSet");
      for (auto& rule : res.rules) writeRule(h.out, h.region, res.group, rule);
    } else {
      LP_ASSIGN_OR_RETURN(auto res, svc.revoke(h.call, in));
      ec2::writeReturnTrue(h.out);
      h.out.empty("unknownIpPermissionSet");
      auto s = h.out.scope("revokedSecurityGroupRuleSet");
      for (auto& rule : res.rules) writeRevoked(h.out, res.group, rule);
    }
    return Status::Ok();
  });
}

}  // namespace

void registerEc2SecurityGroupHandlers(Router& r, control::ControlContext& ctx) {
  r.add("ec2", "CreateSecurityGroup", [&ctx](HandlerContext& h) -> Status {
    control::CreateSecurityGroupInput in{h.params.get("GroupName"), h.params.get("GroupDescription"),
                                         h.params.get("VpcId"), ec2::readTagSpecs(h.params)};
    LP_ASSIGN_OR_RETURN(auto g, control::SecurityGroupService(ctx).createSecurityGroup(h.call, in));
    h.out.leaf("groupId", g.id.str());
    ec2::writeTags(h.out, g.tags);
    h.out.leaf("securityGroupArn", control::securityGroupArn(h.region, g));
    return Status::Ok();
  });

  r.add("ec2", "DescribeSecurityGroups", [&ctx](HandlerContext& h) -> Status {
    control::DescribeSecurityGroupsInput in;
    in.groupIds = h.params.list("GroupId");
    in.groupNames = h.params.list("GroupName");
    in.filters = ec2::readFilters(h.params);
    LP_ASSIGN_OR_RETURN(in.page, ec2::readPage(h.params));
    LP_ASSIGN_OR_RETURN(auto page, control::SecurityGroupService(ctx).describeSecurityGroups(h.call, in));
    if (page.items.empty()) {
      h.out.empty("securityGroupInfo");
    } else {
      auto s = h.out.scope("securityGroupInfo");
      for (auto& g : page.items) {
        auto i = h.out.scope("item");
        writeGroup(h.out, h.region, g);
      }
    }
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  r.add("ec2", "DeleteSecurityGroup", [&ctx](HandlerContext& h) -> Status {
    control::SecurityGroupRef ref{h.params.get("GroupId"), h.params.get("GroupName")};
    LP_ASSIGN_OR_RETURN(auto id, control::SecurityGroupService(ctx).deleteSecurityGroup(h.call, ref));
    ec2::writeReturnTrue(h.out);
    h.out.leaf("groupId", id.str());
    return Status::Ok();
  });

  r.add("ec2", "DescribeSecurityGroupRules", [&ctx](HandlerContext& h) -> Status {
    control::DescribeSecurityGroupRulesInput in;
    in.ruleIds = h.params.list("SecurityGroupRuleId");
    in.filters = ec2::readFilters(h.params);
    LP_ASSIGN_OR_RETURN(in.page, ec2::readPage(h.params));
    LP_ASSIGN_OR_RETURN(auto page, control::describeSecurityGroupRules(ctx, h.call, in));
    if (page.items.empty()) {
      h.out.empty("securityGroupRuleSet");
    } else {
      auto s = h.out.scope("securityGroupRuleSet");
      for (auto& i : page.items) writeRule(h.out, h.region, i.group, i.rule);
    }
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  // SecurityGroupRule.N.{SecurityGroupRuleId, SecurityGroupRule.{IpProtocol, FromPort,
  // ToPort, CidrIpv4, CidrIpv6, PrefixListId, ReferencedGroupId, Description}}.
  r.add("ec2", "ModifySecurityGroupRules", [&ctx](HandlerContext& h) -> Status {
    control::ModifyRulesInput in;
    in.groupId = h.params.get("GroupId");
    for (auto& item : h.params.structList("SecurityGroupRule")) {
      control::RuleUpdateSpec u;
      u.ruleId = item.get("SecurityGroupRuleId");
      Params rule = item.sub("SecurityGroupRule");
      u.hasRule = !rule.all().empty();
      u.ipProtocol = rule.get("IpProtocol");
      LP_ASSIGN_OR_RETURN(u.fromPort, rule.getInt("FromPort"));
      LP_ASSIGN_OR_RETURN(u.toPort, rule.getInt("ToPort"));
      u.cidrIpv4 = rule.get("CidrIpv4");
      u.cidrIpv6 = rule.get("CidrIpv6");
      u.prefixListId = rule.get("PrefixListId");
      u.referencedGroupId = rule.get("ReferencedGroupId");
      u.description = rule.get("Description");
      in.updates.push_back(std::move(u));
    }
    LP_RETURN_IF_ERROR(control::SecurityGroupService(ctx).modifyRules(h.call, in));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  registerRuleChange(r, ctx, "AuthorizeSecurityGroupIngress", /*egress=*/false, /*authorize=*/true);
  registerRuleChange(r, ctx, "AuthorizeSecurityGroupEgress", /*egress=*/true, /*authorize=*/true);
  registerRuleChange(r, ctx, "RevokeSecurityGroupIngress", /*egress=*/false, /*authorize=*/false);
  registerRuleChange(r, ctx, "RevokeSecurityGroupEgress", /*egress=*/true, /*authorize=*/false);
}

}  // namespace lp::api
