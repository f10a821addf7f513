#include "control/security_group_service.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "control/security_group_index.h"
#include "model/cidr.h"
#include "model/endpoint.h"

namespace lp::control {

using model::NetworkInterface;
using model::SecurityGroup;
using model::SecurityGroupId;
using model::SecurityGroupRule;
using model::SecurityGroupRuleId;

namespace {

constexpr size_t kMaxTextLength = 255;

// What AWS allows in VPC security group names, descriptions and rule descriptions.
bool allowedText(std::string_view s) {
  static constexpr std::string_view kExtra = " ._-:/()#,@[]+=&;{}!$*";
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kExtra.find(c) != std::string_view::npos;
  });
}

Status validateText(std::string_view param, std::string_view value) {
  if (value.size() > kMaxTextLength)
    return err::make(err::kInvalidParameterValue,
                     "Value for parameter {} is invalid. It must be at most {} characters.", param, kMaxTextLength);
  if (!allowedText(value))
    return err::make(err::kInvalidParameterValue,
                     // The value is not echoed: it may hold bytes an XML document cannot carry.
                     "Value for parameter {} is invalid. Character sets beyond ASCII are not supported; allowed "
                     "are a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{{}}!$*",
                     param);
  return Status::Ok();
}

bool sameNameCaseless(std::string_view a, std::string_view b) { return toLower(a) == toLower(b); }

std::string describeRule(const SecurityGroupRule& r) {
  std::string peer = r.cidr.empty() ? r.groupId.str() : r.cidr;
  std::string proto = r.protocol == "-1" ? "ALL" : r.protocol;
  for (auto& c : proto) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!protocolHasPorts(r.protocol)) return fmt::format("peer: {}, {}, ALLOW", peer, proto);
  return fmt::format("peer: {}, {}, from port: {}, to port: {}, ALLOW", peer, proto, r.fromPort, r.toPort);
}

// A rule spec turned into flat rules (no ids yet), checked for everything that
// needs no store: protocol, ports, CIDRs, descriptions. Group sources are
// resolved later, inside the transaction.
struct ParsedRule {
  SecurityGroupRule rule;
  const GroupPairSpec* pair = nullptr;  // set for a group source
};

Result<std::vector<ParsedRule>> parsePermissions(const std::vector<IpPermissionSpec>& perms, bool egress) {
  std::vector<ParsedRule> out;
  for (const auto& p : perms) {
    if (p.hasIpv6Ranges || p.hasPrefixLists)
      return err::make(err::kUnsupportedOperation,
                       "IPv6 ranges and prefix lists are not supported; this cloud is IPv4-only.");
    if (p.ipProtocol.empty()) return err::missing("IpPermissions.N.IpProtocol");
    auto proto = normalizeProtocol(p.ipProtocol);
    if (!proto)
      return err::make(err::kInvalidParameterValue, "Invalid value '{}' for IP protocol. Unknown protocol.",
                       p.ipProtocol);
    int from = -1, to = -1;
    if (*proto == "tcp" || *proto == "udp") {
      if (!p.fromPort || !p.toPort)
        return err::make(err::kInvalidParameterValue,
                         "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange");
      if (*p.fromPort < 0 || *p.toPort > 65535 || *p.fromPort > *p.toPort)
        return err::make(err::kInvalidParameterValue, "Invalid TCP/UDP port range: from {} to {}", *p.fromPort,
                         *p.toPort);
      from = static_cast<int>(*p.fromPort);
      to = static_cast<int>(*p.toPort);
    } else if (*proto == "icmp") {
      // FromPort is the ICMP type, ToPort the code; -1 means any.
      int64_t type = p.fromPort.value_or(-1), code = p.toPort.value_or(-1);
      if (type < -1 || type > 255)
        return err::make(err::kInvalidParameterValue, "Invalid value '{}' for ICMP type (from port)", type);
      if (code < -1 || code > 255)
        return err::make(err::kInvalidParameterValue, "Invalid value '{}' for ICMP code (to port)", code);
      if (type == -1 && code != -1)
        return err::make(err::kInvalidParameterValue, "ICMP code must be -1 when the ICMP type is -1 (all types)");
      from = static_cast<int>(type);
      to = static_cast<int>(code);
    }
    if (p.ipRanges.empty() && p.groups.empty())
      return err::make(err::kPermissionMalformed,
                       "Each IpPermission needs at least one source: IpRanges or UserIdGroupPairs (Groups).");
    for (const auto& r : p.ipRanges) {
      if (r.cidrIp.empty()) return err::missing("IpPermissions.N.IpRanges.N.CidrIp");
      auto c = model::Cidr::parse(r.cidrIp);
      if (!c) return err::make(err::kInvalidParameterValue, "CIDR block {} is malformed", r.cidrIp);
      LP_RETURN_IF_ERROR(validateText("Description", r.description));
      ParsedRule pr;
      pr.rule.egress = egress;
      pr.rule.protocol = *proto;
      pr.rule.fromPort = from;
      pr.rule.toPort = to;
      pr.rule.cidr = c->toString();
      pr.rule.description = r.description;
      out.push_back(std::move(pr));
    }
    for (const auto& g : p.groups) {
      if (g.groupId.empty() && g.groupName.empty())
        return err::make(err::kPermissionMalformed, "A UserIdGroupPair needs GroupId or GroupName.");
      if (!g.groupId.empty() && !model::isWellFormed<SecurityGroupId>(g.groupId))
        return err::make(err::kGroupIdMalformed, "Invalid id: \"{}\" (expecting \"sg-...\")", g.groupId);
      LP_RETURN_IF_ERROR(validateText("Description", g.description));
      ParsedRule pr;
      pr.rule.egress = egress;
      pr.rule.protocol = *proto;
      pr.rule.fromPort = from;
      pr.rule.toPort = to;
      pr.rule.description = g.description;
      pr.pair = &g;
      out.push_back(std::move(pr));
    }
  }
  return out;
}

