// The BPF fast path's connection-table policy (dataplane/bpf_sweep_plan.h) on
// entries laid out as fastpath.bpf.c's lp_link_out writes them. Pure: no root.
#include "dataplane/bpf_sweep_plan.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace lp::dataplane {
namespace {

constexpr uint32_t kConsumer = 1, kProvider = 2;
constexpr uint64_t kSec = 1'000'000'000ull;

uint32_t ip(const char* text) {
  in_addr a{};
  EXPECT_EQ(inet_pton(AF_INET, text, &a), 1) << text;
  return a.s_addr;
}

lp_fp_tuple tuple(const char* s, uint16_t sport, const char* d, uint16_t dport) {
  return lp_fp_tuple{ip(s), ip(d), htons(sport), htons(dport)};
}

// The two entries lp_link_out makes for client 10.0.1.5:<port> -> endpoint
// 10.0.1.100:80 on link, translated to node 10.0.2.200:<nodePort> -> target:8080.
struct Pair {
  BpfConnEntry consumer, provider;
};
Pair connection(uint32_t link, uint16_t port, const char* target = "10.0.2.10", uint64_t lastSeen = 100 * kSec,
                uint16_t nodePort = 0) {
  if (!nodePort) nodePort = port;
  Pair p;
  p.consumer.key = lp_fp_conn_key{kConsumer, tuple("10.0.1.5", port, "10.0.1.100", 80)};
  p.consumer.value.to = tuple("10.0.2.200", nodePort, target, 8080);
  p.consumer.value.link = link;
  p.consumer.value.dir = LP_FP_DIR_FWD;
  p.consumer.value.last_seen_ns = lastSeen;
  p.provider.key = lp_fp_conn_key{kProvider, tuple(target, 8080, "10.0.2.200", nodePort)};
  p.provider.value.to = tuple("10.0.1.100", 80, "10.0.1.5", port);
  p.provider.value.link = link;
  p.provider.value.dir = LP_FP_DIR_REV;
  p.provider.value.last_seen_ns = lastSeen;
  return p;
}

std::vector<BpfConnEntry> entries(std::initializer_list<Pair> pairs) {
  std::vector<BpfConnEntry> out;
  for (const auto& p : pairs) {
    out.push_back(p.provider);  // provider side first, as a hash walk may meet them
    out.push_back(p.consumer);
  }
  return out;
}

std::vector<uint16_t> clientPorts(const std::vector<BpfConnection>& conns) {
  std::vector<uint16_t> ports;
  for (const auto& c : conns) ports.push_back(ntohs(c.client.sport));
  std::sort(ports.begin(), ports.end());
  return ports;
}

TEST(BpfSweepPlan, TheTwoEntriesOfAConnectionArePairedAndNameBothEnds) {
  auto conns = pairBpfConnections(entries({connection(5, 40000, "10.0.2.10", 100, 41000)}));
  ASSERT_EQ(conns.size(), 1u);
  const BpfConnection& c = conns[0];
  EXPECT_EQ(c.link, 5u);
  ASSERT_TRUE(c.consumerKey && c.providerKey);
  EXPECT_EQ(c.consumerKey->space, kConsumer);
  EXPECT_EQ(c.providerKey->space, kProvider);
  EXPECT_EQ(c.keys().size(), 2u);
  // The client, reset from the consumer's namespace as if from the endpoint; the
  // target, from the provider's as if from the node's port it sees.
  net::TcpPeer client = bpfClientEnd(c), target = bpfTargetEnd(c);
  EXPECT_EQ(client, (net::TcpPeer{ntohl(ip("10.0.1.100")), 80, ntohl(ip("10.0.1.5")), 40000}));
  EXPECT_EQ(target, (net::TcpPeer{ntohl(ip("10.0.2.200")), 41000, ntohl(ip("10.0.2.10")), 8080}));
}

TEST(BpfSweepPlan, AConnectionIsIdleOnlyWhenNeitherSideSentForTheTimeout) {
  BpfSweepPolicy policy;
  policy.idleNs = 5 * kSec;
  Pair quiet = connection(5, 40000, "10.0.2.10", 100 * kSec);
  Pair kept = connection(5, 40001, "10.0.2.10", 100 * kSec);
  kept.provider.value.last_seen_ns = 104 * kSec;  // the target answered a keepalive probe
  Pair fresh = connection(5, 40002, "10.0.2.10", 104 * kSec);
  auto all = entries({quiet, kept, fresh});

  BpfSweepPlan early = planBpfSweep(all, 104 * kSec, policy);
  EXPECT_TRUE(early.idle.empty());
  BpfSweepPlan plan = planBpfSweep(all, 105 * kSec, policy);
  EXPECT_EQ(clientPorts(plan.idle), (std::vector<uint16_t>{40000}));
  EXPECT_TRUE(plan.closed.empty());
  ASSERT_EQ(plan.idle[0].keys().size(), 2u);  // both sides go together
  EXPECT_EQ(clientPorts(planBpfSweep(all, 109 * kSec, policy).idle), (std::vector<uint16_t>{40000, 40001, 40002}));
  // An entry touched after the sweeper read its clock is not idle (no wrap-around).
  Pair later = connection(5, 40003, "10.0.2.10", 200 * kSec);
  EXPECT_TRUE(planBpfSweep(entries({later}), 150 * kSec, policy).idle.empty());
}

TEST(BpfSweepPlan, FinBothWaysOrAResetClosesAfterTheLingerAndHalfClosedWaitsForIdle) {
  BpfSweepPolicy policy;
  policy.idleNs = 350 * kSec;
  Pair both = connection(5, 40000);
  both.consumer.value.seen = LP_FP_SEEN_FIN;
  both.provider.value.seen = LP_FP_SEEN_FIN;
  Pair half = connection(5, 40001);
  half.consumer.value.seen = LP_FP_SEEN_FIN;  // the client shut down writing; the target still sends
  Pair rst = connection(5, 40002);
  rst.provider.value.seen = LP_FP_SEEN_RST;
  auto all = entries({both, half, rst});

  EXPECT_TRUE(planBpfSweep(all, 100 * kSec + kBpfClosedLingerNs - 1, policy).closed.empty());  // the last ACK's time
  BpfSweepPlan plan = planBpfSweep(all, 100 * kSec + kBpfClosedLingerNs, policy);
  EXPECT_EQ(clientPorts(plan.closed), (std::vector<uint16_t>{40000, 40002}));
  EXPECT_TRUE(plan.idle.empty());
  EXPECT_EQ(clientPorts(planBpfSweep(all, 450 * kSec, policy).idle), (std::vector<uint16_t>{40001}));
}

TEST(BpfSweepPlan, AnEntryWithoutItsPartnerIsJudgedAlone) {
  BpfSweepPolicy policy;
  policy.idleNs = 5 * kSec;
  Pair a = connection(5, 40000);
  Pair b = connection(5, 40001);
  // b's provider side was taken over by a later connection on the same node port
  // (lp_link_out reuses it toward the same target): it names another client port.
  b.provider.value.to = tuple("10.0.1.100", 80, "10.0.1.5", 40009);
  b.provider.value.last_seen_ns = 200 * kSec;
  std::vector<BpfConnEntry> all = {a.consumer, b.consumer, b.provider};
  auto conns = pairBpfConnections(all);
  ASSERT_EQ(conns.size(), 3u);
  BpfSweepPlan plan = planBpfSweep(all, 150 * kSec, policy);
  ASSERT_EQ(plan.idle.size(), 2u);  // a's and b's consumer sides, alone; b's provider side is live
  for (const auto& c : plan.idle) {
    EXPECT_TRUE(c.consumerKey.has_value());
    EXPECT_FALSE(c.providerKey.has_value());
  }
  // A provider side alone still names its client, to be reset.
  std::vector<BpfConnEntry> lone = {a.provider};
  auto one = pairBpfConnections(lone);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(ntohs(one[0].client.sport), 40000);
  EXPECT_EQ(one[0].client.daddr, ip("10.0.1.100"));
}

TEST(BpfSweepPlan, EndingALinkTakesExactlyItsConnectionsAndATargetOnlyItsOwn) {
  auto all = entries({connection(5, 40000, "10.0.2.10"), connection(5, 40001, "10.0.2.11"),
                      connection(6, 40002, "10.0.2.10"), connection(7, 40003, "10.0.2.10")});
  BpfEndScope link5;
  link5.links = {5};
  EXPECT_EQ(clientPorts(planBpfEnd(all, link5)), (std::vector<uint16_t>{40000, 40001}));
  BpfEndScope twoLinks;
  twoLinks.links = {5, 7};
  EXPECT_EQ(clientPorts(planBpfEnd(all, twoLinks)), (std::vector<uint16_t>{40000, 40001, 40003}));
  BpfEndScope unhealthy;
  unhealthy.target = BpfEndScope::Target{5, ip("10.0.2.10"), 8080};
  auto ended = planBpfEnd(all, unhealthy);
  EXPECT_EQ(clientPorts(ended), (std::vector<uint16_t>{40000}));  // not link 6's to the same target
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].keys().size(), 2u);
  unhealthy.target->port = 9090;
  EXPECT_TRUE(planBpfEnd(all, unhealthy).empty());
}

