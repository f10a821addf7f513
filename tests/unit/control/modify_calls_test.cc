// The "set what you change" calls Terraform makes on update, over a real SQLite
// store: ModifySecurityGroupRules, ModifySubnetAttribute, Create/Replace/DeleteRoute,
// ModifyInstanceMetadataOptions, Monitor/UnmonitorInstances, ModifyVolume; and the
// pure rules behind them (applySubnetAttribute, routeDestination, checkRouteTarget,
// applyMetadataOptions, planVolumeModification).
#include <gtest/gtest.h>

#include "control/data_volume_service.h"
#include "control/instance_service.h"
#include "control/network_interface_service.h"
#include "control/security_group_rule_service.h"
#include "control/subnet_service.h"
#include "control/vpc_network_service.h"
#include "security_group_test_fixture.h"

namespace lp::control::testing {
namespace {

using model::SecurityGroup;
using model::SecurityGroupRule;

std::string code(const Status& s) { return s.ok() ? "" : s.code(); }
template <typename T>
std::string code(const Result<T>& r) {
  return r.ok() ? "" : r.status().code();
}

// ---- ModifySecurityGroupRules -----------------------------------------------

class ModifyRulesTest : public SecurityGroupFixture {
 protected:
  void SetUp() override {
    SecurityGroupFixture::SetUp();
    if (HasFatalFailure()) return;
    vpc_ = makeVpc();
    web_ = makeGroup(vpc_, "web");
    auto a =
        svc().authorize(as(kProvider), change(web_, {tcp(80, 80, {"10.0.0.0/24"}), tcp(443, 443, {"10.0.1.0/24"})}));
    ASSERT_TRUE(a.ok()) << a.status().toString();
    http_ = a->rules[0];
    https_ = a->rules[1];
  }
  static RuleUpdateSpec update(const SecurityGroupRule& r, std::string proto, int from, int to, std::string cidr) {
    RuleUpdateSpec u;
    u.ruleId = r.id.str();
    u.hasRule = true;
    u.ipProtocol = std::move(proto);
    u.fromPort = from;
    u.toPort = to;
    u.cidrIpv4 = std::move(cidr);
    return u;
  }
  Result<RuleChangeResult> modify(std::vector<RuleUpdateSpec> updates, const std::string& account = kProvider,
                                  const std::string& groupId = "") {
    return svc().modifyRules(as(account), {groupId.empty() ? web_.id.str() : groupId, std::move(updates)});
  }
  const SecurityGroupRule* ruleIn(const SecurityGroup& g, const model::SecurityGroupRuleId& id) {
    for (const auto& r : g.rules)
      if (r.id == id) return &r;
    return nullptr;
  }
  model::Vpc vpc_;
  SecurityGroup web_;
  SecurityGroupRule http_, https_;
};

TEST_F(ModifyRulesTest, ChangesTheRuleInPlaceKeepingItsIdDirectionAndTags) {
  auto u = update(http_, "tcp", 8080, 8081, "10.0.2.0/24");
  u.description = "alt http";
  auto r = modify({u});
  ASSERT_TRUE(r.ok()) << r.status().toString();
  auto g = group(web_.id);
  const auto* changed = ruleIn(g, http_.id);
  ASSERT_NE(changed, nullptr);
  EXPECT_FALSE(changed->egress);
  EXPECT_EQ(changed->fromPort, 8080);
  EXPECT_EQ(changed->toPort, 8081);
  EXPECT_EQ(changed->cidr, "10.0.2.0/24");
  EXPECT_EQ(changed->description, "alt http");
  EXPECT_EQ(g.rules.size(), web_.rules.size() + 2);  // nothing added or lost
  // DescribeSecurityGroupRules sees the change.
  auto page = describeSecurityGroupRules(*ctx_, as(kProvider), {{http_.id.str()}, {}, {}});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].rule.fromPort, 8080);
}

TEST_F(ModifyRulesTest, ASourceGroupOfTheSameVpcReplacesTheCidr) {
  auto db = makeGroup(vpc_, "db");
  RuleUpdateSpec u;
  u.ruleId = https_.id.str();
  u.hasRule = true;
  u.ipProtocol = "-1";
  u.referencedGroupId = db.id.str();
  ASSERT_TRUE(modify({u}).ok());
  auto g = group(web_.id);
  const auto* changed = ruleIn(g, https_.id);
  ASSERT_NE(changed, nullptr);
  EXPECT_TRUE(changed->cidr.empty());
  EXPECT_EQ(changed->groupId, db.id);
  EXPECT_EQ(changed->protocol, "-1");
  EXPECT_EQ(changed->fromPort, -1);
}