// Finds the group a request names: by id (owned by the caller), or by name among
// the caller's groups (ambiguous across VPCs is an error: use the id).
Result<SecurityGroup> findGroup(const View& v, const CallContext& call, const SecurityGroupRef& ref) {
  if (!ref.groupId.empty()) {
    if (!model::isWellFormed<SecurityGroupId>(ref.groupId))
      return err::make(err::kGroupIdMalformed, "Invalid id: \"{}\" (expecting \"sg-...\")", ref.groupId);
    auto g = v.get<SecurityGroup>(ref.groupId);
    if (!g || g->ownerId != call.account)
      return err::make(err::kGroupNotFound, "The security group '{}' does not exist", ref.groupId);
    return std::move(*g);
  }
  if (ref.groupName.empty()) return err::missing("GroupId");
  auto found = v.listIndexed<SecurityGroup>(index::kOwnerName, ownerName(call.account, ref.groupName));
  if (found.empty()) return err::make(err::kGroupNotFound, "The security group '{}' does not exist", ref.groupName);
  if (found.size() > 1)
    return err::make(err::kInvalidParameterValue,
                     "The security group name '{}' exists in more than one VPC; name the group by GroupId.",
                     ref.groupName);
  return std::move(found.front());
}

// Resolves the group sources of parsed rules inside the transaction: same account,
// same VPC as the target group.
Status resolveSources(const View& v, const CallContext& call, const SecurityGroup& target,
                      std::vector<ParsedRule>& rules) {
  for (auto& pr : rules) {
    if (!pr.pair) continue;
    const auto& g = *pr.pair;
    std::string shown = g.groupId.empty() ? g.groupName : g.groupId;
    // Cross-account references are not supported: another account's group is
    // answered exactly like a missing one.
    if (!g.userId.empty() && g.userId != call.account)
      return err::make(err::kGroupNotFound, "The security group '{}' does not exist", shown);
    std::optional<SecurityGroup> src;
    if (!g.groupId.empty()) {
      if (g.groupId == target.id.str()) {
        src = target;
      } else {
        src = v.get<SecurityGroup>(g.groupId);
      }
      if (!src || src->ownerId != call.account)
        return err::make(err::kGroupNotFound, "The security group '{}' does not exist", shown);
      if (src->vpcId != target.vpcId)
        return err::make(err::kGroupNotFound,
                         "You have specified two resources that belong to different networks: '{}' is not in VPC '{}'.",
                         shown, target.vpcId.str());
    } else {
      auto found = v.listIndexed<SecurityGroup>(index::kOwnerName, ownerName(call.account, g.groupName),
                                                [&](const SecurityGroup& s) { return s.vpcId == target.vpcId; });
      if (found.empty())
        return err::make(err::kGroupNotFound, "The security group '{}' does not exist in VPC '{}'", g.groupName,
                         target.vpcId.str());
      src = std::move(found.front());
    }
    pr.rule.groupId = src->id;
    pr.rule.groupOwnerId = src->ownerId;
  }
  return Status::Ok();
}

