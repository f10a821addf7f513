// BpfFastPathSink and executeBpfDiff with a fake executor (no root): the order the
// writes reach the kernel in, the local rule never leaving pref 0 before its
// replacements exist, a failed write taking exactly its endpoint back to the
// splice path, a health change being one lp_targets write, ids kept across a restart.
#include "reconciler/bpf_fastpath_sink.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

namespace lp::reconciler {
namespace {

using namespace dataplane;

dataplane::TargetSpec target(const std::string& ip, const std::string& key = "") {
  dataplane::TargetSpec t;
  t.healthKey = key;
  t.ns = "lp-vpc-p";
  t.sourceIp = "10.0.2.200";
  t.ip = ip;
  t.port = 8080;
  t.zoneId = "use1-az1";
  return t;
}

ListenerSpec listener(const std::string& endpoint, const std::string& iface, const std::string& ns,
                      const std::string& ip, std::vector<dataplane::TargetSpec> targets) {
  ListenerSpec l;
  l.endpointId = endpoint;
  l.interfaceId = iface;
  l.zoneId = "use1-az1";
  l.ns = ns;
  l.ip = ip;
  l.port = 443;
  l.forwarding = true;
  l.targets = std::move(targets);
  return l;
}

// Records every call as one line; fails those whose line starts with a prefix in failOn.
class FakeExecutor final : public BpfExecutor {
 public:
  std::vector<std::string> calls;
  std::vector<std::string> failOn;

