// A control plane over a real SQLite store in a temporary directory, with a
// manual clock and seeded randomness, for the security group tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "common/random.h"
#include "common/time.h"
#include "control/context.h"
#include "control/security_group_service.h"
#include "control/typed_store.h"
#include "control/vpc_service.h"

namespace lp::control::testing {

inline constexpr char kProvider[] = "111111111111";
inline constexpr char kConsumer[] = "222222222222";

class SecurityGroupFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lp-sgtest-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = store::openSqliteStore(dir_);
    ASSERT_TRUE(s.ok()) << s.status().toString();
    store_ = std::move(*s);
    region_.zoneIds = {"use1-az1", "use1-az2"};
    region_.accounts = {{kProvider, "provider", "AKP", "sp"}, {kConsumer, "consumer", "AKC", "sc"}};
    ctx_ = std::make_unique<ControlContext>(ControlContext{*store_, clock_, random_, region_, Limits{}});
  }
  void TearDown() override {
    ctx_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  CallContext as(const std::string& account, bool dryRun = false) { return CallContext{account, "req", dryRun}; }

  model::Vpc makeVpc(const std::string& account = kProvider, const std::string& cidr = "10.0.0.0/16") {
    auto v = VpcService(*ctx_).createVpc(as(account), {cidr, "", {}});
    EXPECT_TRUE(v.ok()) << v.status().toString();
    return *v;
  }
  model::SecurityGroup makeGroup(const model::Vpc& vpc, const std::string& name,
                                 const std::string& account = kProvider) {
    auto g = svc().createSecurityGroup(as(account), {name, name + " group", vpc.id.str(), {}});
    EXPECT_TRUE(g.ok()) << g.status().toString();
    return *g;
  }
  model::SecurityGroup group(const model::SecurityGroupId& id) {
    std::optional<model::SecurityGroup> g;
    store_->read([&](const store::ReadView& r) { g = View(r).get<model::SecurityGroup>(id); });
    EXPECT_TRUE(g.has_value());
    return g.value_or(model::SecurityGroup{});
  }
  bool exists(const model::SecurityGroupId& id) {
    bool found = false;
    store_->read([&](const store::ReadView& r) { found = View(r).get<model::SecurityGroup>(id).has_value(); });
    return found;
  }
  template <typename R>
  void put(const R& r) {
    ASSERT_TRUE(store_
                    ->update([&](store::WriteTxn& w) {
                      Txn(w).put(r);
                      return Status::Ok();
                    })
                    .ok());
  }
  SecurityGroupService svc() { return SecurityGroupService(*ctx_); }

  static IpPermissionSpec tcp(int from, int to, std::vector<std::string> cidrs) {
    IpPermissionSpec p;
    p.ipProtocol = "tcp";
    p.fromPort = from;
    p.toPort = to;
    for (auto& c : cidrs) p.ipRanges.push_back({c, ""});
    return p;
  }
  static RuleChangeInput change(const model::SecurityGroup& g, std::vector<IpPermissionSpec> perms,
                                bool egress = false) {
    RuleChangeInput in;
    in.group.groupId = g.id.str();
    in.egress = egress;
    in.permissions = std::move(perms);
    return in;
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  ManualClock clock_{WallTime(std::chrono::seconds(1'790'000'000))};
  SeededRandom random_{42};
  model::RegionConfig region_;
  std::unique_ptr<ControlContext> ctx_;
};

}  // namespace lp::control::testing