TEST_F(ModifyRulesTest, BadInputChangesNothing) {
  auto before = group(web_.id).rules;
  auto expectRefused = [&](std::vector<RuleUpdateSpec> u, const std::string& want) {
    EXPECT_EQ(code(modify(std::move(u))), want);
    auto after = group(web_.id).rules;
    ASSERT_EQ(after.size(), before.size());
    for (size_t i = 0; i < after.size(); ++i) EXPECT_TRUE(after[i].sameTarget(before[i]));
  };
  expectRefused({}, "MissingParameter");
  auto malformed = update(http_, "tcp", 1, 2, "10.0.0.0/8");
  malformed.ruleId = "rule-1";
  expectRefused({malformed}, "InvalidSecurityGroupRuleId.Malformed");
  auto unknown = update(http_, "tcp", 1, 2, "10.0.0.0/8");
  unknown.ruleId = "sgr-0123456789abcdef0";
  expectRefused({unknown}, "InvalidSecurityGroupRuleId.NotFound");
  expectRefused({update(http_, "tcp", 90, 80, "10.0.0.0/8")}, "InvalidParameterValue");
  expectRefused({update(http_, "tcp", 80, 80, "10.0.0.300/8")}, "InvalidParameterValue");
  expectRefused({update(http_, "bogus", 80, 80, "10.0.0.0/8")}, "InvalidParameterValue");
  // The result would equal the other rule.
  expectRefused({update(http_, "tcp", 443, 443, "10.0.1.0/24")}, "InvalidPermission.Duplicate");
  // A good first item and a bad second: neither applies.
  expectRefused({update(http_, "tcp", 81, 81, "10.0.0.0/24"), update(https_, "tcp", 9, 1, "10.0.0.0/24")},
                "InvalidParameterValue");
  auto two = update(http_, "tcp", 80, 80, "10.0.0.0/24");
  two.referencedGroupId = web_.id.str();
  expectRefused({two}, "InvalidParameterCombination");
  auto none = update(http_, "tcp", 80, 80, "");
  expectRefused({none}, "InvalidPermission.Malformed");
  auto v6 = update(http_, "tcp", 80, 80, "");
  v6.cidrIpv6 = "::/0";
  expectRefused({v6}, "UnsupportedOperation");
  expectRefused({update(http_, "tcp", 80, 80, "10.0.0.0/24"), update(http_, "tcp", 81, 81, "10.0.0.0/24")},
                "InvalidParameterValue");
  // Dry run: the answer AWS gives, nothing written.
  auto dry = svc().modifyRules(as(kProvider, true), {web_.id.str(), {update(http_, "tcp", 81, 81, "10.0.0.0/24")}});
  EXPECT_EQ(code(dry), "DryRunOperation");
  EXPECT_EQ(ruleIn(group(web_.id), http_.id)->fromPort, 80);
}

TEST_F(ModifyRulesTest, AnotherAccountsGroupOrRuleIsNotFound) {
  EXPECT_EQ(code(modify({update(http_, "tcp", 81, 81, "10.0.0.0/24")}, kConsumer)), "InvalidGroup.NotFound");
  // A rule of another group of the same account is not this group's.
  auto other = makeGroup(vpc_, "other");
  EXPECT_EQ(code(modify({update(http_, "tcp", 81, 81, "10.0.0.0/24")}, kProvider, other.id.str())),
            "InvalidSecurityGroupRuleId.NotFound");
  // A source group of another VPC.
  auto vpc2 = makeVpc(kProvider, "10.9.0.0/16");
  auto far = makeGroup(vpc2, "far");
  RuleUpdateSpec u;
  u.ruleId = http_.id.str();
  u.hasRule = true;
  u.ipProtocol = "-1";
  u.referencedGroupId = far.id.str();
  EXPECT_EQ(code(modify({u})), "InvalidGroup.NotFound");
}

// ---- ModifySubnetAttribute ----------------------------------------------------

