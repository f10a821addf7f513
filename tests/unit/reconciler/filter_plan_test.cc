// The VPC filter ruleset as planned, without root: which chains a packet meets in
// which order (resolver exemption, then stateless ACLs, then conntrack, then the
// groups), ACL entries in rule-number order with their verdicts, and who is
// guarded where. The kernel's side is in tests/unit/net and tests/integration.
#include "reconciler/filter_plan.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "reconciler/desired_state.h"
#include "reconciler/host_plan.h"

namespace lp::reconciler {
namespace {

using nlohmann::json;

model::NetworkAcl acl(const std::string& id, std::vector<model::NetworkAclEntry> entries) {
  model::NetworkAcl a;
  a.id = model::NetworkAclId(id);
  a.vpcId = model::VpcId("vpc-1");
  a.entries = std::move(entries);
  return a;
}

model::NetworkAclEntry entry(int rule, bool egress, const char* proto, const char* action, const char* cidr,
                             int from = -1, int to = -1, int icmpType = -2, int icmpCode = -2) {
  model::NetworkAclEntry e;
  e.ruleNumber = rule;
  e.egress = egress;
  e.protocol = proto;
  e.ruleAction = action;
  e.cidrBlock = cidr;
  e.fromPort = from;
  e.toPort = to;
  e.icmpType = icmpType;
  e.icmpCode = icmpCode;
  return e;
}

model::InterfaceRules iface(const std::string& id, const std::string& ip, std::vector<model::EffectiveRule> in,
                            std::vector<model::EffectiveRule> out) {
  model::InterfaceRules r;
  r.interfaceId = model::NetworkInterfaceId(id);
  r.privateIp = ip;
  r.ingress = std::move(in);
  r.egress = std::move(out);
  return r;
}

model::EffectiveRule tcp(int from, int to, std::vector<std::string> peers) {
  model::EffectiveRule r;
  r.protocol = "tcp";
  r.fromPort = from;
  r.toPort = to;
  r.peers = std::move(peers);
  return r;
}

// The rules of one chain, in order, as their expression arrays.
std::vector<json> rules(const json& batch, const std::string& family, const std::string& chain) {
  std::vector<json> out;
  for (const auto& c : batch["nftables"]) {
    if (!c.contains("add") || !c["add"].contains("rule")) continue;
    const auto& r = c["add"]["rule"];
    if (r["family"] == family && r["chain"] == chain) out.push_back(r["expr"]);
  }
  return out;
}

const json* baseChain(const json& batch, const std::string& family, const std::string& name) {
  for (const auto& c : batch["nftables"]) {
    if (c.contains("add") && c["add"].contains("chain") && c["add"]["chain"]["family"] == family &&
        c["add"]["chain"]["name"] == name && c["add"]["chain"].contains("hook")) {
      return &c["add"]["chain"];
    }
  }
  return nullptr;
}

std::string verdictOf(const json& expr) {
  const json& last = expr.back();
  for (const char* v : {"accept", "drop", "return", "jump", "vmap"}) {
    if (last.contains(v)) return v == std::string("jump") ? "jump " + last["jump"]["target"].get<std::string>() : v;
  }
  return "";
}

FilterInputs twoSubnets() {
  FilterInputs in;
  in.resolver = "10.1.0.2";
  in.subnets = {SubnetFilter{"subnet-a", "10.1.1.0/24", "acl-a"},
                SubnetFilter{"subnet-b", "10.1.2.0/24", "acl-default"}};
  in.acls["acl-default"] = acl("acl-default", model::initialAclEntries(true));
  in.acls["acl-a"] = acl("acl-a", {
                                      entry(32767, false, "-1", "deny", "0.0.0.0/0"),
                                      entry(200, false, "6", "allow", "10.1.2.0/24", 22, 22),
                                      entry(100, false, "6", "deny", "10.1.2.11/32", 22, 22),
                                      entry(300, false, "1", "allow", "0.0.0.0/0", -1, -1, 8, -1),
                                      entry(100, true, "6", "allow", "0.0.0.0/0", 1024, 65535),
                                      entry(32767, true, "-1", "deny", "0.0.0.0/0"),
                                  });
  in.rules = {iface("eni-w1", "10.1.1.10", {tcp(80, 80, {"10.1.2.0/24"})}, {tcp(443, 443, {"0.0.0.0/0"})}),
              iface("eni-e1", "10.1.1.50", {tcp(443, 443, {"10.1.1.10/32"})}, {}), iface("eni-n1", "10.1.2.5", {}, {})};
  in.typeOf = {{"eni-w1", "interface"}, {"eni-e1", "vpc_endpoint"}, {"eni-n1", "network_load_balancer"}};
  in.ports = {WorkloadPort{"lp-vw1", "10.1.1.10"}};
  return in;
}

TEST(FilterPlan, ChainsRunBeforeDestinationNatAndBeforeBrNetfilter) {
  json b = json::parse(filterRuleset(twoSubnets()));
  for (const char* hook : {"prerouting", "output"}) {
    const json* c = baseChain(b, "inet", hook);
    ASSERT_NE(c, nullptr) << hook;
    EXPECT_EQ((*c)["hook"], hook);
    EXPECT_EQ((*c)["prio"], -150);  // conntrack is -200, dstnat -100
    EXPECT_EQ((*c)["policy"], "accept");
  }
  const json* port = baseChain(b, "bridge", "prerouting");
  ASSERT_NE(port, nullptr);
  EXPECT_EQ((*port)["prio"], -200);  // br_netfilter hooks at 0
  // Both tables are emptied and refilled in the one batch.
  int deletes = 0;
  for (const auto& c : b["nftables"]) deletes += c.contains("delete") ? 1 : 0;
  EXPECT_EQ(deletes, 2);
}

TEST(FilterPlan, ResolverThenStatelessAclsThenConntrackThenGroups) {
  json b = json::parse(filterRuleset(twoSubnets()));
  auto pre = rules(b, "inet", "prerouting");
  std::vector<std::string> verdicts;
  for (const auto& r : pre) verdicts.push_back(verdictOf(r));
  EXPECT_EQ(verdicts, (std::vector<std::string>{"accept",              // resolver
                                                "jump acl-out-acl-a",  // leaving subnet a
                                                "jump acl-out-acl-default",
                                                "jump acl-in-acl-a",  // entering subnet a
                                                "jump acl-in-acl-default",
                                                "accept",   // established, related
                                                "vmap",     // egress of the source workload
                                                "vmap"}));  // ingress of the destination
  // The established rule comes after the ACLs: replies meet the ACLs too (stateless).
  EXPECT_TRUE(pre[5][0]["match"]["left"].contains("ct"));
  // A subnet's ACL is skipped inside the subnet: source in, destination not in it.
  EXPECT_EQ(pre[1][0]["match"]["op"], "==");
  EXPECT_EQ(pre[1][1]["match"]["op"], "!=");
  EXPECT_EQ(pre[1][1]["match"]["right"]["prefix"]["addr"], "10.1.1.0");
  // Egress by source, ingress by destination; the endpoint and node are guarded too.
  EXPECT_EQ(pre[6][0]["vmap"]["key"]["payload"]["field"], "saddr");
  EXPECT_EQ(pre[6][0]["vmap"]["data"]["set"].size(), 1u);
  EXPECT_EQ(pre[7][0]["vmap"]["key"]["payload"]["field"], "daddr");
  EXPECT_EQ(pre[7][0]["vmap"]["data"]["set"].size(), 3u);
  // From the namespace itself (load balancer nodes, health checks) only workloads are guarded.
  auto out = rules(b, "inet", "output");
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back()[0]["vmap"]["key"]["payload"]["field"], "daddr");
  ASSERT_EQ(out.back()[0]["vmap"]["data"]["set"].size(), 1u);
  EXPECT_EQ(out.back()[0]["vmap"]["data"]["set"][0][0], "10.1.1.10");
}

TEST(FilterPlan, AclEntriesInRuleNumberOrderFirstMatchWins) {
  json b = json::parse(filterRuleset(twoSubnets()));
  auto in = rules(b, "inet", "acl-in-acl-a");
  ASSERT_EQ(in.size(), 5u);  // 100, 200, 300, 32767, and the chain's own final drop
  // 100: deny tcp 22 from one address, before 200 allows its whole subnet.
  EXPECT_EQ(in[0][0]["match"]["right"], "10.1.2.11");
  EXPECT_EQ(in[0][0]["match"]["left"]["payload"]["field"], "saddr");
  EXPECT_EQ(in[0][2]["match"]["right"], 22);
  EXPECT_EQ(verdictOf(in[0]), "drop");
  EXPECT_EQ(in[1][0]["match"]["right"]["prefix"]["addr"], "10.1.2.0");
  EXPECT_EQ(verdictOf(in[1]), "return");  // allow: on to the next check
  // 300: icmp echo from anywhere: no address match, the type matched.
  EXPECT_EQ(in[2][0]["match"]["right"], "icmp");
  EXPECT_EQ(in[2][1]["match"]["right"], 8);
  EXPECT_EQ(verdictOf(in[3]), "drop");  // "*"
  // Outbound: ephemeral ports by destination port, to any address.
  auto out = rules(b, "inet", "acl-out-acl-a");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0][0]["match"]["right"], "tcp");
  EXPECT_EQ(out[0][1]["match"]["left"]["payload"]["field"], "dport");
  EXPECT_EQ(out[0][1]["match"]["right"]["range"], json::array({1024, 65535}));
  EXPECT_EQ(verdictOf(out[0]), "return");
  // The default ACL: allow everything (100), then "*".
  auto def = rules(b, "inet", "acl-in-acl-default");
  ASSERT_EQ(def.size(), 3u);
  EXPECT_EQ(def[0].size(), 1u);
  EXPECT_EQ(verdictOf(def[0]), "return");
}

