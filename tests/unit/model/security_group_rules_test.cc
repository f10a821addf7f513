#include "model/security_group_rules.h"

#include <gtest/gtest.h>

namespace lp::model {
namespace {

using model::NetworkInterface;
using model::SecurityGroup;
using model::SecurityGroupId;
using model::SecurityGroupRule;

const model::VpcId kVpcA("vpc-0aaaaaaaaaaaaaaaa");
const model::VpcId kVpcB("vpc-0bbbbbbbbbbbbbbbb");
const SecurityGroupId kWeb("sg-0000000000000000a");
const SecurityGroupId kApp("sg-0000000000000000b");
const SecurityGroupId kDb("sg-0000000000000000c");

SecurityGroupRule cidrRule(const char* id, bool egress, const char* proto, int from, int to, const char* cidr) {
  SecurityGroupRule r;
  r.id = model::SecurityGroupRuleId(id);
  r.egress = egress;
  r.protocol = proto;
  r.fromPort = from;
  r.toPort = to;
  r.cidr = cidr;
  return r;
}
SecurityGroupRule groupRule(const char* id, bool egress, const char* proto, int from, int to, SecurityGroupId src) {
  SecurityGroupRule r = cidrRule(id, egress, proto, from, to, "");
  r.groupId = src;
  return r;
}
SecurityGroup group(SecurityGroupId id, model::VpcId vpc, std::vector<SecurityGroupRule> rules) {
  SecurityGroup g;
  g.id = id;
  g.vpcId = vpc;
  g.rules = std::move(rules);
  return g;
}
NetworkInterface eni(const char* id, model::VpcId vpc, const char* ip, std::vector<SecurityGroupId> groups) {
  NetworkInterface e;
  e.id = model::NetworkInterfaceId(id);
  e.vpcId = vpc;
  e.privateIp = ip;
  e.groupIds = std::move(groups);
  return e;
}

TEST(EffectiveRules, GroupSourcesBecomeTheMembersAddresses) {
  std::vector<SecurityGroup> groups = {
      group(kWeb, kVpcA,
            {cidrRule("sgr-1", false, "tcp", 443, 443, "10.0.0.0/8"),
             cidrRule("sgr-2", true, "-1", -1, -1, "0.0.0.0/0")}),
      group(kApp, kVpcA, {groupRule("sgr-3", false, "tcp", 8080, 8080, kWeb)}),
  };
  std::vector<NetworkInterface> enis = {
      eni("eni-00000000000000003", kVpcA, "10.0.1.30", {kApp}),
      eni("eni-00000000000000002", kVpcA, "10.0.1.20", {kWeb}),
      eni("eni-00000000000000001", kVpcA, "10.0.1.10", {kWeb}),
  };
  auto out = effectiveRules(groups, enis);
  ASSERT_EQ(out.size(), 3u);
  // Interface id order.
  EXPECT_EQ(out[0].interfaceId.str(), "eni-00000000000000001");
  EXPECT_EQ(out[0].privateIp, "10.0.1.10");
  ASSERT_EQ(out[0].ingress.size(), 1u);
  EXPECT_EQ(out[0].ingress[0].peers, std::vector<std::string>{"10.0.0.0/8"});
  EXPECT_EQ(out[0].ingress[0].fromPort, 443);
  ASSERT_EQ(out[0].egress.size(), 1u);
  EXPECT_EQ(out[0].egress[0].protocol, "-1");
  EXPECT_EQ(out[0].egress[0].groupId, kWeb);

  const auto& app = out[2];
  EXPECT_EQ(app.interfaceId.str(), "eni-00000000000000003");
  ASSERT_EQ(app.ingress.size(), 1u);
  EXPECT_EQ(app.ingress[0].ruleId.str(), "sgr-3");
  EXPECT_EQ(app.ingress[0].peers, (std::vector<std::string>{"10.0.1.10/32", "10.0.1.20/32"}));
  EXPECT_TRUE(app.egress.empty());  // the app group has no egress rule: nothing may leave
}

TEST(EffectiveRules, SelfReferenceIncludesTheInterfaceItself) {
  std::vector<SecurityGroup> groups = {group(kDb, kVpcA, {groupRule("sgr-1", false, "-1", -1, -1, kDb)})};
  auto out = effectiveRules(groups, {eni("eni-00000000000000001", kVpcA, "10.0.1.10", {kDb}),
                                     eni("eni-00000000000000002", kVpcA, "10.0.1.11", {kDb})});
  ASSERT_EQ(out.size(), 2u);
  for (auto& ir : out) {
    ASSERT_EQ(ir.ingress.size(), 1u);
    EXPECT_EQ(ir.ingress[0].peers, (std::vector<std::string>{"10.0.1.10/32", "10.0.1.11/32"}));
  }
}

TEST(EffectiveRules, EmptyGroupSourceMatchesNothingAndIsLeftOut) {
  std::vector<SecurityGroup> groups = {group(kApp, kVpcA, {groupRule("sgr-1", false, "tcp", 80, 80, kWeb)}),
                                       group(kWeb, kVpcA, {})};
  auto out = effectiveRules(groups, {eni("eni-00000000000000001", kVpcA, "10.0.1.10", {kApp})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].ingress.empty());
}

TEST(EffectiveRules, MembersInAnotherVpcDoNotCount) {
  std::vector<SecurityGroup> groups = {group(kApp, kVpcA, {groupRule("sgr-1", false, "tcp", 80, 80, kWeb)}),
                                       group(kWeb, kVpcA, {})};
  auto out = effectiveRules(groups, {eni("eni-00000000000000001", kVpcA, "10.0.1.10", {kApp}),
                                     eni("eni-00000000000000002", kVpcB, "10.0.1.20", {kWeb})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].ingress.empty());
}

TEST(EffectiveRules, UnknownGroupsDuplicatesAndAddresslessInterfacesAreSkipped) {
  std::vector<SecurityGroup> groups = {group(kWeb, kVpcA, {cidrRule("sgr-1", false, "udp", 53, 53, "10.0.0.0/16")})};
  auto out = effectiveRules(groups, {eni("eni-00000000000000001", kVpcA, "10.0.1.10", {kWeb, kWeb, kDb}),
                                     eni("eni-00000000000000002", kVpcA, "", {kWeb})});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].ingress.size(), 1u);  // kWeb once, kDb (gone) skipped
  EXPECT_EQ(out[0].ingress[0].protocol, "udp");
}

TEST(EffectiveRules, NoInterfacesNoRules) { EXPECT_TRUE(effectiveRules({group(kWeb, kVpcA, {})}, {}).empty()); }

}  // namespace
}  // namespace lp::model
