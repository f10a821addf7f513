// The kernel BpfExecutor (root): its sweep in a scratch namespace (after a BPF-path
// run moved the local rule to 200 and routed an endpoint address to table 0x4c50,
// a sweep with nothing to keep gives the namespace back its pref 0 local rule and
// nothing else of the BPF path's); its maps pinned per state directory, adopted by
// the next executor when the last one died without unpin(), removed by unpin().
#if LP_HAVE_BPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

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

}  // namespace
}  // namespace lp::reconciler
#endif