TEST(FilterPlan, GroupChainsAndPorts) {
  json b = json::parse(filterRuleset(twoSubnets()));
  auto eg = rules(b, "inet", "eg-eni-w1");
  ASSERT_EQ(eg.size(), 2u);
  EXPECT_EQ(verdictOf(eg[0]), "return");  // 0.0.0.0/0: no address match
  EXPECT_EQ(eg[0].size(), 3u);
  EXPECT_EQ(verdictOf(eg[1]), "drop");
  auto in = rules(b, "inet", "in-eni-w1");
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0][0]["match"]["left"]["payload"]["field"], "saddr");
  EXPECT_EQ(verdictOf(in[0]), "accept");
  EXPECT_EQ(verdictOf(in[1]), "drop");
  // An endpoint takes TCP only; a load balancer node no new connection at all.
  auto ep = rules(b, "inet", "in-eni-e1");
  ASSERT_EQ(ep.size(), 3u);
  EXPECT_EQ(ep[0][0]["match"]["op"], "!=");
  // What an endpoint's groups refuse is counted in its own named counter
  // (PacketsDropped); other interfaces' drops are not counted.
  EXPECT_EQ(ep[0][1]["counter"], "drop-eni-e1");
  EXPECT_EQ(ep[2][0]["counter"], "drop-eni-e1");
  EXPECT_EQ(verdictOf(ep[2]), "drop");
  EXPECT_FALSE(in[1][0].contains("counter"));
  int made = 0;
  for (const auto& c : b["nftables"])
    if (c.contains("add") && c["add"].contains("counter")) {
      EXPECT_EQ(c["add"]["counter"]["name"], "drop-eni-e1");
      ++made;
    }
  EXPECT_EQ(made, 1);
  EXPECT_EQ(rules(b, "inet", "in-eni-n1").size(), 1u);
  // The workload's port sends only from its own address, IPv4 and ARP.
  auto port = rules(b, "bridge", "port-lp-vw1");
  ASSERT_EQ(port.size(), 2u);
  EXPECT_EQ(port[0][0]["match"]["right"], "10.1.1.10");
  EXPECT_EQ(port[1][0]["match"]["left"]["payload"]["protocol"], "arp");
  auto jumps = rules(b, "bridge", "prerouting");
  ASSERT_EQ(jumps.size(), 1u);
  EXPECT_EQ(jumps[0][0]["vmap"]["data"]["set"][0][0], "lp-vw1");
}

