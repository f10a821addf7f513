// Subnets, network interfaces and tags over a real SQLite store, with a manual
// clock and seeded randomness.
#include <gtest/gtest.h>

#include "control/network_interface_service.h"
#include "control/subnet_service.h"
#include "control/tag_service.h"
#include "security_group_test_fixture.h"

namespace lp::control::testing {
namespace {

class NetFixture : public SecurityGroupFixture {
 protected:
  SubnetInfo subnet(const model::Vpc& vpc, const std::string& cidr, const std::string& account = kProvider,
                    const std::string& zoneId = "") {
    auto s = SubnetService(*ctx_).createSubnet(as(account), {vpc.id.str(), cidr, "", zoneId, {}});
    EXPECT_TRUE(s.ok()) << s.status().toString();
    return s.ok() ? *s : SubnetInfo{};
  }
  Result<NetworkInterfaceInfo> eni(const SubnetInfo& s, CreateNetworkInterfaceInput in = {},
                                   const std::string& account = kProvider) {
    in.subnetId = s.subnet.id.str();
    return NetworkInterfaceService(*ctx_).createNetworkInterface(as(account), in);
  }
};

TEST_F(NetFixture, SubnetCidrRules) {
  auto vpc = makeVpc();
  SubnetService svc(*ctx_);
  auto s = subnet(vpc, "10.0.0.0/24");
  EXPECT_EQ(s.availableIps, 251u);
  auto code = [&](const std::string& cidr) {
    return svc.createSubnet(as(kProvider), {vpc.id.str(), cidr, "", "", {}}).status().code();
  };
  EXPECT_EQ(code("10.1.0.0/24"), err::kSubnetRange);
  EXPECT_EQ(code("10.0.0.0/29"), err::kSubnetRange);
  EXPECT_EQ(code("10.0.0.64/26"), err::kSubnetConflict);
  EXPECT_EQ(code("10.0.0.1/24"), err::kInvalidParameterValue);
  EXPECT_EQ(svc.createSubnet(as(kConsumer), {vpc.id.str(), "10.0.1.0/24", "", "", {}}).status().code(),
            err::kVpcNotFound);
  EXPECT_EQ(svc.createSubnet(as(kProvider, true), {vpc.id.str(), "10.0.1.0/24", "", "", {}}).status().code(),
            err::kDryRunOperation);
  auto all = svc.describeSubnets(as(kProvider), {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items.size(), 1u);
}

TEST_F(NetFixture, ZoneNamesArePerAccount) {
  auto pv = makeVpc(kProvider);
  auto cv = makeVpc(kConsumer);
  auto ps = subnet(pv, "10.0.0.0/24", kProvider, "use1-az1");
  auto cs = subnet(cv, "10.0.0.0/24", kConsumer, "use1-az1");
  EXPECT_EQ(ps.zoneName, region_.zoneName(kProvider, "use1-az1"));
  EXPECT_EQ(cs.zoneName, region_.zoneName(kConsumer, "use1-az1"));
  // Creating by the caller's name lands in the zone that name means to the caller.
  auto byName = SubnetService(*ctx_).createSubnet(
      as(kConsumer), {cv.id.str(), "10.0.1.0/24", region_.zoneName(kConsumer, "use1-az2"), "", {}});
  ASSERT_TRUE(byName.ok());
  EXPECT_EQ(byName->subnet.zoneId, "use1-az2");
  auto zones = SubnetService(*ctx_).describeAvailabilityZones(as(kConsumer), {});
  ASSERT_TRUE(zones.ok());
  ASSERT_EQ(zones->size(), 2u);
  EXPECT_EQ(SubnetService(*ctx_)
                .describeAvailabilityZones(as(kConsumer), {{"us-east-1z"}, {}, {}})
                .status()
                .code(),
            err::kInvalidParameterValue);
}

TEST_F(NetFixture, InterfacesAllocateAddressesAndBlockSubnetDeletion) {
  auto vpc = makeVpc();
  auto s = subnet(vpc, "10.0.0.0/28");
  auto a = eni(s);
  ASSERT_TRUE(a.ok()) << a.status().toString();
  EXPECT_EQ(a->eni.privateIp, "10.0.0.4");
  EXPECT_EQ(a->eni.status, "available");
  ASSERT_EQ(a->groups.size(), 1u);
  EXPECT_EQ(a->groups[0].first, vpc.defaultSecurityGroupId.str());
  EXPECT_EQ(a->groups[0].second, "default");
  auto after = SubnetService(*ctx_).describeSubnets(as(kProvider), {});
  EXPECT_EQ(after->items[0].availableIps, 10u);
  EXPECT_EQ(SubnetService(*ctx_).deleteSubnet(as(kProvider), s.subnet.id.str()).code(), err::kDependencyViolation);
  EXPECT_TRUE(NetworkInterfaceService(*ctx_).deleteNetworkInterface(as(kProvider), a->eni.id.str()).ok());
  EXPECT_TRUE(SubnetService(*ctx_).deleteSubnet(as(kProvider), s.subnet.id.str()).ok());
}

TEST_F(NetFixture, ClientTokenAndRequesterManaged) {
  auto vpc = makeVpc();
  auto s = subnet(vpc, "10.0.0.0/24");
  CreateNetworkInterfaceInput in;
  in.clientToken = "t1";
  in.description = "d";
  auto a = eni(s, in);
  auto b = eni(s, in);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->eni.id, b->eni.id);
  in.description = "other";
  EXPECT_EQ(eni(s, in).status().code(), err::kIdempotentParameterMismatch);

  // An endpoint's interface cannot be deleted by its owner.
  model::NetworkInterface managed = a->eni;
  managed.id = model::NetworkInterfaceId::generate(random_);
  managed.requesterManaged = true;
  managed.interfaceType = "vpc_endpoint";
  managed.privateIp = "10.0.0.99";
  ASSERT_TRUE(store_->update([&](store::WriteTxn& w) {
    Txn(w).put(managed);
    return Status::Ok();
  }).ok());
  auto st = NetworkInterfaceService(*ctx_).deleteNetworkInterface(as(kProvider), managed.id.str());
  EXPECT_EQ(st.code(), err::kOperationNotPermitted);
  EXPECT_NE(st.message().find("vpc_endpoint"), std::string::npos);
}

TEST_F(NetFixture, TagsAreAllOrNothing) {
  auto vpc = makeVpc();
  auto s = subnet(vpc, "10.0.0.0/24");
  TagService tags(*ctx_);
  EXPECT_EQ(tags.createTags(as(kProvider), {vpc.id.str(), "subnet-0123456789abcdef0"}, {{"a", "1"}}).code(),
            err::kSubnetNotFound);
  EXPECT_EQ(tags.createTags(as(kProvider), {"bogus-1234"}, {{"a", "1"}}).code(), err::kInvalidId);
  EXPECT_EQ(tags.createTags(as(kConsumer), {vpc.id.str()}, {{"a", "1"}}).code(), err::kVpcNotFound);
  auto none = tags.describeTags(as(kProvider), {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->items.empty());

  ASSERT_TRUE(tags.createTags(as(kProvider), {vpc.id.str(), s.subnet.id.str()}, {{"a", "1"}, {"b", ""}}).ok());
  auto all = tags.describeTags(as(kProvider), {});
  ASSERT_EQ(all->items.size(), 4u);
  ASSERT_TRUE(tags.deleteTags(as(kProvider), {vpc.id.str()}, {{"a", std::string("2")}, {"b", std::string("")}}).ok());
  auto left = tags.describeTags(as(kProvider), {{{"resource-id", {vpc.id.str()}}}, {}});
  ASSERT_EQ(left->items.size(), 1u);
  EXPECT_EQ(left->items[0].key, "a");
  EXPECT_EQ(left->items[0].resourceType, "vpc");
  ASSERT_TRUE(tags.deleteTags(as(kProvider), {s.subnet.id.str()}, {}).ok());
  EXPECT_EQ(tags.describeTags(as(kProvider), {})->items.size(), 1u);
}

}  // namespace
}  // namespace lp::control::testing
