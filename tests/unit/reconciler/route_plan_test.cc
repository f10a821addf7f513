// Route tables as planned policy routing, without root: which subnets get a rule to
// which table, what the table holds, and where a packet to an address would go by
// longest prefix (the kernel's choice within one table), so the local route wins
// where AWS's does. The kernel's side is in tests/unit/net and tests/integration.
#include "reconciler/route_plan.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "model/cidr.h"
#include "model/instance.h"
#include "reconciler/desired_state.h"
#include "reconciler/host_plan.h"

namespace lp::reconciler {
namespace {

using nlohmann::json;

class RoutePlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    put(model::Vpc::kKind, "vpc-1", {{"id", "vpc-1"}, {"cidrBlock", "10.1.0.0/16"}});
    subnet("subnet-a", "10.1.1.0/24");
    subnet("subnet-b", "10.1.2.0/24");
    subnet("subnet-c", "10.1.3.0/24");  // no workloads: no bridge
    workload("eni-router", "subnet-a", "10.1.1.10", /*sourceDestCheck=*/false);
    workload("eni-client", "subnet-b", "10.1.2.10", true);
    workload("eni-other", "subnet-a", "10.1.1.20", true);
    table("rtb-main", {}, /*main=*/true, {});
  }

  DirtyKeys put(std::string_view kind, const std::string& id, const json& body) {
    store::Object o;
    o.kind = std::string(kind);
    o.id = id;
    o.body = body.dump();
    o.revision = ++revision_;
    return s_.apply(kind, id, o);
  }
  void subnet(const std::string& id, const std::string& cidr) {
    put(model::Subnet::kKind, id, {{"id", id}, {"vpcId", "vpc-1"}, {"cidrBlock", cidr}});
  }
  DirtyKeys workload(const std::string& id, const std::string& subnetId, const std::string& ip, bool check,
                     const std::string& managedBy = "") {
    return put(model::NetworkInterface::kKind, id,
               {{"id", id},
                {"vpcId", "vpc-1"},
                {"subnetId", subnetId},
                {"privateIp", ip},
                {"sourceDestCheck", check},
                {"managedBy", managedBy}});
  }
  static json route(const std::string& dst, const std::string& eni, const std::string& instance = "") {
    return {{"destinationCidrBlock", dst},
            {"gatewayId", ""},
            {"origin", "CreateRoute"},
            {"networkInterfaceId", eni},
            {"instanceId", instance}};
  }
  DirtyKeys table(const std::string& id, std::vector<std::string> subnets, bool main, std::vector<json> routes) {
    json r = json::array({{{"destinationCidrBlock", "10.1.0.0/16"}, {"gatewayId", "local"}}});
    for (auto& x : routes) r.push_back(x);
    json assoc = json::array();
    if (main) assoc.push_back({{"id", "rtbassoc-m" + id}, {"main", true}});
    for (const auto& sid : subnets) assoc.push_back({{"id", "rtbassoc-" + sid}, {"subnetId", sid}});
    return put(model::RouteTable::kKind, id, {{"id", id}, {"vpcId", "vpc-1"}, {"routes", r}, {"associations", assoc}});
  }

  VpcPlan plan() {
    auto p = planVpc(s_, "vpc-1");
    EXPECT_TRUE(p);
    return p ? *p : VpcPlan{};
  }
  static const WorkloadPlan& workloadOf(const VpcPlan& p, const std::string& id) {
    for (const auto& w : p.workloads) {
      if (w.interfaceId == id) return w;
    }
    static const WorkloadPlan kNone;
    return kNone;
  }
  // The route the kernel picks for an address within one table: longest prefix.
  static std::optional<net::RouteInfo> lookup(const RouteTablePlan& t, const std::string& ip) {
    auto a = model::Ipv4::parse(ip);
    std::optional<net::RouteInfo> best;
    int bestLen = -1;
    for (const auto& r : t.routes) {
      auto c = model::Cidr::parse(r.dst);
      if (c && a && c->contains(*a) && c->prefix > bestLen) {
        best = r;
        bestLen = c->prefix;
      }
    }
    return best;
  }

  DesiredState s_;
  uint64_t revision_ = 0;
  const std::string brA_ = bridgeName("subnet-a");
  const std::string brB_ = bridgeName("subnet-b");
};

