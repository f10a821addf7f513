// The kernel fast path's plan: which endpoints it carries, link addresses, target
// tiers, and (as root) that the nft commands it writes are accepted by this
// kernel and carry a connection between two VPCs using the same addresses, with
// conntrack deletion ending it.
#include "dataplane/fastpath_plan.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "net/conntrack.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "net/nft_runner.h"
#include "../test_namespaces.h"

namespace lp::dataplane {
namespace {

TargetSpec target(const std::string& ip, const std::string& zone, const std::string& key = "") {
  TargetSpec t;
  t.healthKey = key;
  t.ns = "lp-vpc-p";
  t.sourceIp = "10.0.1.5";
  t.ip = ip;
  t.port = 8080;
  t.zoneId = zone;
  return t;
}

ListenerSpec listener(int port, std::vector<TargetSpec> targets) {
  ListenerSpec l;
  l.endpointId = "vpce-0123456789abcdef0";
  l.interfaceId = "eni-0123456789abcdef0";
  l.zoneId = "use1-az1";
  l.ns = "lp-vpc-c";
  l.ip = "10.0.1.50";
  l.port = port;
  l.forwarding = true;
  l.targets = std::move(targets);
  return l;
}

TEST(FastPathPlan, OnlyPlainTcpBetweenTwoVpcsGoesThroughTheKernel) {
  EXPECT_EQ(fastPathRefusal({listener(443, {target("10.0.1.20", "use1-az1")})}), "");
  auto proxy = target("10.0.1.20", "use1-az1");
  proxy.proxyProtocolV2 = true;
  EXPECT_EQ(fastPathRefusal({listener(443, {proxy})}), "PROXY protocol v2");
  auto host = target("10.0.1.20", "use1-az1");
  host.ns = "";
  EXPECT_NE(fastPathRefusal({listener(443, {host})}), "");
  auto own = target("10.0.1.20", "use1-az1");
  own.ns = "lp-vpc-c";
  EXPECT_EQ(fastPathRefusal({listener(443, {own})}), "target in the consumer's own VPC");
  EXPECT_EQ(fastPathRefusal({listener(443, {})}), "no targets");
  auto pending = listener(443, {target("10.0.1.20", "use1-az1")});
  pending.forwarding = false;
  EXPECT_EQ(fastPathRefusal({pending}), "not forwarding");
  EXPECT_EQ(fastPathRefusal({}), "no listeners");
  auto acl = listener(443, {target("10.0.1.20", "use1-az1")});
  acl.statelessAcls = true;
  EXPECT_NE(fastPathRefusal({acl}).find("network ACL"), std::string::npos);
}

TEST(FastPathPlan, LinkAddressesAreASlash31PerLinkOutsideTheMetadataRange) {
  EXPECT_EQ(linkAddresses(1).consumer, "169.254.0.2");
  EXPECT_EQ(linkAddresses(1).provider, "169.254.0.3");
  EXPECT_EQ(linkAddresses(200).consumer, "169.254.1.144");
  EXPECT_FALSE(usableLinkId(0));
  EXPECT_FALSE(usableLinkId(kMaxLinkId + 1));
  EXPECT_TRUE(usableLinkId(kMaxLinkId));
  for (uint32_t id = 1; id <= kMaxLinkId; ++id)
    if (usableLinkId(id)) {
      ASSERT_EQ(linkAddresses(id).consumer.rfind("169.254.169.", 0), std::string::npos) << id;
    }
  EXPECT_EQ(linkMark(7), 0x4c500007u);
  // One veth pair per (consumer VPC, provider VPC): each end named after the other
  // side's VPC, so a namespace holds one end per VPC it is paired with.
  auto names = pairLinkNames("lp-vpc-0123456789abcdef0", "lp-vpc-0fedcba9876543210");
  EXPECT_EQ(names.consumer, "lp-fc9876543210");
  EXPECT_EQ(names.provider, "lp-fp789abcdef0");
  EXPECT_NE(pairLinkNames("lp-vpc-0123456789abcdef0", "lp-vpc-0fedcba9876543211").consumer, names.consumer);
}

TEST(FastPathPlan, TierIsZoneFirstHealthyOnlyAndFailsOpen) {
  std::vector<TargetSpec> ts = {target("10.0.1.20", "use1-az1", "a"), target("10.0.1.21", "use1-az2", "b"),
                                target("10.0.1.22", "use1-az1", "c")};
  using H = Health;
  auto ips = [](const std::vector<TargetSpec>& v) {
    std::string s;
    for (const auto& t : v) s += t.ip + " ";
    return s;
  };
  EXPECT_EQ(ips(currentTier(ts, "use1-az1", {{"a", H::kHealthy}, {"b", H::kHealthy}, {"c", H::kHealthy}})),
            "10.0.1.20 10.0.1.22 ");
  EXPECT_EQ(ips(currentTier(ts, "use1-az1", {{"a", H::kUnhealthy}, {"b", H::kHealthy}, {"c", H::kHealthy}})),
            "10.0.1.22 ");
  EXPECT_EQ(ips(currentTier(ts, "use1-az1", {{"a", H::kUnhealthy}, {"b", H::kHealthy}, {"c", H::kUnhealthy}})),
            "10.0.1.21 ");
  // Nothing healthy: targets still in their first checks, zone first.
  EXPECT_EQ(ips(currentTier(ts, "use1-az1", {{"a", H::kUnhealthy}, {"b", H::kUnhealthy}})), "10.0.1.22 ");
  // Nothing healthy or initial: every target of the zone (an NLB fails open).
  EXPECT_EQ(ips(currentTier(ts, "use1-az2", {{"a", H::kUnhealthy}, {"b", H::kUnhealthy}, {"c", H::kUnhealthy}})),
            "10.0.1.21 ");
}

TEST(FastPathPlan, CommandsTranslateBothSidesAndAPortWithoutTargetsHasNoRule) {
  auto links = fastLinks({listener(443, {target("10.0.1.20", "use1-az1"), target("10.0.1.21", "use1-az1")}),
                          listener(80, {target("10.0.1.20", "use1-az1")})});
  ASSERT_EQ(links.size(), 1u);
  const auto& f = links[0];
  EXPECT_EQ(f.sourceIp, "10.0.1.5");
  EXPECT_EQ(f.providerNs, "lp-vpc-p");
  std::string c = consumerLinkCommands(f, 1, 1'250'000'000, 100);
  EXPECT_NE(c.find("tcp dport { 80, 443 } ct mark set 0x4c500001 ct timeout set \"idle\" dnat to 169.254.0.3"),
            std::string::npos)
      << c;
  EXPECT_NE(c.find("rate over 1250000000 bytes/second"), std::string::npos);
  std::string p = providerLinkCommands(f, 1, {{443, f.targetsByPort.at(443)}, {80, {}}});
  EXPECT_NE(p.find("dnat ip to jhash ip saddr . tcp sport mod 2 map { 0 : 10.0.1.20 . 8080, 1 : 10.0.1.21 . 8080 }"),
            std::string::npos)
      << p;
  EXPECT_EQ(p.find("tcp dport 80 "), std::string::npos) << p;
  // The connection limit per link: counted per mark, refused with a reset, counted.
  std::string table = fastTableCommands(350, 100);
  EXPECT_NE(table.find("add set ip lp-fast conns-100 { type ipv4_addr; flags dynamic;"), std::string::npos) << table;
  EXPECT_NE(table.find("fp-lim tcp flags & (syn|ack) == syn ct state new ip daddr vmap @lim"), std::string::npos);
  EXPECT_EQ(fastTableCommands(350, 0).find("vmap @lim"), std::string::npos);
  EXPECT_NE(c.find("add rule ip lp-fast l-1 add @conns-100 { ip daddr ct count over 100 } counter name \"full-1\" "
                   "reject with tcp reset"),
            std::string::npos)
      << c;
  EXPECT_EQ(consumerLinkCommands(f, 1, 0, 0).find("ct count"), std::string::npos);
}

TEST(FastPathPlan, ElementResetsNameEveryMapKeyALinkGivesANewValue) {
  auto f = fastLinks({listener(443, {target("10.0.1.20", "use1-az1")})})[0];
  auto c = elementResets(consumerLinkCommands(f, 7, 0, 0));
  EXPECT_EQ(c, (std::vector<std::string>{"delete element ip lp-fast src-of { 0x4c500007 }\n",
                                         "delete element ip lp-fast lim { 10.0.1.50 }\n",
                                         "delete element ip lp-fast eps { 10.0.1.50 }\n"}));
  auto p = elementResets(providerLinkCommands(f, 7, f.targetsByPort));
  EXPECT_EQ(p, (std::vector<std::string>{"delete element ip lp-fast src-of { 0x4c500007 }\n",
                                         "delete element ip lp-fast plinks { 169.254.0.15 }\n"}));
  EXPECT_TRUE(elementResets("").empty());
}

// As root: two namespaces with the same subnet (10.0.1.0/24), a workload in each
// (client 10.0.1.10 in the consumer's, server 10.0.1.20 in the provider's), the
// link and tables exactly as planned. The server sees the node address; deleting
// the link's conntrack entries ends the connection (the client gets a reset).
class FastPathKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    for (const char* tag : {"fpc", "fpp", "fpw", "fpt"}) names_.push_back(testenv::testNamespace(tag));
    for (const auto& n : names_) ASSERT_TRUE(net::createNamespace(n).ok());
  }
  void TearDown() override {
    for (const auto& n : names_) (void)net::deleteNamespace(n);
  }
  // A VPC namespace with bridge br0 holding 10.0.1.1/24 (and extra), a workload
  // namespace on it with address ip.
  void vpc(const std::string& ns, const std::string& workload, const std::string& ip, const std::string& extra) {
    auto nl = net::Netlink::open(ns);
    ASSERT_TRUE(nl.ok());
    ASSERT_TRUE((*nl)->setUp("lo").ok());
    ASSERT_TRUE((*nl)->ensureBridge("br0").ok());
    ASSERT_TRUE((*nl)->addAddress("br0", "10.0.1.1/24").ok());
    if (!extra.empty()) {
      ASSERT_TRUE((*nl)->addAddress(extra == "10.0.1.50/32" ? "lo" : "br0", extra).ok());
    }
    ASSERT_TRUE((*nl)->ensureVeth("wv", workload, "eth0").ok());
    ASSERT_TRUE((*nl)->setMaster("wv", "br0").ok());
    ASSERT_TRUE((*nl)->setUp("wv").ok());
    ASSERT_TRUE(net::setSysctl(ns, "net/ipv4/ip_forward", "1").ok());
    auto wl = net::Netlink::open(workload);
    ASSERT_TRUE(wl.ok());
    ASSERT_TRUE((*wl)->setUp("lo").ok());
    ASSERT_TRUE((*wl)->addAddress("eth0", ip + "/24").ok());
    ASSERT_TRUE((*wl)->setUp("eth0").ok());
    ASSERT_TRUE((*wl)->setDefaultRoute("10.0.1.1").ok());
  }
  // Both VPCs, the link with id and both sides' tables and translation, as
  // FastPathSink makes them.
  FastLink link(uint32_t id, uint32_t maxConnections) {
    const std::string &c = names_[0], &p = names_[1], &w = names_[2], &t = names_[3];
    vpc(c, w, "10.0.1.10", "10.0.1.50/32");
    vpc(p, t, "10.0.1.20", "10.0.1.5/24");
    ListenerSpec l = listener(443, {target("10.0.1.20", "use1-az1")});
    l.ns = c;
    l.targets[0].ns = p;
    auto f = fastLinks({l})[0];
    auto names = pairLinkNames(c, p);
    auto cnl = net::Netlink::open(c);
    EXPECT_TRUE(cnl.ok());
    EXPECT_TRUE((*cnl)->ensureVeth(names.consumer, p, names.provider).ok());
    EXPECT_TRUE((*cnl)->setUp(names.consumer).ok());
    auto pnl = net::Netlink::open(p);
    EXPECT_TRUE((*pnl)->setUp(names.provider).ok());
    auto& nft = net::NftRunner::shared();
    for (const auto& ns : {c, p}) {
      auto r = nft.run(ns, fastTableCommands(350, maxConnections));
      EXPECT_TRUE(r.ok()) << r.status().toString();
      // Idempotent: a restarted daemon writes it again over what is in place.
      EXPECT_TRUE(nft.run(ns, fastTableCommands(350, maxConnections)).ok());
    }
    addLink(f, id, maxConnections);
    EXPECT_TRUE(nft.run(c, consumerLinkCommands(f, id, 1'250'000'000, maxConnections)).ok());
    return f;
  }
  // Another link on the VPC pair's veth: its /31 on both ends, both sides' translation.
  void addLink(const FastLink& f, uint32_t id, uint32_t maxConnections) {
    const std::string &c = names_[0], &p = names_[1];
    auto names = pairLinkNames(c, p);
    auto cnl = net::Netlink::open(c);
    auto pnl = net::Netlink::open(p);
    ASSERT_TRUE(cnl.ok() && pnl.ok());
    EXPECT_TRUE((*cnl)->addAddress(names.consumer, linkAddresses(id).consumer + "/31").ok());
    EXPECT_TRUE((*pnl)->addAddress(names.provider, linkAddresses(id).provider + "/31").ok());
    auto& nft = net::NftRunner::shared();
    auto r = nft.run(p, providerLinkCommands(f, id, f.targetsByPort));
    EXPECT_TRUE(r.ok()) << r.status().toString();
    r = nft.run(c, consumerLinkCommands(f, id, 0, maxConnections));
    EXPECT_TRUE(r.ok()) << r.status().toString();
  }
  std::vector<std::string> names_;
};

sockaddr_in addr(const char* ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

// A listening socket on port in namespace ns (the target), or -1.
int listenIn(const std::string& ns, int port) {
  auto fd = net::socketInNamespace(ns, AF_INET, SOCK_STREAM);
  if (!fd.ok()) return -1;
  int one = 1;
  setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto sa = addr("0.0.0.0", port);
  if (bind(*fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(*fd, 8) != 0) {
    close(*fd);
    return -1;
  }
  return *fd;
}

TEST_F(FastPathKernelTest, OverlappingVpcsTalkThroughTheLinkAndAConntrackCutResetsTheClient) {
  const std::string &c = names_[0], &p = names_[1], &w = names_[2], &t = names_[3];
  const uint32_t id = 5;
  link(id, 50'000);
  if (HasFailure()) return;
  auto& nft = net::NftRunner::shared();

  int server = listenIn(t, 8080);
  ASSERT_GE(server, 0);
  auto client = net::socketInNamespace(w, AF_INET, SOCK_STREAM);
  ASSERT_TRUE(client.ok());
  timeval tv{3, 0};
  setsockopt(*client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(*client, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  auto dst = addr("10.0.1.50", 443);
  ASSERT_EQ(connect(*client, reinterpret_cast<sockaddr*>(&dst), sizeof dst), 0) << std::strerror(errno);
  sockaddr_in peer{};
  socklen_t len = sizeof peer;
  int conn = accept(server, reinterpret_cast<sockaddr*>(&peer), &len);
  ASSERT_GE(conn, 0);
  char ip[32];
  inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
  EXPECT_STREQ(ip, "10.0.1.5");  // the node address, never the consumer's 10.0.1.10
  ASSERT_EQ(send(conn, "hi", 2, 0), 2);
  char buf[8] = {};
  ASSERT_EQ(recv(*client, buf, sizeof buf, 0), 2);
  EXPECT_STREQ(buf, "hi");

  auto entries = net::conntrackDump(c, linkMark(id), 0xffffffff);
  ASSERT_TRUE(entries.ok()) << entries.status().toString();
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_TRUE((*entries)[0].open());
  auto counters = nft.run(c, "list counters table ip lp-fast");
  ASSERT_TRUE(counters.ok());
  EXPECT_NE(counters->find("\"name\": \"new-5\""), std::string::npos) << *counters;

  // The provider cannot open a connection into the consumer through the link.
  auto back = net::socketInNamespace(t, AF_INET, SOCK_STREAM);
  ASSERT_TRUE(back.ok());
  timeval shortTv{1, 0};
  setsockopt(*back, SOL_SOCKET, SO_SNDTIMEO, &shortTv, sizeof shortTv);
  auto link = addr(linkAddresses(id).consumer.c_str(), 443);
  EXPECT_NE(connect(*back, reinterpret_cast<sockaddr*>(&link), sizeof link), 0);
  close(*back);

  // Cut: both namespaces' entries deleted, then the client (only reading) is
  // made to reset at once: no packet of its own is needed.
  auto cut = net::conntrackDeleteMarked(c, linkMark(id), 0xffffffff);
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(*cut, 1u);
  ASSERT_TRUE(net::conntrackDeleteMarked(p, linkMark(id), 0xffffffff).ok());
  sockaddr_in self{};
  len = sizeof self;
  ASSERT_EQ(getsockname(*client, reinterpret_cast<sockaddr*>(&self), &len), 0);
  ASSERT_TRUE(net::tcpKill(c, ntohl(dst.sin_addr.s_addr), 443, ntohl(self.sin_addr.s_addr), ntohs(self.sin_port)).ok());
  errno = 0;
  ssize_t n = recv(*client, buf, sizeof buf, 0);
  EXPECT_EQ(n, -1);
  EXPECT_EQ(errno, ECONNRESET);
  close(conn);
  close(*client);
  close(server);
}

// Two endpoint interfaces of one consumer VPC to services of one provider VPC
// share the pair's veth, each by its own /31: both carry connections, and
// removing one (its translation and its addresses) leaves the other working.
TEST_F(FastPathKernelTest, LinksOfOneVpcPairShareItsVethAndAreRemovedOneByOne) {
  const std::string &c = names_[0], &p = names_[1], &w = names_[2], &t = names_[3];
  auto first = link(5, 0);
  if (HasFailure()) return;
  ListenerSpec l = listener(443, {target("10.0.1.20", "use1-az1")});
  l.interfaceId = "eni-0fedcba987654321f";
  l.ip = "10.0.1.51";
  l.ns = c;
  l.targets[0].ns = p;
  auto second = fastLinks({l})[0];
  auto cnl = net::Netlink::open(c);
  ASSERT_TRUE(cnl.ok());
  ASSERT_TRUE((*cnl)->addAddress("lo", "10.0.1.51/32").ok());
  addLink(second, 6, 0);
  if (HasFailure()) return;

  int server = listenIn(t, 8080);
  ASSERT_GE(server, 0);
  // Connects to ip:443 from the consumer's workload; 0 or the errno.
  auto connectTo = [&](const char* ip) {
    auto client = net::socketInNamespace(w, AF_INET, SOCK_STREAM);
    if (!client.ok()) return -1;
    timeval tv{1, 0};
    setsockopt(*client, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    auto dst = addr(ip, 443);
    int rc = connect(*client, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0 ? 0 : errno;
    close(*client);
    if (rc == 0) {
      int conn = accept(server, nullptr, nullptr);
      if (conn >= 0) close(conn);
    }
    return rc;
  };
  EXPECT_EQ(connectTo("10.0.1.50"), 0);
  EXPECT_EQ(connectTo("10.0.1.51"), 0);
  auto links = [](const std::string& ns) {
    auto nl = net::Netlink::open(ns);
    size_t n = 0;
    if (nl.ok())
      if (auto all = (*nl)->links(); all.ok())
        for (const auto& x : *all) n += x.name.rfind("lp-f", 0) == 0;
    return n;
  };
  EXPECT_EQ(links(c), 1u);
  EXPECT_EQ(links(p), 1u);
  auto names = pairLinkNames(c, p);
  auto have = (*cnl)->addresses(names.consumer);
  ASSERT_TRUE(have.ok());
  EXPECT_EQ(*have, (std::vector<std::string>{linkAddresses(5).consumer + "/31", linkAddresses(6).consumer + "/31"}));

  // The first one goes, as FastPathSink removes a link that is not the pair's last.
  auto& nft = net::NftRunner::shared();
  ASSERT_TRUE(nft.run(c, consumerLinkRemoval(first, 5)).ok());
  ASSERT_TRUE(nft.run(p, providerLinkRemoval(first, 5)).ok());
  ASSERT_TRUE((*cnl)->removeAddress(names.consumer, linkAddresses(5).consumer + "/31").ok());
  auto pnl = net::Netlink::open(p);
  ASSERT_TRUE(pnl.ok());
  ASSERT_TRUE((*pnl)->removeAddress(names.provider, linkAddresses(5).provider + "/31").ok());
  EXPECT_NE(connectTo("10.0.1.50"), 0);  // the consumer's own stack: nothing listens there
  EXPECT_EQ(connectTo("10.0.1.51"), 0);
  close(server);
}

// An endpoint deleted and another made: the new link reuses the old one's id and
// the endpoint address, with another source (node) address. The kernel refuses
// the batch while the old values are there; after elementResets it goes through.
TEST_F(FastPathKernelTest, ALinkReusingAnIdAndAnAddressReplacesTheOldValues) {
  const std::string &c = names_[0], &p = names_[1];
  ListenerSpec l = listener(443, {target("10.0.1.20", "use1-az1")});
  l.ns = c;
  l.targets[0].ns = p;
  auto old = fastLinks({l})[0];
  l.interfaceId = "eni-0fedcba987654321f";
  l.targets[0].sourceIp = "10.0.1.6";
  auto fresh = fastLinks({l})[0];
  auto& nft = net::NftRunner::shared();
  for (const auto& ns : {c, p}) ASSERT_TRUE(nft.run(ns, fastTableCommands(350, 0)).ok());
  ASSERT_TRUE(nft.run(p, providerLinkCommands(old, 9, old.targetsByPort)).ok());
  ASSERT_TRUE(nft.run(c, consumerLinkCommands(old, 9, 0, 0)).ok());
  // The consumer's commands of the new link (id 9 again, same ENI address) carry the
  // same values there, so only the provider's source address differs.
  auto refused = nft.run(p, providerLinkCommands(fresh, 9, fresh.targetsByPort));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("File exists"), std::string::npos) << refused.status().toString();
  for (const auto& reset : elementResets(providerLinkCommands(fresh, 9, fresh.targetsByPort)))
    (void)nft.run(p, reset);
  auto r = nft.run(p, providerLinkCommands(fresh, 9, fresh.targetsByPort));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  auto listed = nft.run(p, "list map ip lp-fast src-of");
  ASSERT_TRUE(listed.ok());
  EXPECT_NE(listed->find("10.0.1.6"), std::string::npos) << *listed;
  EXPECT_EQ(listed->find("10.0.1.5"), std::string::npos) << *listed;
}

// The connection limit per link: past it the client's connect is refused at
// once (a reset, not a timeout), the refusal is counted in the link's `full-`
// counter, and a connection that ends makes room for a new one.
TEST_F(FastPathKernelTest, ConnectionsPastTheLimitAreRefusedWithAResetAndCounted) {
  const std::string &c = names_[0], &w = names_[2], &t = names_[3];
  const uint32_t id = 7;
  link(id, 2);
  if (HasFailure()) return;
  int server = listenIn(t, 8080);
  ASSERT_GE(server, 0);
  auto dst = addr("10.0.1.50", 443);
  auto open = [&]() -> std::pair<int, int> {  // socket, errno of connect (0 = connected)
    auto s = net::socketInNamespace(w, AF_INET, SOCK_STREAM);
    if (!s.ok()) return {-1, EBADF};
    timeval tv{3, 0};
    setsockopt(*s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int rc = connect(*s, reinterpret_cast<const sockaddr*>(&dst), sizeof dst);
    return {*s, rc == 0 ? 0 : errno};
  };
  auto [a, ea] = open();
  auto [b, eb] = open();
  EXPECT_EQ(ea, 0);
  EXPECT_EQ(eb, 0);
  auto start = std::chrono::steady_clock::now();
  auto [x, ex] = open();
  EXPECT_EQ(ex, ECONNREFUSED);  // a reset from the endpoint address, at once
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  close(x);
  auto counters = net::NftRunner::shared().run(c, "list counter ip lp-fast full-7");
  ASSERT_TRUE(counters.ok());
  EXPECT_NE(counters->find("\"packets\": 1,"), std::string::npos) << *counters;
  // One ends with a reset (its conntrack entry closes and leaves the count): a
  // new one fits again.
  linger reset{1, 0};
  setsockopt(a, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  close(a);
  bool fits = false;
  for (int i = 0; i < 50 && !fits; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto [y, ey] = open();
    fits = ey == 0;
    close(y);
  }
  EXPECT_TRUE(fits);
  close(b);
  close(server);
}

}  // namespace
}  // namespace lp::dataplane