  Status rec(const std::string& call) {
    calls.push_back(call);
    if (!inBatch) outsideBatch.push_back(call);
    for (const auto& f : failOn)
      if (call.rfind(f, 0) == 0) return Status("Fake", "refused " + call);
    return Status::Ok();
  }
  void beginBatch() override {
    ++batches;
    inBatch = true;
  }
  void endBatch() override { inBatch = false; }
  int batches = 0;
  bool inBatch = false;
  std::vector<std::string> outsideBatch;  // calls made with no batch open
  Status load(uint32_t space, const std::string& ns) override { return rec(fmt::format("load {} {}", space, ns)); }
  Status unload(uint32_t space) override { return rec(fmt::format("unload {}", space)); }
  Status putPair(const BpfPair& p) override { return rec("pair " + p.consumerDevice); }
  Status deletePair(const BpfPairKey& k) override { return rec("delete-pair " + k.first); }
  Status setSysctl(const BpfSysctl& s) override { return rec("sysctl " + s.ns + " " + s.key); }
  Status addRule(const BpfRule& r) override { return rec(fmt::format("rule {} {}", r.ns, r.pref)); }
  Status deleteRule(const BpfRule& r) override { return rec(fmt::format("delete-rule {} {}", r.ns, r.pref)); }
  Status moveLocalRule(const std::string& ns) override { return rec("move-local " + ns); }
  Status restoreLocalRule(const std::string& ns) override { return rec("restore-local " + ns); }
  Status addRoute(const BpfRoute& r) override { return rec("route " + r.ns + " " + r.dst); }
  Status deleteRoute(const BpfRoute& r) override { return rec("delete-route " + r.ns + " " + r.dst); }
  Status writeNotrack(const std::string& ns, const std::string&) override { return rec("notrack " + ns); }
  Status dropNotrack(const std::string& ns) override { return rec("drop-notrack " + ns); }
  Status putHost(const BpfHostKey& k, const BpfHost&) override { return rec("host " + k.addr); }
  Status deleteHost(const BpfHostKey& k) override { return rec("delete-host " + k.addr); }
  Status putLink(uint32_t id, const BpfLink& l) override { return rec(fmt::format("link {} {}", id, l.endpointId)); }
  Status deleteLink(uint32_t id) override { return rec(fmt::format("delete-link {}", id)); }
  Status putCap(uint32_t id, const BpfLinkCap& c) override {
    return rec(fmt::format("cap {} {} {}", id, c.bytesPerSecond, c.maxConnections));
  }
  Status deleteCap(uint32_t id) override { return rec(fmt::format("delete-cap {}", id)); }
  Status putTargets(const BpfTargetsKey& k, const BpfTargets& t) override {
    std::string ts;
    for (const auto& x : t.targets) ts += " " + x.addr;
    return rec(fmt::format("targets {} tier {}{}", k.link, static_cast<int>(t.tier), ts));
  }
  Status deleteTargets(const BpfTargetsKey& k) override { return rec(fmt::format("delete-targets {}", k.link)); }
  Status putEndpoint(const BpfEndpointKey& k, uint32_t link) override {
    return rec(fmt::format("endpoint {} {}", k.addr, link));
  }
  Status deleteEndpoint(const BpfEndpointKey& k) override { return rec("delete-endpoint " + k.addr); }
  Status attach(const BpfAttachment& a) override { return rec("attach " + a.ns + " " + a.device); }
  Status detach(const BpfAttachment& a) override { return rec("detach " + a.ns + " " + a.device); }
  void endConnections(const std::map<uint32_t, BpfLink>& was) override {
    std::string ids;
    for (const auto& [id, l] : was) {
      ids += fmt::format(" {}", id);
      ended[id] = l;
    }
    calls.push_back("end" + ids);
  }
  std::map<uint32_t, BpfLink> ended;  // every link endConnections was given, as given
  // What lp_links holds (adopted maps): link -> (consumer space, provider space).
  std::map<uint32_t, std::pair<uint32_t, uint32_t>> linksHeld;
  std::optional<std::pair<uint32_t, uint32_t>> linkSpaces(uint32_t id) const override {
    auto it = linksHeld.find(id);
    if (it == linksHeld.end()) return std::nullopt;
    return it->second;
  }
  Status dropEntriesOfLinks(const std::set<uint32_t>& links) override {
    std::string ids;
    for (uint32_t id : links) ids += fmt::format(" {}", id);
    return rec("drop-entries" + ids);
  }
  std::map<uint32_t, uint64_t> endTargetConnections(const std::set<BpfTargetEnd>& ends,
                                                    const std::map<uint32_t, BpfLink>& links) override {
    std::map<uint32_t, uint64_t> out;
    for (const auto& e : ends) {
      calls.push_back(fmt::format("end-target {} {}:{} ({} links)", e.link, e.addr, e.port, links.size()));
      out[e.link] += endedPerTarget;
    }
    return out;
  }
  std::map<uint32_t, uint64_t> sweepConnections(std::chrono::nanoseconds idle,
                                                const std::map<uint32_t, BpfLink>& links) override {
    calls.push_back(fmt::format("sweep-conns {}s ({} links)",
                                std::chrono::duration_cast<std::chrono::seconds>(idle).count(), links.size()));
    return sweptIdle;
  }
  std::optional<BpfLinkStats> linkStats(uint32_t id) const override {
    auto it = stats.find(id);
    return it == stats.end() ? BpfLinkStats{} : it->second;
  }
  uint64_t endedPerTarget = 0;
  std::map<uint32_t, uint64_t> sweptIdle;  // what sweepConnections says it reset
  std::map<uint32_t, BpfLinkStats> stats;
  Status sweep(const std::string& ns, const BpfPlan& keep) override {
    return rec(fmt::format("sweep {} keeping {} links", ns, keep.links.size()));
  }
  Status unpin() override { return rec("unpin"); }