TEST(ApplySubnetAttribute, RecordsWhatAnIpv4SubnetCanHold) {
  model::Subnet s;
  s.id = model::SubnetId("subnet-0123456789abcdef0");
  SubnetAttributeChange c;
  c.mapPublicIpOnLaunch = true;
  ASSERT_TRUE(applySubnetAttribute(s, c).ok());
  EXPECT_TRUE(s.mapPublicIpOnLaunch);
  c = {};
  c.privateDnsHostnameTypeOnLaunch = "resource-name";
  ASSERT_TRUE(applySubnetAttribute(s, c).ok());
  EXPECT_EQ(s.hostnameTypeOnLaunch, "resource-name");
  c = {};
  c.enableResourceNameDnsARecordOnLaunch = true;
  ASSERT_TRUE(applySubnetAttribute(s, c).ok());
  EXPECT_TRUE(s.enableResourceNameDnsARecordOnLaunch);
  // Turning off what cannot be on is fine (Terraform writes false on create).
  for (auto field : {&SubnetAttributeChange::assignIpv6AddressOnCreation, &SubnetAttributeChange::enableDns64,
                     &SubnetAttributeChange::enableResourceNameDnsAAAARecordOnLaunch,
                     &SubnetAttributeChange::mapCustomerOwnedIpOnLaunch}) {
    c = {};
    c.*field = false;
    EXPECT_TRUE(applySubnetAttribute(s, c).ok());
  }
}

TEST(ApplySubnetAttribute, RefusesWhatAwsRefusesAndChangesNothing) {
  model::Subnet s;
  s.id = model::SubnetId("subnet-0123456789abcdef0");
  auto refused = [&](SubnetAttributeChange c) {
    model::Subnet copy = s;
    auto st = applySubnetAttribute(copy, c);
    EXPECT_FALSE(copy.mapPublicIpOnLaunch);
    EXPECT_EQ(copy.hostnameTypeOnLaunch, "ip-name");
    return code(st);
  };
  EXPECT_EQ(refused({}), "MissingParameter");
  SubnetAttributeChange two;
  two.mapPublicIpOnLaunch = true;
  two.enableDns64 = false;
  EXPECT_EQ(refused(two), "InvalidParameterCombination");
  SubnetAttributeChange c;
  c.assignIpv6AddressOnCreation = true;
  EXPECT_EQ(refused(c), "InvalidParameterValue");
  c = {};
  c.enableDns64 = true;
  EXPECT_EQ(refused(c), "InvalidParameterValue");
  c = {};
  c.enableResourceNameDnsAAAARecordOnLaunch = true;
  EXPECT_EQ(refused(c), "InvalidParameterValue");
  c = {};
  c.privateDnsHostnameTypeOnLaunch = "dns-name";
  EXPECT_EQ(refused(c), "InvalidParameterValue");
  c = {};
  c.mapCustomerOwnedIpOnLaunch = true;
  EXPECT_EQ(refused(c), "MissingParameter");
  c.customerOwnedIpv4Pool = "ipv4pool-coip-0123";
  EXPECT_EQ(refused(c), "InvalidParameterValue");
  c = {};
  c.enableLniAtDeviceIndex = 1;
  EXPECT_EQ(refused(c), "InvalidParameterValue");
  c = {};
  c.disableLniAtDeviceIndex = true;
  EXPECT_EQ(refused(c), "InvalidParameterValue");
}

class SubnetAttributeTest : public SecurityGroupFixture {};

TEST_F(SubnetAttributeTest, StoredDescribedAndOwnedByItsAccount) {
  auto vpc = makeVpc();
  auto s = SubnetService(*ctx_).createSubnet(as(kProvider), {vpc.id.str(), "10.0.1.0/24", "", "", {}});
  ASSERT_TRUE(s.ok());
  const auto id = s->subnet.id.str();
  SubnetAttributeChange c;
  c.mapPublicIpOnLaunch = true;
  EXPECT_EQ(code(SubnetService(*ctx_).modifySubnetAttribute(as(kConsumer), id, c)), "InvalidSubnetID.NotFound");
  EXPECT_EQ(code(SubnetService(*ctx_).modifySubnetAttribute(as(kProvider), "subnet-x", c)),
            "InvalidSubnetID.Malformed");
  EXPECT_EQ(code(SubnetService(*ctx_).modifySubnetAttribute(as(kProvider, true), id, c)), "DryRunOperation");
  ASSERT_TRUE(SubnetService(*ctx_).modifySubnetAttribute(as(kProvider), id, c).ok());
  auto page = SubnetService(*ctx_).describeSubnets(as(kProvider), {{}, {{"map-public-ip-on-launch", {"true"}}}, {}});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_TRUE(page->items[0].subnet.mapPublicIpOnLaunch);
}