FilterSpec<SecurityGroup> securityGroupFilters(const std::map<SecurityGroupId, std::string>& names) {
  using V = std::vector<std::string>;
  auto ruleValues = [](bool egress, auto fn) {
    return [egress, fn](const SecurityGroup& g) {
      V out;
      for (const auto& r : g.rules)
        if (r.egress == egress) fn(r, out);
      return out;
    };
  };
  FilterSpec<SecurityGroup> s;
  s.add("group-id", [](const SecurityGroup& g) { return V{g.id.str()}; })
      .add("group-name", [](const SecurityGroup& g) { return V{g.name}; })
      .add("vpc-id", [](const SecurityGroup& g) { return V{g.vpcId.str()}; })
      .add("description", [](const SecurityGroup& g) { return V{g.description}; })
      .add("owner-id", [](const SecurityGroup& g) { return V{g.ownerId}; });
  // FilterSpec keeps string_views of the names: these live for the program.
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> n;
    for (const char* pre : {"ip-permission.", "egress.ip-permission."})
      for (const char* f : {"cidr", "from-port", "to-port", "protocol", "group-id", "user-id", "group-name",
                            "ipv6-cidr", "prefix-list-id"})
        n.push_back(std::string(pre) + f);
    return n;
  }();
  for (bool egress : {false, true}) {
    const std::string* n = &kNames[egress ? 9 : 0];
    s.add(n[0], ruleValues(egress,
                           [](const SecurityGroupRule& r, V& o) {
                             if (!r.cidr.empty()) o.push_back(r.cidr);
                           }))
        .add(n[1], ruleValues(egress,
                              [](const SecurityGroupRule& r, V& o) {
                                if (protocolHasPorts(r.protocol)) o.push_back(std::to_string(r.fromPort));
                              }))
        .add(n[2], ruleValues(egress,
                              [](const SecurityGroupRule& r, V& o) {
                                if (protocolHasPorts(r.protocol)) o.push_back(std::to_string(r.toPort));
                              }))
        .add(n[3], ruleValues(egress, [](const SecurityGroupRule& r, V& o) { o.push_back(r.protocol); }))
        .add(n[4], ruleValues(egress,
                              [](const SecurityGroupRule& r, V& o) {
                                if (!r.groupId.empty()) o.push_back(r.groupId.str());
                              }))
        .add(n[5], ruleValues(egress,
                              [](const SecurityGroupRule& r, V& o) {
                                if (!r.groupId.empty()) o.push_back(r.groupOwnerId);
                              }))
        .add(n[6], ruleValues(egress,
                              [&names](const SecurityGroupRule& r, V& o) {
                                if (auto it = names.find(r.groupId); it != names.end()) o.push_back(it->second);
                              }))
        .add(n[7], [](const SecurityGroup&) { return V{}; })
        .add(n[8], [](const SecurityGroup&) { return V{}; });
  }
  return s;
}

}  // namespace

std::optional<std::string> normalizeProtocol(std::string_view p) {
  std::string s = toLower(p);
  if (s == "tcp" || s == "6") return "tcp";
  if (s == "udp" || s == "17") return "udp";
  if (s == "icmp" || s == "1") return "icmp";
  if (s == "-1") return "-1";
  auto n = parseInt(s);
  if (n && *n >= 0 && *n <= 255) return std::to_string(*n);
  return std::nullopt;
}

