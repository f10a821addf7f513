// The security group indexes: name checks and the per-VPC quota hold for groups
// written before the indexes existed (rebuilt at start), and follow deletes.
#include "control/security_group_index.h"

#include <gtest/gtest.h>

#include "security_group_test_fixture.h"

namespace lp::control::testing {
namespace {

class SecurityGroupIndexTest : public SecurityGroupFixture {};

TEST_F(SecurityGroupIndexTest, GroupsFromBeforeTheIndexAreFoundAfterARebuild) {
  auto vpc = makeVpc();
  // A group as an older daemon stored it: no index rows.
  model::SecurityGroup old;
  old.id = model::SecurityGroupId::generate(random_);
  old.ownerId = kProvider;
  old.vpcId = vpc.id;
  old.name = "Web";
  old.description = "web";
  put(old);
  ASSERT_TRUE(svc().createSecurityGroup(as(kProvider), {"web", "again", vpc.id.str(), {}}).ok())
      << "without a rebuild the old group is invisible to the name check";
  ASSERT_TRUE(svc().deleteSecurityGroup(as(kProvider), {"", "web"}).ok());

  ASSERT_TRUE(rebuildSecurityGroupNameIndex(*ctx_).ok());
  auto dup = svc().createSecurityGroup(as(kProvider), {"WEB", "again", vpc.id.str(), {}});
  EXPECT_EQ(dup.status().code(), err::kGroupDuplicate);
  std::optional<int> n;
  store_->read([&](const store::ReadView& r) { n = countSecurityGroups(View(r), vpc.id); });
  EXPECT_EQ(n, 2);  // the default group and the old one

  // A rebuild of a store in order writes nothing.
  uint64_t rev = store_->revision();
  ASSERT_TRUE(rebuildSecurityGroupNameIndex(*ctx_).ok());
  EXPECT_EQ(store_->revision(), rev);
}

TEST_F(SecurityGroupIndexTest, QuotaCountsOnlyTheVpcAndFollowsDeletes) {
  setLimit(&Limits::securityGroupsPerVpc, 3);  // the default group and two more
  auto a = makeVpc(kProvider, "10.0.0.0/16");
  auto b = makeVpc(kProvider, "10.1.0.0/16");
  for (auto name : {"one", "two"})
    ASSERT_TRUE(svc().createSecurityGroup(as(kProvider), {name, "x", a.id.str(), {}}).ok());
  auto over = svc().createSecurityGroup(as(kProvider), {"three", "x", a.id.str(), {}});
  EXPECT_EQ(over.status().code(), err::kSecurityGroupLimitExceeded);
  EXPECT_TRUE(svc().createSecurityGroup(as(kProvider), {"three", "x", b.id.str(), {}}).ok());
  ASSERT_TRUE(svc().deleteSecurityGroup(as(kProvider), {"", "one"}).ok());
  EXPECT_TRUE(svc().createSecurityGroup(as(kProvider), {"three", "x", a.id.str(), {}}).ok());
}

}  // namespace
}  // namespace lp::control::testing
