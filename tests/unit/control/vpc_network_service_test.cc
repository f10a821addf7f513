// Route tables and network ACLs over a real SQLite store: what a VPC gets, how
// subnets join and leave, entry rules, associations, idempotency and DeleteVpc.
#include "control/vpc_network_service.h"

#include <gtest/gtest.h>

#include "control/account_service.h"
#include "control/subnet_service.h"
#include "security_group_test_fixture.h"

namespace lp::control::testing {
namespace {

class VpcNetworkFixture : public SecurityGroupFixture {
 protected:
  model::Subnet subnet(const model::Vpc& vpc, const std::string& cidr) {
    auto s = SubnetService(*ctx_).createSubnet(as(kProvider), {vpc.id.str(), cidr, "", "", {}});
    EXPECT_TRUE(s.ok()) << s.status().toString();
    return s.ok() ? s->subnet : model::Subnet{};
  }
  std::vector<model::NetworkAcl> acls(Filters f = {}) {
    auto p = VpcNetworkService(*ctx_).describeNetworkAcls(as(kProvider), {{}, std::move(f), {}});
    EXPECT_TRUE(p.ok()) << p.status().toString();
    return p.ok() ? p->items : std::vector<model::NetworkAcl>{};
  }
  std::vector<model::RouteTable> routeTables(Filters f = {}) {
    auto p = VpcNetworkService(*ctx_).describeRouteTables(as(kProvider), {{}, std::move(f), {}});
    EXPECT_TRUE(p.ok()) << p.status().toString();
    return p.ok() ? p->items : std::vector<model::RouteTable>{};
  }
  AclEntryInput entry(const model::NetworkAcl& acl, int rule, bool egress = false) {
    AclEntryInput in;
    in.networkAclId = acl.id.str();
    in.ruleNumber = rule;
    in.egress = egress;
    in.protocol = "tcp";
    in.ruleAction = "allow";
    in.cidrBlock = "10.1.0.0/16";
    in.fromPort = 80;
    in.toPort = 90;
    return in;
  }
};

TEST_F(VpcNetworkFixture, EveryVpcHasAMainRouteTableAndADefaultAcl) {
  auto vpc = makeVpc();
  auto rts = routeTables({{"association.main", {"true"}}, {"vpc-id", {vpc.id.str()}}});
  ASSERT_EQ(rts.size(), 1u);
  EXPECT_TRUE(rts[0].isMain());
  ASSERT_EQ(rts[0].routes.size(), 1u);
  EXPECT_EQ(rts[0].routes[0].destinationCidrBlock, vpc.cidrBlock);
  EXPECT_EQ(rts[0].routes[0].gatewayId, "local");
  auto def = acls({{"default", {"true"}}});
  ASSERT_EQ(def.size(), 1u);
  ASSERT_EQ(def[0].entries.size(), 4u);
  EXPECT_EQ(def[0].entries[0].ruleNumber, 100);
  EXPECT_EQ(def[0].entries[0].ruleAction, "allow");
  EXPECT_EQ(def[0].entries[1].ruleNumber, model::kAclDefaultRule);
  EXPECT_EQ(def[0].entries[1].ruleAction, "deny");
  EXPECT_TRUE(def[0].entries[2].egress);
  EXPECT_TRUE(acls({{"default", {"false"}}}).empty());
  // Another account sees none of them.
  auto other = VpcNetworkService(*ctx_).describeRouteTables(as(kConsumer), {});
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->items.empty());
}

TEST_F(VpcNetworkFixture, SubnetsJoinTheDefaultAclAndLeaveWithTheirAssociations) {
  auto vpc = makeVpc();
  auto s = subnet(vpc, "10.0.1.0/24");
  auto def = acls()[0];
  ASSERT_EQ(def.associations.size(), 1u);
  EXPECT_EQ(def.associations[0].subnetId, s.id);
  VpcNetworkService svc(*ctx_);
  auto rt = svc.createRouteTable(as(kProvider), {vpc.id.str(), "", {}});
  ASSERT_TRUE(rt.ok());
  auto a = svc.associateRouteTable(as(kProvider), rt->id.str(), s.id.str());
  ASSERT_TRUE(a.ok()) << a.status().toString();
  EXPECT_EQ(svc.associateRouteTable(as(kProvider), rt->id.str(), s.id.str()).status().code(),
            err::kResourceAlreadyAssociated);
  EXPECT_EQ(routeTables({{"association.subnet-id", {s.id.str()}}}).size(), 1u);
  ASSERT_TRUE(SubnetService(*ctx_).deleteSubnet(as(kProvider), s.id.str()).ok());
  EXPECT_TRUE(acls()[0].associations.empty());
  EXPECT_TRUE(routeTables({{"route-table-id", {rt->id.str()}}})[0].associations.empty());
}

TEST_F(VpcNetworkFixture, AclEntriesAreValidatedOrderedAndReplaceable) {
  auto vpc = makeVpc();
  VpcNetworkService svc(*ctx_);
  auto acl = svc.createNetworkAcl(as(kProvider), {vpc.id.str(), "", {}});
  ASSERT_TRUE(acl.ok());
  EXPECT_EQ(acl->entries.size(), 2u);  // the two final denies
  ASSERT_TRUE(svc.createNetworkAclEntry(as(kProvider), entry(*acl, 200)).ok());
  ASSERT_TRUE(svc.createNetworkAclEntry(as(kProvider), entry(*acl, 100)).ok());
  EXPECT_EQ(svc.createNetworkAclEntry(as(kProvider), entry(*acl, 100)).code(), err::kNetworkAclEntryAlreadyExists);
  auto bad = entry(*acl, 0);
  EXPECT_EQ(svc.createNetworkAclEntry(as(kProvider), bad).code(), err::kInvalidParameterValue);
  bad = entry(*acl, 300);
  bad.fromPort.reset();
  EXPECT_EQ(svc.createNetworkAclEntry(as(kProvider), bad).code(), err::kMissingParameter);
  bad = entry(*acl, 300);
  bad.protocol = "bogus";
  EXPECT_EQ(svc.createNetworkAclEntry(as(kProvider), bad).code(), err::kInvalidParameterValue);
  bad = entry(*acl, 300);
  bad.fromPort = 100;
  EXPECT_EQ(svc.createNetworkAclEntry(as(kProvider), bad).code(), err::kInvalidParameterValue);
  EXPECT_EQ(svc.createNetworkAclEntry(as(kProvider, true), entry(*acl, 300)).code(), err::kDryRunOperation);

  auto got = acls({{"network-acl-id", {acl->id.str()}}})[0];
  ASSERT_EQ(got.entries.size(), 4u);
  EXPECT_EQ(got.entries[0].ruleNumber, 100);
  EXPECT_EQ(got.entries[0].protocol, "6");
  EXPECT_EQ(got.entries[1].ruleNumber, 200);
  EXPECT_EQ(got.entries[2].ruleNumber, model::kAclDefaultRule);

  auto icmp = entry(*acl, 200);
  icmp.protocol = "1";
  icmp.icmpType = 8;
  icmp.icmpCode = -1;
  ASSERT_TRUE(svc.replaceNetworkAclEntry(as(kProvider), icmp).ok());
  got = acls({{"network-acl-id", {acl->id.str()}}})[0];
  EXPECT_FALSE(got.entries[1].hasPortRange());
  EXPECT_EQ(got.entries[1].icmpType, 8);
  EXPECT_EQ(svc.replaceNetworkAclEntry(as(kProvider), entry(*acl, 300)).code(), err::kNetworkAclEntryNotFound);
  EXPECT_EQ(svc.deleteNetworkAclEntry(as(kProvider), acl->id.str(), model::kAclDefaultRule, false).code(),
            err::kNetworkAclEntryNotFound);
  ASSERT_TRUE(svc.deleteNetworkAclEntry(as(kProvider), acl->id.str(), 100, false).ok());
  EXPECT_EQ(acls({{"network-acl-id", {acl->id.str()}}})[0].entries.size(), 3u);
}

TEST_F(VpcNetworkFixture, EntryLimitPerDirection) {
  setLimit(&Limits::networkAclEntriesPerDirection, 2);
  auto vpc = makeVpc();
  VpcNetworkService svc(*ctx_);
  auto acl = svc.createNetworkAcl(as(kProvider), {vpc.id.str(), "", {}});
  ASSERT_TRUE(svc.createNetworkAclEntry(as(kProvider), entry(*acl, 1)).ok());
  ASSERT_TRUE(svc.createNetworkAclEntry(as(kProvider), entry(*acl, 2)).ok());
  EXPECT_EQ(svc.createNetworkAclEntry(as(kProvider), entry(*acl, 3)).code(), err::kNetworkAclEntryLimitExceeded);
  EXPECT_TRUE(svc.createNetworkAclEntry(as(kProvider), entry(*acl, 3, true)).ok());
}

TEST_F(VpcNetworkFixture, ReplaceAclAssociationMovesTheSubnet) {
  auto vpc = makeVpc();
  auto s = subnet(vpc, "10.0.1.0/24");
  VpcNetworkService svc(*ctx_);
  auto acl = svc.createNetworkAcl(as(kProvider), {vpc.id.str(), "", {}});
  auto def = acls({{"default", {"true"}}})[0];
  auto moved = svc.replaceNetworkAclAssociation(as(kProvider), def.associations[0].id.str(), acl->id.str());
  ASSERT_TRUE(moved.ok()) << moved.status().toString();
  EXPECT_TRUE(acls({{"default", {"true"}}})[0].associations.empty());
  auto holding = acls({{"association.subnet-id", {s.id.str()}}});
  ASSERT_EQ(holding.size(), 1u);
  EXPECT_EQ(holding[0].id, acl->id);
  EXPECT_EQ(holding[0].associations[0].id.str(), *moved);
  EXPECT_EQ(svc.deleteNetworkAcl(as(kProvider), acl->id.str()).code(), err::kDependencyViolation);
  EXPECT_EQ(svc.deleteNetworkAcl(as(kProvider), def.id.str()).code(), err::kInvalidParameterValue);
  // Another VPC's ACL cannot take the subnet.
  auto other = makeVpc(kProvider, "10.9.0.0/16");
  auto foreign = svc.createNetworkAcl(as(kProvider), {other.id.str(), "", {}});
  EXPECT_EQ(svc.replaceNetworkAclAssociation(as(kProvider), *moved, foreign->id.str()).status().code(),
            err::kInvalidParameterValue);
  EXPECT_EQ(svc.replaceNetworkAclAssociation(as(kConsumer), *moved, foreign->id.str()).status().code(),
            err::kNetworkAclNotFound);
}

TEST_F(VpcNetworkFixture, ClientTokenReturnsTheFirstCreate) {
  auto vpc = makeVpc();
  auto other = makeVpc(kProvider, "10.9.0.0/16");
  VpcNetworkService svc(*ctx_);
  auto a = svc.createRouteTable(as(kProvider), {vpc.id.str(), "tok", {}});
  auto b = svc.createRouteTable(as(kProvider), {vpc.id.str(), "tok", {}});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->id, b->id);
  EXPECT_EQ(svc.createRouteTable(as(kProvider), {other.id.str(), "tok", {}}).status().code(),
            err::kIdempotentParameterMismatch);
  // Tokens are per kind: the same token makes an ACL, once.
  auto c = svc.createNetworkAcl(as(kProvider), {vpc.id.str(), "tok", {}});
  auto d = svc.createNetworkAcl(as(kProvider), {vpc.id.str(), "tok", {}});
  EXPECT_EQ(c->id, d->id);
}