bool protocolHasPorts(std::string_view p) { return p == "tcp" || p == "udp" || p == "icmp"; }

std::string securityGroupArn(const model::RegionConfig& region, const SecurityGroup& g) {
  return fmt::format("arn:aws:ec2:{}:{}:security-group/{}", region.name, g.ownerId, g.id.str());
}

std::string securityGroupRuleArn(const model::RegionConfig& region, const SecurityGroup& g,
                                 const SecurityGroupRule& r) {
  return fmt::format("arn:aws:ec2:{}:{}:security-group-rule/{}", region.name, g.ownerId, r.id.str());
}

std::vector<IpPermissionView> ipPermissionsOf(const SecurityGroup& g, bool egress) {
  std::vector<IpPermissionView> out;
  for (const auto& r : g.rules) {
    if (r.egress != egress) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const IpPermissionView& p) {
      return p.protocol == r.protocol && p.fromPort == r.fromPort && p.toPort == r.toPort;
    });
    if (it == out.end()) {
      out.push_back({r.protocol, r.fromPort, r.toPort, protocolHasPorts(r.protocol), {}, {}});
      it = out.end() - 1;
    }
    (r.cidr.empty() ? it->groupRules : it->cidrRules).push_back(&r);
  }
  return out;
}

Result<SecurityGroup> SecurityGroupService::createSecurityGroup(const CallContext& call,
                                                                const CreateSecurityGroupInput& in) {
  if (in.groupName.empty()) return err::missing("GroupName");
  if (in.description.empty()) return err::missing("GroupDescription");
  LP_RETURN_IF_ERROR(validateText("GroupName", in.groupName));
  LP_RETURN_IF_ERROR(validateText("GroupDescription", in.description));
  if (startsWith(toLower(in.groupName), "sg-"))
    return err::make(err::kInvalidParameterValue, "Group names may not be in the format sg-*.");
  if (sameNameCaseless(in.groupName, "default"))
    return err::make(err::kGroupReserved, "The security group 'default' is reserved");
  if (in.vpcId.empty()) return err::make(err::kVpcIdNotSpecified, "No default VPC for this user. VpcId is required.");
  LP_ASSIGN_OR_RETURN(auto tags, tagsFromSpecs(in.tagSpecs, "security-group"));

  SecurityGroup sg;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(model::Vpc vpc,
                        findOwned<model::Vpc>(t, call, in.vpcId, err::kVpcMalformed, err::kVpcNotFound, "vpc ID"));
    if (t.raw().get(kSecurityGroupNameKind, securityGroupNameKey(vpc.id, in.groupName)))
      return err::make(err::kGroupDuplicate, "The security group '{}' already exists for VPC '{}'", in.groupName,
                       vpc.id.str());
    if (countSecurityGroups(t, vpc.id) >= ctx_.limits().securityGroupsPerVpc)
      return err::make(err::kSecurityGroupLimitExceeded,
                       "The maximum number of security groups for VPC '{}' has been reached.", vpc.id.str());
    if (call.dryRun) return err::dryRun();
    sg.id = SecurityGroupId::generate(ctx_.random);
    sg.ownerId = call.account;
    sg.vpcId = vpc.id;
    sg.name = in.groupName;
    sg.description = in.description;
    sg.createdAt = nowIso(ctx_);
    sg.tags = tags;
    // As in AWS: a new group lets everything out and nothing in.
    SecurityGroupRule out;
    out.id = model::SecurityGroupRuleId::generate(ctx_.random);
    out.egress = true;
    out.protocol = "-1";
    out.cidr = "0.0.0.0/0";
    sg.rules = {out};
    t.put(sg);
    indexSecurityGroupName(t, sg);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return sg;
}