// LinkUsage::recount's contract: only links that opened nothing across the walk,
// and only where the count is not what the table holds (consumer sides only).
TEST(BpfSweepPlan, ALiveCountIsCorrectedToTheTableOnlyWhenNoConnectionOpenedDuringTheWalk) {
  auto all = entries({connection(5, 40000), connection(5, 40001), connection(6, 40002)});
  all.push_back(connection(7, 40003).provider);  // link 7: a provider side alone (its consumer side evicted)
  std::vector<BpfLinkCount> counts = {
      {5, 10, 3, 10},  // one too many (an eviction or a lost compare-and-swap): to 2
      {6, 4, 1, 4},    // right: left alone
      {7, 2, 1, 2},    // no consumer side left: to 0
      {8, 7, 1, 8},    // opened one during the walk: judged next time
      {9, 0, 1, 0},    // none in the table at all: to 0
  };
  auto r = planBpfRecount(counts, all);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].link, 5u);
  EXPECT_EQ(r[0].seen, 3u);
  EXPECT_EQ(r[0].counted, 2u);
  EXPECT_EQ(r[1].link, 7u);
  EXPECT_EQ(r[1].counted, 0u);
  EXPECT_EQ(r[2].link, 9u);
  EXPECT_EQ(r[2].counted, 0u);
  // Too low is corrected too (a count that lets one connection past the limit).
  auto up = planBpfRecount({{5, 10, 1, 10}}, all);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].counted, 2u);
}

}  // namespace
}  // namespace lp::dataplane
