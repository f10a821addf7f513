// net/ primitives against the real kernel: namespaces, bridges, veths, addresses,
// routes, sysctls and nftables tables. Needs root; everything lives in two namespaces
// (lp-tua-<pid>, lp-tub-<pid>), removed by the fixture even when an assertion fails.
#include <gtest/gtest.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "net/netlink.h"
#include "net/netns.h"
#include "net/nftables.h"
#include "../test_namespaces.h"

namespace lp::net {
namespace {

class NetPrimitivesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    a_ = lp::testenv::testNamespace("ua");
    b_ = lp::testenv::testNamespace("ub");
  }
  void TearDown() override {
    if (!a_.empty()) (void)deleteNamespace(a_);
    if (!b_.empty()) (void)deleteNamespace(b_);
  }
  std::string a_, b_;
};

TEST_F(NetPrimitivesTest, NamespaceIsCreatedListedAndDeletedIdempotently) {
  ASSERT_TRUE(createNamespace(a_).ok());
  ASSERT_TRUE(createNamespace(a_).ok());  // already there
  EXPECT_TRUE(namespaceExists(a_));
  auto names = listNamespaces(a_);
  EXPECT_EQ(names, std::vector<std::string>{a_});
  // `ip netns exec` sees it, and it is not the host's namespace (only lo inside).
  std::string cmd = "ip netns exec " + a_ + " ip -o link show | grep -vq ': lo:'";
  EXPECT_NE(system(cmd.c_str()), 0);
  ASSERT_TRUE(deleteNamespace(a_).ok());
  ASSERT_TRUE(deleteNamespace(a_).ok());
  EXPECT_FALSE(namespaceExists(a_));
}

// A test binary that crashed never ran its TearDown: the next test that asks for a
// namespace removes the ones of processes that are gone, and only those.
TEST_F(NetPrimitivesTest, NamespacesOfCrashedTestsAreRemovedAndLiveOnesKept) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    bool made = createNamespace("lp-tcrash-" + std::to_string(getpid())).ok();
    _exit(made ? 0 : 1);  // gone without cleaning up, as after a crash
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::string dead = "lp-tcrash-" + std::to_string(child);
  ASSERT_TRUE(namespaceExists(dead));
  std::string live = "lp-tlive-" + std::to_string(getppid());  // our parent outlives us
  ASSERT_TRUE(createNamespace(live).ok());
  std::string mine = lp::testenv::testNamespace("again");
  EXPECT_FALSE(namespaceExists(dead));
  EXPECT_TRUE(namespaceExists(live));
  (void)deleteNamespace(live);
  (void)deleteNamespace(dead);
  EXPECT_EQ(mine, "lp-tagain-" + std::to_string(getpid()));
}

