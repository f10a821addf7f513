// The scratch topology of the BPF fast path's traffic tests (fastpath_attach_test.cc,
// fastpath_restart_test.cc): a whole connection through the programs, client
// namespace -> consumer VPC namespace -> link -> provider VPC namespace -> target
// namespace, both VPCs on overlapping 10.0.0.0/16, routed by hand the way stage 2
// will have the daemon do it (endpoint address routed to the link and answered for
// by proxy ARP, accept_local for the node address). Needs root.
#ifndef LINKPLANE_TESTS_UNIT_NET_BPF_FASTPATH_TRAFFIC_H_
#define LINKPLANE_TESTS_UNIT_NET_BPF_FASTPATH_TRAFFIC_H_

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../../test_namespaces.h"
#include "net/bpf/bpf_fastpath.h"
#include "net/netlink.h"
#include "net/netns.h"

namespace lp::net::bpf {

class FastpathTrafficTest : public ::testing::Test {
 protected:
  // The consumer's and the provider's spaces, the link between them.
  static constexpr uint32_t kC = 1, kP = 2, kLinkId = 4;

  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "the BPF fast path's tests need root";
    cl_ = lp::testenv::testNamespace("bfw");
    c_ = lp::testenv::testNamespace("bfc");
    p_ = lp::testenv::testNamespace("bfp");
    tg_ = lp::testenv::testNamespace("bft");
    for (const auto& ns : {cl_, c_, p_, tg_}) ASSERT_TRUE(createNamespace(ns).ok());
    auto ncl = Netlink::open(cl_), nc = Netlink::open(c_), np = Netlink::open(p_), ntg = Netlink::open(tg_);
    ASSERT_TRUE(ncl.ok() && nc.ok() && np.ok() && ntg.ok());
    ASSERT_TRUE((*nc)->ensureVeth("lp-wc", cl_, "eth0").ok());
    ASSERT_TRUE((*np)->ensureVeth("lp-wt", tg_, "eth0").ok());
    ASSERT_TRUE((*nc)->ensureVeth("lp-fctest", p_, "lp-fptest").ok());
    ASSERT_TRUE((*ncl)->addAddress("eth0", "10.0.1.5/24").ok());
    ASSERT_TRUE((*nc)->addAddress("lp-wc", "10.0.1.1/24").ok());
    ASSERT_TRUE((*ntg)->addAddress("eth0", "10.0.2.10/24").ok());
    ASSERT_TRUE((*np)->addAddress("lp-wt", "10.0.2.1/24").ok());
    ASSERT_TRUE((*np)->addAddress("lp-wt", "10.0.2.200/32").ok());  // the node
    ASSERT_TRUE((*nc)->addAddress("lp-fctest", "169.254.0.0/31").ok());
    ASSERT_TRUE((*np)->addAddress("lp-fptest", "169.254.0.1/31").ok());
    ASSERT_TRUE((*ncl)->setUp("lo").ok() && (*ncl)->setUp("eth0").ok());
    ASSERT_TRUE((*ntg)->setUp("lo").ok() && (*ntg)->setUp("eth0").ok());
    ASSERT_TRUE((*nc)->setUp("lp-wc").ok() && (*nc)->setUp("lp-fctest").ok());
    ASSERT_TRUE((*np)->setUp("lp-wt").ok() && (*np)->setUp("lp-fptest").ok());
    ASSERT_TRUE((*ncl)->setDefaultRoute("10.0.1.1").ok());
    ASSERT_TRUE((*ntg)->setDefaultRoute("10.0.2.1").ok());
    ASSERT_TRUE(setSysctl(c_, "net/ipv4/ip_forward", "1").ok());
    ASSERT_TRUE(setSysctl(p_, "net/ipv4/ip_forward", "1").ok());
    ASSERT_TRUE(setSysctl(p_, "net/ipv4/conf/lp-fptest/accept_local", "1").ok());
    // The client's subnet holds the endpoint's address: the namespace answers its ARP.
    ASSERT_TRUE(setSysctl(c_, "net/ipv4/conf/lp-wc/proxy_arp", "1").ok());
    std::string route = "ip -n " + c_ + " route add 10.0.1.100/32 via 169.254.0.1 dev lp-fctest";
    ASSERT_EQ(system(route.c_str()), 0);
    fc_ = dev(c_, "lp-fctest");
    fp_ = dev(p_, "lp-fptest");
    wc_ = dev(c_, "lp-wc");
    wt_ = dev(p_, "lp-wt");
    client_ = dev(cl_, "eth0");
    target_ = dev(tg_, "eth0");
  }
  void TearDown() override {
    if (lsn_ >= 0) close(lsn_);
    for (const auto& ns : {cl_, c_, p_, tg_})
      if (!ns.empty()) (void)deleteNamespace(ns);
  }

