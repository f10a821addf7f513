// The BPF fast path's loader against the real kernel: attaching its programs to a
// link's veth in scratch namespaces (lp-tbfc-<pid>, lp-tbfp-<pid>), what they do to
// real packets there, detaching; and its maps pinned on a bpffs and adopted again,
// as a restarted daemon will. Needs root.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <tuple>
#include <vector>

#include "../../test_namespaces.h"
#include "dataplane/bpf_fastpath_plan.h"
#include "dataplane/bpf_sweep.h"
#include "fastpath_traffic.h"
#include "net/bpf/bpf_fastpath.h"
#include "net/netlink.h"
#include "net/netns.h"

namespace lp::net::bpf {
namespace {

class FastpathAttachTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "the BPF fast path's tests need root";
    c_ = lp::testenv::testNamespace("bfc");
    p_ = lp::testenv::testNamespace("bfp");
    ASSERT_TRUE(createNamespace(c_).ok());
    ASSERT_TRUE(createNamespace(p_).ok());
    auto nc = Netlink::open(c_);
    auto np = Netlink::open(p_);
    ASSERT_TRUE(nc.ok() && np.ok());
    // The link as the daemon makes it: lp-fc* in the consumer's namespace, its peer lp-fp* in the provider's.
    ASSERT_TRUE((*nc)->ensureVeth("lp-fctest", p_, "lp-fptest").ok());
    ASSERT_TRUE((*nc)->addAddress("lp-fctest", "169.254.0.0/31").ok());
    ASSERT_TRUE((*np)->addAddress("lp-fptest", "169.254.0.1/31").ok());
    ASSERT_TRUE((*nc)->setUp("lp-fctest").ok());
    ASSERT_TRUE((*np)->setUp("lp-fptest").ok());
    auto cfd = openNamespace(c_);
    auto pfd = openNamespace(p_);
    ASSERT_TRUE(cfd.ok() && pfd.ok());
    cFd_ = *cfd;
    pFd_ = *pfd;
  }
  void TearDown() override {
    if (cFd_ >= 0) close(cFd_);
    if (pFd_ >= 0) close(pFd_);
    if (!c_.empty()) (void)deleteNamespace(c_);
    if (!p_.empty()) (void)deleteNamespace(p_);
  }