TEST_F(NetPrimitivesTest, BridgeVethAddressesAndRouteCarryPings) {
  ASSERT_TRUE(createNamespace(a_).ok());
  ASSERT_TRUE(createNamespace(b_).ok());
  auto na = Netlink::open(a_);
  auto nb = Netlink::open(b_);
  ASSERT_TRUE(na.ok() && nb.ok());
  ASSERT_TRUE((*na)->setUp("lo").ok());
  ASSERT_TRUE((*na)->ensureBridge("lp-br-test").ok());
  ASSERT_TRUE((*na)->ensureBridge("lp-br-test").ok());
  ASSERT_TRUE((*na)->addAddress("lp-br-test", "10.9.1.1/24").ok());
  ASSERT_TRUE((*na)->addAddress("lp-br-test", "10.9.1.50/32").ok());
  ASSERT_TRUE((*na)->addAddress("lp-br-test", "10.9.1.50/32").ok());  // already there
  ASSERT_TRUE((*na)->ensureVeth("lp-vtest", b_, "eth0").ok());
  ASSERT_TRUE((*na)->setMaster("lp-vtest", "lp-br-test").ok());
  ASSERT_TRUE((*na)->setUp("lp-vtest").ok());
  ASSERT_TRUE((*nb)->addAddress("eth0", "10.9.1.10/24").ok());
  ASSERT_TRUE((*nb)->setUp("eth0").ok());
  ASSERT_TRUE((*nb)->setDefaultRoute("10.9.1.1").ok());

  auto addrs = (*na)->addresses("lp-br-test");
  ASSERT_TRUE(addrs.ok());
  EXPECT_EQ(*addrs, (std::vector<std::string>{"10.9.1.1/24", "10.9.1.50/32"}));
  EXPECT_EQ(*(*nb)->defaultRouteGateway(), "10.9.1.1");
  auto br = (*na)->link("lp-br-test");
  auto veth = (*na)->link("lp-vtest");
  ASSERT_TRUE(br.ok() && veth.ok());
  EXPECT_EQ(br->kind, "bridge");
  EXPECT_EQ(veth->masterIndex, br->index);

  // BIG TCP sizes round-trip (a kernel before 6.3 reports none: 0), and the socket
  // answers the next request after the dump that read them.
  auto before = (*na)->gsoIpv4MaxSize("lp-vtest");
  ASSERT_TRUE(before.ok()) << before.status().toString();
  ASSERT_TRUE((*na)->setGsoIpv4MaxSize("lp-vtest", 131072).ok());
  auto after = (*na)->gsoIpv4MaxSize("lp-vtest");
  ASSERT_TRUE(after.ok()) << after.status().toString();
  if (*before != 0) {
    EXPECT_EQ(*before, 65536u);
    EXPECT_EQ(*after, 131072u);
    EXPECT_EQ(*(*na)->gsoIpv4MaxSize("lp-br-test"), 65536u);  // only the link asked for
  }
  EXPECT_TRUE((*na)->link("lp-vtest").ok());

  // No ping on this host: a TCP SYN to a closed port answered by RST proves the path.
  std::string reach = "ip netns exec " + b_ +
                      " /usr/bin/python3 -c \"import socket,sys;s=socket.socket();s.settimeout(2)\n"
                      "try: s.connect(('10.9.1.50',9))\nexcept ConnectionRefusedError: sys.exit(0)\n\"";
  EXPECT_EQ(system(reach.c_str()), 0);

  ASSERT_TRUE((*na)->removeAddress("lp-br-test", "10.9.1.50/32").ok());
  EXPECT_EQ(*(*na)->addresses("lp-br-test"), std::vector<std::string>{"10.9.1.1/24"});
  ASSERT_TRUE((*na)->deleteLink("lp-vtest").ok());
  EXPECT_FALSE((*nb)->link("eth0").ok());  // the peer went with it
}

// Policy routing: a rule sends what enters by one device to a table of its own,
// whose routes (a gateway, a device, a blackhole) round-trip and decide where a
// real packet goes; add and delete are idempotent.
TEST_F(NetPrimitivesTest, RulesAndTableRoutesRoundTripAndSteerPackets) {
  ASSERT_TRUE(createNamespace(a_).ok());
  ASSERT_TRUE(createNamespace(b_).ok());
  auto na = Netlink::open(a_);
  auto nb = Netlink::open(b_);
  ASSERT_TRUE(na.ok() && nb.ok());
  Netlink& a = **na;
  ASSERT_TRUE(a.setUp("lo").ok());
  ASSERT_TRUE(a.ensureVeth("lp-vrt", b_, "eth0").ok());
  ASSERT_TRUE(a.addAddress("lp-vrt", "10.9.2.1/24").ok());
  ASSERT_TRUE(a.setUp("lp-vrt").ok());
  ASSERT_TRUE((*nb)->addAddress("eth0", "10.9.2.10/24").ok());
  ASSERT_TRUE((*nb)->setUp("eth0").ok());
  ASSERT_TRUE((*nb)->setDefaultRoute("10.9.2.1").ok());

  RuleInfo rule{1000, "lp-vrt", 77};
  ASSERT_TRUE(a.addRule(rule).ok());
  ASSERT_TRUE(a.addRule(rule).ok());  // already there
  auto rules = a.rules();
  ASSERT_TRUE(rules.ok()) << rules.status().toString();
  EXPECT_EQ(std::count(rules->begin(), rules->end(), rule), 1);
  EXPECT_NE(std::find(rules->begin(), rules->end(), RuleInfo{0, "", 255}), rules->end());  // the local table's

  RouteInfo via{77, "10.20.0.0/16", "10.9.2.10", "lp-vrt", false};
  RouteInfo hole{77, "10.30.0.0/16", "", "", true};
  ASSERT_TRUE(a.replaceRoute(via).ok());
  ASSERT_TRUE(a.replaceRoute(hole).ok());
  auto routes = a.routes(77);
  ASSERT_TRUE(routes.ok()) << routes.status().toString();
  EXPECT_EQ(*routes, (std::vector<RouteInfo>{via, hole}));
  EXPECT_TRUE(a.routes(RT_TABLE_MAIN)->size() >= 1u);  // the subnet's own, untouched

  // The rule decides for packets that enter by lp-vrt only: the namespace's own
  // lookup (main table) has no route to 10.20.0.0/16.
  auto get = [&](const std::string& args) {
    return testenv::commandOutput("ip -n " + a_ + " route get " + args + " 2>&1");
  };
  ASSERT_TRUE(setSysctl(a_, "net/ipv4/ip_forward", "1").ok());
  EXPECT_NE(get("10.20.1.1 from 10.9.2.10 iif lp-vrt").find("via 10.9.2.10"), std::string::npos);
  EXPECT_NE(get("10.20.1.1").find("unreachable"), std::string::npos) << get("10.20.1.1");

  // Replace moves the route; delete is idempotent.
  RouteInfo onLink{77, "10.20.0.0/16", "", "lp-vrt", false};
  ASSERT_TRUE(a.replaceRoute(onLink).ok());
  EXPECT_EQ(*a.routes(77), (std::vector<RouteInfo>{onLink, hole}));
  ASSERT_TRUE(a.deleteRoute(77, "10.30.0.0/16").ok());
  ASSERT_TRUE(a.deleteRoute(77, "10.30.0.0/16").ok());
  ASSERT_TRUE(a.deleteRoute(77, "10.20.0.0/16").ok());
  EXPECT_EQ(*a.routes(77), std::vector<RouteInfo>{});
  ASSERT_TRUE(a.deleteRule(rule).ok());
  ASSERT_TRUE(a.deleteRule(rule).ok());
  rules = a.rules();
  EXPECT_EQ(std::count(rules->begin(), rules->end(), rule), 0);
  EXPECT_FALSE(a.replaceRoute({77, "10.40.0.0/16", "", "lp-nosuch", false}).ok());
}