TEST_F(RoutePlanTest, OnlyTheMainTableAndNoRoutesOfItsOwnInstallsNothing) {
  auto p = plan();
  EXPECT_TRUE(p.routing.rules.empty());
  EXPECT_TRUE(p.routing.tables.empty());
  for (const auto& w : p.workloads) EXPECT_FALSE(w.forwarding) << w.interfaceId;
}

TEST_F(RoutePlanTest, ASubnetsTableRoutesItsWorkloadsToTheTargetAndLocalStillWins) {
  table("rtb-b", {"subnet-b"}, false,
        {route("10.99.0.0/24", "eni-router"), route("0.0.0.0/0", "eni-router"), route("10.0.0.0/8", "eni-router")});
  auto p = plan();
  ASSERT_EQ(p.routing.tables.size(), 1u);
  const auto& t = p.routing.tables[0];
  EXPECT_EQ(t.routeTableId, "rtb-b");
  EXPECT_EQ(t.table, tableNumber("rtb-b"));
  // Subnet B's workloads use it; subnet A (main table, local route only) keeps the namespace's main table.
  EXPECT_EQ(p.routing.rules, (std::vector<net::RuleInfo>{{kRoutePref, brB_, t.table}}));
  EXPECT_EQ(t.routes, (std::vector<net::RouteInfo>{
                          {t.table, "0.0.0.0/0", "10.1.1.10", brA_, false},
                          {t.table, "10.0.0.0/8", "10.1.1.10", brA_, false},
                          {t.table, "10.1.0.0/16", "", "", true},
                          {t.table, "10.1.1.0/24", "", brA_, false},
                          {t.table, "10.1.2.0/24", "", brB_, false},
                          {t.table, "10.99.0.0/24", "10.1.1.10", brA_, false},
                      }));
  // Where packets go: the VPC's own addresses stay local (a subnet on its bridge,
  // nothing elsewhere in the VPC's block), everything else follows the routes.
  EXPECT_EQ(lookup(t, "10.1.1.20")->device, brA_);
  EXPECT_EQ(lookup(t, "10.1.1.20")->via, "");
  EXPECT_EQ(lookup(t, "10.1.2.10")->device, brB_);
  EXPECT_TRUE(lookup(t, "10.1.3.7")->blackhole);  // a subnet without workloads: nothing answers
  EXPECT_TRUE(lookup(t, "10.1.200.1")->blackhole);
  EXPECT_EQ(lookup(t, "10.99.0.5")->via, "10.1.1.10");
  EXPECT_EQ(lookup(t, "10.2.0.1")->dst, "10.0.0.0/8");
  EXPECT_EQ(lookup(t, "192.0.2.1")->dst, "0.0.0.0/0");
  // The router forwards (its check is off); nobody else does.
  EXPECT_EQ(p.routing.targets, std::set<std::string>{"eni-router"});
  EXPECT_TRUE(workloadOf(p, "eni-router").forwarding);
  EXPECT_FALSE(workloadOf(p, "eni-client").forwarding);
  EXPECT_FALSE(workloadOf(p, "eni-other").forwarding);
}

// AWS's "more specific" routing: a route to a subnet's exact CIDR sends that
// subnet's traffic through a middlebox instead of the local route.
TEST_F(RoutePlanTest, ARouteToASubnetsCidrReplacesItsLocalRoute) {
  table("rtb-b", {"subnet-b"}, false, {route("10.1.1.0/24", "eni-router")});
  auto p = plan();
  ASSERT_EQ(p.routing.tables.size(), 1u);
  const auto& t = p.routing.tables[0];
  EXPECT_EQ(lookup(t, "10.1.1.20")->via, "10.1.1.10");
  EXPECT_EQ(lookup(t, "10.1.2.10")->device, brB_);
}

TEST_F(RoutePlanTest, TheMainTablesRoutesApplyToSubnetsWithoutAnAssociationOnly) {
  table("rtb-main", {}, true, {route("10.99.0.0/24", "eni-router")});
  table("rtb-a", {"subnet-a"}, false, {});  // explicit, local only: the namespace's main table
  auto p = plan();
  ASSERT_EQ(p.routing.tables.size(), 1u);
  EXPECT_EQ(p.routing.tables[0].routeTableId, "rtb-main");
  EXPECT_EQ(p.routing.rules, (std::vector<net::RuleInfo>{{kRoutePref, brB_, tableNumber("rtb-main")}}));
  // Subnet A gets the main table's routes once its own association goes.
  table("rtb-a", {}, false, {});
  p = plan();
  EXPECT_EQ(p.routing.rules.size(), 2u);
}