  // Whether a UDP datagram from the consumer's end of the link reaches a socket on
  // the provider's end (each try a fresh port; ARP resolves the first time).
  bool crosses() {
    static uint16_t port = 31000;
    ++port;
    auto rx = socketInNamespace(p_, AF_INET, SOCK_DGRAM);
    auto tx = socketInNamespace(c_, AF_INET, SOCK_DGRAM);
    EXPECT_TRUE(rx.ok() && tx.ok());
    if (!rx.ok() || !tx.ok()) return false;
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(port);
    inet_pton(AF_INET, "169.254.0.1", &at.sin_addr);
    EXPECT_EQ(bind(*rx, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
    EXPECT_EQ(sendto(*tx, "x", 1, 0, reinterpret_cast<sockaddr*>(&at), sizeof at), 1);
    pollfd pfd{*rx, POLLIN, 0};
    bool got = poll(&pfd, 1, 500) == 1;
    close(*rx);
    close(*tx);
    return got;
  }

  // `tc qdisc show` of a device in a namespace.
  static std::string qdiscs(const std::string& ns, const std::string& dev) {
    std::string cmd = "tc -n " + ns + " qdisc show dev " + dev + " 2>&1";
    std::string out;
    FILE* f = popen(cmd.c_str(), "r");
    if (f == nullptr) return "popen failed";
    char buf[256];
    while (fgets(buf, sizeof buf, f) != nullptr) out += buf;
    pclose(f);
    return out;
  }

  std::string c_, p_;
  int cFd_ = -1, pFd_ = -1;
};

TEST_F(FastpathAttachTest, ProgramsAttachToTheLinkFilterItAndDetachCleanly) {
  FastpathLimits limits;
  limits.connections = 256;
  limits.links = 16;
  auto maps = FastpathMaps::create(limits);
  ASSERT_TRUE(maps.ok()) << maps.status().toString();
  auto consumer = FastpathPrograms::load(**maps, 1);
  auto provider = FastpathPrograms::load(**maps, 2);
  ASSERT_TRUE(consumer.ok() && provider.ok());
  ASSERT_TRUE(crosses()) << "the bare link carries datagrams";

  int linkOut = (*consumer)->fd(FastpathProgram::kLinkOut);
  int linkInC = (*consumer)->fd(FastpathProgram::kLinkIn);
  int linkInP = (*provider)->fd(FastpathProgram::kLinkIn);
  ASSERT_TRUE(attachTc(cFd_, "lp-fctest", TcHook::kEgress, linkOut).ok());
  ASSERT_TRUE(attachTc(cFd_, "lp-fctest", TcHook::kIngress, linkInC).ok());
  ASSERT_TRUE(attachTc(pFd_, "lp-fptest", TcHook::kIngress, linkInP).ok());
  // Attaching again replaces linkplane's filter rather than adding a second.
  ASSERT_TRUE(attachTc(cFd_, "lp-fctest", TcHook::kEgress, linkOut).ok());
  EXPECT_EQ(*attachedProgramId(cFd_, "lp-fctest", TcHook::kEgress), *programId(linkOut));
  EXPECT_EQ(*attachedProgramId(cFd_, "lp-fctest", TcHook::kIngress), *programId(linkInC));
  EXPECT_EQ(*attachedProgramId(pFd_, "lp-fptest", TcHook::kIngress), *programId(linkInP));
  EXPECT_EQ(*attachedProgramId(pFd_, "lp-fptest", TcHook::kEgress), 0u);

  // Only SYNs to endpoints cross: a datagram is refused on the link's egress
  // (ARP still resolves the neighbour), counted against no link.
  EXPECT_FALSE(crosses());
  EXPECT_GE(maps.value()->linkStats(0)->drops, 1u);

  // The programs stay attached when the loader's objects are gone (a daemon killed).
  uint32_t outId = *programId(linkOut);
  consumer.value().reset();
  provider.value().reset();
  EXPECT_EQ(*attachedProgramId(cFd_, "lp-fctest", TcHook::kEgress), outId);
  EXPECT_FALSE(crosses());

  ASSERT_TRUE(detachTc(cFd_, "lp-fctest", TcHook::kEgress).ok());
  ASSERT_TRUE(detachTc(cFd_, "lp-fctest", TcHook::kIngress).ok());
  ASSERT_TRUE(detachTc(pFd_, "lp-fptest", TcHook::kIngress).ok());
  ASSERT_TRUE(detachTc(pFd_, "lp-fptest", TcHook::kIngress).ok());  // nothing there: Ok
  EXPECT_EQ(*attachedProgramId(cFd_, "lp-fctest", TcHook::kEgress), 0u);
  EXPECT_EQ(*attachedProgramId(pFd_, "lp-fptest", TcHook::kIngress), 0u);
  EXPECT_TRUE(crosses()) << "detached: the link is a plain veth again";
  // The clsact qdisc linkplane made goes too.
  EXPECT_NE(qdiscs(c_, "lp-fctest").find("clsact"), std::string::npos);
  ASSERT_TRUE(removeClsact(cFd_, "lp-fctest").ok());
  ASSERT_TRUE(removeClsact(pFd_, "lp-fptest").ok());
  ASSERT_TRUE(removeClsact(pFd_, "lp-fptest").ok());  // absent: Ok
  EXPECT_EQ(qdiscs(c_, "lp-fctest").find("clsact"), std::string::npos) << qdiscs(c_, "lp-fctest");
  EXPECT_EQ(qdiscs(p_, "lp-fptest").find("clsact"), std::string::npos);
  EXPECT_TRUE(crosses());
}

TEST_F(FastpathAttachTest, AMissingDeviceOrNamespaceIsReportedAsSuch) {
  auto maps = FastpathMaps::create(FastpathLimits{});
  ASSERT_TRUE(maps.ok());
  auto progs = FastpathPrograms::load(**maps, 1);
  ASSERT_TRUE(progs.ok());
  Status st = attachTc(cFd_, "lp-nosuch", TcHook::kIngress, (*progs)->fd(FastpathProgram::kLinkIn));
  EXPECT_EQ(bpfErrorOf(st), BpfError::kNoDevice) << st.toString();
  // lp-fctest exists only inside the namespace, not in the caller's.
  EXPECT_EQ(bpfErrorOf(attachTc(-1, "lp-fctest", TcHook::kIngress, (*progs)->fd(FastpathProgram::kLinkIn))),
            BpfError::kNoDevice);
  EXPECT_EQ(bpfErrorOf(attachTc(cFd_, "lp-fctest", TcHook::kIngress, -1)), BpfError::kInvalid);
}

// A bpffs of the test's own, mounted on a temporary directory and removed after.
class BpffsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "the BPF fast path's tests need root";
    char tmpl[] = "/tmp/lp-tbpffs-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(mount("bpf", dir_.c_str(), "bpf", 0, nullptr), 0) << std::strerror(errno);
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
    if (!dir_.empty()) rmdir(dir_.c_str());
  }
  std::string dir_;
  bool mounted_ = false;
};

