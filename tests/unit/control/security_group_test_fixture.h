// The control-plane fixture with VPC and security group helpers, for the
// security group, endpoint and subnet tests.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "control/security_group_service.h"
#include "control/vpc_service.h"
#include "control_test_fixture.h"

namespace lp::control::testing {

class SecurityGroupFixture : public ControlFixture {
 protected:
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
};

}  // namespace lp::control::testing