// ---- Routes -----------------------------------------------------------------

TEST(RouteRequest, DestinationsAndTargetsAsAwsChecksThem) {
  RouteInput in;
  EXPECT_EQ(code(routeDestination(in)), "MissingParameter");
  in.destinationCidrBlock = "10.1.0.0/16";
  auto d = routeDestination(in);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "10.1.0.0/16");
  in.destinationCidrBlock = "10.1.0.7/16";  // host bits set: not a CIDR block
  EXPECT_EQ(code(routeDestination(in)), "InvalidParameterValue");
  in.destinationCidrBlock = "10.1.0.0/33";
  EXPECT_EQ(code(routeDestination(in)), "InvalidParameterValue");
  in.destinationCidrBlock.clear();
  in.destinationIpv6CidrBlock = "::/0";
  EXPECT_EQ(code(routeDestination(in)), "InvalidParameterValue");
  in.destinationIpv6CidrBlock.clear();
  in.destinationPrefixListId = "pl-0123456789abcdef0";
  EXPECT_EQ(code(routeDestination(in)), "InvalidPrefixListID.NotFound");

  RouteInput t;
  EXPECT_EQ(code(checkRouteTarget(t, false)), "MissingParameter");
  t.gatewayId = "igw-0123456789abcdef0";
  EXPECT_EQ(code(checkRouteTarget(t, false)), "InvalidGatewayID.NotFound");
  t.networkInterfaceId = "eni-0123456789abcdef0";
  EXPECT_EQ(code(checkRouteTarget(t, false)), "InvalidParameterCombination");
  t.gatewayId.clear();
  EXPECT_TRUE(checkRouteTarget(t, false).ok());
  RouteInput nat;
  nat.natGatewayId = "nat-0123456789abcdef0";
  EXPECT_EQ(code(checkRouteTarget(nat, false)), "NatGatewayNotFound");
  RouteInput pcx;
  pcx.vpcPeeringConnectionId = "pcx-0123";
  EXPECT_EQ(code(checkRouteTarget(pcx, false)), "InvalidVpcPeeringConnectionID.NotFound");
  RouteInput tgw;
  tgw.transitGatewayId = "tgw-0123";
  EXPECT_EQ(code(checkRouteTarget(tgw, false)), "InvalidTransitGatewayID.NotFound");
  RouteInput local;
  local.localTarget = true;
  EXPECT_TRUE(checkRouteTarget(local, true).ok());
  EXPECT_EQ(code(checkRouteTarget(local, false)), "UnknownParameter");
}

class RouteTest : public SecurityGroupFixture {
 protected:
  void SetUp() override {
    SecurityGroupFixture::SetUp();
    if (HasFatalFailure()) return;
    vpc_ = makeVpc();
    auto s = SubnetService(*ctx_).createSubnet(as(kProvider), {vpc_.id.str(), "10.0.1.0/24", "", "", {}});
    ASSERT_TRUE(s.ok());
    CreateNetworkInterfaceInput ni;
    ni.subnetId = s->subnet.id.str();
    auto e = NetworkInterfaceService(*ctx_).createNetworkInterface(as(kProvider), ni);
    ASSERT_TRUE(e.ok()) << e.status().toString();
    eni_ = e->eni.id.str();
    auto rt = VpcNetworkService(*ctx_).createRouteTable(as(kProvider), {vpc_.id.str(), "", {}});
    ASSERT_TRUE(rt.ok());
    rtb_ = rt->id.str();
  }
  RouteInput toEni(const std::string& dest) {
    RouteInput in;
    in.routeTableId = rtb_;
    in.destinationCidrBlock = dest;
    in.networkInterfaceId = eni_;
    return in;
  }
  std::vector<model::Route> routes() {
    auto p = VpcNetworkService(*ctx_).describeRouteTables(as(kProvider), {{rtb_}, {}, {}});
    EXPECT_TRUE(p.ok());
    return p.ok() && !p->items.empty() ? p->items[0].routes : std::vector<model::Route>{};
  }
  model::Vpc vpc_;
  std::string eni_, rtb_;
};