// The kernel fast path translates in the provider's namespace (dstnat -100, srcnat
// 100): its new connections meet the target's ingress rules after both, from the
// load balancer node's address, as the splice path's connections do in output.
TEST(FilterPlan, TranslatedConnectionsMeetTheTargetsIngressAfterSourceNat) {
  json b = json::parse(filterRuleset(twoSubnets()));
  const json* post = baseChain(b, "inet", "postrouting");
  ASSERT_NE(post, nullptr);
  EXPECT_EQ((*post)["prio"], 150);
  auto r = rules(b, "inet", "postrouting");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0][0]["match"]["left"]["ct"]["key"], "status");
  EXPECT_EQ(r[0][0]["match"]["right"], "dnat");
  EXPECT_EQ(r[0][1]["match"]["right"], "new");
  ASSERT_EQ(r[0][2]["vmap"]["data"]["set"].size(), 1u);  // workloads only
  EXPECT_EQ(r[0][2]["vmap"]["data"]["set"][0][0], "10.1.1.10");
  EXPECT_EQ(r[0][2]["vmap"]["data"]["set"][0][1]["jump"]["target"], "in-eni-w1");
}

TEST(FilterPlan, NothingToGuardStillMakesBothTables) {
  FilterInputs in;
  in.resolver = "10.1.0.2";
  json b = json::parse(filterRuleset(in));
  EXPECT_NE(baseChain(b, "inet", "prerouting"), nullptr);
  EXPECT_NE(baseChain(b, "bridge", "prerouting"), nullptr);
  EXPECT_TRUE(rules(b, "bridge", "prerouting").empty());  // no empty vmap
  EXPECT_EQ(rules(b, "inet", "prerouting").size(), 2u);   // resolver, established
}

