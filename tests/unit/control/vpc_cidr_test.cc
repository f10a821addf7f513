// Secondary VPC CIDR blocks (AWS's rules, route tables' local routes, subnets in
// them, disassociation), enableNetworkAddressUsageMetrics, and DeleteVpc's
// dependencies, over a real SQLite store.
#include <gtest/gtest.h>

#include "control/subnet_service.h"
#include "control/vpc_network_service.h"
#include "control/vpc_service.h"
#include "model/instance.h"
#include "security_group_test_fixture.h"

namespace lp::control::testing {
namespace {

model::Vpc vpcWith(const std::string& primary, std::vector<std::string> secondary = {}) {
  model::Vpc v;
  v.id = model::VpcId("vpc-0123456789abcdef0");
  v.cidrBlock = primary;
  for (auto& c : secondary) v.secondaryCidrs.push_back({"vpc-cidr-assoc-0123456789abcdef0", c, "associated", ""});
  return v;
}

std::string refusal(const model::Vpc& vpc, const std::string& cidr, int limit = 5) {
  auto r = secondaryCidrRefusal(vpc, cidr, limit);
  return r ? r->code() : "";
}

TEST(SecondaryCidrRules, SizeOverlapRangesAndCount) {
  auto ten = vpcWith("10.0.0.0/16");
  EXPECT_EQ(refusal(ten, "10.1.0.0/16"), "");
  EXPECT_EQ(refusal(ten, "10.1.0.0/28"), "");
  EXPECT_EQ(refusal(ten, "10.2.0.0/15"), "InvalidVpc.Range");  // larger than /16
  EXPECT_EQ(refusal(ten, "10.1.0.0/29"), "InvalidVpc.Range");  // smaller than /28
  EXPECT_EQ(refusal(ten, "10.0.128.0/17"), "InvalidVpc.Range");  // overlaps the primary
  EXPECT_EQ(refusal(ten, "10.1.0.1/16"), "InvalidParameterValue");  // not a network address
  // Another private range than the primary's: restricted. Public and 100.64/10: fine.
  EXPECT_EQ(refusal(ten, "172.16.0.0/16"), "InvalidVpc.Range");
  EXPECT_EQ(refusal(ten, "192.168.0.0/16"), "InvalidVpc.Range");
  EXPECT_EQ(refusal(ten, "198.19.0.0/16"), "InvalidVpc.Range");
  EXPECT_EQ(refusal(ten, "100.64.0.0/16"), "");
  EXPECT_EQ(refusal(ten, "203.0.113.0/24"), "");
  EXPECT_EQ(refusal(ten, "127.0.0.0/16"), "InvalidVpc.Range");
  EXPECT_EQ(refusal(ten, "224.0.0.0/16"), "InvalidVpc.Range");
  auto oneSevenTwo = vpcWith("172.20.0.0/16");
  EXPECT_EQ(refusal(oneSevenTwo, "172.21.0.0/16"), "");
  EXPECT_EQ(refusal(oneSevenTwo, "10.0.0.0/16"), "InvalidVpc.Range");
  auto pub = vpcWith("100.70.0.0/16");
  EXPECT_EQ(refusal(pub, "10.0.0.0/16"), "InvalidVpc.Range");
  EXPECT_EQ(refusal(pub, "100.71.0.0/16"), "");
  // Overlap with a secondary block; the count includes the primary.
  auto full = vpcWith("10.0.0.0/16", {"10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16", "10.4.0.0/16"});
  EXPECT_EQ(refusal(full, "10.2.4.0/24"), "InvalidVpc.Range");
  EXPECT_EQ(refusal(full, "10.5.0.0/16"), "CidrLimitExceeded");
  EXPECT_EQ(refusal(full, "10.5.0.0/16", 6), "");
  // A disassociated block no longer counts or overlaps.
  full.secondaryCidrs[0].state = "disassociated";
  EXPECT_EQ(refusal(full, "10.1.0.0/16"), "");
}

class VpcCidrTest : public SecurityGroupFixture {
 protected:
  VpcService vpcs() { return VpcService(*ctx_); }
  model::Vpc stored(const model::VpcId& id) {
    std::optional<model::Vpc> v;
    store_->read([&](const store::ReadView& r) { v = View(r).get<model::Vpc>(id); });
    EXPECT_TRUE(v.has_value());
    return v.value_or(model::Vpc{});
  }
  std::vector<std::string> localRoutes(const model::RouteTableId& id) {
    std::optional<model::RouteTable> rt;
    store_->read([&](const store::ReadView& r) { rt = View(r).get<model::RouteTable>(id); });
    std::vector<std::string> out;
    if (rt)
      for (const auto& r : rt->routes)
        if (r.gatewayId == "local") out.push_back(r.destinationCidrBlock);
    return out;
  }
  model::RouteTableId mainTable(const model::Vpc& vpc) {
    auto page = VpcNetworkService(*ctx_).describeRouteTables(
        as(kProvider), {{}, {{"vpc-id", {vpc.id.str()}}, {"association.main", {"true"}}}, {}});
    EXPECT_TRUE(page.ok() && page->items.size() == 1);
    return page.ok() && !page->items.empty() ? page->items[0].id : model::RouteTableId{};
  }
  Result<SubnetInfo> subnet(const model::Vpc& vpc, const std::string& cidr) {
    return SubnetService(*ctx_).createSubnet(as(kProvider), {vpc.id.str(), cidr, "", "use1-az1", {}});
  }
};

TEST_F(VpcCidrTest, AssociatedBlocksTakeSubnetsAndLocalRoutes) {
  auto vpc = makeVpc();
  auto custom = VpcNetworkService(*ctx_).createRouteTable(as(kProvider), {vpc.id.str(), "", {}});
  ASSERT_TRUE(custom.ok());
  // Before: a subnet outside the primary block is refused.
  EXPECT_EQ(subnet(vpc, "10.1.1.0/24").status().code(), "InvalidSubnet.Range");

  auto a = vpcs().associateVpcCidrBlock(as(kProvider), {vpc.id.str(), "10.1.0.0/16", false, ""});
  ASSERT_TRUE(a.ok()) << a.status().toString();
  EXPECT_EQ(a->association.state, "associating");  // the answer, as AWS's
  EXPECT_EQ(a->association.cidrBlock, "10.1.0.0/16");
  EXPECT_EQ(a->association.associationId.rfind("vpc-cidr-assoc-", 0), 0u);
  auto v = stored(vpc.id);
  ASSERT_EQ(v.secondaryCidrs.size(), 1u);
  EXPECT_EQ(v.secondaryCidrs[0].state, "associated");
  EXPECT_EQ(localRoutes(mainTable(vpc)), (std::vector<std::string>{"10.0.0.0/16", "10.1.0.0/16"}));
  EXPECT_EQ(localRoutes(custom->id), (std::vector<std::string>{"10.0.0.0/16", "10.1.0.0/16"}));
  // A route table made afterwards has both too.
  auto later = VpcNetworkService(*ctx_).createRouteTable(as(kProvider), {vpc.id.str(), "", {}});
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(localRoutes(later->id), (std::vector<std::string>{"10.0.0.0/16", "10.1.0.0/16"}));

  auto s = subnet(vpc, "10.1.1.0/24");
  ASSERT_TRUE(s.ok()) << s.status().toString();
  // DescribeVpcs filters on any block.
  auto found = vpcs().describeVpcs(as(kProvider), {{}, {{"cidr-block-association.cidr-block", {"10.1.0.0/16"}}}, {}});
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->items.size(), 1u);
  EXPECT_EQ(found->items[0].id, vpc.id);
  auto byPrimary = vpcs().describeVpcs(as(kProvider), {{}, {{"cidr", {"10.1.0.0/16"}}}, {}});
  ASSERT_TRUE(byPrimary.ok());
  EXPECT_TRUE(byPrimary->items.empty());  // cidr is the primary block only

