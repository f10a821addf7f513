#include "control/security_group_service.h"

#include <gtest/gtest.h>

#include "model/endpoint.h"
#include "security_group_test_fixture.h"

namespace lp::control::testing {
namespace {

using model::SecurityGroup;
using model::SecurityGroupRule;

size_t countRules(const SecurityGroup& g, bool egress) {
  return std::count_if(g.rules.begin(), g.rules.end(), [&](const SecurityGroupRule& r) { return r.egress == egress; });
}

class SecurityGroupServiceTest : public SecurityGroupFixture {};

// --- CreateSecurityGroup ---------------------------------------------------

TEST_F(SecurityGroupServiceTest, NewGroupAllowsAllEgressAndNoIngress) {
  auto vpc = makeVpc();
  auto g = makeGroup(vpc, "web");
  EXPECT_TRUE(model::isWellFormed<model::SecurityGroupId>(g.id.str()));
  EXPECT_EQ(g.vpcId, vpc.id);
  EXPECT_EQ(g.ownerId, kProvider);
  ASSERT_EQ(g.rules.size(), 1u);
  EXPECT_TRUE(g.rules[0].egress);
  EXPECT_EQ(g.rules[0].protocol, "-1");
  EXPECT_EQ(g.rules[0].cidr, "0.0.0.0/0");
  EXPECT_TRUE(model::isWellFormed<model::SecurityGroupRuleId>(g.rules[0].id.str()));
  EXPECT_EQ(securityGroupArn(region_, g), "arn:aws:ec2:us-east-1:111111111111:security-group/" + g.id.str());
  EXPECT_EQ(group(g.id).name, "web");
}

TEST_F(SecurityGroupServiceTest, CreateRejectsBadInputWithAwsCodes) {
  auto vpc = makeVpc();
  auto code = [&](CreateSecurityGroupInput in) {
    auto r = svc().createSecurityGroup(as(kProvider), in);
    return r.ok() ? std::string("OK") : r.status().code();
  };
  const std::string v = vpc.id.str();
  EXPECT_EQ(code({"", "d", v, {}}), "MissingParameter");
  EXPECT_EQ(code({"n", "", v, {}}), "MissingParameter");
  EXPECT_EQ(code({"n", "d", "", {}}), "VPCIdNotSpecified");
  EXPECT_EQ(code({"default", "d", v, {}}), "InvalidGroup.Reserved");
  EXPECT_EQ(code({"DEFAULT", "d", v, {}}), "InvalidGroup.Reserved");
  EXPECT_EQ(code({std::string(256, 'a'), "d", v, {}}), "InvalidParameterValue");
  EXPECT_EQ(code({"n", std::string(256, 'a'), v, {}}), "InvalidParameterValue");
  EXPECT_EQ(code({"caf\xc3\xa9", "d", v, {}}), "InvalidParameterValue");
  EXPECT_EQ(code({"n", "tab\there", v, {}}), "InvalidParameterValue");
  EXPECT_EQ(code({"sg-web", "d", v, {}}), "InvalidParameterValue");
  EXPECT_EQ(code({"n", "d", "vpc-nothex", {}}), "InvalidVpcID.Malformed");
  EXPECT_EQ(code({"n", "d", "vpc-0123456789abcdef0", {}}), "InvalidVpcID.NotFound");
  EXPECT_EQ(code({"n", "d", v, {{"vpc", {{"k", "v"}}}}}), "InvalidParameterValue");
  // 255 characters of every allowed kind is fine.
  std::string ok = "a-Z_0.9 :/()#,@[]+=&;{}!$*";
  ok += std::string(255 - ok.size(), 'x');
  EXPECT_EQ(code({ok, ok, v, {}}), "OK");
}

TEST_F(SecurityGroupServiceTest, DuplicateNameIsPerVpcAndCaseInsensitive) {
  auto vpc = makeVpc();
  auto other = makeVpc(kProvider, "10.1.0.0/16");
  makeGroup(vpc, "web");
  auto dup = svc().createSecurityGroup(as(kProvider), {"WEB", "d", vpc.id.str(), {}});
  EXPECT_EQ(dup.status().code(), "InvalidGroup.Duplicate");
  EXPECT_TRUE(svc().createSecurityGroup(as(kProvider), {"web", "d", other.id.str(), {}}).ok());
}

TEST_F(SecurityGroupServiceTest, AnotherAccountsVpcIsNotFound) {
  auto vpc = makeVpc(kProvider);
  auto r = svc().createSecurityGroup(as(kConsumer), {"web", "d", vpc.id.str(), {}});
  EXPECT_EQ(r.status().code(), "InvalidVpcID.NotFound");
}

TEST_F(SecurityGroupServiceTest, GroupLimitCountsTheDefaultGroup) {
  setLimit(&Limits::securityGroupsPerVpc, 3);
  auto vpc = makeVpc();
  makeGroup(vpc, "a");
  makeGroup(vpc, "b");
  auto r = svc().createSecurityGroup(as(kProvider), {"c", "d", vpc.id.str(), {}});
  EXPECT_EQ(r.status().code(), "SecurityGroupLimitExceeded");
}

TEST_F(SecurityGroupServiceTest, CreateWithTagsAndDryRun) {
  auto vpc = makeVpc();
  auto dry = svc().createSecurityGroup(as(kProvider, true), {"web", "d", vpc.id.str(), {}});
  EXPECT_EQ(dry.status().code(), "DryRunOperation");
  auto g = svc().createSecurityGroup(as(kProvider), {"web", "d", vpc.id.str(), {{"security-group", {{"Name", "w"}}}}});
  ASSERT_TRUE(g.ok()) << g.status().toString();  // the dry run left no "web" behind
  EXPECT_EQ(group(g->id).tags, (model::Tags{{"Name", "w"}}));
}

// --- Authorize --------------------------------------------------------------

TEST_F(SecurityGroupServiceTest, AuthorizeNormalizesProtocolsAndPorts) {
  auto vpc = makeVpc();
  auto g = makeGroup(vpc, "web");
  IpPermissionSpec six = tcp(443, 443, {"10.0.0.0/8"});
  six.ipProtocol = "6";
  IpPermissionSpec udp = tcp(53, 53, {"10.0.0.0/8"});
  udp.ipProtocol = "17";
  IpPermissionSpec all;
  all.ipProtocol = "-1";
  all.fromPort = 1;  // ignored for all protocols
  all.toPort = 2;
  all.ipRanges = {{"192.168.0.0/16", "office"}};
  IpPermissionSpec icmp;
  icmp.ipProtocol = "1";
  icmp.ipRanges = {{"10.9.0.0/16", ""}};
  auto r = svc().authorize(as(kProvider), change(g, {six, udp, all, icmp}));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  ASSERT_EQ(r->rules.size(), 4u);
  EXPECT_EQ(r->rules[0].protocol, "tcp");
  EXPECT_EQ(r->rules[1].protocol, "udp");
  EXPECT_EQ(r->rules[2].protocol, "-1");
  EXPECT_EQ(r->rules[2].fromPort, -1);
  EXPECT_EQ(r->rules[2].toPort, -1);
  EXPECT_EQ(r->rules[2].description, "office");
  EXPECT_EQ(r->rules[3].protocol, "icmp");
  EXPECT_EQ(r->rules[3].fromPort, -1);
  for (auto& rule : r->rules) EXPECT_TRUE(model::isWellFormed<model::SecurityGroupRuleId>(rule.id.str()));
  EXPECT_EQ(countRules(group(g.id), false), 4u);
}

TEST_F(SecurityGroupServiceTest, AuthorizeRejectsMalformedPermissionsAndAddsNothing) {
  auto vpc = makeVpc();
  auto g = makeGroup(vpc, "web");
  auto code = [&](IpPermissionSpec p) {
    auto r = svc().authorize(as(kProvider), change(g, {tcp(80, 80, {"10.0.0.0/8"}), p}));
    return r.ok() ? std::string("OK") : r.status().code();
  };
  IpPermissionSpec p = tcp(1, 2, {"10.1.0.0/16"});
  p.ipProtocol = "sctp-ish";
  EXPECT_EQ(code(p), "InvalidParameterValue");
  p = tcp(1, 2, {"10.1.0.0/16"});
  p.ipProtocol = "";
  EXPECT_EQ(code(p), "MissingParameter");
  EXPECT_EQ(code(tcp(-1, 80, {"10.1.0.0/16"})), "InvalidParameterValue");
  EXPECT_EQ(code(tcp(0, 65536, {"10.1.0.0/16"})), "InvalidParameterValue");
  EXPECT_EQ(code(tcp(90, 80, {"10.1.0.0/16"})), "InvalidParameterValue");
  p = tcp(0, 0, {"10.1.0.0/16"});
  p.fromPort.reset();
  EXPECT_EQ(code(p), "InvalidParameterValue");
  EXPECT_EQ(code(tcp(1, 2, {"10.1.0.1/16"})), "InvalidParameterValue");  // host bits set
  EXPECT_EQ(code(tcp(1, 2, {"10.1.0.0/33"})), "InvalidParameterValue");
  EXPECT_EQ(code(tcp(1, 2, {"banana"})), "InvalidParameterValue");
  EXPECT_EQ(code(tcp(1, 2, {})), "InvalidPermission.Malformed");
  p = tcp(1, 2, {});
  p.groups = {{"sg-nothex", "", "", ""}};
  EXPECT_EQ(code(p), "InvalidGroupId.Malformed");
  p.groups = {{"sg-0123456789abcdef0", "", "", ""}};
  EXPECT_EQ(code(p), "InvalidGroup.NotFound");
  p = tcp(1, 2, {"10.1.0.0/16"});
  p.ipProtocol = "icmp";
  p.fromPort = -1;
  p.toPort = 3;
  EXPECT_EQ(code(p), "InvalidParameterValue");
  p.fromPort = 256;
  EXPECT_EQ(code(p), "InvalidParameterValue");
  p = tcp(1, 2, {"10.1.0.0/16"});
  p.ipRanges[0].description = "bad\nline";
  EXPECT_EQ(code(p), "InvalidParameterValue");
  p = tcp(1, 2, {"10.1.0.0/16"});
  p.hasIpv6Ranges = true;
  EXPECT_EQ(code(p), "UnsupportedOperation");
  // Every failure above left the group untouched (the valid first rule too).
  EXPECT_EQ(countRules(group(g.id), false), 0u);
}

TEST_F(SecurityGroupServiceTest, DuplicateRulesAreRefusedWholesale) {
  auto vpc = makeVpc();
  auto g = makeGroup(vpc, "web");
  ASSERT_TRUE(svc().authorize(as(kProvider), change(g, {tcp(443, 443, {"10.0.0.0/8"})})).ok());
  // Same rule again, next to a new one: nothing is added.
  auto again = svc().authorize(as(kProvider), change(g, {tcp(80, 80, {"10.0.0.0/8"}), tcp(443, 443, {"10.0.0.0/8"})}));
  EXPECT_EQ(again.status().code(), "InvalidPermission.Duplicate");
  // A description does not make a rule different.
  auto described = tcp(443, 443, {});
  described.ipRanges = {{"10.0.0.0/8", "other words"}};
  EXPECT_EQ(svc().authorize(as(kProvider), change(g, {described})).status().code(), "InvalidPermission.Duplicate");
  // Twice within one request.
  auto twice = svc().authorize(as(kProvider), change(g, {tcp(22, 22, {"10.2.0.0/16", "10.2.0.0/16"})}));
  EXPECT_EQ(twice.status().code(), "InvalidPermission.Duplicate");
  EXPECT_EQ(countRules(group(g.id), false), 1u);
  // The same peer and ports in the other direction is a different rule.
  EXPECT_TRUE(svc().authorize(as(kProvider), change(g, {tcp(443, 443, {"10.0.0.0/8"})}, true)).ok());
  // The default egress rule is a duplicate of an explicit allow-all.
  IpPermissionSpec all;
  all.ipProtocol = "-1";
  all.ipRanges = {{"0.0.0.0/0", ""}};
  EXPECT_EQ(svc().authorize(as(kProvider), change(g, {all}, true)).status().code(), "InvalidPermission.Duplicate");
}

TEST_F(SecurityGroupServiceTest, GroupSourcesMustBeTheCallersInTheSameVpc) {
  auto vpc = makeVpc();
  auto web = makeGroup(vpc, "web");
  auto app = makeGroup(vpc, "app");
  auto elsewhere = makeGroup(makeVpc(kProvider, "10.1.0.0/16"), "far");
  auto theirs = makeGroup(makeVpc(kConsumer), "theirs", kConsumer);

  IpPermissionSpec p = tcp(8080, 8080, {});
  p.groups = {{web.id.str(), "", "", "from web"}};
  auto ok = svc().authorize(as(kProvider), change(app, {p}));
  ASSERT_TRUE(ok.ok()) << ok.status().toString();
  EXPECT_EQ(ok->rules[0].groupId, web.id);
  EXPECT_EQ(ok->rules[0].groupOwnerId, kProvider);
  EXPECT_EQ(ok->rules[0].description, "from web");

  // By name, within the target's VPC.
  p.groups = {{"", "app", "", ""}};
  auto byName = svc().authorize(as(kProvider), change(app, {p}));
  ASSERT_TRUE(byName.ok()) << byName.status().toString();
  EXPECT_EQ(byName->rules[0].groupId, app.id);

  auto code = [&](GroupPairSpec pair) {
    IpPermissionSpec q = tcp(9000, 9000, {});
    q.groups = {pair};
    return svc().authorize(as(kProvider), change(app, {q})).status().code();
  };
  EXPECT_EQ(code({theirs.id.str(), "", "", ""}), "InvalidGroup.NotFound");
  EXPECT_EQ(code({theirs.id.str(), "", kConsumer, ""}), "InvalidGroup.NotFound");
  EXPECT_EQ(code({web.id.str(), "", kConsumer, ""}), "InvalidGroup.NotFound");
  EXPECT_EQ(code({elsewhere.id.str(), "", "", ""}), "InvalidGroup.NotFound");
  EXPECT_EQ(code({"", "far", "", ""}), "InvalidGroup.NotFound");
  EXPECT_EQ(countRules(group(app.id), false), 2u);
}

TEST_F(SecurityGroupServiceTest, RuleLimitIsPerDirectionAndAllOrNothing) {
  setLimit(&Limits::rulesPerSecurityGroup, 3);
  auto vpc = makeVpc();
  auto g = makeGroup(vpc, "web");
  auto four = svc().authorize(as(kProvider),
                              change(g, {tcp(1, 1, {"10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16", "10.4.0.0/16"})}));
  EXPECT_EQ(four.status().code(), "RulesPerSecurityGroupLimitExceeded");
  EXPECT_EQ(countRules(group(g.id), false), 0u);
  ASSERT_TRUE(
      svc().authorize(as(kProvider), change(g, {tcp(1, 1, {"10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"})})).ok());
  EXPECT_EQ(svc().authorize(as(kProvider), change(g, {tcp(2, 2, {"10.1.0.0/16"})})).status().code(),
            "RulesPerSecurityGroupLimitExceeded");
  // Egress has its own budget (one used by the default rule).
  EXPECT_TRUE(svc().authorize(as(kProvider), change(g, {tcp(2, 2, {"10.1.0.0/16", "10.2.0.0/16"})}, true)).ok());
}

TEST_F(SecurityGroupServiceTest, AuthorizeNeedsTheCallersGroupAndHonoursDryRun) {
  auto vpc = makeVpc();
  auto g = makeGroup(vpc, "web");
  EXPECT_EQ(svc().authorize(as(kConsumer), change(g, {tcp(1, 1, {"10.0.0.0/8"})})).status().code(),
            "InvalidGroup.NotFound");
  auto bad = change(g, {tcp(1, 1, {"10.0.0.0/8"})});
  bad.group.groupId = "sg-zz";
  EXPECT_EQ(svc().authorize(as(kProvider), bad).status().code(), "InvalidGroupId.Malformed");
  EXPECT_EQ(svc().authorize(as(kProvider, true), change(g, {tcp(1, 1, {"10.0.0.0/8"})})).status().code(),
            "DryRunOperation");
  EXPECT_EQ(countRules(group(g.id), false), 0u);
  auto byName = change(g, {tcp(1, 1, {"10.0.0.0/8"})});
  byName.group = {"", "web"};
  EXPECT_TRUE(svc().authorize(as(kProvider), byName).ok());
}

// --- Revoke -----------------------------------------------------------------

TEST_F(SecurityGroupServiceTest, RevokeRemovesMatchingRulesOnly) {
  auto vpc = makeVpc();
  auto g = makeGroup(vpc, "web");
  auto added = svc().authorize(as(kProvider), change(g, {tcp(443, 443, {"10.0.0.0/8", "172.16.0.0/12"})}));
  ASSERT_TRUE(added.ok());
  IpPermissionSpec six = tcp(443, 443, {"10.0.0.0/8"});
  six.ipProtocol = "6";  // the same rule, spelled as a number
  auto r = svc().revoke(as(kProvider), change(g, {six}));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  ASSERT_EQ(r->rules.size(), 1u);
  EXPECT_EQ(r->rules[0].id, added->rules[0].id);
  auto now = group(g.id);
  ASSERT_EQ(countRules(now, false), 1u);
  EXPECT_EQ(now.rules.back().cidr, "172.16.0.0/12");
}

TEST_F(SecurityGroupServiceTest, RevokeOfAMissingRuleRevokesNothing) {
  auto vpc = makeVpc();
  auto g = makeGroup(vpc, "web");
  ASSERT_TRUE(svc().authorize(as(kProvider), change(g, {tcp(443, 443, {"10.0.0.0/8"})})).ok());
  auto r = svc().revoke(as(kProvider), change(g, {tcp(443, 443, {"10.0.0.0/8"}), tcp(444, 444, {"10.0.0.0/8"})}));
  EXPECT_EQ(r.status().code(), "InvalidPermission.NotFound");
  // Ingress rules are not egress rules.
  EXPECT_EQ(svc().revoke(as(kProvider), change(g, {tcp(443, 443, {"10.0.0.0/8"})}, true)).status().code(),
            "InvalidPermission.NotFound");
  EXPECT_EQ(countRules(group(g.id), false), 1u);
  EXPECT_EQ(svc().revoke(as(kProvider, true), change(g, {tcp(443, 443, {"10.0.0.0/8"})})).status().code(),
            "DryRunOperation");
  EXPECT_EQ(countRules(group(g.id), false), 1u);
}

TEST_F(SecurityGroupServiceTest, RevokeByRuleId) {
  auto vpc = makeVpc();
  auto g = makeGroup(vpc, "web");
  auto egressId = g.rules[0].id.str();
  RuleChangeInput in;
  in.group.groupId = g.id.str();
  in.ruleIds = {egressId};
  EXPECT_EQ(svc().revoke(as(kProvider), in).status().code(), "InvalidSecurityGroupRuleId.NotFound");  // not ingress
  in.ruleIds = {"sgr-bad"};
  EXPECT_EQ(svc().revoke(as(kProvider), in).status().code(), "InvalidSecurityGroupRuleId.Malformed");
  in.egress = true;
  in.ruleIds = {egressId};
  auto r = svc().revoke(as(kProvider), in);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(countRules(group(g.id), true), 0u);
}

// --- Delete -----------------------------------------------------------------

TEST_F(SecurityGroupServiceTest, DefaultGroupCannotBeDeleted) {
  auto vpc = makeVpc();
  auto r = svc().deleteSecurityGroup(as(kProvider), {vpc.defaultSecurityGroupId.str(), ""});
  EXPECT_EQ(r.status().code(), "CannotDelete");
  EXPECT_TRUE(exists(vpc.defaultSecurityGroupId));
}

TEST_F(SecurityGroupServiceTest, DeleteRefusesGroupsInUse) {
  auto vpc = makeVpc();
  auto g = makeGroup(vpc, "web");
  model::NetworkInterface eni;
  eni.id = model::NetworkInterfaceId::generate(random_);
  eni.ownerId = kProvider;
  eni.vpcId = vpc.id;
  eni.privateIp = "10.0.1.10";
  eni.groupIds = {vpc.defaultSecurityGroupId, g.id};
  put(eni);
  EXPECT_EQ(svc().deleteSecurityGroup(as(kProvider), {g.id.str(), ""}).status().code(), "DependencyViolation");
  eni.groupIds = {vpc.defaultSecurityGroupId};
  put(eni);

  model::VpcEndpoint ep;
  ep.id = model::VpcEndpointId::generate(random_);
  ep.ownerId = kProvider;
  ep.vpcId = vpc.id;
  ep.groupIds = {g.id};
  put(ep);
  EXPECT_EQ(svc().deleteSecurityGroup(as(kProvider), {g.id.str(), ""}).status().code(), "DependencyViolation");
  ep.state = model::endpoint_state::kDeleted;  // a deleted endpoint holds nothing
  put(ep);

  auto app = makeGroup(vpc, "app");
  IpPermissionSpec p = tcp(80, 80, {});
  p.groups = {{g.id.str(), "", "", ""}};
  ASSERT_TRUE(svc().authorize(as(kProvider), change(app, {p})).ok());
  EXPECT_EQ(svc().deleteSecurityGroup(as(kProvider), {g.id.str(), ""}).status().code(), "DependencyViolation");
  ASSERT_TRUE(svc().revoke(as(kProvider), change(app, {p})).ok());

  auto dry = svc().deleteSecurityGroup(as(kProvider, true), {g.id.str(), ""});
  EXPECT_EQ(dry.status().code(), "DryRunOperation");
  EXPECT_TRUE(exists(g.id));
  auto gone = svc().deleteSecurityGroup(as(kProvider), {g.id.str(), ""});
  ASSERT_TRUE(gone.ok()) << gone.status().toString();
  EXPECT_EQ(*gone, g.id);
  EXPECT_FALSE(exists(g.id));
}

TEST_F(SecurityGroupServiceTest, AGroupReferencingItselfCanBeDeleted) {
  auto vpc = makeVpc();
  auto g = makeGroup(vpc, "self");
  IpPermissionSpec p = tcp(80, 80, {});
  p.groups = {{g.id.str(), "", "", ""}};
  ASSERT_TRUE(svc().authorize(as(kProvider), change(g, {p})).ok());
  EXPECT_TRUE(svc().deleteSecurityGroup(as(kProvider), {g.id.str(), ""}).ok());
}

TEST_F(SecurityGroupServiceTest, DeleteByNameAndAcrossAccounts) {
  auto vpc = makeVpc();
  auto g = makeGroup(vpc, "web");
  EXPECT_EQ(svc().deleteSecurityGroup(as(kConsumer), {g.id.str(), ""}).status().code(), "InvalidGroup.NotFound");
  EXPECT_EQ(svc().deleteSecurityGroup(as(kConsumer), {"", "web"}).status().code(), "InvalidGroup.NotFound");
  EXPECT_EQ(svc().deleteSecurityGroup(as(kProvider), {"sg-x", ""}).status().code(), "InvalidGroupId.Malformed");
  EXPECT_EQ(svc().deleteSecurityGroup(as(kProvider), {"", ""}).status().code(), "MissingParameter");
  makeGroup(makeVpc(kProvider, "10.1.0.0/16"), "web");
  EXPECT_EQ(svc().deleteSecurityGroup(as(kProvider), {"", "web"}).status().code(), "InvalidParameterValue");
  EXPECT_TRUE(exists(g.id));
  EXPECT_TRUE(svc().deleteSecurityGroup(as(kProvider), {g.id.str(), ""}).ok());
  EXPECT_TRUE(svc().deleteSecurityGroup(as(kProvider), {"", "web"}).ok());
}

// --- Describe ---------------------------------------------------------------

TEST_F(SecurityGroupServiceTest, DescribeShowsOnlyTheCallersGroups) {
  auto mine = makeVpc(kProvider);
  auto theirs = makeVpc(kConsumer);
  auto g = makeGroup(mine, "web");
  auto t = makeGroup(theirs, "web", kConsumer);
  auto all = svc().describeSecurityGroups(as(kProvider), {});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->items.size(), 2u);  // default + web
  for (auto& item : all->items) EXPECT_EQ(item.ownerId, kProvider);
  DescribeSecurityGroupsInput in;
  in.groupIds = {t.id.str()};
  EXPECT_EQ(svc().describeSecurityGroups(as(kProvider), in).status().code(), "InvalidGroup.NotFound");
  in.groupIds = {"sg-123"};
  EXPECT_EQ(svc().describeSecurityGroups(as(kProvider), in).status().code(), "InvalidGroupId.Malformed");
  in.groupIds = {g.id.str()};
  auto one = svc().describeSecurityGroups(as(kProvider), in);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->items.size(), 1u);
  EXPECT_EQ(one->items[0].id, g.id);
  DescribeSecurityGroupsInput byName;
  byName.groupNames = {"nope"};
  EXPECT_EQ(svc().describeSecurityGroups(as(kProvider), byName).status().code(), "InvalidGroup.NotFound");
  byName.groupNames = {"web"};
  auto named = svc().describeSecurityGroups(as(kProvider), byName);
  ASSERT_TRUE(named.ok());
  ASSERT_EQ(named->items.size(), 1u);
  EXPECT_EQ(named->items[0].id, g.id);
}

