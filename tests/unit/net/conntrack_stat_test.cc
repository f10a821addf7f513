// The conntrack statistics the fast path watches for a full table: the `drop`
// column of /proc/net/stat/nf_conntrack (hexadecimal, one line per CPU).
#include <gtest/gtest.h>
#include <unistd.h>

#include "../test_namespaces.h"
#include "net/conntrack.h"
#include "net/netns.h"

namespace lp::net {
namespace {

TEST(ConntrackStat, DropColumnIsSummedOverCpus) {
  const std::string text =
      "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  "
      "expect_new expect_create expect_delete search_restart\n"
      "00000010  00000000 00000000 00000000 00000003 00000000 00000000 00000000 00000000 00000000 0000000a 00000001 "
      "00000000  00000000 00000000 00000000 00000000\n"
      "00000010  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000005 00000000 "
      "00000000  00000000 00000000 00000000 00000000\n";
  EXPECT_EQ(parseConntrackStatDrops(text), 15u);
  EXPECT_EQ(parseConntrackStatDrops(""), 0u);
  EXPECT_EQ(parseConntrackStatDrops("entries found\n00000001 00000002\n"), 0u);  // no drop column
}

TEST(ConntrackStat, AFreshNamespaceHasDroppedNothing) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string ns = testenv::testNamespace("cts");
  ASSERT_TRUE(createNamespace(ns).ok());
  auto drops = conntrackTableFullDrops(ns);
  (void)deleteNamespace(ns);
  ASSERT_TRUE(drops.ok()) << drops.status().toString();
  EXPECT_EQ(*drops, 0u);
}

}  // namespace
}  // namespace lp::net