Result<Page<SecurityGroup>> SecurityGroupService::describeSecurityGroups(const CallContext& call,
                                                                         const DescribeSecurityGroupsInput& in) {
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 5, 1000));
  for (const auto& id : in.groupIds)
    if (!model::isWellFormed<SecurityGroupId>(id))
      return err::make(err::kGroupIdMalformed, "Invalid id: \"{}\" (expecting \"sg-...\")", id);
  std::vector<SecurityGroup> groups;
  ctx_.store.read(
      [&](const store::ReadView& r) { groups = View(r).listIndexed<SecurityGroup>(index::kOwner, call.account); });
  std::map<SecurityGroupId, std::string> names;
  for (const auto& g : groups) names[g.id] = g.name;
  auto filters = securityGroupFilters(names);
  LP_RETURN_IF_ERROR(filters.validate(in.filters));
  if (call.dryRun) return err::dryRun();
  auto hasId = [&](const std::string& id) {
    return std::any_of(groups.begin(), groups.end(), [&](const SecurityGroup& g) { return g.id.str() == id; });
  };
  auto hasName = [&](const std::string& n) {
    return std::any_of(groups.begin(), groups.end(), [&](const SecurityGroup& g) { return g.name == n; });
  };
  for (const auto& id : in.groupIds)
    if (!hasId(id)) return err::make(err::kGroupNotFound, "The security group '{}' does not exist", id);
  for (const auto& n : in.groupNames)
    if (!hasName(n)) return err::make(err::kGroupNotFound, "The security group '{}' does not exist", n);
  std::erase_if(groups, [&](const SecurityGroup& g) {
    if (!in.groupIds.empty() && std::find(in.groupIds.begin(), in.groupIds.end(), g.id.str()) == in.groupIds.end())
      return true;
    if (!in.groupNames.empty() && std::find(in.groupNames.begin(), in.groupNames.end(), g.name) == in.groupNames.end())
      return true;
    return !filters.matches(g, in.filters);
  });
  return paginate(std::move(groups), in.page, [](const SecurityGroup& g) -> const std::string& { return g.id.str(); });
}

Result<SecurityGroupId> SecurityGroupService::deleteSecurityGroup(const CallContext& call,
                                                                  const SecurityGroupRef& ref) {
  if (ref.groupId.empty() && ref.groupName.empty()) return err::missing("GroupId");
  SecurityGroupId deleted;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(SecurityGroup g, findGroup(t, call, ref));
    if (g.isDefault)
      return err::make(err::kCannotDelete, "the specified group: \"{}\" name: \"default\" cannot be deleted by a user",
                       g.id.str());
    auto inUse = [&] { return err::make(err::kDependencyViolation, "resource {} has a dependent object", g.id.str()); };
    if (t.count<NetworkInterface>(index::kGroup, g.id.str()) > 0) return inUse();
    if (t.anyIndexed<model::VpcEndpoint>(index::kGroup, g.id.str(), [&](const model::VpcEndpoint& e) {
          return e.state != model::endpoint_state::kDeleted;
        }))
      return inUse();
    // Rules name groups of their own VPC only (resolveSources).
    if (t.anyIndexed<SecurityGroup>(index::kVpc, g.vpcId.str(), [&](const SecurityGroup& o) {
          return o.id != g.id && std::any_of(o.rules.begin(), o.rules.end(),
                                             [&](const SecurityGroupRule& r) { return r.groupId == g.id; });
        }))
      return inUse();
    if (call.dryRun) return err::dryRun();
    t.erase<SecurityGroup>(g.id);
    unindexSecurityGroupName(t, g);
    deleted = g.id;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return deleted;
}