TEST_F(BpffsTest, PinnedMapsAreAdoptedWithTheirConnectionsByANewLoader) {
  std::string pins = dir_ + "/linkplane";
  uint32_t eni = 0, client = 0, target = 0, node = 0;
  inet_pton(AF_INET, "10.0.1.100", &eni);
  inet_pton(AF_INET, "10.0.1.5", &client);
  inet_pton(AF_INET, "10.0.2.10", &target);
  inet_pton(AF_INET, "10.0.2.200", &node);
  {
    FastpathLimits limits;
    limits.connections = 256;
    limits.links = 16;
    auto maps = FastpathMaps::create(limits);
    ASSERT_TRUE(maps.ok());
    lp_fp_link l{};
    l.consumer_space = 1;
    l.provider_space = 2;
    l.node_addr = node;
    l.consumer_ifindex = l.provider_ifindex = 1;
    ASSERT_TRUE((*maps)->putLink(3, l).ok());
    ASSERT_TRUE((*maps)->putEndpoint(1, eni, 80, 3).ok());
    ASSERT_TRUE((*maps)->putTargets(3, 80, 0, {lp_fp_target{target, htons(8080), 0}}).ok());
    auto progs = FastpathPrograms::load(**maps, 1);
    ASSERT_TRUE(progs.ok());
    // A SYN through the link's egress makes the connection's entries.
    unsigned char syn[54] = {};
    syn[12] = 0x08;
    syn[14] = 0x45;
    syn[17] = 40;
    syn[22] = 64;
    syn[23] = 6;
    std::memcpy(syn + 26, &client, 4);
    std::memcpy(syn + 30, &eni, 4);
    syn[34] = 40000 >> 8;
    syn[35] = 40000 & 0xff;
    syn[37] = 80;
    syn[46] = 0x50;
    syn[47] = 0x02;
    unsigned char out[128];
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = syn, .data_out = out, .data_size_in = sizeof syn,
                .data_size_out = sizeof out, .repeat = 1);
    ASSERT_EQ(bpf_prog_test_run_opts((*progs)->fd(FastpathProgram::kLinkOut), &opts), 0);
    ASSERT_EQ(opts.retval, static_cast<uint32_t>(TC_ACT_OK));
    ASSERT_TRUE((*maps)->pin(pins).ok());
  }  // the daemon is gone: only the pins hold the maps

  auto adopted = FastpathMaps::openPinned(pins);
  ASSERT_TRUE(adopted.ok()) << adopted.status().toString();
  EXPECT_EQ((*adopted)->maxLinks(), 16u);
  EXPECT_EQ(*(*adopted)->connectionCount(), 2u);
  auto rev = (*adopted)->connection(2, lp_fp_tuple{target, node, htons(8080), htons(40000)});
  ASSERT_TRUE(rev.ok() && rev->has_value());
  EXPECT_EQ((*rev)->to.daddr, client);
  EXPECT_EQ((*adopted)->linkStats(3)->new_conns, 1u);
  // The connection limit's count too (stage 4), through the adopted map's memory.
  ASSERT_NE((*adopted)->linkUsage(), nullptr);
  EXPECT_EQ((*adopted)->linkUsage()->live(3), 1u);
  // A new copy of the programs over the adopted maps sees the same connections.
  auto progs = FastpathPrograms::load(**adopted, 2);
  ASSERT_TRUE(progs.ok()) << progs.status().toString();

  ASSERT_TRUE(FastpathMaps::unpin(pins).ok());
  ASSERT_TRUE(FastpathMaps::unpin(pins).ok());  // absent: Ok
  EXPECT_EQ(bpfErrorOf(FastpathMaps::openPinned(pins).status()), BpfError::kNotPinned);
}