TEST_F(RoutePlanTest, AnAssociatedSubnetWithoutWorkloadsNeedsNoRuleNorTable) {
  table("rtb-c", {"subnet-c"}, false, {route("10.99.0.0/24", "eni-router")});
  auto p = plan();
  EXPECT_TRUE(p.routing.rules.empty());
  EXPECT_TRUE(p.routing.tables.empty());
  EXPECT_FALSE(workloadOf(p, "eni-router").forwarding);
}

// State blackhole (the interface deleted, the instance stopped or terminated) is a
// blackhole route: AWS drops what matches it, and does not fall back to a shorter one.
TEST_F(RoutePlanTest, ABlackholeRouteDropsAndItsTargetStopsForwarding) {
  put(model::Instance::kKind, "i-router",
      {{"id", "i-router"}, {"vpcId", "vpc-1"}, {"networkInterfaceId", "eni-router"}, {"state", "running"}});
  workload("eni-router", "subnet-a", "10.1.1.10", false, "i-router");
  table("rtb-b", {"subnet-b"}, false, {route("10.99.0.0/24", "eni-router", "i-router")});
  auto t = plan().routing.tables.at(0);
  EXPECT_EQ(lookup(t, "10.99.0.5")->via, "10.1.1.10");

  // The instance stops: its VPC is planned again, and the route is a blackhole.
  auto d = put(model::Instance::kKind, "i-router",
               {{"id", "i-router"}, {"vpcId", "vpc-1"}, {"networkInterfaceId", "eni-router"}, {"state", "stopped"}});
  EXPECT_EQ(d.vpcs, std::set<std::string>{"vpc-1"});
  auto p = plan();
  t = p.routing.tables.at(0);
  EXPECT_TRUE(lookup(t, "10.99.0.5")->blackhole);
  EXPECT_TRUE(p.routing.targets.empty());
  EXPECT_FALSE(workloadOf(p, "eni-router").forwarding);

  // An instance no route names changes nothing on the host.
  d = put(model::Instance::kKind, "i-lone", {{"id", "i-lone"}, {"vpcId", "vpc-1"}, {"state", "stopped"}});
  EXPECT_TRUE(d.vpcs.empty());

  // The interface deleted: still a blackhole (the route stays, as on AWS).
  put(model::Instance::kKind, "i-router",
      {{"id", "i-router"}, {"vpcId", "vpc-1"}, {"networkInterfaceId", "eni-router"}, {"state", "running"}});
  s_.apply(model::NetworkInterface::kKind, "eni-router", std::nullopt);
  EXPECT_TRUE(lookup(plan().routing.tables.at(0), "10.99.0.5")->blackhole);
}