Result<RuleChangeResult> SecurityGroupService::authorize(const CallContext& call, const RuleChangeInput& in) {
  if (in.group.groupId.empty() && in.group.groupName.empty()) return err::missing("GroupId");
  if (!in.ruleIds.empty())
    return err::make(err::kUnknownParameter, "The parameter SecurityGroupRuleId is not recognized");
  if (in.permissions.empty()) return err::missing("IpPermissions");
  LP_ASSIGN_OR_RETURN(auto parsed, parsePermissions(in.permissions, in.egress));
  LP_ASSIGN_OR_RETURN(auto tags, tagsFromSpecs(in.tagSpecs, "security-group-rule"));

  RuleChangeResult result;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(SecurityGroup g, findGroup(t, call, in.group));
    LP_RETURN_IF_ERROR(resolveSources(t, call, g, parsed));
    std::vector<SecurityGroupRule> added;
    for (auto& pr : parsed) {
      auto same = [&](const SecurityGroupRule& r) { return r.sameTarget(pr.rule); };
      if (std::any_of(g.rules.begin(), g.rules.end(), same) || std::any_of(added.begin(), added.end(), same))
        return err::make(err::kPermissionDuplicate, "the specified rule \"{}\" already exists", describeRule(pr.rule));
      added.push_back(pr.rule);
    }
    auto count = std::count_if(g.rules.begin(), g.rules.end(), [&](auto& r) { return r.egress == in.egress; });
    const int limit = ctx_.limits().rulesPerSecurityGroup;
    if (count + static_cast<long>(added.size()) > limit)
      return err::make(err::kRulesPerGroupLimitExceeded,
                       "The maximum number of {} rules per security group ({}) has been reached.",
                       in.egress ? "outbound" : "inbound", limit);
    if (call.dryRun) return err::dryRun();
    for (auto& r : added) {
      r.id = model::SecurityGroupRuleId::generate(ctx_.random);
      r.tags = tags;
      g.rules.push_back(r);
    }
    t.put(g);
    result.group = std::move(g);
    result.rules = std::move(added);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return result;
}

Result<RuleChangeResult> SecurityGroupService::revoke(const CallContext& call, const RuleChangeInput& in) {
  if (in.group.groupId.empty() && in.group.groupName.empty()) return err::missing("GroupId");
  if (in.permissions.empty() && in.ruleIds.empty()) return err::missing("IpPermissions");
  if (!in.permissions.empty() && !in.ruleIds.empty())
    return err::make(err::kInvalidParameterCombination,
                     "IpPermissions and SecurityGroupRuleIds cannot be used in the same request.");
  for (const auto& id : in.ruleIds)
    if (!model::isWellFormed<model::SecurityGroupRuleId>(id))
      return err::make(err::kSecurityGroupRuleIdMalformed, "Invalid id: \"{}\" (expecting \"sgr-...\")", id);
  LP_ASSIGN_OR_RETURN(auto parsed, parsePermissions(in.permissions, in.egress));

  RuleChangeResult result;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(SecurityGroup g, findGroup(t, call, in.group));
    std::vector<SecurityGroupRuleId> gone;
    auto take = [&](const SecurityGroupRule& r) {
      if (std::find(gone.begin(), gone.end(), r.id) == gone.end()) {
        gone.push_back(r.id);
        result.rules.push_back(r);
      }
    };
    for (const auto& id : in.ruleIds) {
      auto it = std::find_if(g.rules.begin(), g.rules.end(),
                             [&](const SecurityGroupRule& r) { return r.id.str() == id && r.egress == in.egress; });
      if (it == g.rules.end())
        return err::make(err::kSecurityGroupRuleIdNotFound, "The security group rule ID '{}' does not exist", id);
      take(*it);
    }
    if (!parsed.empty()) LP_RETURN_IF_ERROR(resolveSources(t, call, g, parsed));
    for (const auto& pr : parsed) {
      auto it = std::find_if(g.rules.begin(), g.rules.end(),
                             [&](const SecurityGroupRule& r) { return r.sameTarget(pr.rule); });
      if (it == g.rules.end())
        return err::make(err::kPermissionNotFound, "The specified rule does not exist in this security group: \"{}\"",
                         describeRule(pr.rule));
      take(*it);
    }
    if (call.dryRun) return err::dryRun();
    std::erase_if(g.rules,
                  [&](const SecurityGroupRule& r) { return std::find(gone.begin(), gone.end(), r.id) != gone.end(); });
    t.put(g);
    result.group = std::move(g);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return result;
}