TEST_F(SecurityGroupServiceTest, DescribeFiltersOnRules) {
  auto vpc = makeVpc();
  auto web = makeGroup(vpc, "web");
  auto app = makeGroup(vpc, "app");
  ASSERT_TRUE(svc().authorize(as(kProvider), change(web, {tcp(443, 443, {"10.0.0.0/8"})})).ok());
  IpPermissionSpec fromWeb = tcp(8080, 8081, {});
  fromWeb.groups = {{web.id.str(), "", "", ""}};
  ASSERT_TRUE(svc().authorize(as(kProvider), change(app, {fromWeb})).ok());
  ASSERT_TRUE(svc().authorize(as(kProvider), change(app, {tcp(5432, 5432, {"10.0.3.0/24"})}, true)).ok());

  auto ids = [&](Filters f) {
    DescribeSecurityGroupsInput in;
    in.filters = std::move(f);
    auto r = svc().describeSecurityGroups(as(kProvider), in);
    EXPECT_TRUE(r.ok()) << r.status().toString();
    std::vector<std::string> out;
    if (r.ok())
      for (auto& g : r->items) out.push_back(g.name);
    std::sort(out.begin(), out.end());
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids({{"ip-permission.cidr", {"10.0.0.0/8"}}}), V{"web"});
  EXPECT_EQ(ids({{"ip-permission.from-port", {"8080"}}}), V{"app"});
  EXPECT_EQ(ids({{"ip-permission.to-port", {"8081", "443"}}}), (V{"app", "web"}));
  EXPECT_EQ(ids({{"ip-permission.protocol", {"tcp"}}}), (V{"app", "web"}));
  EXPECT_EQ(ids({{"ip-permission.protocol", {"-1"}}}), V{"default"});  // members reach each other
  EXPECT_EQ(ids({{"ip-permission.group-id", {web.id.str()}}}), V{"app"});
  EXPECT_EQ(ids({{"ip-permission.group-name", {"web"}}}), V{"app"});
  EXPECT_EQ(ids({{"ip-permission.user-id", {kProvider}}}), (V{"app", "default"}));
  EXPECT_EQ(ids({{"egress.ip-permission.cidr", {"10.0.3.0/24"}}}), V{"app"});
  EXPECT_EQ(ids({{"egress.ip-permission.to-port", {"5432"}}}), V{"app"});
  EXPECT_EQ(ids({{"egress.ip-permission.protocol", {"-1"}}}), (V{"app", "default", "web"}));
  EXPECT_EQ(ids({{"group-name", {"w*"}}}), V{"web"});
  EXPECT_EQ(ids({{"description", {"app group"}}}), V{"app"});
  EXPECT_EQ(ids({{"vpc-id", {vpc.id.str()}}, {"group-id", {app.id.str()}}}), V{"app"});
  EXPECT_EQ(ids({{"owner-id", {kConsumer}}}), V{});
  DescribeSecurityGroupsInput bad;
  bad.filters = {{"ip-permission.colour", {"x"}}};
  EXPECT_EQ(svc().describeSecurityGroups(as(kProvider), bad).status().code(), "InvalidParameterValue");
}