  // A block with a subnet stays; so does the primary.
  std::string assoc = a->association.associationId;
  EXPECT_EQ(vpcs().disassociateVpcCidrBlock(as(kProvider), assoc).status().code(), "InvalidCidrBlock.InUse");
  EXPECT_EQ(vpcs().disassociateVpcCidrBlock(as(kProvider), vpc.cidrAssociationId).status().code(),
            "OperationNotPermitted");
  EXPECT_EQ(vpcs().disassociateVpcCidrBlock(as(kConsumer), assoc).status().code(),
            "InvalidVpcCidrBlockAssociationID.NotFound");
  EXPECT_EQ(stored(vpc.id).secondaryCidrs, v.secondaryCidrs);

  ASSERT_TRUE(SubnetService(*ctx_).deleteSubnet(as(kProvider), s->subnet.id.str()).ok());
  EXPECT_EQ(vpcs().disassociateVpcCidrBlock(as(kProvider, true), assoc).status().code(), "DryRunOperation");
  auto d = vpcs().disassociateVpcCidrBlock(as(kProvider), assoc);
  ASSERT_TRUE(d.ok()) << d.status().toString();
  EXPECT_EQ(d->association.state, "disassociating");
  EXPECT_EQ(localRoutes(mainTable(vpc)), (std::vector<std::string>{"10.0.0.0/16"}));
  EXPECT_EQ(localRoutes(custom->id), (std::vector<std::string>{"10.0.0.0/16"}));
  EXPECT_EQ(subnet(vpc, "10.1.1.0/24").status().code(), "InvalidSubnet.Range");
  // Described as disassociated for a while, then not at all.
  auto described = vpcs().describeVpcs(as(kProvider), {{vpc.id.str()}, {}, {}});
  ASSERT_TRUE(described.ok());
  ASSERT_EQ(described->items[0].secondaryCidrs.size(), 1u);
  EXPECT_EQ(described->items[0].secondaryCidrs[0].state, "disassociated");
  EXPECT_EQ(vpcs().disassociateVpcCidrBlock(as(kProvider), assoc).status().code(),
            "InvalidVpcCidrBlockAssociationID.NotFound");
  clock_.advance(std::chrono::minutes(61));
  described = vpcs().describeVpcs(as(kProvider), {{vpc.id.str()}, {}, {}});
  ASSERT_TRUE(described.ok());
  EXPECT_TRUE(described->items[0].secondaryCidrs.empty());
}

TEST_F(VpcCidrTest, BadRequestsChangeNothing) {
  auto vpc = makeVpc();
  auto before = stored(vpc.id);
  auto code = [&](AssociateVpcCidrInput in) { return vpcs().associateVpcCidrBlock(as(kProvider), in).status().code(); };
  EXPECT_EQ(code({vpc.id.str(), "", false, ""}), "MissingParameter");
  EXPECT_EQ(code({"", "10.1.0.0/16", false, ""}), "MissingParameter");
  EXPECT_EQ(code({vpc.id.str(), "10.1.0.0/16", true, ""}), "UnsupportedOperation");
  EXPECT_EQ(code({vpc.id.str(), "bogus", false, ""}), "InvalidParameterValue");
  EXPECT_EQ(code({vpc.id.str(), "172.16.0.0/16", false, ""}), "InvalidVpc.Range");
  EXPECT_EQ(code({"vpc-0123456789abcdef0", "10.1.0.0/16", false, ""}), "InvalidVpcID.NotFound");
  EXPECT_EQ(vpcs().associateVpcCidrBlock(as(kConsumer), {vpc.id.str(), "10.1.0.0/16", false, ""}).status().code(),
            "InvalidVpcID.NotFound");
  EXPECT_EQ(vpcs().associateVpcCidrBlock(as(kProvider, true), {vpc.id.str(), "10.1.0.0/16", false, ""}).status().code(),
            "DryRunOperation");
  EXPECT_EQ(vpcs().disassociateVpcCidrBlock(as(kProvider), "bogus").status().code(),
            "InvalidVpcCidrBlockAssociationId.Malformed");
  EXPECT_EQ(stored(vpc.id).secondaryCidrs, before.secondaryCidrs);
  EXPECT_EQ(localRoutes(mainTable(vpc)), (std::vector<std::string>{"10.0.0.0/16"}));
  // The limit is the configured one.
  {
    auto next = *ctx_->settings();
    next.limits.cidrBlocksPerVpc = 2;
    ctx_->replaceSettings(next);
  }
  EXPECT_TRUE(code({vpc.id.str(), "10.1.0.0/16", false, ""}).empty());
  EXPECT_EQ(code({vpc.id.str(), "10.2.0.0/16", false, ""}), "CidrLimitExceeded");
}

TEST_F(VpcCidrTest, NetworkAddressUsageMetricsAttribute) {
  auto vpc = makeVpc();
  auto get = [&] {
    auto a = vpcs().describeVpcAttribute(as(kProvider), vpc.id.str(), "enableNetworkAddressUsageMetrics");
    EXPECT_TRUE(a.ok());
    return a.ok() && a->value;
  };
  EXPECT_FALSE(get());
  ASSERT_TRUE(vpcs().modifyVpcAttribute(as(kProvider), vpc.id.str(), std::nullopt, std::nullopt, true).ok());
  EXPECT_TRUE(get());
  EXPECT_EQ(vpcs().modifyVpcAttribute(as(kProvider), vpc.id.str(), true, std::nullopt, false).code(),
            "InvalidParameterCombination");
  EXPECT_TRUE(get());
  ASSERT_TRUE(vpcs().modifyVpcAttribute(as(kProvider), vpc.id.str(), std::nullopt, std::nullopt, false).ok());
  EXPECT_FALSE(get());
}

TEST_F(VpcCidrTest, DeleteVpcWaitsForAnInstanceUntilItIsTerminated) {
  auto vpc = makeVpc();
  model::Instance i;
  i.id = model::InstanceId("i-0123456789abcdef0");
  i.ownerId = kProvider;
  i.vpcId = vpc.id;
  i.state = "shutting-down";
  put(i);
  EXPECT_EQ(vpcs().deleteVpc(as(kProvider), vpc.id.str()).code(), "DependencyViolation");
  i.state = "terminated";
  put(i);
  // A secondary block does not hold the VPC back (AWS disassociates it with the VPC).
  ASSERT_TRUE(vpcs().associateVpcCidrBlock(as(kProvider), {vpc.id.str(), "10.1.0.0/16", false, ""}).ok());
  EXPECT_TRUE(vpcs().deleteVpc(as(kProvider), vpc.id.str()).ok());
}

}  // namespace
}  // namespace lp::control::testing