namespace {

// A ModifySecurityGroupRules item as the IpPermission Authorize would take, so
// both calls check protocols, ports, CIDRs and descriptions the same way.
Result<IpPermissionSpec> permissionOfUpdate(const RuleUpdateSpec& u) {
  if (!u.hasRule) return err::missing("SecurityGroupRule.N.SecurityGroupRule");
  if (u.ipProtocol.empty()) return err::missing("SecurityGroupRule.N.SecurityGroupRule.IpProtocol");
  int peers = !u.cidrIpv4.empty() + !u.cidrIpv6.empty() + !u.prefixListId.empty() + !u.referencedGroupId.empty();
  if (peers == 0)
    return err::make(err::kPermissionMalformed,
                     "A security group rule needs exactly one of CidrIpv4, CidrIpv6, PrefixListId or "
                     "ReferencedGroupId.");
  if (peers > 1)
    return err::make(err::kInvalidParameterCombination,
                     "Only one of CidrIpv4, CidrIpv6, PrefixListId or ReferencedGroupId may be given for rule {}.",
                     u.ruleId);
  IpPermissionSpec p;
  p.ipProtocol = u.ipProtocol;
  p.fromPort = u.fromPort;
  p.toPort = u.toPort;
  p.hasIpv6Ranges = !u.cidrIpv6.empty();
  p.hasPrefixLists = !u.prefixListId.empty();
  if (!u.cidrIpv4.empty()) p.ipRanges.push_back({u.cidrIpv4, u.description});
  if (!u.referencedGroupId.empty()) p.groups.push_back({u.referencedGroupId, "", "", u.description});
  return p;
}

}  // namespace

Result<RuleChangeResult> SecurityGroupService::modifyRules(const CallContext& call, const ModifyRulesInput& in) {
  if (in.groupId.empty()) return err::missing("GroupId");
  if (in.updates.empty()) return err::missing("SecurityGroupRule");
  std::vector<IpPermissionSpec> specs;
  specs.reserve(in.updates.size());  // parsed rules point into it
  for (size_t i = 0; i < in.updates.size(); ++i) {
    const auto& u = in.updates[i];
    if (u.ruleId.empty()) return err::missing("SecurityGroupRule.N.SecurityGroupRuleId");
    if (!model::isWellFormed<SecurityGroupRuleId>(u.ruleId))
      return err::make(err::kSecurityGroupRuleIdMalformed, "Invalid id: \"{}\" (expecting \"sgr-...\")", u.ruleId);
    for (size_t j = 0; j < i; ++j)
      if (in.updates[j].ruleId == u.ruleId)
        return err::make(err::kInvalidParameterValue, "The security group rule ID '{}' is given more than once.",
                         u.ruleId);
    LP_ASSIGN_OR_RETURN(auto p, permissionOfUpdate(u));
    specs.push_back(std::move(p));
  }
  // One spec, one peer: parsed[i] is the new content of in.updates[i].
  LP_ASSIGN_OR_RETURN(auto parsed, parsePermissions(specs, /*egress=*/false));

  RuleChangeResult result;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(SecurityGroup g, findGroup(t, call, {in.groupId, ""}));
    std::vector<size_t> at;  // index in g.rules of each update's rule
    for (size_t i = 0; i < in.updates.size(); ++i) {
      auto it = std::find_if(g.rules.begin(), g.rules.end(),
                             [&](const SecurityGroupRule& r) { return r.id.str() == in.updates[i].ruleId; });
      if (it == g.rules.end())
        return err::make(err::kSecurityGroupRuleIdNotFound,
                         "The security group rule ID '{}' does not exist in security group '{}'", in.updates[i].ruleId,
                         g.id.str());
      parsed[i].rule.egress = it->egress;
      at.push_back(static_cast<size_t>(it - g.rules.begin()));
    }
    LP_RETURN_IF_ERROR(resolveSources(t, call, g, parsed));
    auto rules = g.rules;
    for (size_t i = 0; i < at.size(); ++i) {
      SecurityGroupRule r = parsed[i].rule;
      r.id = rules[at[i]].id;
      r.tags = rules[at[i]].tags;
      rules[at[i]] = std::move(r);
    }
    for (size_t i : at)
      for (size_t k = 0; k < rules.size(); ++k)
        if (k != i && rules[k].sameTarget(rules[i]))
          return err::make(err::kPermissionDuplicate, "the specified rule \"{}\" already exists",
                           describeRule(rules[i]));
    if (call.dryRun) return err::dryRun();
    g.rules = std::move(rules);
    t.put(g);
    for (size_t i : at) result.rules.push_back(g.rules[i]);
    result.group = std::move(g);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return result;
}

}  // namespace lp::control