  // Index of the first call starting with prefix; calls.size() when none.
  size_t first(const std::string& prefix) const {
    for (size_t i = 0; i < calls.size(); ++i)
      if (calls[i].rfind(prefix, 0) == 0) return i;
    return calls.size();
  }
  size_t last(const std::string& prefix) const {
    for (size_t i = calls.size(); i-- > 0;)
      if (calls[i].rfind(prefix, 0) == 0) return i;
    return calls.size();
  }
  size_t count(const std::string& prefix) const {
    return static_cast<size_t>(
        std::count_if(calls.begin(), calls.end(), [&](const std::string& c) { return c.rfind(prefix, 0) == 0; }));
  }
};

class FakeSplice final : public DataplaneSink {
 public:
  std::map<std::string, HealthResult> healthNow;
  int applied = 0, ticks = 0;
  UpdateResult apply(const SnapshotDelta&) override {
    ++applied;
    return {};
  }
  std::map<std::string, HealthResult> health() override { return healthNow; }
  void tick() override { ++ticks; }
  void stop() override {}
};

class BpfSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lp-bpfsink-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    make();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void make() {
    auto splice = std::make_unique<FakeSplice>();
    auto exec = std::make_unique<FakeExecutor>();
    splice_ = splice.get();
    exec_ = exec.get();
    BpfSinkOptions opts;
    opts.stateDir = dir_;
    opts.sweepAfter = std::chrono::seconds(0);
    sink_ = std::make_unique<BpfFastPathSink>(std::move(splice), std::move(exec), opts);
    sink_->setWorkloads("lp-vpc-c", {{"lp-vpc-c", "10.0.1.10", "lp-vc", "lp-eni-c", "lp-br-c"}});
    sink_->setWorkloads("lp-vpc-p", {{"lp-vpc-p", "10.0.1.20", "lp-vt", "lp-eni-t", "lp-br-p"},
                                     {"lp-vpc-p", "10.0.1.21", "lp-vu", "lp-eni-u", "lp-br-p"}});
  }
  void put(const std::string& endpoint, std::vector<ListenerSpec> listeners) {
    SnapshotDelta d;
    d.endpoints[endpoint] = std::move(listeners);
    sink_->apply(d);
  }
  // Consumer and provider both on 10.0.0.0/16.
  void twoEndpoints() {
    put("vpce-a", {listener("vpce-a", "eni-a", "lp-vpc-c", "10.0.1.100", {target("10.0.1.20", "k20")})});
    put("vpce-b", {listener("vpce-b", "eni-b", "lp-vpc-c", "10.0.1.101", {target("10.0.1.21", "k21")})});
  }