TEST_F(NetPrimitivesTest, SysctlAndSocketAreScopedToTheNamespace) {
  ASSERT_TRUE(createNamespace(a_).ok());
  ASSERT_TRUE(setSysctl(a_, "net/ipv4/ip_forward", "1").ok());
  EXPECT_EQ(*getSysctl(a_, "net/ipv4/ip_forward"), "1");
  ASSERT_TRUE(setSysctl(a_, "net/ipv4/ip_forward", "0").ok());
  EXPECT_EQ(*getSysctl(a_, "net/ipv4/ip_forward"), "0");

  auto nl = Netlink::open(a_);
  ASSERT_TRUE(nl.ok());
  ASSERT_TRUE((*nl)->ensureBridge("lp-br-sock").ok());
  ASSERT_TRUE((*nl)->addAddress("lp-br-sock", "10.9.8.1/24").ok());
  // The address exists only in the namespace: a socket made there may bind it,
  // one made in the host namespace may not.
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(0x0a090801);
  auto fd = socketInNamespace(a_, AF_INET, SOCK_STREAM);
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(bind(*fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  close(*fd);
  int host = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_NE(bind(host, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  close(host);
  EXPECT_FALSE(socketInNamespace("lp-no-such-ns", AF_INET, SOCK_STREAM).ok());
}

TEST_F(NetPrimitivesTest, NftablesTableIsAddedListedAndDeletedInTheNamespace) {
  ASSERT_TRUE(createNamespace(a_).ok());
  std::string add = R"({"nftables":[{"add":{"table":{"family":"inet","name":"lp-t"}}},
    {"add":{"chain":{"family":"inet","table":"lp-t","name":"input","type":"filter","hook":"input","prio":0,"policy":"accept"}}},
    {"add":{"rule":{"family":"inet","table":"lp-t","chain":"input","expr":[{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":"10.9.9.9"}},{"drop":null}]}}}]})";
  ASSERT_TRUE(nftRunJson(a_, add).ok());
  auto listed = nftQueryJson(a_, "list tables");
  ASSERT_TRUE(listed.ok());
  EXPECT_NE(listed->find("lp-t"), std::string::npos);
  std::string cmd = "ip netns exec " + a_ + " nft list table inet lp-t | grep -q 'ip saddr 10.9.9.9 drop'";
  EXPECT_EQ(system(cmd.c_str()), 0);
  ASSERT_TRUE(nftRunJson(a_, R"({"nftables":[{"delete":{"table":{"family":"inet","name":"lp-t"}}}]})").ok());
  EXPECT_EQ(nftQueryJson(a_, "list tables")->find("lp-t"), std::string::npos);
  // A malformed batch is an error, not a crash.
  EXPECT_FALSE(nftRunJson(a_, R"({"nftables":[{"add":{"nonsense":{}}}]})").ok());
}

}  // namespace
}  // namespace lp::net
