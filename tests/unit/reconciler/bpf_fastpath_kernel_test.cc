// The kernel BpfExecutor (root): its sweep in a scratch namespace (after a BPF-path
// run moved the local rule to 200 and routed an endpoint address to table 0x4c50,
// a sweep with nothing to keep gives the namespace back its pref 0 local rule and
// nothing else of the BPF path's, TCP early demux on again); its maps pinned per
// state directory, adopted by the next executor when the last one died without
// unpin(), removed by unpin().
#if LP_HAVE_BPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <filesystem>
#include <thread>

#include "net/bpf/bpf_fastpath.h"
#include "net/bpf/bpffs.h"
#include "net/bpf/fastpath_pins.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "reconciler/bpf_fastpath_kernel.h"
#include "../test_namespaces.h"

namespace lp::reconciler {
namespace {

// A state directory of its own, so the pins are this test's (pinDirectoryFor).
struct StateDir {
  std::string path;
  StateDir() {
    char tmpl[] = "/tmp/lp-bpfkexec-XXXXXX";
    path = mkdtemp(tmpl) ? tmpl : "";
  }
  ~StateDir() {
    (void)net::bpf::teardown(net::bpf::pinDirectoryFor(path));
    std::filesystem::remove_all(path);
  }
};

TEST(KernelBpfExecutor, SweepRestoresTheLocalRuleAndRemovesTheBpfRulesAndRoutes) {
  ASSERT_EQ(geteuid(), 0u) << "needs root";
  std::string ns = lp::testenv::testNamespace("bsw");
  ASSERT_TRUE(net::createNamespace(ns).ok());
  auto nl = net::Netlink::open(ns);
  ASSERT_TRUE(nl.ok());
  ASSERT_TRUE((*nl)->ensureVeth("lp-fcsweep", ns, "lp-fpsweep").ok());
  ASSERT_TRUE((*nl)->addAddress("lp-fcsweep", "169.254.0.2/31").ok());
  ASSERT_TRUE((*nl)->setUp("lp-fcsweep").ok());
  for (auto r : {net::RuleInfo{100, "lo", 255}, net::RuleInfo{150, "", 0x4c50}, net::RuleInfo{200, "", 255}})
    ASSERT_TRUE((*nl)->addRule(r).ok());
  ASSERT_TRUE((*nl)->deleteRule({0, "", 255}).ok());
  ASSERT_TRUE((*nl)->replaceRoute({0x4c50, "10.0.1.4/32", "169.254.0.3", "lp-fcsweep", false}).ok());
  ASSERT_TRUE(net::setSysctl(ns, "net/ipv4/tcp_early_demux", "0").ok());
  auto before = (*nl)->rules();
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->front().pref, 100u);