// planVpc takes each subnet's ACL from the ACL's associations.
TEST(FilterPlan, PlanVpcFollowsAclAssociations) {
  DesiredState s;
  auto put = [&](std::string_view kind, const std::string& id, const json& body) {
    store::Object o;
    o.kind = std::string(kind);
    o.id = id;
    o.body = body.dump();
    o.revision = 1;
    (void)s.apply(kind, id, o);
  };
  put(model::Vpc::kKind, "vpc-1", {{"id", "vpc-1"}, {"cidrBlock", "10.1.0.0/16"}});
  put(model::Subnet::kKind, "subnet-a", {{"id", "subnet-a"}, {"vpcId", "vpc-1"}, {"cidrBlock", "10.1.1.0/24"}});
  json entries = json(model::initialAclEntries(false));
  auto d = s.apply(model::NetworkAcl::kKind, "acl-x",
                   store::Object{std::string(model::NetworkAcl::kKind), "acl-x",
                                 json{{"id", "acl-x"},
                                      {"vpcId", "vpc-1"},
                                      {"entries", entries},
                                      {"associations", {{{"id", "aclassoc-1"}, {"subnetId", "subnet-a"}}}}}
                                     .dump(),
                                 2});
  // An ACL change is one VPC's work.
  EXPECT_EQ(d.vpcs, std::set<std::string>{"vpc-1"});
  EXPECT_TRUE(d.endpoints.empty());
  auto plan = planVpc(s, "vpc-1");
  ASSERT_TRUE(plan);
  json b = json::parse(plan->nftRuleset);
  auto in = rules(b, "inet", "acl-in-acl-x");
  ASSERT_EQ(in.size(), 2u);  // "*" deny and the final drop: a new ACL denies everything
  EXPECT_EQ(verdictOf(in[0]), "drop");
}

}  // namespace
}  // namespace lp::reconciler