// SourceDestCheck on (the default): the route is installed (AWS shows it active) but
// the target does not forward, and the VPC drops what is routed to it but not
// addressed to it; off, its port may send from any address.
TEST_F(RoutePlanTest, TheSourceDestinationCheckDecidesForwardingAndTheFilter) {
  table("rtb-b", {"subnet-b"}, false, {route("10.99.0.0/24", "eni-other")});
  auto p = plan();
  EXPECT_EQ(p.routing.targets, std::set<std::string>{"eni-other"});
  EXPECT_FALSE(workloadOf(p, "eni-other").forwarding);
  std::string nft = p.nftRuleset;
  json b = json::parse(nft);
  int nexthopDrops = 0, nexthopJumps = 0, portSaddrRules = 0;
  for (const auto& c : b["nftables"]) {
    if (!c.contains("add") || !c["add"].contains("rule")) continue;
    const auto& r = c["add"]["rule"];
    std::string e = r["expr"].dump();
    if (r["chain"] == "postrouting" && e.find("nexthop") != std::string::npos) {
      if (e.find("\"drop\"") != std::string::npos && e.find("10.1.1.20") != std::string::npos) ++nexthopDrops;
      if (e.find("in-eni-other") != std::string::npos) ++nexthopJumps;
      EXPECT_EQ(e.find("10.1.1.10"), std::string::npos) << "not a target: " << e;
    }
    if (r["family"] == "bridge" && e.find("saddr") != std::string::npos && e.find("arp") == std::string::npos) {
      ++portSaddrRules;
    }
  }
  EXPECT_EQ(nexthopDrops, 1);
  EXPECT_EQ(nexthopJumps, 1);
  EXPECT_EQ(portSaddrRules, 2);  // eni-client and eni-other; eni-router (check off) may send from any

  // The check turned off on the target: it forwards, and nothing drops at the next hop.
  auto d = workload("eni-other", "subnet-a", "10.1.1.20", false);
  EXPECT_EQ(d.vpcs, std::set<std::string>{"vpc-1"});
  p = plan();
  EXPECT_TRUE(workloadOf(p, "eni-other").forwarding);
  b = json::parse(p.nftRuleset);
  for (const auto& c : b["nftables"]) {
    if (!c.contains("add") || !c["add"].contains("rule")) continue;
    const auto& r = c["add"]["rule"];
    std::string e = r["expr"].dump();
    if (r["chain"] == "postrouting" && e.find("nexthop") != std::string::npos) {
      EXPECT_EQ(e.find("\"drop\""), std::string::npos) << e;
    }
  }
}

TEST(RouteTableNumber, StableInItsRangeAndDistinctWithinAVpc) {
  EXPECT_EQ(tableNumber("rtb-0123456789abcdef0"), tableNumber("rtb-0123456789abcdef0"));
  // Two ids that hash alike still get two tables in one VPC.
  std::map<uint32_t, std::string> seen;
  std::string a, b;
  for (int i = 0; a.empty(); ++i) {
    std::string id = "rtb-" + std::to_string(i);
    uint32_t n = tableNumber(id);
    ASSERT_GE(n, kRouteTableBase);
    ASSERT_LT(n - kRouteTableBase, kRouteTableSpan);
    ASSERT_NE(n, 0x4c50u);
    if (auto it = seen.find(n); it != seen.end()) {
      a = it->second;
      b = id;
    }
    seen[n] = id;
  }
  DesiredState s;
  uint64_t rev = 0;
  auto put = [&](std::string_view kind, const std::string& id, const json& body) {
    (void)s.apply(kind, id, store::Object{std::string(kind), id, body.dump(), ++rev});
  };
  put(model::Vpc::kKind, "vpc-1", {{"id", "vpc-1"}, {"cidrBlock", "10.1.0.0/16"}});
  for (auto [sid, cidr] : {std::pair{"subnet-a", "10.1.1.0/24"}, {"subnet-b", "10.1.2.0/24"}}) {
    put(model::Subnet::kKind, sid, {{"id", sid}, {"vpcId", "vpc-1"}, {"cidrBlock", cidr}});
  }
  put(model::NetworkInterface::kKind, "eni-a",
      {{"id", "eni-a"}, {"vpcId", "vpc-1"}, {"subnetId", "subnet-a"}, {"privateIp", "10.1.1.10"}});
  put(model::NetworkInterface::kKind, "eni-b",
      {{"id", "eni-b"}, {"vpcId", "vpc-1"}, {"subnetId", "subnet-b"}, {"privateIp", "10.1.2.10"}});
  for (auto [id, sid] : {std::pair{a, "subnet-a"}, {b, "subnet-b"}}) {
    put(model::RouteTable::kKind, id,
        {{"id", id},
         {"vpcId", "vpc-1"},
         {"routes", {{{"destinationCidrBlock", "10.99.0.0/24"}, {"gatewayId", ""}, {"networkInterfaceId", "eni-a"}}}},
         {"associations", {{{"id", "rtbassoc-" + id}, {"subnetId", sid}}}}});
  }
  auto p = planVpc(s, "vpc-1");
  ASSERT_TRUE(p);
  ASSERT_EQ(p->routing.tables.size(), 2u);
  EXPECT_NE(p->routing.tables[0].table, p->routing.tables[1].table);
  EXPECT_EQ(p->routing.rules.size(), 2u);
  // The same store, planned again (a restart): the same numbers.
  EXPECT_EQ(planVpc(s, "vpc-1")->routing, p->routing);
}

}  // namespace
}  // namespace lp::reconciler