  StateDir state;
  auto exec = makeKernelBpfExecutor(state.path);
  ASSERT_TRUE(exec.ok()) << exec.status().toString();
  Status st = (*exec)->sweep(ns, {});
  EXPECT_TRUE(st.ok()) << st.toString();
  auto after = (*nl)->rules();
  ASSERT_TRUE(after.ok());
  std::vector<net::RuleInfo> want = {{0, "", 255}, {32766, "", 254}, {32767, "", 253}};
  EXPECT_EQ(*after, want);
  auto routes = (*nl)->routes(0x4c50);
  ASSERT_TRUE(routes.ok());
  EXPECT_TRUE(routes->empty());
  EXPECT_FALSE((*nl)->link("lp-fcsweep").ok());  // the pair went
  auto demux = net::getSysctl(ns, "net/ipv4/tcp_early_demux");
  ASSERT_TRUE(demux.ok());
  EXPECT_EQ(*demux, "1");  // early demux back on: no SYN forwarded past TIME_WAIT sockets any more
  nl->reset();
  (void)net::deleteNamespace(ns);
}

TEST(KernelBpfExecutor, AStartAdoptsTheMapsAKilledRunPinnedAndUnpinRemovesThem) {
  ASSERT_EQ(geteuid(), 0u) << "needs root";
  StateDir state;
  ASSERT_FALSE(state.path.empty());
  std::string pins = net::bpf::pinDirectoryFor(state.path);
  auto first = makeKernelBpfExecutor(state.path);
  ASSERT_TRUE(first.ok()) << first.status().toString();
  ASSERT_TRUE(std::filesystem::exists(pins + "/lp_conns"));
  // What the programs would have counted for link 3 before the kill.
  {
    auto maps = net::bpf::FastpathMaps::openPinned(pins);
    ASSERT_TRUE(maps.ok()) << maps.status().toString();
    int cpus = libbpf_num_possible_cpus();
    ASSERT_GT(cpus, 0);
    std::vector<lp_fp_link_stats> v(static_cast<size_t>(cpus));
    v[0].new_conns = 5;
    uint32_t link = 3;
    ASSERT_EQ(bpf_map_update_elem((*maps)->fd(net::bpf::FastpathMaps::kLinkStats), &link, v.data(), BPF_ANY), 0);
  }
  first->reset();  // a kill -9: no unpin

  auto second = makeKernelBpfExecutor(state.path);
  ASSERT_TRUE(second.ok()) << second.status().toString();
  auto stats = (*second)->linkStats(3);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->newConnections, 5u);  // the same maps, not fresh ones

  Status st = (*second)->unpin();
  EXPECT_TRUE(st.ok()) << st.toString();
  EXPECT_FALSE(std::filesystem::exists(pins));
  EXPECT_TRUE((*second)->linkStats(3).has_value());  // the maps live on while held
}

TEST(KernelBpfExecutor, AStartOnAnotherPathRemovesTheBpfRunsPins) {
  ASSERT_EQ(geteuid(), 0u) << "needs root";
  StateDir state;
  std::string pins = net::bpf::pinDirectoryFor(state.path);
  ASSERT_TRUE(makeKernelBpfExecutor(state.path).ok());
  ASSERT_TRUE(std::filesystem::exists(pins + "/lp_conns"));
  sweepBpfLeftovers(state.path);
  EXPECT_FALSE(std::filesystem::exists(pins));
}

uint32_t ip(const char* s) {
  in_addr a{};
  inet_pton(AF_INET, s, &a);
  return a.s_addr;
}

// A kernel executor on maps of its own, and those maps opened again through their
// pins, to write what the programs or a killed run would have.
class KernelBpfExecutorMaps : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "needs root";
    auto e = makeKernelBpfExecutor(state.path);
    ASSERT_TRUE(e.ok()) << e.status().toString();
    exec = std::move(e).value();
    auto m = net::bpf::FastpathMaps::openPinned(net::bpf::pinDirectoryFor(state.path));
    ASSERT_TRUE(m.ok()) << m.status().toString();
    maps = std::move(m).value();
  }
  StateDir state;
  std::unique_ptr<BpfExecutor> exec;
  std::unique_ptr<net::bpf::FastpathMaps> maps;
};