  struct Dev {
    uint32_t ifindex = 0;
    uint8_t mac[6] = {};
  };
  static Dev dev(const std::string& ns, const std::string& name) {
    Dev d;
    auto s = socketInNamespace(ns, AF_INET, SOCK_DGRAM);
    EXPECT_TRUE(s.ok());
    if (!s.ok()) return d;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    EXPECT_EQ(ioctl(*s, SIOCGIFINDEX, &ifr), 0) << name;
    d.ifindex = static_cast<uint32_t>(ifr.ifr_ifindex);
    EXPECT_EQ(ioctl(*s, SIOCGIFHWADDR, &ifr), 0) << name;
    std::memcpy(d.mac, ifr.ifr_hwaddr.sa_data, 6);
    close(*s);
    return d;
  }
  static uint32_t ip(const char* text) {
    uint32_t a = 0;
    inet_pton(AF_INET, text, &a);
    return a;
  }

  // The link kLinkId between kC and kP, the endpoint 10.0.1.100:80 on it with the
  // target 10.0.2.10:8080 behind the node 10.0.2.200, and both workloads' hosts.
  // A Status, not assertions: a forked "daemon" calls it too.
  Status installLink(FastpathMaps& maps) const {
    lp_fp_link l{};
    l.consumer_space = kC;
    l.provider_space = kP;
    l.node_addr = ip("10.0.2.200");
    l.consumer_ifindex = fc_.ifindex;
    l.provider_ifindex = fp_.ifindex;
    std::memcpy(l.consumer_mac, fc_.mac, 6);
    std::memcpy(l.provider_mac, fp_.mac, 6);
    LP_RETURN_IF_ERROR(maps.putLink(kLinkId, l));
    LP_RETURN_IF_ERROR(maps.putEndpoint(kC, ip("10.0.1.100"), 80, kLinkId));
    LP_RETURN_IF_ERROR(maps.putTargets(kLinkId, 80, 0, {lp_fp_target{ip("10.0.2.10"), htons(8080), 0}}));
    lp_fp_host hc{}, ht{};
    hc.ifindex = wc_.ifindex;
    std::memcpy(hc.mac, client_.mac, 6);
    std::memcpy(hc.gw_mac, wc_.mac, 6);
    ht.ifindex = wt_.ifindex;
    std::memcpy(ht.mac, target_.mac, 6);
    std::memcpy(ht.gw_mac, wt_.mac, 6);
    LP_RETURN_IF_ERROR(maps.putHost(kC, ip("10.0.1.5"), hc));
    return maps.putHost(kP, ip("10.0.2.10"), ht);
  }

  // The five hooks of the topology, in the order attachPrograms fills them.
  struct Hook {
    bool consumer;
    const char* device;
    TcHook hook;
    FastpathProgram program;
  };
  static constexpr Hook kHooks[] = {
      {true, "lp-wc", TcHook::kIngress, FastpathProgram::kWorkloadIn},
      {true, "lp-fctest", TcHook::kEgress, FastpathProgram::kLinkOut},
      {true, "lp-fctest", TcHook::kIngress, FastpathProgram::kLinkIn},
      {false, "lp-wt", TcHook::kIngress, FastpathProgram::kWorkloadIn},
      {false, "lp-fptest", TcHook::kIngress, FastpathProgram::kLinkIn},
  };

  // Attaches the consumer's copy and the provider's to their hooks (replacing
  // linkplane's filters where they are).
  Status attachPrograms(const FastpathPrograms& cp, const FastpathPrograms& pp) const {
    LP_ASSIGN_OR_RETURN(int cfd, openNamespace(c_));
    auto pfd = openNamespace(p_);
    if (!pfd.ok()) {
      close(cfd);
      return pfd.status();
    }
    Status st;
    for (const Hook& h : kHooks) {
      const FastpathPrograms& progs = h.consumer ? cp : pp;
      st = attachTc(h.consumer ? cfd : *pfd, h.device, h.hook, progs.fd(h.program));
      if (!st.ok()) break;
    }
    close(cfd);
    close(*pfd);
    return st;
  }