TEST_F(FastpathTrafficTest, ATcpConnectionCrossesTranslatedAndTheTargetSeesTheNode) {
  ASSERT_NO_FATAL_FAILURE(wire());
  int lsn = listenOnTarget();
  ASSERT_GE(lsn, 0);
  auto [cli, srv] = connectThrough(lsn);
  ASSERT_GE(cli, 0);
  ASSERT_GE(srv, 0);
  sockaddr_in peer{};
  socklen_t plen = sizeof peer;
  getpeername(srv, reinterpret_cast<sockaddr*>(&peer), &plen);
  EXPECT_EQ(peer.sin_addr.s_addr, ip("10.0.2.200"));  // the node, never the client

  std::string request(3000, 'q');  // more than one segment
  ASSERT_EQ(send(cli, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string got;
  char buf[4096];
  while (got.size() < request.size()) {
    ssize_t n = recv(srv, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(got, request);
  ASSERT_EQ(send(srv, "pong", 4, 0), 4);
  ssize_t n = recv(cli, buf, sizeof buf, 0);
  ASSERT_EQ(n, 4);
  EXPECT_EQ(std::string(buf, 4), "pong");
  sockaddr_in self{};
  socklen_t slen = sizeof self;
  getsockname(cli, reinterpret_cast<sockaddr*>(&self), &slen);
  close(srv);
  close(cli);
  close(lsn);

  auto fwd = maps_->connection(kC, lp_fp_tuple{ip("10.0.1.5"), ip("10.0.1.100"), self.sin_port, htons(80)});
  ASSERT_TRUE(fwd.ok() && fwd->has_value());
  EXPECT_TRUE((*fwd)->seen & LP_FP_SEEN_FIN);
  auto s = maps_->linkStats(kLinkId);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->new_conns, 1u);
  EXPECT_GE(s->fwd_bytes, request.size());
  EXPECT_GE(s->rev_packets, 2u);  // SYN-ACK, pong
  EXPECT_EQ(s->drops, 0u);
}

uint64_t monotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Stage 3 on real connections: a closed one swept, a live one ended with its link
// and both its ends reset (dataplane/bpf_sweep.h).
TEST_F(FastpathTrafficTest, AClosedConnectionIsSweptAndEndingTheLinkResetsTheClientWithinASecond) {
  ASSERT_NO_FATAL_FAILURE(serve());
  int done = -1, doneSrv = -1;
  ASSERT_NO_FATAL_FAILURE(connectPair(done, doneSrv));
  char buf[16];
  close(done);  // FIN from the client ...
  EXPECT_EQ(recv(doneSrv, buf, sizeof buf, 0), 0);
  close(doneSrv);  // ... and from the target; the client's last ACK follows
  int cli = -1, srv = -1;
  ASSERT_NO_FATAL_FAILURE(connectPair(cli, srv));
  ASSERT_EQ(send(cli, "ping", 4, 0), 4);
  ASSERT_EQ(recv(srv, buf, sizeof buf, 0), 4);
  usleep(100'000);  // the last ACK of the closed one has crossed
  ASSERT_EQ(*maps_->connectionCount(), 4u);

  auto swept =
      dataplane::sweepBpfConnections(*maps_, monotonicNs() + dataplane::kBpfClosedLingerNs, 350'000'000'000ull);
  ASSERT_TRUE(swept.ok()) << swept.status().toString();
  EXPECT_EQ(swept->closed, 1u);
  EXPECT_EQ(swept->idle, 0u);
  EXPECT_EQ(*maps_->connectionCount(), 2u);  // the live one stays

  // The client only reads: without a reset it would wait for ever.
  auto start = std::chrono::steady_clock::now();
  auto ended = dataplane::endLinkConnections(*maps_, kLinkId);
  ASSERT_TRUE(ended.ok()) << ended.status().toString();
  ASSERT_EQ(ended->size(), 1u);
  EXPECT_EQ(*maps_->connectionCount(), 0u);
  auto reset =
      dataplane::resetBpfConnections(*ended, [&](uint32_t link) -> std::optional<dataplane::BpfLinkNamespaces> {
        if (link != kLinkId) return std::nullopt;
        return dataplane::BpfLinkNamespaces{c_, p_};
      });
  EXPECT_EQ(reset.clients, 1u);
  EXPECT_EQ(reset.targets, 1u);
  errno = 0;
  EXPECT_EQ(recv(cli, buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, ECONNRESET) << std::strerror(errno);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  errno = 0;
  EXPECT_EQ(recv(srv, buf, sizeof buf, 0), -1);  // the target learns too
  EXPECT_EQ(errno, ECONNRESET) << std::strerror(errno);
  close(cli);
  close(srv);
}

TEST_F(FastpathTrafficTest, TcpKeepaliveProbesKeepAConnectionFromTheIdleSweep) {
  ASSERT_NO_FATAL_FAILURE(serve());
  int cli = -1, srv = -1;
  ASSERT_NO_FATAL_FAILURE(connectPair(cli, srv));
  auto before = dataplane::readBpfConnections(*maps_);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 2u);
  uint64_t established = std::max((*before)[0].value.last_seen_ns, (*before)[1].value.last_seen_ns);
  int one = 1;
  ASSERT_EQ(setsockopt(cli, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one), 0);
  ASSERT_EQ(setsockopt(cli, IPPROTO_TCP, TCP_KEEPIDLE, &one, sizeof one), 0);  // a probe after 1 s of silence
  ASSERT_EQ(setsockopt(cli, IPPROTO_TCP, TCP_KEEPINTVL, &one, sizeof one), 0);
  // Both sides' entries are touched by the probe and the target's answer.
  bool refreshed = false;
  for (int i = 0; i < 30 && !refreshed; ++i) {
    usleep(100'000);
    auto now = dataplane::readBpfConnections(*maps_);
    ASSERT_TRUE(now.ok());
    refreshed =
        now->size() == 2 && (*now)[0].value.last_seen_ns > established && (*now)[1].value.last_seen_ns > established;
  }
  ASSERT_TRUE(refreshed) << "no keepalive probe crossed in 3 s";
  // Idle for 1 s since it was established, but not since the probe.
  constexpr uint64_t kIdle = 1'000'000'000;
  auto swept = dataplane::sweepBpfConnections(*maps_, established + kIdle, kIdle);
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->idle, 0u);
  EXPECT_EQ(*maps_->connectionCount(), 2u);
  // The same connection without the probes is swept.
  ASSERT_EQ(setsockopt(cli, SOL_SOCKET, SO_KEEPALIVE, &(one = 0), sizeof one), 0);
  auto later = dataplane::sweepBpfConnections(*maps_, monotonicNs() + kIdle, kIdle);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->idle, 1u);
  EXPECT_EQ(*maps_->connectionCount(), 0u);
  close(cli);
  close(srv);
}

// An unhealthy target that no longer answers at all: its connections end, the
// client is reset at once and the silent target does not hold it up.
TEST_F(FastpathTrafficTest, EndingADeadTargetsConnectionsResetsTheirClientsWithinASecond) {
  ASSERT_NO_FATAL_FAILURE(serve());
  int cli = -1, srv = -1;
  ASSERT_NO_FATAL_FAILURE(connectPair(cli, srv));
  std::string down = "ip -n " + tg_ + " link set eth0 down";
  ASSERT_EQ(system(down.c_str()), 0);
  auto start = std::chrono::steady_clock::now();
  auto other = dataplane::endTargetConnections(*maps_, kLinkId, ip("10.0.2.11"), 8080);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());
  auto ended = dataplane::endTargetConnections(*maps_, kLinkId, ip("10.0.2.10"), 8080);
  ASSERT_TRUE(ended.ok()) << ended.status().toString();
  ASSERT_EQ(ended->size(), 1u);
  auto reset = dataplane::resetBpfConnections(*ended, [&](uint32_t) {
    return std::optional<dataplane::BpfLinkNamespaces>({c_, p_});
  });
  EXPECT_EQ(reset.clients, 1u);
  EXPECT_EQ(reset.targets, 0u);  // nobody answered
  char buf[4];
  errno = 0;
  EXPECT_EQ(recv(cli, buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, ECONNRESET) << std::strerror(errno);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  close(cli);
  close(srv);
}

// ---- The bandwidth cap and the connection limit on real connections (stage 4)

class FastpathCapTrafficTest : public FastpathTrafficTest {
 protected:
  void SetUp() override {
    FastpathTrafficTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_NO_FATAL_FAILURE(serve());
    usage_ = maps_->linkUsage();
    ASSERT_NE(usage_, nullptr);
  }

  // A client's connect() to the endpoint that is expected to fail: its errno (0: it connected).
  int connectError() {
    auto cli = socketInNamespace(cl_, AF_INET, SOCK_STREAM);
    EXPECT_TRUE(cli.ok());
    if (!cli.ok()) return -1;
    timeval tv{3, 0};
    setsockopt(*cli, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in eni{};
    eni.sin_family = AF_INET;
    eni.sin_port = htons(80);
    eni.sin_addr.s_addr = ip("10.0.1.100");
    int err = connect(*cli, reinterpret_cast<sockaddr*>(&eni), sizeof eni) == 0 ? 0 : errno;
    close(*cli);
    return err;
  }

  // Sends `bytes` from `from` while `to` reads them; the seconds from the first
  // send to the last byte read (-1 when the transfer broke off).
  static double transfer(int from, int to, size_t bytes) {
    std::string data(bytes, 'd');
    auto start = std::chrono::steady_clock::now();
    std::thread sender([&] {
      size_t sent = 0;
      while (sent < bytes) {
        ssize_t n = send(from, data.data() + sent, bytes - sent, MSG_NOSIGNAL);
        if (n <= 0) return;
        sent += static_cast<size_t>(n);
      }
    });
    size_t got = 0;
    std::vector<char> buf(65536);
    while (got < bytes) {
      ssize_t n = recv(to, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    shutdown(from, SHUT_WR);  // a sender still blocked (a broken transfer) returns
    sender.join();
    return got == bytes ? secs : -1;
  }

  LinkUsage* usage_ = nullptr;
};

// 1 MB/s with the burst the plan gives it (512 KiB), 2.5 MB each way: the rate a
// receiver sees is the cap's, give or take TCP's recovery from the drops. The
// upload may spend the burst; the download starts with none left.
TEST_F(FastpathCapTrafficTest, ATransferThroughACappedLinkRunsAtTheCapBothWays) {
  constexpr uint64_t kRate = 1'000'000;
  const uint64_t burst = dataplane::bpfCapBurstBytes(kRate);
  constexpr size_t kBytes = 2'500'000;
  ASSERT_TRUE(putLinkCap(*maps_, kLinkId, LinkCap{kRate, burst, 0}).ok());
  int cli = -1, srv = -1;
  ASSERT_NO_FATAL_FAILURE(connectPair(cli, srv));
  double up = transfer(cli, srv, kBytes);
  double down = transfer(srv, cli, kBytes);
  close(cli);
  close(srv);
  ASSERT_GT(up, 0) << "the upload broke off";
  ASSERT_GT(down, 0) << "the download broke off";
  auto s = maps_->linkStats(kLinkId);
  ASSERT_TRUE(s.ok());
  std::printf(
      "[ cap      ] 1 MB/s, burst %llu: up %.2f s (%.0f B/s past the burst), down %.2f s (%.0f B/s); %llu "
      "packets over the cap\n",
      static_cast<unsigned long long>(burst), up, (kBytes - burst) / up, down, kBytes / down,
      static_cast<unsigned long long>(s->over_cap));
  // What passes in t seconds is at most rate x t + burst, plus a packet (64 KiB) per CPU racing.
  double slack = burst + 2 * 65536.0;
  EXPECT_LE(kBytes, kRate * up + slack);
  EXPECT_LE(kBytes, kRate * down + slack);
  // And TCP gets most of it past the burst: measured 0.64-0.97 up, 0.94-1.18 down in
  // 15 runs (RTO stalls vary it; the machine is shared). Half is what a broken cap
  // (the 10 ms burst gave 0.15-0.4) or a broken path would not reach.
  EXPECT_GE((kBytes - burst) / up, 0.5 * kRate);
  EXPECT_GE((kBytes - burst) / down, 0.5 * kRate);
  EXPECT_GT(s->over_cap, 0u) << "TCP sent faster than the cap: it must have been held back by drops";
  EXPECT_EQ(s->drops, s->over_cap);  // nothing else was refused
  EXPECT_EQ(s->refused, 0u);
  EXPECT_EQ(s->new_conns, 1u);
  EXPECT_GE(s->fwd_bytes, kBytes);
  EXPECT_GE(s->rev_bytes, kBytes);

  // The same link without a cap: far faster (the cap, not the path, held it).
  ASSERT_TRUE(putLinkCap(*maps_, kLinkId, LinkCap{}).ok());
  int cli2 = -1, srv2 = -1;
  ASSERT_NO_FATAL_FAILURE(connectPair(cli2, srv2));
  double free = transfer(cli2, srv2, kBytes);
  close(cli2);
  close(srv2);
  ASSERT_GT(free, 0);
  EXPECT_GT(kBytes / free, 5.0 * kRate);
}

TEST_F(FastpathCapTrafficTest, TheConnectionPastTheLimitIsRefusedAtOnceAndAcceptedAfterOneIsReleased) {
  ASSERT_TRUE(putLinkCap(*maps_, kLinkId, LinkCap{0, 0, 2}).ok());
  int a = -1, aSrv = -1, b = -1, bSrv = -1;
  ASSERT_NO_FATAL_FAILURE(connectPair(a, aSrv));
  ASSERT_NO_FATAL_FAILURE(connectPair(b, bSrv));
  EXPECT_EQ(usage_->live(kLinkId), 2u);

  auto start = std::chrono::steady_clock::now();
  int err = connectError();
  EXPECT_EQ(err, ECONNREFUSED) << std::strerror(err);  // a reset, not a timeout
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  auto s = maps_->linkStats(kLinkId);
  EXPECT_EQ(s->refused, 1u);
  EXPECT_EQ(s->drops, 1u);
  EXPECT_EQ(s->new_conns, 2u);

  // The first connection closes: its slot goes back with the second FIN, and the
  // sweeper (stage 3), deleting its entries after the linger, gives nothing more.
  char buf[4];
  close(a);
  EXPECT_EQ(recv(aSrv, buf, sizeof buf, 0), 0);
  close(aSrv);
  usleep(100'000);                       // the last ACK has crossed
  EXPECT_EQ(usage_->live(kLinkId), 1u);  // closed, not yet swept: its slot is free
  auto swept =
      dataplane::sweepBpfConnections(*maps_, monotonicNs() + dataplane::kBpfClosedLingerNs, 350'000'000'000ull);
  ASSERT_TRUE(swept.ok()) << swept.status().toString();
  EXPECT_EQ(swept->closed, 1u);
  EXPECT_EQ(usage_->live(kLinkId), 1u);

  int c = -1, cSrv = -1;
  ASSERT_NO_FATAL_FAILURE(connectPair(c, cSrv));
  ASSERT_EQ(send(c, "ping", 4, 0), 4);
  EXPECT_EQ(recv(cSrv, buf, 4, MSG_WAITALL), 4);
  EXPECT_EQ(usage_->live(kLinkId), 2u);
  EXPECT_EQ(maps_->linkStats(kLinkId)->new_conns, 3u);
  // Ending the link (a reject, a delete) frees every slot.
  auto ended = dataplane::endLinkConnections(*maps_, kLinkId);
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(ended->size(), 2u);
  EXPECT_EQ(usage_->live(kLinkId), 0u);
  for (int fd : {b, bSrv, c, cSrv}) close(fd);
}

// The daemon's workload veths are bridge ports (net_host_provisioner): the client's
// SYN reaches the link from the bridge, its later packets lp_workload_in on the veth.
// Not about the cap: found while writing it (the entry named the bridge, and every
// packet after the SYN was dropped on the link).
TEST_F(FastpathCapTrafficTest, AClientBehindABridgeIsCarried) {
  auto nc = Netlink::open(c_);
  ASSERT_TRUE(nc.ok());
  ASSERT_TRUE((*nc)->removeAddress("lp-wc", "10.0.1.1/24").ok());
  ASSERT_TRUE((*nc)->ensureBridge("lp-brtest").ok());
  ASSERT_TRUE((*nc)->setMaster("lp-wc", "lp-brtest").ok());
  ASSERT_TRUE((*nc)->addAddress("lp-brtest", "10.0.1.1/24").ok());
  ASSERT_TRUE((*nc)->setUp("lp-brtest").ok());
  ASSERT_TRUE(setSysctl(c_, "net/ipv4/conf/lp-brtest/proxy_arp", "1").ok());
  Dev br = dev(c_, "lp-brtest"), wc = dev(c_, "lp-wc"), client = dev(cl_, "eth0");
  lp_fp_host hc{};
  hc.ifindex = wc.ifindex;  // the veth, as the plan's BpfHost names it
  std::memcpy(hc.mac, client.mac, 6);
  std::memcpy(hc.gw_mac, br.mac, 6);
  ASSERT_TRUE(maps_->putHost(kC, ip("10.0.1.5"), hc).ok());

  int cli = -1, srv = -1;
  ASSERT_NO_FATAL_FAILURE(connectPair(cli, srv));
  EXPECT_GT(transfer(cli, srv, 100'000), 0);
  EXPECT_GT(transfer(srv, cli, 100'000), 0);
  close(cli);
  close(srv);
  EXPECT_EQ(maps_->linkStats(kLinkId)->drops, 0u);
}

}  // namespace
}  // namespace lp::net::bpf
