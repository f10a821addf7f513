// The kernel BpfExecutor's sweep in a scratch namespace (root): after a BPF-path
// run moved the local rule to 200 and routed an endpoint address to table 0x4c50,
// a sweep with nothing to keep gives the namespace back its pref 0 local rule and
// nothing else of the BPF path's (TCP early demux on again).
#if LP_HAVE_BPF
#include <gtest/gtest.h>
#include <unistd.h>

#include "net/netlink.h"
#include "net/netns.h"
#include "reconciler/bpf_fastpath_kernel.h"
#include "../test_namespaces.h"

namespace lp::reconciler {
namespace {

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

  auto exec = makeKernelBpfExecutor();
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

}  // namespace
}  // namespace lp::reconciler
#endif