  // The program attached to each of kHooks (0 where none).
  std::vector<uint32_t> attachedIds() const {
    std::vector<uint32_t> ids;
    auto cfd = openNamespace(c_), pfd = openNamespace(p_);
    EXPECT_TRUE(cfd.ok() && pfd.ok());
    if (!cfd.ok() || !pfd.ok()) return ids;
    for (const Hook& h : kHooks) {
      auto id = attachedProgramId(h.consumer ? *cfd : *pfd, h.device, h.hook);
      EXPECT_TRUE(id.ok()) << id.status().toString();
      ids.push_back(id.ok() ? *id : 0);
    }
    close(*cfd);
    close(*pfd);
    return ids;
  }

  // A listener in the target's namespace on 10.0.2.10:8080.
  int listenOnTarget() const {
    auto lsn = socketInNamespace(tg_, AF_INET, SOCK_STREAM);
    EXPECT_TRUE(lsn.ok());
    if (!lsn.ok()) return -1;
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(8080);
    at.sin_addr.s_addr = ip("10.0.2.10");
    int one = 1;
    setsockopt(*lsn, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    EXPECT_EQ(bind(*lsn, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
    EXPECT_EQ(listen(*lsn, 4), 0);
    setTimeouts(*lsn);
    return *lsn;
  }

  // A client in the client's namespace connected to the endpoint 10.0.1.100:80;
  // the connect's error otherwise.
  Result<int> connectClient() const {
    LP_ASSIGN_OR_RETURN(int cli, socketInNamespace(cl_, AF_INET, SOCK_STREAM));
    setTimeouts(cli);
    sockaddr_in eni{};
    eni.sin_family = AF_INET;
    eni.sin_port = htons(80);
    eni.sin_addr.s_addr = ip("10.0.1.100");
    if (connect(cli, reinterpret_cast<sockaddr*>(&eni), sizeof eni) != 0) {
      int err = errno;
      close(cli);
      return Status("connect", std::strerror(err));
    }
    return cli;
  }

  // Fresh maps (maps_), one copy of the programs per VPC (cp_, pp_), installLink and
  // attachPrograms, as the sink will.
  void wire() {
    auto maps = FastpathMaps::create(FastpathLimits{});
    ASSERT_TRUE(maps.ok());
    maps_ = std::move(maps).value();
    auto cp = FastpathPrograms::load(*maps_, kC);
    auto pp = FastpathPrograms::load(*maps_, kP);
    ASSERT_TRUE(cp.ok() && pp.ok());
    cp_ = std::move(cp).value();
    pp_ = std::move(pp).value();
    ASSERT_TRUE(installLink(*maps_).ok());
    ASSERT_TRUE(attachPrograms(*cp_, *pp_).ok());
  }

  // connectClient through wire()'s programs, and the target's end of it:
  // {client, accepted}, -1 on failure (with the link's counters).
  std::pair<int, int> connectThrough(int lsn) {
    auto cli = connectClient();
    if (!cli.ok()) {
      auto st = maps_->linkStats(kLinkId);
      auto none = maps_->linkStats(0);
      ADD_FAILURE() << cli.status().toString() << "; link: new " << st->new_conns << " fwd " << st->fwd_packets
                    << " rev " << st->rev_packets << " drops " << st->drops << "; unowned drops " << none->drops
                    << "; entries " << *maps_->connectionCount();
      return {-1, -1};
    }
    int srv = accept(lsn, nullptr, nullptr);
    EXPECT_GE(srv, 0) << std::strerror(errno);
    if (srv >= 0) setTimeouts(srv);
    return {*cli, srv};
  }

  // wire() and a listener on the target (lsn_, closed by TearDown).
  void serve() {
    ASSERT_NO_FATAL_FAILURE(wire());
    lsn_ = listenOnTarget();
    ASSERT_GE(lsn_, 0);
  }
  // connectThrough(lsn_), both ends asserted.
  void connectPair(int& cli, int& srv) {
    std::tie(cli, srv) = connectThrough(lsn_);
    ASSERT_GE(cli, 0);
    ASSERT_GE(srv, 0);
  }

  // 3 s for a send or a receive, so a broken path fails the test instead of hanging it.
  static void setTimeouts(int fd) {
    timeval tv{3, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  std::string cl_, c_, p_, tg_;
  Dev fc_, fp_, wc_, wt_, client_, target_;
  int lsn_ = -1;
  std::unique_ptr<FastpathMaps> maps_;
  std::unique_ptr<FastpathPrograms> cp_, pp_;
};

}  // namespace lp::net::bpf

#endif  // LINKPLANE_TESTS_UNIT_NET_BPF_FASTPATH_TRAFFIC_H_