TEST_F(VpcNetworkFixture, DeleteVpcRefusesWhileRouteTablesOrAclsAreInside) {
  auto vpc = makeVpc();
  VpcNetworkService svc(*ctx_);
  auto rt = svc.createRouteTable(as(kProvider), {vpc.id.str(), "", {}});
  EXPECT_EQ(VpcService(*ctx_).deleteVpc(as(kProvider), vpc.id.str()).code(), err::kDependencyViolation);
  ASSERT_TRUE(svc.deleteRouteTable(as(kProvider), rt->id.str()).ok());
  auto acl = svc.createNetworkAcl(as(kProvider), {vpc.id.str(), "", {}});
  EXPECT_EQ(VpcService(*ctx_).deleteVpc(as(kProvider), vpc.id.str()).code(), err::kDependencyViolation);
  ASSERT_TRUE(svc.deleteNetworkAcl(as(kProvider), acl->id.str()).ok());
  auto main = routeTables()[0];
  EXPECT_EQ(svc.deleteRouteTable(as(kProvider), main.id.str()).code(), err::kDependencyViolation);
  EXPECT_EQ(svc.disassociateRouteTable(as(kProvider), main.associations[0].id.str()).code(),
            err::kInvalidParameterValue);
  ASSERT_TRUE(VpcService(*ctx_).deleteVpc(as(kProvider), vpc.id.str()).ok());
  EXPECT_TRUE(all<model::RouteTable>().empty());
  EXPECT_TRUE(all<model::NetworkAcl>().empty());
}