// After a kill -9 the adopted maps may hold a link whose endpoint went while no
// daemon ran: its lp_endpoints and lp_targets entries, whose keys nothing kept,
// must go with it, and no other link's.
TEST_F(KernelBpfExecutorMaps, TheEntriesOfLinksNoPlanHoldsGoAndNoOthers) {
  // What the killed run wrote: links 3 (gone since) and 4 (still planned).
  lp_fp_link l{};
  l.consumer_space = 7;
  l.provider_space = 9;
  l.active = 1;
  ASSERT_TRUE(maps->putLink(3, l).ok());
  ASSERT_TRUE(maps->putEndpoint(7, ip("10.0.1.100"), 443, 3).ok());
  ASSERT_TRUE(maps->putEndpoint(7, ip("10.0.1.100"), 80, 3).ok());
  ASSERT_TRUE(maps->putEndpoint(7, ip("10.0.1.101"), 443, 4).ok());
  ASSERT_TRUE(maps->putTargets(3, 443, 0, {lp_fp_target{ip("10.0.2.10"), htons(8080), 0}}).ok());
  ASSERT_TRUE(maps->putTargets(3, 80, 0, {lp_fp_target{ip("10.0.2.10"), htons(8081), 0}}).ok());
  ASSERT_TRUE(maps->putTargets(4, 443, 0, {lp_fp_target{ip("10.0.2.11"), htons(8080), 0}}).ok());

  auto spaces = exec->linkSpaces(3);
  ASSERT_TRUE(spaces.has_value());
  EXPECT_EQ(*spaces, (std::pair<uint32_t, uint32_t>{7, 9}));
  EXPECT_FALSE(exec->linkSpaces(5).has_value());  // a free slot

  Status st = exec->dropEntriesOfLinks({3});
  ASSERT_TRUE(st.ok()) << st.toString();
  auto endpointLink = [&](const char* addr, uint16_t port) -> std::optional<uint32_t> {
    lp_fp_endpoint_key k{7, ip(addr), htons(port), 0};
    lp_fp_endpoint v{};
    if (bpf_map_lookup_elem(maps->fd(net::bpf::FastpathMaps::kEndpoints), &k, &v) != 0) return std::nullopt;
    return v.link;
  };
  auto hasTargets = [&](uint32_t link, uint16_t port) {
    lp_fp_targets_key k{link, htons(port), 0};
    std::vector<uint8_t> v(4096);
    return bpf_map_lookup_elem(maps->fd(net::bpf::FastpathMaps::kTargets), &k, v.data()) == 0;
  };
  EXPECT_FALSE(endpointLink("10.0.1.100", 443).has_value());
  EXPECT_FALSE(endpointLink("10.0.1.100", 80).has_value());
  EXPECT_EQ(endpointLink("10.0.1.101", 443), std::optional<uint32_t>(4));
  EXPECT_FALSE(hasTargets(3, 443));
  EXPECT_FALSE(hasTargets(3, 80));
  EXPECT_TRUE(hasTargets(4, 443));
  EXPECT_TRUE(exec->unpin().ok());
}

// The sweep runs on the executor's own thread: the call that starts it returns
// at once, a later one collects what it did; the idle connection's entries go.
TEST_F(KernelBpfExecutorMaps, TheConnectionSweepRunsOffTheCallersThreadAndALaterCallCollectsIt) {
  // One connection of link 6, last seen at boot: idle for any timeout.
  lp_fp_tuple client{ip("10.0.1.5"), ip("10.0.1.100"), htons(40000), htons(443)};
  lp_fp_tuple target{ip("10.0.2.10"), ip("10.0.2.200"), htons(8080), htons(41000)};
  lp_fp_conn_key ck{1, client}, pk{2, target};
  lp_fp_conn cv{}, pv{};
  cv.to = {target.daddr, target.saddr, target.dport, target.sport};
  pv.to = {client.daddr, client.saddr, client.dport, client.sport};
  cv.link = pv.link = 6;
  cv.dir = LP_FP_DIR_FWD;
  pv.dir = LP_FP_DIR_REV;
  int fd = maps->fd(net::bpf::FastpathMaps::kConns);
  ASSERT_EQ(bpf_map_update_elem(fd, &ck, &cv, BPF_ANY), 0);
  ASSERT_EQ(bpf_map_update_elem(fd, &pk, &pv, BPF_ANY), 0);

  auto first = exec->sweepConnections(std::chrono::seconds(1), {});
  EXPECT_TRUE(first.empty());  // started; nothing finished before it
  std::map<uint32_t, uint64_t> collected;
  for (int i = 0; i < 200 && collected.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    collected = exec->sweepConnections(std::chrono::seconds(1), {});
  }
  EXPECT_EQ(collected, (std::map<uint32_t, uint64_t>{{6, 1}}));
  auto count = maps->connectionCount();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 0u);
  EXPECT_TRUE(exec->unpin().ok());  // waits for the sweep started by the last call
}

}  // namespace
}  // namespace lp::reconciler
#endif
