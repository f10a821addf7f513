// The BPF fast path's plan: which endpoints it carries, the spaces and link ids it
// keeps stable, the map contents (tiers as chooseTarget picks them), the devices
// and namespace setup of the SYN path, and the diff a sink executes. Pure: no root.
#include "dataplane/bpf_fastpath_plan.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "dataplane/fastpath_plan.h"

namespace lp::dataplane {
namespace {

TargetSpec target(const std::string& ip, const std::string& zone, const std::string& key = "",
                  const std::string& ns = "lp-vpc-p") {
  TargetSpec t;
  t.healthKey = key;
  t.ns = ns;
  t.sourceIp = "10.0.2.200";
  t.ip = ip;
  t.port = 8080;
  t.zoneId = zone;
  return t;
}

ListenerSpec listener(const std::string& endpoint, const std::string& iface, const std::string& ns,
                      const std::string& ip, int port, std::vector<TargetSpec> targets,
                      const std::string& zone = "use1-az1") {
  ListenerSpec l;
  l.endpointId = endpoint;
  l.interfaceId = iface;
  l.zoneId = zone;
  l.ns = ns;
  l.ip = ip;
  l.port = port;
  l.forwarding = true;
  l.targets = std::move(targets);
  return l;
}

BpfWorkload workload(const std::string& vpcNs, const std::string& ip, const std::string& veth) {
  return {vpcNs, ip, veth, "lp-eni-" + veth, "lp-br-1"};
}

// Two consumer VPCs on 10.0.0.0/16 with the same endpoint address, one provider.
BpfInputs overlapping() {
  BpfInputs in;
  in.listeners = {listener("vpce-a", "eni-a", "lp-vpc-a", "10.0.1.100", 80, {target("10.0.2.10", "use1-az1")}),
                  listener("vpce-b", "eni-b", "lp-vpc-b", "10.0.1.100", 80, {target("10.0.2.10", "use1-az1")})};
  in.workloads = {workload("lp-vpc-a", "10.0.1.5", "lp-va"), workload("lp-vpc-b", "10.0.1.5", "lp-vb"),
                  workload("lp-vpc-p", "10.0.2.10", "lp-vt"), workload("lp-vpc-x", "10.9.0.1", "lp-vx")};
  return in;
}

template <typename C, typename V>
bool has(const C& c, const V& v) {
  return std::find(c.begin(), c.end(), v) != c.end();
}

TEST(BpfFastpathPlan, TwoConsumersOnTheSameAddressesToOneProviderGetTheirOwnSpacesAndLinks) {
  BpfPlan p = planBpf(overlapping());
  EXPECT_TRUE(p.refused.empty());
  ASSERT_EQ(p.ids.spaces.size(), 3u);
  uint32_t a = p.ids.spaces.at("lp-vpc-a"), b = p.ids.spaces.at("lp-vpc-b"), prov = p.ids.spaces.at("lp-vpc-p");
  EXPECT_NE(a, b);
  EXPECT_NE(a, prov);
  EXPECT_NE(b, prov);
  uint32_t la = p.ids.links.at("eni-a"), lb = p.ids.links.at("eni-b");
  EXPECT_NE(la, lb);
  // The same address and port, apart by space.
  ASSERT_EQ(p.endpoints.size(), 2u);
  EXPECT_EQ(p.endpoints.at({a, "10.0.1.100", 80}), la);
  EXPECT_EQ(p.endpoints.at({b, "10.0.1.100", 80}), lb);
  EXPECT_EQ(p.links.at(la).consumerSpace, a);
  EXPECT_EQ(p.links.at(lb).consumerSpace, b);
  EXPECT_EQ(p.links.at(la).providerSpace, prov);
  EXPECT_EQ(p.links.at(lb).providerSpace, prov);
  EXPECT_EQ(p.links.at(la).nodeAddr, "10.0.2.200");
  // One veth pair per VPC pair, named as the conntrack path names it.
  auto namesA = pairLinkNames("lp-vpc-a", "lp-vpc-p");
  EXPECT_EQ(p.links.at(la).consumerDevice, namesA.consumer);
  EXPECT_EQ(p.links.at(la).providerDevice, namesA.provider);
  ASSERT_EQ(p.pairs.size(), 2u);
  EXPECT_EQ(p.pairs.at({"lp-vpc-a", "lp-vpc-p"}).linkIds, std::set<uint32_t>{la});
  // The two clients share an address too: a host entry each, in their own space.
  EXPECT_EQ(p.hosts.at({a, "10.0.1.5"}).device, "lp-va");
  EXPECT_EQ(p.hosts.at({b, "10.0.1.5"}).device, "lp-vb");
  EXPECT_EQ(p.hosts.at({prov, "10.0.2.10"}).workloadNs, "lp-eni-lp-vt");
  EXPECT_EQ(p.hosts.at({prov, "10.0.2.10"}).gatewayDevice, "lp-br-1");
  EXPECT_EQ(p.hosts.size(), 3u);  // lp-vpc-x takes no part: no space, no entry
  EXPECT_TRUE(p.unhostedTargets.empty());
  BpfInputs noTarget = overlapping();
  noTarget.workloads.erase(noTarget.workloads.begin() + 2);
  EXPECT_EQ(planBpf(noTarget).unhostedTargets, (std::set<BpfHostKey>{{prov, "10.0.2.10"}}));
  EXPECT_EQ(planBpf(noTarget).endpoints.size(), 2u);
  // Each consumer routes the same address to its own link.
  EXPECT_TRUE(p.routes.count({"lp-vpc-a", "10.0.1.100/32", linkAddresses(la).provider, namesA.consumer}));
  auto namesB = pairLinkNames("lp-vpc-b", "lp-vpc-p");
  EXPECT_TRUE(p.routes.count({"lp-vpc-b", "10.0.1.100/32", linkAddresses(lb).provider, namesB.consumer}));
  EXPECT_EQ(p.programs.size(), 3u);
  EXPECT_EQ(p.programs.at(prov), "lp-vpc-p");
}

TEST(BpfFastpathPlan, DevicesGetTheProgramsOfTheirSide) {
  BpfPlan p = planBpf(overlapping());
  uint32_t a = p.ids.spaces.at("lp-vpc-a"), prov = p.ids.spaces.at("lp-vpc-p");
  auto names = pairLinkNames("lp-vpc-a", "lp-vpc-p");
  EXPECT_TRUE(p.attachments.count({"lp-vpc-a", names.consumer, BpfHook::kEgress, BpfProgram::kLinkOut, a}));
  EXPECT_TRUE(p.attachments.count({"lp-vpc-a", names.consumer, BpfHook::kIngress, BpfProgram::kLinkIn, a}));
  EXPECT_TRUE(p.attachments.count({"lp-vpc-p", names.provider, BpfHook::kIngress, BpfProgram::kLinkIn, prov}));
  EXPECT_TRUE(p.attachments.count({"lp-vpc-a", "lp-va", BpfHook::kIngress, BpfProgram::kWorkloadIn, a}));
  EXPECT_TRUE(p.attachments.count({"lp-vpc-p", "lp-vt", BpfHook::kIngress, BpfProgram::kWorkloadIn, prov}));
  // The provider's side of a link never sends SYNs out: nothing on its egress.
  for (const auto& at : p.attachments) EXPECT_FALSE(at.ns == "lp-vpc-p" && at.hook == BpfHook::kEgress);
  // 2 consumers x 2 + 2 provider devices of the pairs + 3 workloads.
  EXPECT_EQ(p.attachments.size(), 9u);
}

TEST(BpfFastpathPlan, TheSynPathsSetupInBothNamespaces) {
  BpfPlan p = planBpf(overlapping());
  auto names = pairLinkNames("lp-vpc-a", "lp-vpc-p");
  // Consumer: the endpoint address (local there) is routed to the link by a table
  // looked up before the local one; the namespace's own traffic stays local.
  EXPECT_TRUE(p.rules.count({"lp-vpc-a", kBpfLocalFromHostPref, "iif lo", 255}));
  EXPECT_TRUE(p.rules.count({"lp-vpc-a", kBpfRulePref, "", kBpfRouteTable}));
  EXPECT_TRUE(p.rules.count({"lp-vpc-a", kBpfLocalPref, "", 255}));
  EXPECT_TRUE(p.localRuleMoved.count("lp-vpc-a"));
  EXPECT_FALSE(p.localRuleMoved.count("lp-vpc-p"));  // a provider only: its local table stays first
  // Provider: the SYN arrives from the node's (local) address.
  EXPECT_TRUE(p.sysctls.count({"lp-vpc-p", "net/ipv4/conf/" + names.provider + "/accept_local", "1"}));
  EXPECT_TRUE(p.sysctls.count({"lp-vpc-a", "net/ipv4/ip_forward", "1"}));
  // The SYN is forwarded past the splice listeners' TIME_WAIT sockets: early demux
  // would hand it one, and ip_forward drops it (the consumer only).
  EXPECT_TRUE(p.sysctls.count({"lp-vpc-a", "net/ipv4/tcp_early_demux", "0"}));
  EXPECT_FALSE(p.sysctls.count({"lp-vpc-p", "net/ipv4/tcp_early_demux", "0"}));
  // Clients' ARP for the endpoint address, now routed elsewhere: proxy ARP on their gateway.
  EXPECT_TRUE(p.sysctls.count({"lp-vpc-a", "net/ipv4/conf/lp-br-1/proxy_arp", "1"}));
  EXPECT_FALSE(p.sysctls.count({"lp-vpc-p", "net/ipv4/conf/lp-br-1/proxy_arp", "1"}));
  // notrack: the endpoint's address and ports in the consumer, all from a link in the provider.
  const std::string& c = p.notrack.at("lp-vpc-a");
  EXPECT_NE(c.find("priority raw"), std::string::npos);
  EXPECT_NE(c.find("add rule ip lp-bpf pre ip daddr . tcp dport { 10.0.1.100 . 80 } notrack"), std::string::npos) << c;
  EXPECT_EQ(c.find("lp-fp*"), std::string::npos);
  const std::string& pr = p.notrack.at("lp-vpc-p");
  EXPECT_NE(pr.find("add rule ip lp-bpf pre iifname \"lp-fp*\" notrack"), std::string::npos) << pr;
  EXPECT_EQ(pr.find("tcp dport"), std::string::npos);
  EXPECT_FALSE(p.notrack.count("lp-vpc-x"));
}

TEST(BpfFastpathPlan, TiersFollowZoneAndHealthAndFailOpenAsChooseTarget) {
  std::vector<TargetSpec> ts = {target("10.0.2.10", "use1-az1", "k1"), target("10.0.2.11", "use1-az2", "k2"),
                                target("10.0.2.12", "use1-az1", "k3")};
  using H = std::map<std::string, Health>;
  struct Case {
    H health;
    BpfTier tier;
    std::vector<std::string> addrs;
  };
  std::vector<Case> cases = {
      {{{"k1", Health::kHealthy}, {"k2", Health::kHealthy}, {"k3", Health::kHealthy}},
       BpfTier::kHealthyInZone,
       {"10.0.2.10", "10.0.2.12"}},
      {{{"k1", Health::kUnhealthy}, {"k2", Health::kHealthy}, {"k3", Health::kUnhealthy}},
       BpfTier::kHealthy,
       {"10.0.2.11"}},
      {{}, BpfTier::kInitialInZone, {"10.0.2.10", "10.0.2.12"}},
      {{{"k1", Health::kUnhealthy}, {"k3", Health::kUnhealthy}}, BpfTier::kInitial, {"10.0.2.11"}},
      {{{"k1", Health::kUnhealthy}, {"k2", Health::kUnhealthy}, {"k3", Health::kUnhealthy}},
       BpfTier::kAnyInZone,
       {"10.0.2.10", "10.0.2.12"}},
  };
  for (const auto& c : cases) {
    BpfTargets t = bpfTier(ts, "use1-az1", c.health);
    EXPECT_EQ(t.tier, c.tier);
    std::vector<std::string> got;
    for (const auto& x : t.targets) got.push_back(x.addr);
    EXPECT_EQ(got, c.addrs);
    // The same targets as the conntrack path's tier, and chooseTarget picks only among them.
    auto same = currentTier(ts, "use1-az1", c.health);
    ASSERT_EQ(same.size(), t.targets.size());
    for (size_t i = 0; i < same.size(); ++i) EXPECT_EQ(same[i].ip, t.targets[i].addr);
    std::vector<Candidate> cands;
    for (const auto& x : ts) {
      auto h = c.health.find(x.healthKey);
      cands.push_back({x.zoneId, h == c.health.end() ? Health::kInitial : h->second});
    }
    for (uint64_t hash = 0; hash < 16; ++hash) EXPECT_TRUE(has(c.addrs, ts[chooseTarget(cands, "use1-az1", hash)].ip));
  }
  // All unhealthy, none in the zone: every target (fail open).
  std::vector<TargetSpec> away = {target("10.0.2.11", "use1-az2", "k2")};
  BpfTargets t = bpfTier(away, "use1-az1", {{"k2", Health::kUnhealthy}});
  EXPECT_EQ(t.tier, BpfTier::kAny);
  ASSERT_EQ(t.targets.size(), 1u);
  EXPECT_EQ(t.targets[0].port, 8080);

  // In the plan: by the interface's zone, and a health change is only a new tier.
  BpfInputs in;
  in.listeners = {listener("vpce-a", "eni-a", "lp-vpc-a", "10.0.1.100", 80, ts, "use1-az2")};
  in.health = {{"k1", Health::kHealthy}, {"k2", Health::kHealthy}, {"k3", Health::kHealthy}};
  BpfPlan before = planBpf(in);
  uint32_t id = before.ids.links.at("eni-a");
  EXPECT_EQ(before.targets.at({id, 80}).targets, (std::vector<BpfTarget>{{"10.0.2.11", 8080}}));
  in.health["k2"] = Health::kUnhealthy;
  in.previous = before.ids;
  BpfPlan after = planBpf(in);
  EXPECT_EQ(after.targets.at({id, 80}).tier, BpfTier::kHealthy);
  BpfPlanDiff d = diffBpfPlans(before, after);
  ASSERT_EQ(d.putTargets.size(), 1u);
  EXPECT_EQ(d.putTargets[0].second.targets.size(), 2u);
  d.putTargets.clear();
  EXPECT_TRUE(d.empty());  // no connection ends, nothing else moves
}

TEST(BpfFastpathPlan, ARejectedOrDeletedEndpointLosesItsEntries) {
  for (bool deleted : {false, true}) {
    BpfInputs in = overlapping();
    BpfPlan before = planBpf(in);
    uint32_t la = before.ids.links.at("eni-a"), a = before.ids.spaces.at("lp-vpc-a");
    if (deleted)
      in.listeners.erase(in.listeners.begin());
    else
      in.listeners[0].forwarding = false;  // rejected: not available
    in.previous = before.ids;
    BpfPlan after = planBpf(in);
    EXPECT_EQ(after.refused.count("vpce-a"), deleted ? 0u : 1u);
    EXPECT_FALSE(after.ids.links.count("eni-a"));
    EXPECT_FALSE(after.ids.spaces.count("lp-vpc-a"));
    BpfPlanDiff d = diffBpfPlans(before, after);
    EXPECT_EQ(d.deleteEndpoints, (std::vector<BpfEndpointKey>{{a, "10.0.1.100", 80}}));
    EXPECT_EQ(d.deleteTargets, (std::vector<BpfTargetsKey>{{la, 80}}));
    EXPECT_EQ(d.deleteLinks, std::vector<uint32_t>{la});
    EXPECT_EQ(d.endConnections, std::vector<uint32_t>{la});
    EXPECT_EQ(d.deleteHosts, (std::vector<BpfHostKey>{{a, "10.0.1.5"}}));
    EXPECT_EQ(d.unload, std::vector<uint32_t>{a});
    EXPECT_EQ(d.deletePairs, (std::vector<BpfPairKey>{{"lp-vpc-a", "lp-vpc-p"}}));
    EXPECT_EQ(d.dropNotrack, std::vector<std::string>{"lp-vpc-a"});
    EXPECT_EQ(d.restoreLocalRule, std::vector<std::string>{"lp-vpc-a"});
    EXPECT_EQ(d.deleteRules.size(), 3u);
    EXPECT_EQ(d.deleteRoutes.size(), 1u);
    EXPECT_EQ(d.detach.size(), 4u);  // both ends of the pair (3 programs), the client's veth
    // The other consumer and the provider are untouched.
    EXPECT_TRUE(d.putEndpoints.empty() && d.putLinks.empty() && d.putTargets.empty() && d.putHosts.empty());
    EXPECT_TRUE(d.attach.empty() && d.load.empty() && d.addRoutes.empty() && d.writeNotrack.empty());
    EXPECT_EQ(after.endpoints.size(), 1u);
  }
}

TEST(BpfFastpathPlan, SpacesAndLinkIdsStayWhenOtherEndpointsComeAndGo) {
  BpfInputs in;
  in.listeners = {
      listener("vpce-1", "eni-1", "lp-vpc-a", "10.0.1.101", 80, {target("10.0.2.10", "use1-az1")}),
      listener("vpce-2", "eni-2", "lp-vpc-b", "10.0.1.102", 80, {target("10.0.2.10", "use1-az1")}),
      listener("vpce-3", "eni-3", "lp-vpc-c", "10.0.1.103", 80, {target("10.0.2.10", "use1-az1")}),
  };
  BpfPlan first = planBpf(in);
  // vpce-2 goes, vpce-4 comes (in a namespace sorting before the others).
  in.listeners.erase(in.listeners.begin() + 1);
  in.listeners.push_back(listener("vpce-4", "eni-0", "lp-vpc-0", "10.0.1.104", 80, {target("10.0.2.10", "use1-az1")}));
  in.previous = first.ids;
  BpfPlan second = planBpf(in);
  for (const char* ns : {"lp-vpc-a", "lp-vpc-c", "lp-vpc-p"})
    EXPECT_EQ(second.ids.spaces.at(ns), first.ids.spaces.at(ns)) << ns;
  for (const char* i : {"eni-1", "eni-3"}) EXPECT_EQ(second.ids.links.at(i), first.ids.links.at(i)) << i;
  // The newcomer does not take what the leaver just freed (the kernel may still
  // hold entries keyed by it until the removal is applied).
  EXPECT_NE(second.ids.links.at("eni-0"), first.ids.links.at("eni-2"));
  EXPECT_NE(second.ids.spaces.at("lp-vpc-0"), first.ids.spaces.at("lp-vpc-b"));
  BpfPlanDiff d = diffBpfPlans(first, second);
  EXPECT_EQ(d.endConnections, std::vector<uint32_t>{first.ids.links.at("eni-2")});
  EXPECT_EQ(d.putLinks.size(), 1u);
  EXPECT_EQ(d.putEndpoints.size(), 1u);
  // A step later the freed numbers are free again.
  in.previous = second.ids;
  in.listeners.push_back(listener("vpce-5", "eni-5", "lp-vpc-e", "10.0.1.105", 80, {target("10.0.2.10", "use1-az1")}));
  BpfPlan third = planBpf(in);
  EXPECT_EQ(third.ids.links.at("eni-5"), first.ids.links.at("eni-2"));
  EXPECT_EQ(third.ids.spaces.at("lp-vpc-e"), first.ids.spaces.at("lp-vpc-b"));
  // Planning again from the same inputs changes nothing.
  in.previous = third.ids;
  EXPECT_EQ(planBpf(in), third);
  EXPECT_TRUE(diffBpfPlans(third, planBpf(in)).empty());
}

TEST(BpfFastpathPlan, ProxyV2SameVpcAndHostTargetsStayOnSplice) {
  BpfInputs in;
  TargetSpec proxy = target("10.0.2.10", "use1-az1");
  proxy.proxyProtocolV2 = true;
  TargetSpec own = target("10.0.1.20", "use1-az1", "", "lp-vpc-a");
  TargetSpec host = target("10.0.2.10", "use1-az1", "", "");
  in.listeners = {listener("vpce-proxy", "eni-1", "lp-vpc-a", "10.0.1.101", 80, {proxy}),
                  listener("vpce-own", "eni-2", "lp-vpc-a", "10.0.1.102", 80, {own}),
                  listener("vpce-host", "eni-3", "lp-vpc-a", "10.0.1.103", 443, {host}),
                  listener("vpce-ok", "eni-4", "lp-vpc-b", "10.0.1.104", 80, {target("10.0.2.10", "use1-az1")})};
  in.workloads = {workload("lp-vpc-a", "10.0.1.5", "lp-va")};
  BpfPlan p = planBpf(in);
  EXPECT_EQ(p.refused.at("vpce-proxy"), "PROXY protocol v2");
  EXPECT_EQ(p.refused.at("vpce-own"), "target in the consumer's own VPC");
  EXPECT_FALSE(p.refused.at("vpce-host").empty());
  EXPECT_FALSE(p.refused.count("vpce-ok"));
  EXPECT_EQ(p.ids.links.size(), 1u);
  EXPECT_EQ(p.endpoints.size(), 1u);
  // lp-vpc-a holds only refused endpoints: no space, no programs, no setup.
  EXPECT_FALSE(p.ids.spaces.count("lp-vpc-a"));
  EXPECT_TRUE(p.hosts.empty());
  for (const auto& r : p.routes) EXPECT_NE(r.ns, "lp-vpc-a");
  EXPECT_FALSE(p.notrack.count("lp-vpc-a"));
}

TEST(BpfFastpathPlan, AnEndpointWhoseVpcsHaveFilteringAclsStaysOnSplice) {
  BpfInputs in;
  ListenerSpec acl = listener("vpce-acl", "eni-1", "lp-vpc-a", "10.0.1.101", 80, {target("10.0.2.10", "use1-az1")});
  acl.statelessAcls = true;
  in.listeners = {acl, listener("vpce-ok", "eni-2", "lp-vpc-a", "10.0.1.102", 80, {target("10.0.2.10", "use1-az1")})};
  in.workloads = {workload("lp-vpc-a", "10.0.1.5", "lp-va")};
  BpfPlan p = planBpf(in);
  EXPECT_NE(p.refused.at("vpce-acl").find("network ACL"), std::string::npos);
  EXPECT_FALSE(p.refused.count("vpce-ok"));
  EXPECT_EQ(p.endpoints.size(), 1u);
}

TEST(BpfFastpathPlan, AnEndpointGoesWholeOrNotAtAll) {
  // One listener's target group wants PROXY v2: the endpoint's other listener stays
  // on splice too (one address, one path).
  TargetSpec proxy = target("10.0.2.11", "use1-az1");
  proxy.proxyProtocolV2 = true;
  BpfInputs in;
  in.listeners = {listener("vpce-1", "eni-1", "lp-vpc-a", "10.0.1.101", 80, {target("10.0.2.10", "use1-az1")}),
                  listener("vpce-1", "eni-1", "lp-vpc-a", "10.0.1.101", 443, {proxy})};
  BpfPlan p = planBpf(in);
  EXPECT_TRUE(p.endpoints.empty());
  // More targets than lp_targets holds.
  std::vector<TargetSpec> many;
  for (int i = 0; i <= static_cast<int>(kBpfMaxTargets); ++i)
    many.push_back(target("10.0.3." + std::to_string(i + 1), "use1-az1"));
  in.listeners = {listener("vpce-2", "eni-2", "lp-vpc-a", "10.0.1.102", 80, many)};
  p = planBpf(in);
  EXPECT_EQ(p.refused.at("vpce-2"), "more than 64 targets");
  many.pop_back();
  in.listeners = {listener("vpce-2", "eni-2", "lp-vpc-a", "10.0.1.102", 80, many)};
  p = planBpf(in);
  EXPECT_TRUE(p.refused.empty());
  EXPECT_EQ(p.targets.begin()->second.targets.size(), kBpfMaxTargets);
}

TEST(BpfFastpathPlan, TwoInterfacesOfAnEndpointShareTheVpcPairsDevices) {
  BpfInputs in;
  in.listeners = {
      listener("vpce-1", "eni-1", "lp-vpc-a", "10.0.1.101", 80, {target("10.0.2.10", "use1-az1")}, "use1-az1"),
      listener("vpce-1", "eni-2", "lp-vpc-a", "10.0.3.101", 80, {target("10.0.2.10", "use1-az1")}, "use1-az2")};
  BpfPlan p = planBpf(in);
  ASSERT_EQ(p.pairs.size(), 1u);
  EXPECT_EQ(p.pairs.begin()->second.linkIds.size(), 2u);
  EXPECT_EQ(p.routes.size(), 2u);
  // The tier follows each interface's zone (a target without a check is healthy).
  EXPECT_EQ(p.targets.at({p.ids.links.at("eni-1"), 80}).tier, BpfTier::kHealthyInZone);
  EXPECT_EQ(p.targets.at({p.ids.links.at("eni-2"), 80}).tier, BpfTier::kHealthy);
  // A new workload in a space: its host entry and program, nothing else.
  BpfPlan before = p;
  in.previous = p.ids;
  in.workloads = {workload("lp-vpc-p", "10.0.2.10", "lp-vt")};
  BpfPlanDiff d = diffBpfPlans(before, planBpf(in));
  EXPECT_EQ(d.putHosts.size(), 1u);
  EXPECT_EQ(d.attach.size(), 1u);
  d.putHosts.clear();
  d.attach.clear();
  EXPECT_TRUE(d.empty());
}

// ---- The bandwidth cap and the connection limit (stage 4)

TEST(BpfFastpathPlan, EachLinkGetsTheConfiguredCapAndLimitAndAChangeIsOnlyACapWrite) {
  BpfInputs in = overlapping();
  // The product's defaults are the splice path's cap (10 Gbit/s) and 50,000 connections.
  EXPECT_EQ(in.endpointBytesPerSecond, ForwarderOptions{}.endpointBytesPerSecond);
  EXPECT_EQ(in.maxConnectionsPerInterface, 50'000u);
  in.endpointBytesPerSecond = 125'000'000;  // endpoint_bandwidth_gbps = 1
  in.maxConnectionsPerInterface = 1000;
  BpfPlan before = planBpf(in);
  uint32_t la = before.ids.links.at("eni-a"), lb = before.ids.links.at("eni-b");
  ASSERT_EQ(before.caps.size(), before.links.size());
  BpfLinkCap want{125'000'000, bpfCapBurstBytes(125'000'000), 1000};
  EXPECT_EQ(before.caps.at(la), want);
  EXPECT_EQ(before.caps.at(lb), want);
  // The burst: 250 ms at the rate, at least 512 KiB (TCP needs it through a policer).
  EXPECT_EQ(bpfCapBurstBytes(1'250'000'000), 312'500'000u);
  EXPECT_EQ(bpfCapBurstBytes(1'000'000), 524'288u);
  // A first plan writes the caps with the links, before the endpoints.
  BpfPlanDiff first = diffBpfPlans(BpfPlan{}, before);
  EXPECT_EQ(first.putCaps.size(), 2u);

  // A new cap (a reload's restart): one write per link, no connection ends.
  in.previous = before.ids;
  in.endpointBytesPerSecond = 250'000'000;
  BpfPlan after = planBpf(in);
  BpfPlanDiff d = diffBpfPlans(before, after);
  ASSERT_EQ(d.putCaps.size(), 2u);
  EXPECT_EQ(d.putCaps[0].second.bytesPerSecond, 250'000'000u);
  EXPECT_EQ(d.putCaps[0].second.burstBytes, bpfCapBurstBytes(250'000'000));
  EXPECT_TRUE(d.endConnections.empty());
  d.putCaps.clear();
  EXPECT_TRUE(d.empty());
  in.maxConnectionsPerInterface = 0;  // no limit
  d = diffBpfPlans(after, planBpf(in));
  ASSERT_EQ(d.putCaps.size(), 2u);
  EXPECT_EQ(d.putCaps[1].second.maxConnections, 0u);

  // An endpoint deleted: its link's cap goes with it.
  in.listeners.erase(in.listeners.begin() + 1);
  d = diffBpfPlans(after, planBpf(in));
  EXPECT_EQ(d.deleteCaps, std::vector<uint32_t>{lb});
  EXPECT_EQ(d.deleteLinks, std::vector<uint32_t>{lb});
}

TEST(BpfFastpathPlan, TheLinksFiguresBecomeTheCountersOfTheirInterfacesAndEndpoints) {
  BpfInputs in;
  in.listeners = {
      listener("vpce-1", "eni-1", "lp-vpc-a", "10.0.1.101", 80, {target("10.0.2.10", "use1-az1")}, "use1-az1"),
      listener("vpce-1", "eni-2", "lp-vpc-a", "10.0.3.101", 80, {target("10.0.2.10", "use1-az1")}, "use1-az2"),
      listener("vpce-2", "eni-3", "lp-vpc-b", "10.0.1.101", 80, {target("10.0.2.10", "use1-az1")}),
      listener("vpce-3", "eni-4", "lp-vpc-c", "10.0.1.101", 80, {target("10.0.2.10", "use1-az1")})};
  BpfPlan p = planBpf(in);
  uint32_t l1 = p.ids.links.at("eni-1"), l2 = p.ids.links.at("eni-2"), l3 = p.ids.links.at("eni-3");
  std::map<uint32_t, BpfLinkFigures> figures;
  // Three packets each way: 1000 and 5000 bytes of frames, Ethernet headers included.
  figures[l1] = {3, 1000, 3, 5000, 2, 1, 4, 1};
  figures[l2] = {1, 100, 0, 0, 1, 0, 0, 1};
  figures[l3] = {0, 0, 0, 0, 0, 0, 7, 0};   // only drops (over the limit, say)
  figures[999] = {1, 1, 1, 1, 1, 1, 1, 1};  // no link of the plan: belongs to nobody
  CountersReport r = bpfCounters(p.links, figures);

  ASSERT_EQ(r.interfaces.size(), 3u);  // eni-4 has no figures: left out
  TrafficCounters e1 = r.interfaces.at("eni-1");
  EXPECT_EQ(e1.bytesIn, 1000u - 3 * 14);
  EXPECT_EQ(e1.bytesOut, 5000u - 3 * 14);
  EXPECT_EQ(e1.connections, 2u);
  EXPECT_EQ(e1.resets, 1u);
  EXPECT_EQ(e1.dropped, 4u);
  EXPECT_EQ(e1.active, 1u);
  EXPECT_EQ(r.interfaces.at("eni-2"), (TrafficCounters{86, 0, 1, 1, 0, 0}));
  EXPECT_EQ(r.interfaces.at("eni-3"), (TrafficCounters{0, 0, 0, 0, 0, 7}));
  // The endpoint's figures are its interfaces' (both zones) together.
  ASSERT_EQ(r.endpoints.size(), 2u);
  EXPECT_EQ(r.endpoints.at("vpce-1"), (TrafficCounters{958 + 86, 4958, 3, 2, 1, 4}));
  EXPECT_EQ(r.endpoints.at("vpce-2").dropped, 7u);
  EXPECT_FALSE(r.endpoints.count("vpce-3"));
}

}  // namespace
}  // namespace lp::dataplane