TEST_F(RouteTest, CreateReplaceDeleteARouteToAnInterface) {
  VpcNetworkService svc(*ctx_);
  ASSERT_TRUE(svc.createRoute(as(kProvider), toEni("192.168.0.0/16")).ok());
  auto rs = routes();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[1].destinationCidrBlock, "192.168.0.0/16");
  EXPECT_EQ(rs[1].networkInterfaceId.str(), eni_);
  EXPECT_EQ(rs[1].gatewayId, "");
  EXPECT_EQ(rs[1].origin, "CreateRoute");
  EXPECT_EQ(rs[1].state, "active");
  EXPECT_EQ(code(svc.createRoute(as(kProvider), toEni("192.168.0.0/16"))), "RouteAlreadyExists");
  // Replace to an igw: the gateway does not exist here; the route is unchanged.
  auto igw = toEni("192.168.0.0/16");
  igw.networkInterfaceId.clear();
  igw.gatewayId = "igw-0123456789abcdef0";
  EXPECT_EQ(code(svc.replaceRoute(as(kProvider), igw)), "InvalidGatewayID.NotFound");
  EXPECT_EQ(routes()[1].networkInterfaceId.str(), eni_);
  EXPECT_EQ(code(svc.replaceRoute(as(kProvider), toEni("172.16.0.0/12"))), "InvalidRoute.NotFound");
  // The local route stays.
  auto local = toEni(vpc_.cidrBlock);
  EXPECT_EQ(code(svc.replaceRoute(as(kProvider), local)), "InvalidParameterValue");
  auto st = svc.deleteRoute(as(kProvider), local);
  EXPECT_EQ(code(st), "InvalidParameterValue");
  EXPECT_NE(st.message().find("cannot remove local route"), std::string::npos);  // what Terraform matches
  // Another account sees no such table.
  EXPECT_EQ(code(svc.deleteRoute(as(kConsumer), toEni("192.168.0.0/16"))), "InvalidRouteTableID.NotFound");
  EXPECT_EQ(code(svc.deleteRoute(as(kProvider, true), toEni("192.168.0.0/16"))), "DryRunOperation");
  ASSERT_TRUE(svc.deleteRoute(as(kProvider), toEni("192.168.0.0/16")).ok());
  EXPECT_EQ(routes().size(), 1u);
  EXPECT_EQ(code(svc.deleteRoute(as(kProvider), toEni("192.168.0.0/16"))), "InvalidRoute.NotFound");
}

TEST_F(RouteTest, ARouteToADeletedInterfaceIsABlackhole) {
  VpcNetworkService svc(*ctx_);
  ASSERT_TRUE(svc.createRoute(as(kProvider), toEni("0.0.0.0/0")).ok());
  ASSERT_TRUE(NetworkInterfaceService(*ctx_).deleteNetworkInterface(as(kProvider), eni_).ok());
  auto rs = routes();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[1].state, "blackhole");
  auto p = svc.describeRouteTables(as(kProvider), {{}, {{"route.state", {"blackhole"}}}, {}});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->items.size(), 1u);
}

TEST_F(RouteTest, ARouteToAnEndpointsOrALoadBalancersInterfaceIsABlackhole) {
  // Such an interface has no workload to forward for: the route plan installs a blackhole.
  for (const char* type : {"vpc_endpoint", "network_load_balancer"}) {
    ASSERT_TRUE(ctx_->store
                    .update([&](store::WriteTxn& w) -> Status {
                      Txn t(w);
                      auto n = t.get<model::NetworkInterface>(eni_);
                      n->interfaceType = type;
                      t.put(*n);
                      return Status::Ok();
                    })
                    .ok());
    VpcNetworkService svc(*ctx_);
    ASSERT_TRUE(svc.createRoute(as(kProvider), toEni("192.168.0.0/16")).ok());
    auto rs = routes();
    ASSERT_EQ(rs.size(), 2u);
    EXPECT_EQ(rs[1].state, "blackhole") << type;
    ASSERT_TRUE(svc.deleteRoute(as(kProvider), toEni("192.168.0.0/16")).ok());
  }
}