  std::string dir_;
  FakeSplice* splice_ = nullptr;
  FakeExecutor* exec_ = nullptr;
  std::unique_ptr<BpfFastPathSink> sink_;
};

TEST_F(BpfSinkTest, WritesReachTheKernelInThePlansOrderAndTheLocalRuleMovesLast) {
  put("vpce-a", {listener("vpce-a", "eni-a", "lp-vpc-c", "10.0.1.100", {target("10.0.1.20")})});
  EXPECT_EQ(splice_->applied, 1);  // the forwarder still gets every delta
  const auto& e = *exec_;
  ASSERT_TRUE(sink_->failed().empty());
  // loads, pair, sysctls, rules, the local rule, routes, notrack, hosts, link,
  // targets, endpoint, attachments.
  std::vector<std::string> order = {"load", "pair", "sysctl",  "rule lp-vpc-c", "move-local", "route", "notrack",
                                    "host", "link", "cap",     "targets",       "endpoint",   "attach"};
  for (size_t i = 0; i + 1 < order.size(); ++i) {
    ASSERT_LT(e.first(order[i]), e.calls.size()) << order[i];
    EXPECT_LT(e.last(order[i]), e.first(order[i + 1])) << order[i] << " before " << order[i + 1];
  }
  // The rules at 100, 150 and 200 all exist before pref 0 goes.
  EXPECT_EQ(e.count("rule lp-vpc-c"), 3u);
  EXPECT_EQ(e.count("move-local lp-vpc-c"), 1u);
  EXPECT_EQ(e.count("move-local"), 1u);  // never in the provider's namespace
  EXPECT_EQ(e.count("load"), 2u);        // a copy per space
  EXPECT_EQ(e.count("attach"), 6u);      // lp-fc* both ways, lp-fp*, three workload veths
  EXPECT_EQ(e.count("route lp-vpc-c 10.0.1.100/32"), 1u);
  EXPECT_EQ(e.count("delete"), 0u);
  // The cap and limit the options give (10 Gbit/s and 50,000 by default).
  EXPECT_EQ(e.count(fmt::format("cap {} 1250000000 50000", sink_->applied().ids.links.at("eni-a"))), 1u);
  // Nothing changed: nothing written (and no ids file from before: nothing swept).
  exec_->calls.clear();
  sink_->tick();
  EXPECT_TRUE(exec_->calls.empty()) << exec_->calls.front();
}

TEST_F(BpfSinkTest, RemovalsGoInReverseAndTheLocalRuleComesBackBeforeItsReplacementsGo) {
  put("vpce-a", {listener("vpce-a", "eni-a", "lp-vpc-c", "10.0.1.100", {target("10.0.1.20")})});
  uint32_t id = sink_->applied().ids.links.at("eni-a");
  exec_->calls.clear();
  put("vpce-a", {});
  const auto& e = *exec_;
  std::vector<std::string> order = {"delete-endpoint", "delete-targets", "delete-link",  "delete-host",
                                    "detach",          "delete-route",   "restore-local", "delete-rule",
                                    "drop-notrack",    "unload",         "delete-pair"};
  for (size_t i = 0; i + 1 < order.size(); ++i) {
    ASSERT_LT(e.first(order[i]), e.calls.size()) << order[i];
    EXPECT_LT(e.last(order[i]), e.first(order[i + 1])) << order[i] << " before " << order[i + 1];
  }
  EXPECT_EQ(e.count(fmt::format("end {}", id)), 1u);  // stage 3's hook: the link's connections end
  // The freed id's cap state goes after its connections ended (their slots released).
  EXPECT_LT(e.first("end"), e.first(fmt::format("delete-cap {}", id)));
  EXPECT_LT(e.first(fmt::format("delete-cap {}", id)), e.first("delete-host"));
  EXPECT_TRUE(sink_->applied().links.empty());
  EXPECT_TRUE(sink_->applied().rules.empty());
}

// The kernel executor shares one netlink socket per namespace within a batch
// (bench/bpf/netlink_batch_bench measures it): every write of a diff must be in one.
TEST_F(BpfSinkTest, EachDiffRunsAsOneBatch) {
  exec_->batches = 0;
  twoEndpoints();
  put("vpce-a", {});
  EXPECT_EQ(exec_->batches, 3);
  EXPECT_FALSE(exec_->inBatch);
  EXPECT_GT(exec_->count("route"), 0u);
  EXPECT_GT(exec_->count("delete-route"), 0u);
  EXPECT_TRUE(exec_->outsideBatch.empty()) << exec_->outsideBatch.front();
}

TEST_F(BpfSinkTest, LinksRemovedTogetherEndTheirConnectionsInOneCall) {
  twoEndpoints();
  uint32_t a = sink_->applied().ids.links.at("eni-a"), b = sink_->applied().ids.links.at("eni-b");
  exec_->calls.clear();
  SnapshotDelta d;
  d.endpoints["vpce-a"] = {};
  d.endpoints["vpce-b"] = {};
  sink_->apply(d);
  EXPECT_EQ(exec_->count("end"), 1u);
  EXPECT_EQ(exec_->count(fmt::format("end {} {}", std::min(a, b), std::max(a, b))), 1u);
  // After the links' entries went (no new connection takes them), before the devices go.
  EXPECT_LT(exec_->last("delete-link"), exec_->first("end"));
  EXPECT_LT(exec_->first("end"), exec_->first("detach"));
}

TEST_F(BpfSinkTest, ARuleThatCannotBeAddedKeepsPrefZeroAndItsEndpointsOnSplice) {
  exec_->failOn = {"rule lp-vpc-c 150"};
  put("vpce-a", {listener("vpce-a", "eni-a", "lp-vpc-c", "10.0.1.100", {target("10.0.1.20")})});
  // pref 0 `lookup local` never left: the namespace keeps its own addresses local.
  EXPECT_EQ(exec_->count("move-local"), 0u);
  ASSERT_EQ(sink_->failed().count("vpce-a"), 1u);
  EXPECT_NE(sink_->failed().at("vpce-a").find("rule pref 150"), std::string::npos) << sink_->failed().at("vpce-a");
  // Whatever was written for it is taken back: no endpoint entry, no route.
  EXPECT_TRUE(sink_->applied().endpoints.empty());
  EXPECT_TRUE(sink_->applied().routes.empty());
  EXPECT_TRUE(sink_->applied().localRuleMoved.empty());
  EXPECT_GT(exec_->first("delete-route"), exec_->first("route"));
  // Status says why it is on splice.
  EXPECT_NE(sink_->statusJson().find("rule pref 150"), std::string::npos) << sink_->statusJson();
}

TEST_F(BpfSinkTest, AFailedWriteTakesOnlyItsEndpointBackToSplice) {
  exec_->failOn = {"endpoint 10.0.1.101"};
  twoEndpoints();
  EXPECT_EQ(sink_->failed().count("vpce-b"), 1u);
  EXPECT_EQ(sink_->failed().count("vpce-a"), 0u);
  const auto& p = sink_->applied();
  ASSERT_EQ(p.endpoints.size(), 1u);
  EXPECT_EQ(p.endpoints.begin()->first.addr, "10.0.1.100");
  EXPECT_EQ(p.links.size(), 1u);
  EXPECT_EQ(p.links.begin()->second.endpointId, "vpce-a");
  // vpce-b's route is gone again (its SYNs reach the local listener), vpce-a's stays.
  EXPECT_EQ(exec_->count("delete-route lp-vpc-c 10.0.1.101/32"), 1u);
  EXPECT_EQ(exec_->count("delete-route lp-vpc-c 10.0.1.100/32"), 0u);
  EXPECT_EQ(exec_->count("move-local"), 1u);
  EXPECT_EQ(exec_->count("restore-local"), 0u);
  // New listeners for it: tried again, and now it is written.
  exec_->failOn.clear();
  put("vpce-b", {listener("vpce-b", "eni-b", "lp-vpc-c", "10.0.1.101", {target("10.0.1.21"), target("10.0.1.20")})});
  EXPECT_TRUE(sink_->failed().empty());
  EXPECT_EQ(sink_->applied().endpoints.size(), 2u);
}

TEST_F(BpfSinkTest, AHealthChangeIsOneTargetsWrite) {
  twoEndpoints();
  uint32_t a = sink_->applied().ids.links.at("eni-a");
  // Both targets healthy, then vpce-a's turns unhealthy (fail open: still the only one, tier "any in zone").
  splice_->healthNow = {{"k20", {Health::kHealthy, "", ""}}, {"k21", {Health::kHealthy, "", ""}}};
  sink_->tick();
  exec_->calls.clear();
  splice_->healthNow["k20"].state = Health::kUnhealthy;
  sink_->tick();
  // One lp_targets write, then its connections end (the targets' default
  // terminateWhenUnhealthy), after the write: no new connection takes it meanwhile.
  ASSERT_EQ(exec_->calls.size(), 2u) << exec_->calls.front();
  EXPECT_EQ(exec_->calls[0], fmt::format("targets {} tier 4 10.0.1.20", a));
  EXPECT_EQ(exec_->calls[1], fmt::format("end-target {} 10.0.1.20:8080 (2 links)", a));
  EXPECT_EQ(splice_->ticks, 2);
}

TEST_F(BpfSinkTest, ATargetTurningUnhealthyLosesItsConnectionsOnlyOnTheTurnAndOnlyIfItsGroupSaysSo) {
  auto keep = target("10.0.1.21", "k21");
  keep.terminateWhenUnhealthy = false;  // connection_termination.enabled = false
  put("vpce-a", {listener("vpce-a", "eni-a", "lp-vpc-c", "10.0.1.100", {target("10.0.1.20", "k20"), keep})});
  uint32_t a = sink_->applied().ids.links.at("eni-a");
  splice_->healthNow = {{"k20", {Health::kHealthy, "", ""}}, {"k21", {Health::kHealthy, "", ""}}};
  sink_->tick();
  EXPECT_EQ(exec_->count("end-target"), 0u);
  exec_->endedPerTarget = 3;
  splice_->healthNow["k20"].state = Health::kUnhealthy;
  splice_->healthNow["k21"].state = Health::kUnhealthy;
  sink_->tick();
  EXPECT_EQ(exec_->count("end-target"), 1u);
  EXPECT_EQ(exec_->count(fmt::format("end-target {} 10.0.1.20:8080", a)), 1u);
  EXPECT_GT(exec_->first("end-target"), exec_->last("targets"));
  // Still unhealthy: nothing more (connections opened while failing open stay).
  sink_->tick();
  EXPECT_EQ(exec_->count("end-target"), 1u);
  // The three it ended count as resets on the interface and the endpoint.
  auto c = sink_->counters();
  EXPECT_EQ(c.interfaces["eni-a"].resets, 3u);
  EXPECT_EQ(c.endpoints["vpce-a"].resets, 3u);
}

TEST_F(BpfSinkTest, TheConnectionTableIsSweptEverySweepIntervalWithTheIdleTimeout) {
  BpfSinkOptions opts;
  opts.stateDir = dir_;
  opts.idleTimeout = std::chrono::seconds(7);
  opts.sweepEvery = std::chrono::seconds(0);
  auto exec = std::make_unique<FakeExecutor>();
  exec_ = exec.get();
  sink_ = std::make_unique<BpfFastPathSink>(std::make_unique<FakeSplice>(), std::move(exec), opts);
  sink_->tick();
  EXPECT_EQ(exec_->count("sweep-conns"), 0u);  // no link on the path: no walk
  sink_->setWorkloads("lp-vpc-c", {{"lp-vpc-c", "10.0.1.10", "lp-vc", "lp-eni-c", "lp-br-c"}});
  sink_->setWorkloads("lp-vpc-p", {{"lp-vpc-p", "10.0.1.20", "lp-vt", "lp-eni-t", "lp-br-p"}});
  put("vpce-a", {listener("vpce-a", "eni-a", "lp-vpc-c", "10.0.1.100", {target("10.0.1.20")})});
  sink_->tick();
  sink_->tick();
  EXPECT_EQ(exec_->count("sweep-conns 7s (1 links)"), 2u);
  // The default: 350 s, every 5 s, so not on a tick right after start.
  make();
  put("vpce-a", {listener("vpce-a", "eni-a", "lp-vpc-c", "10.0.1.100", {target("10.0.1.20")})});
  sink_->tick();
  EXPECT_EQ(exec_->count("sweep-conns"), 0u);
  EXPECT_EQ(BpfSinkOptions{}.idleTimeout, std::chrono::seconds(350));
}

TEST_F(BpfSinkTest, TheLinksCountersReachTheSamplerPerInterfaceAndPerEndpoint) {
  twoEndpoints();
  uint32_t a = sink_->applied().ids.links.at("eni-a"), b = sink_->applied().ids.links.at("eni-b");
  EXPECT_TRUE(sink_->counters().interfaces.empty());  // nothing read before a tick
  uint64_t before = sink_->activity();
  // 10 frames of 1514 bytes up and 5 of 66 down: IP bytes, as the conntrack path counts.
  exec_->stats[a] = BpfLinkStats{10, 15140, 5, 330, 2, 1, 4, 1};
  exec_->stats[b] = BpfLinkStats{1, 114, 0, 0, 1, 0, 0, 1};
  sink_->tick();
  auto c = sink_->counters();
  ASSERT_EQ(c.interfaces.size(), 2u);
  const auto& ia = c.interfaces.at("eni-a");
  EXPECT_EQ(ia.bytesIn, 15000u);
  EXPECT_EQ(ia.bytesOut, 260u);
  EXPECT_EQ(ia.connections, 2u);
  EXPECT_EQ(ia.active, 1u);
  EXPECT_EQ(ia.resets, 1u);
  EXPECT_EQ(ia.dropped, 4u);
  EXPECT_EQ(c.endpoints.at("vpce-b").bytesIn, 100u);
  EXPECT_EQ(c.endpoints.at("vpce-a"), ia);
  EXPECT_GT(sink_->activity(), before);
  // Read every two seconds, not every tick; unchanged figures leave activity alone.
  before = sink_->activity();
  exec_->stats[a].fwdBytes += 1000;
  sink_->tick();
  EXPECT_EQ(sink_->counters().interfaces.at("eni-a").bytesIn, 15000u);
  EXPECT_EQ(sink_->activity(), before);
}

TEST_F(BpfSinkTest, SpacesAndLinkIdsSurviveARestart) {
  twoEndpoints();
  BpfIds before = sink_->applied().ids;
  ASSERT_EQ(before.links.size(), 2u);
  // Another run: vpce-b alone first, so fresh numbering would give it vpce-a's id.
  make();
  put("vpce-b", {listener("vpce-b", "eni-b", "lp-vpc-c", "10.0.1.101", {target("10.0.1.21")})});
  EXPECT_EQ(sink_->applied().ids.links.at("eni-b"), before.links.at("eni-b"));
  EXPECT_EQ(sink_->applied().ids.spaces, before.spaces);
  // What the last run left beyond this plan (vpce-a's route, ...) is swept in both
  // of its namespaces, keeping the one link now wanted; a first run sweeps nothing.
  sink_->tick();
  EXPECT_EQ(exec_->count("sweep lp-vpc-c keeping 1 links"), 1u);
  EXPECT_EQ(exec_->count("sweep lp-vpc-p keeping 1 links"), 1u);
  EXPECT_EQ(exec_->count("sweep"), 2u);
  sink_->tick();
  EXPECT_EQ(exec_->count("sweep"), 2u);
  EXPECT_EQ(parseBpfIdsJson(bpfIdsJson(before)), before);
  EXPECT_TRUE(parseBpfIdsJson("not json").links.empty());
}

TEST_F(BpfSinkTest, ARestartWritesTheWholePlanAgainAndEndsNoConnection) {
  twoEndpoints();
  std::vector<std::string> first = exec_->calls;
  // A kill -9 and a start: the kernel executor adopted the maps the filters still
  // use, so the new run puts everything again (upserts) and replaces every filter,
  // and nothing may end a connection or delete an entry the kernel carries.
  make();
  twoEndpoints();
  for (const char* what : {"load", "pair", "host", "link", "cap", "targets", "endpoint", "attach"})
    EXPECT_EQ(exec_->count(what), static_cast<size_t>(std::count_if(first.begin(), first.end(), [&](const auto& c) {
                return c.rfind(what, 0) == 0;
              }))) << what;
  EXPECT_EQ(exec_->count("end "), 0u);  // endConnections ("endpoint" is a put)
  EXPECT_EQ(exec_->count("delete"), 0u);
  EXPECT_EQ(exec_->count("unpin"), 0u);
}

TEST_F(BpfSinkTest, TheStartUpSweepEndsWhatTheAdoptedMapsHoldForLinksNoLongerPlanned) {
  twoEndpoints();
  uint32_t a = sink_->applied().ids.links.at("eni-a"), b = sink_->applied().ids.links.at("eni-b");
  std::map<uint32_t, std::pair<uint32_t, uint32_t>> held;
  for (const auto& [id, l] : sink_->applied().links) held[id] = {l.consumerSpace, l.providerSpace};
  // A kill -9; the next run plans vpce-b only (vpce-a was deleted while no daemon
  // ran, or went back to splice). The maps it adopts still hold both links.
  make();
  exec_->linksHeld = held;
  put("vpce-b", {listener("vpce-b", "eni-b", "lp-vpc-c", "10.0.1.101", {target("10.0.1.21")})});
  ASSERT_EQ(exec_->count("delete"), 0u);
  ASSERT_EQ(exec_->count("drop-entries"), 0u);
  sink_->tick();
  // vpce-a's lp_endpoints and lp_targets entries (whose keys no ids file holds)
  // go first, so no new connection takes the link; then the link, its
  // connections, reset in its own namespaces as a delete's, then its cap.
  EXPECT_EQ(exec_->count(fmt::format("drop-entries {}", a)), 1u);
  EXPECT_EQ(exec_->count("drop-entries"), 1u);  // b's stay: it is planned
  EXPECT_EQ(exec_->count(fmt::format("delete-link {}", a)), 1u);
  EXPECT_EQ(exec_->count(fmt::format("end {}", a)), 1u);
  EXPECT_EQ(exec_->count(fmt::format("delete-cap {}", a)), 1u);
  EXPECT_LT(exec_->first("drop-entries"), exec_->first("delete-link"));
  EXPECT_LT(exec_->first("delete-link"), exec_->first("end "));
  EXPECT_LT(exec_->first("end "), exec_->first("delete-cap"));
  ASSERT_EQ(exec_->ended.count(a), 1u);
  EXPECT_EQ(exec_->ended.at(a).consumerNs, "lp-vpc-c");  // known: its clients and targets are reset
  EXPECT_EQ(exec_->ended.at(a).providerNs, "lp-vpc-p");
  EXPECT_EQ(exec_->count(fmt::format("delete-link {}", b)), 0u);
  EXPECT_EQ(exec_->count("end "), 1u);
  sink_->tick();  // once
  EXPECT_EQ(exec_->count("end "), 1u);
  EXPECT_EQ(exec_->count("drop-entries"), 1u);
}

TEST_F(BpfSinkTest, ALinkTheAdoptedMapsDoNotHoldEndsWithoutResets) {
  twoEndpoints();
  uint32_t a = sink_->applied().ids.links.at("eni-a");
  make();  // maps made afresh (linksHeld empty): nothing names the link's namespaces
  put("vpce-b", {listener("vpce-b", "eni-b", "lp-vpc-c", "10.0.1.101", {target("10.0.1.21")})});
  sink_->tick();
  EXPECT_EQ(exec_->count(fmt::format("drop-entries {}", a)), 1u);
  ASSERT_EQ(exec_->ended.count(a), 1u);
  EXPECT_EQ(exec_->ended.at(a).consumerNs, "");  // the executor resets no end it cannot place
}

TEST_F(BpfSinkTest, ACleanStopSweepsEveryNamespaceAndThenUnpins) {
  twoEndpoints();
  ASSERT_TRUE(std::filesystem::exists(bpfIdsPath(dir_)));
  exec_->calls.clear();
  sink_->stop();
  EXPECT_EQ(exec_->count("sweep lp-vpc-c keeping 0 links"), 1u);
  EXPECT_EQ(exec_->count("sweep lp-vpc-p keeping 0 links"), 1u);
  ASSERT_EQ(exec_->count("unpin"), 1u);
  EXPECT_GT(exec_->first("unpin"), exec_->last("sweep"));  // no filter left over unpinned maps
  EXPECT_FALSE(std::filesystem::exists(bpfIdsPath(dir_)));
}

TEST_F(BpfSinkTest, AStopWhoseSweepFailsKeepsThePinsAndTheIdsFile) {
  twoEndpoints();
  exec_->failOn = {"sweep lp-vpc-p"};
  sink_->stop();
  EXPECT_EQ(exec_->count("unpin"), 0u);
  EXPECT_TRUE(std::filesystem::exists(bpfIdsPath(dir_)));  // the next start sweeps again
}

TEST(BpfExecution, WithoutPrefZeroBackTheLocalRuleAt200Stays) {
  BpfInputs in;
  in.listeners = {listener("vpce-a", "eni-a", "lp-vpc-c", "10.0.1.100", {target("10.0.1.20")})};
  BpfPlan before = planBpf(in);
  BpfPlan after;
  FakeExecutor e;
  e.failOn = {"restore-local"};
  BpfExecution r = executeBpfDiff(before, after, diffBpfPlans(before, after), e);
  EXPECT_EQ(e.count("delete-rule lp-vpc-c 200"), 0u);
  EXPECT_EQ(e.count("delete-rule lp-vpc-c 100"), 0u);
  EXPECT_EQ(e.count("delete-rule lp-vpc-c 150"), 1u);  // the route table's rule may go
  EXPECT_TRUE(r.retry);
  EXPECT_EQ(r.applied.localRuleMoved.count("lp-vpc-c"), 1u);
}

}  // namespace
}  // namespace lp::reconciler