TEST_F(SecurityGroupServiceTest, DescribePaginatesInIdOrder) {
  auto vpc = makeVpc();
  for (int i = 0; i < 11; ++i) makeGroup(vpc, std::string("g").append(std::to_string(i)));
  DescribeSecurityGroupsInput in;
  in.page.maxResults = 5;
  std::vector<std::string> seen;
  for (int pages = 0; pages < 10; ++pages) {
    auto r = svc().describeSecurityGroups(as(kProvider), in);
    ASSERT_TRUE(r.ok()) << r.status().toString();
    EXPECT_LE(r->items.size(), 5u);
    for (auto& g : r->items) seen.push_back(g.id.str());
    if (r->nextToken.empty()) break;
    in.page.nextToken = r->nextToken;
  }
  EXPECT_EQ(seen.size(), 12u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  in.page = {4, ""};
  EXPECT_EQ(svc().describeSecurityGroups(as(kProvider), in).status().code(), "InvalidParameterValue");
  in.page = {5, "garbage!"};
  EXPECT_EQ(svc().describeSecurityGroups(as(kProvider), in).status().code(), "InvalidNextToken");
}

// --- Rendering helpers ------------------------------------------------------

TEST(IpPermissionsOf, GroupsRulesByProtocolAndPorts) {
  SecurityGroup g;
  auto rule = [](std::string proto, int from, int to, std::string cidr, std::string group = "") {
    SecurityGroupRule r;
    r.protocol = std::move(proto);
    r.fromPort = from;
    r.toPort = to;
    r.cidr = std::move(cidr);
    r.groupId = model::SecurityGroupId(group);
    return r;
  };
  g.rules = {rule("tcp", 443, 443, "10.0.0.0/8"), rule("tcp", 80, 80, "10.0.0.0/8"),
             rule("tcp", 443, 443, "", "sg-0123456789abcdef0"), rule("tcp", 443, 443, "172.16.0.0/12"),
             rule("-1", -1, -1, "0.0.0.0/0")};
  g.rules.back().egress = true;
  auto in = ipPermissionsOf(g, false);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].fromPort, 443);
  EXPECT_TRUE(in[0].hasPorts);
  ASSERT_EQ(in[0].cidrRules.size(), 2u);
  EXPECT_EQ(in[0].cidrRules[1]->cidr, "172.16.0.0/12");
  ASSERT_EQ(in[0].groupRules.size(), 1u);
  EXPECT_EQ(in[1].fromPort, 80);
  auto out = ipPermissionsOf(g, true);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].hasPorts);
}

TEST(NormalizeProtocol, NamesNumbersAndJunk) {
  EXPECT_EQ(normalizeProtocol("TCP"), "tcp");
  EXPECT_EQ(normalizeProtocol("6"), "tcp");
  EXPECT_EQ(normalizeProtocol("17"), "udp");
  EXPECT_EQ(normalizeProtocol("1"), "icmp");
  EXPECT_EQ(normalizeProtocol("-1"), "-1");
  EXPECT_EQ(normalizeProtocol("50"), "50");
  EXPECT_EQ(normalizeProtocol("256"), std::nullopt);
  EXPECT_EQ(normalizeProtocol("-2"), std::nullopt);
  EXPECT_EQ(normalizeProtocol("gre"), std::nullopt);
  EXPECT_EQ(normalizeProtocol(""), std::nullopt);
}

}  // namespace
}  // namespace lp::control::testing