// A store written before route tables and ACLs existed: its VPCs get them at start,
// once, holding the subnets already there.
TEST_F(VpcNetworkFixture, VpcsStoredBeforeRouteTablesGetThemAtStart) {
  model::Vpc old;
  old.id = model::VpcId("vpc-0123456789abcdef0");
  old.ownerId = kProvider;
  old.cidrBlock = "10.5.0.0/16";
  put(old);
  model::Subnet s;
  s.id = model::SubnetId("subnet-0123456789abcdef0");
  s.ownerId = kProvider;
  s.vpcId = old.id;
  s.cidrBlock = "10.5.1.0/24";
  put(s);
  auto fresh = makeVpc();
  ASSERT_EQ(routeTables().size(), 1u);
  ASSERT_TRUE(addMissingVpcNetworkDefaults(*ctx_).ok());
  ASSERT_TRUE(addMissingVpcNetworkDefaults(*ctx_).ok());
  auto rts = routeTables({{"vpc-id", {old.id.str()}}});
  ASSERT_EQ(rts.size(), 1u);
  EXPECT_EQ(rts[0].routes[0].destinationCidrBlock, "10.5.0.0/16");
  auto def = acls({{"vpc-id", {old.id.str()}}});
  ASSERT_EQ(def.size(), 1u);
  ASSERT_EQ(def[0].associations.size(), 1u);
  EXPECT_EQ(def[0].associations[0].subnetId, s.id);
  EXPECT_EQ(routeTables().size(), 2u);
  EXPECT_EQ(acls().size(), 2u);
}