TEST_F(RouteTest, AnInterfaceOfAnotherVpcOrAccountIsRefused) {
  auto other = makeVpc(kProvider, "10.5.0.0/16");
  auto s = SubnetService(*ctx_).createSubnet(as(kProvider), {other.id.str(), "10.5.1.0/24", "", "", {}});
  ASSERT_TRUE(s.ok());
  CreateNetworkInterfaceInput ni;
  ni.subnetId = s->subnet.id.str();
  auto far = NetworkInterfaceService(*ctx_).createNetworkInterface(as(kProvider), ni);
  ASSERT_TRUE(far.ok());
  auto in = toEni("192.168.0.0/16");
  in.networkInterfaceId = far->eni.id.str();
  EXPECT_EQ(code(VpcNetworkService(*ctx_).createRoute(as(kProvider), in)), "InvalidParameterValue");
  in.networkInterfaceId = "eni-0123456789abcdef0";
  EXPECT_EQ(code(VpcNetworkService(*ctx_).createRoute(as(kProvider), in)), "InvalidNetworkInterfaceID.NotFound");
  EXPECT_EQ(routes().size(), 1u);
}

// ---- Instance metadata options, ModifyVolume ----------------------------------

TEST(ApplyMetadataOptions, ChangesWhatIsGivenAndRefusesOutOfRange) {
  model::Instance i;
  MetadataOptionsChange c;
  c.httpTokens = "required";
  c.hopLimit = 3;
  ASSERT_TRUE(applyMetadataOptions(i, c).ok());
  EXPECT_EQ(i.metadataHttpTokens, "required");
  EXPECT_EQ(i.metadataHopLimit, 3);
  EXPECT_EQ(i.metadataHttpEndpoint, "enabled");
  for (auto bad : std::vector<MetadataOptionsChange>{{"sometimes", {}, "", "", ""},
                                                     {"", 0, "", "", ""},
                                                     {"", 65, "", "", ""},
                                                     {"", {}, "on", "", ""},
                                                     {"", {}, "", "yes", ""},
                                                     {"", {}, "", "", "maybe"}}) {
    model::Instance copy = i;
    EXPECT_EQ(code(applyMetadataOptions(copy, bad)), "InvalidParameterValue");
    EXPECT_EQ(copy.metadataHttpTokens, "required");
    EXPECT_EQ(copy.metadataHopLimit, 3);
  }
}

TEST(PlanVolumeModification, SizeOnlyGrowsAndTypesKeepTheirRules) {
  model::Volume v;
  v.id = model::VolumeId("vol-0123456789abcdef0");
  v.sizeGiB = 10;
  v.volumeType = "gp2";
  v.iops = 100;
  ModifyVolumeInput in;
  EXPECT_EQ(code(planVolumeModification(v, false, in, "t")), "MissingParameter");
  in.size = 9;
  EXPECT_EQ(code(planVolumeModification(v, false, in, "t")), "InvalidParameterValue");
  in.size = 20;
  auto grown = planVolumeModification(v, false, in, "t");
  ASSERT_TRUE(grown.ok());
  EXPECT_EQ(grown->sizeGiB, 20);
  EXPECT_EQ(grown->iops, 100);
  EXPECT_EQ(grown->modification.originalSize, 10);
  EXPECT_EQ(grown->modification.targetSize, 20);
  EXPECT_EQ(grown->modification.state, "completed");
  ModifyVolumeInput toGp3;
  toGp3.volumeType = "gp3";
  toGp3.iops = 4000;
  toGp3.throughput = 250;
  auto gp3 = planVolumeModification(v, false, toGp3, "t");
  ASSERT_TRUE(gp3.ok());
  EXPECT_EQ(gp3->iops, 4000);
  EXPECT_EQ(gp3->throughput, 250);
  EXPECT_EQ(gp3->modification.originalType, "gp2");
  ModifyVolumeInput toIo1;
  toIo1.volumeType = "io1";
  EXPECT_EQ(code(planVolumeModification(v, false, toIo1, "t")), "MissingParameter");  // io1 needs iops
  ModifyVolumeInput iopsOnGp2;
  iopsOnGp2.iops = 3000;
  EXPECT_EQ(code(planVolumeModification(v, false, iopsOnGp2, "t")), "InvalidParameterCombination");
  ModifyVolumeInput st1;
  st1.volumeType = "st1";
  st1.size = 500;
  EXPECT_EQ(code(planVolumeModification(v, true, st1, "t")), "InvalidParameterValue");  // not for a root volume
  EXPECT_TRUE(planVolumeModification(v, false, st1, "t").ok());
  ModifyVolumeInput multi;
  multi.multiAttachEnabled = true;
  EXPECT_EQ(code(planVolumeModification(v, false, multi, "t")), "UnsupportedOperation");
}

}  // namespace
}  // namespace lp::control::testing
