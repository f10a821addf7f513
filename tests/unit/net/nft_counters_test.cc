// net::nftCounters against the real kernel: named counters of one table read over
// nfnetlink, as the data plane reads every consumer namespace's figures. Needs
// root; the namespace carries the pid (test_namespaces.h).
#include "net/nft_counters.h"

#include <gtest/gtest.h>
#include <linux/netfilter.h>
#include <unistd.h>

#include <string>

#include "../test_namespaces.h"
#include "net/netns.h"
#include "net/nft_runner.h"

namespace lp::net {
namespace {

class NftCountersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    ns_ = testenv::testNamespace("nc");
    (void)deleteNamespace(ns_);
    ASSERT_TRUE(createNamespace(ns_).ok());
  }
  void TearDown() override {
    if (!ns_.empty()) (void)deleteNamespace(ns_);
  }
  void nft(const std::string& cmd) {
    auto out = NftRunner::shared().run(ns_, cmd);
    ASSERT_TRUE(out.ok()) << cmd << ": " << out.status().toString();
  }
  std::string ns_;
};

TEST_F(NftCountersTest, ReadsTheNamedCountersOfOneTableOnly) {
  nft("add table ip lp-tc; add counter ip lp-tc in { packets 5 bytes 300 }; add counter ip lp-tc out;"
      "add table inet lp-tc; add counter inet lp-tc other { packets 9 bytes 9 };"
      "add table ip lp-tx; add counter ip lp-tx stranger { packets 1 bytes 1 }");
  auto r = nftCounters(ns_, NFPROTO_IPV4, "lp-tc");
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_NE(r->tableHandle, 0u);
  ASSERT_EQ(r->counters.size(), 2u);
  EXPECT_EQ(r->counters.at("in"), (NftCounter{300, 5}));
  EXPECT_EQ(r->counters.at("out"), (NftCounter{0, 0}));
  // The inet table of the same name is another table.
  auto inet = nftCounters(ns_, NFPROTO_INET, "lp-tc");
  ASSERT_TRUE(inet.ok()) << inet.status().toString();
  ASSERT_EQ(inet->counters.size(), 1u);
  EXPECT_EQ(inet->counters.at("other"), (NftCounter{9, 9}));
}

TEST_F(NftCountersTest, AMissingTableIsNotFoundAndATableMadeAgainHasANewHandle) {
  auto none = nftCounters(ns_, NFPROTO_IPV4, "lp-tc");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), "NotFound");
  nft("add table ip lp-tc; add counter ip lp-tc c { packets 7 bytes 70 }");
  auto first = nftCounters(ns_, NFPROTO_IPV4, "lp-tc");
  ASSERT_TRUE(first.ok());
  nft("delete table ip lp-tc; add table ip lp-tc; add counter ip lp-tc c");
  auto second = nftCounters(ns_, NFPROTO_IPV4, "lp-tc");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(first->tableHandle, second->tableHandle);
  EXPECT_EQ(second->counters.at("c"), (NftCounter{0, 0}));
}

TEST_F(NftCountersTest, ReadsThousandsOfCountersAcrossManyAnswers) {
  // A dump larger than one receive buffer (64 KiB) comes in several reads.
  std::string cmd = "add table ip lp-tc;";
  for (int i = 0; i < 3000; ++i)
    cmd += " add counter ip lp-tc c" + std::to_string(i) + " { packets " + std::to_string(i) + " bytes 1 };";
  nft(cmd);
  auto r = nftCounters(ns_, NFPROTO_IPV4, "lp-tc");
  ASSERT_TRUE(r.ok()) << r.status().toString();
  ASSERT_EQ(r->counters.size(), 3000u);
  EXPECT_EQ(r->counters.at("c2999").packets, 2999u);
  EXPECT_EQ(r->counters.at("c0").packets, 0u);
}

}  // namespace
}  // namespace lp::net