TEST_F(VpcNetworkFixture, RegionsAttributesAndPrefixLists) {
  AccountService svc(*ctx_);
  auto regions = svc.describeRegions(as(kProvider), {});
  ASSERT_TRUE(regions.ok());
  ASSERT_EQ(regions->size(), 1u);
  EXPECT_EQ((*regions)[0].regionName, region_.name);
  EXPECT_EQ(svc.describeRegions(as(kProvider), {{"mars-1"}, {}, false}).status().code(), err::kInvalidParameterValue);
  setLimit(&Limits::securityGroupsPerInterface, 7);
  auto attrs = svc.describeAccountAttributes(as(kProvider), {"vpc-max-security-groups-per-interface"});
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ((*attrs)[0].values, std::vector<std::string>{"7"});
  EXPECT_EQ(svc.describeAccountAttributes(as(kProvider), {"bogus"}).status().code(), err::kInvalidParameterValue);
  auto pl = svc.describePrefixLists(as(kProvider), {{}, {{"prefix-list-name", {"com.amazonaws.vpce.x"}}}, {}}, false);
  ASSERT_TRUE(pl.ok());
  EXPECT_TRUE(pl->items.empty());
  EXPECT_EQ(svc.describePrefixLists(as(kProvider), {{"pl-0123456789abcdef0"}, {}, {}}, false).status().code(),
            err::kPrefixListNotFound);
  EXPECT_EQ(svc.describePrefixLists(as(kProvider), {{}, {{"owner-id", {"x"}}}, {}}, false).status().code(),
            err::kInvalidParameterValue);
  EXPECT_TRUE(svc.describePrefixLists(as(kProvider), {{}, {{"owner-id", {"x"}}}, {}}, true).ok());
}

}  // namespace
}  // namespace lp::control::testing
