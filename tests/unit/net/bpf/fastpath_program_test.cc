// The BPF fast path's programs (src/net/bpf/fastpath.bpf.c) run by the kernel on
// crafted Ethernet/IPv4/TCP packets with BPF_PROG_TEST_RUN: no namespace, no
// device. Each test makes fresh maps and loads one copy of the programs per space
// (VPC namespace), as the daemon will. Needs root (CAP_BPF, CAP_NET_ADMIN).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <set>
#include <vector>

#include "dataplane/bpf_sweep.h"
#include "net/bpf/bpf_fastpath.h"

namespace lp::net::bpf {
namespace {

constexpr uint32_t kConsumer = 1, kProvider = 2, kOtherConsumer = 3;
constexpr uint32_t kLink = 5, kOtherLink = 6;
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;
// BPF_PROG_TEST_RUN's skb lives on the loopback device (ifindex 1) of the caller's namespace.
constexpr uint32_t kTestDevice = 1;

uint32_t ip(const char* text) {
  in_addr a{};
  EXPECT_EQ(inet_pton(AF_INET, text, &a), 1) << text;
  return a.s_addr;
}

uint16_t sum16(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n & 1) acc += static_cast<uint32_t>(p[n - 1] << 8);
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

// A parsed packet, addresses and ports in network order as the maps hold them.
struct Packet {
  uint32_t saddr = 0, daddr = 0;
  uint16_t sport = 0, dport = 0;  // network order
  uint8_t flags = 0;
  uint8_t proto = 6;
  std::array<uint8_t, 6> dstMac{}, srcMac{};
  bool ipChecksumOk = false, tcpChecksumOk = false;
  std::string payload;
};

constexpr size_t kEth = 14, kIp = 20, kTcp = 20;

std::vector<uint8_t> tcpPacket(const char* src, uint16_t sport, const char* dst, uint16_t dport, uint8_t flags,
                               const std::string& payload = "", uint8_t proto = 6) {
  std::vector<uint8_t> b(kEth + kIp + kTcp + payload.size(), 0);
  const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
  std::memcpy(b.data(), macs, 12);
  b[12] = 0x08;  // IPv4
  uint8_t* iph = b.data() + kEth;
  iph[0] = 0x45;
  uint16_t total = static_cast<uint16_t>(kIp + kTcp + payload.size());
  iph[2] = static_cast<uint8_t>(total >> 8);
  iph[3] = static_cast<uint8_t>(total);
  iph[6] = 0x40;  // DF
  iph[8] = 64;
  iph[9] = proto;
  uint32_t s = ip(src), d = ip(dst);
  std::memcpy(iph + 12, &s, 4);
  std::memcpy(iph + 16, &d, 4);
  uint16_t c = static_cast<uint16_t>(~sum16(iph, kIp));
  iph[10] = static_cast<uint8_t>(c >> 8);
  iph[11] = static_cast<uint8_t>(c);
  uint8_t* tcp = iph + kIp;
  tcp[0] = static_cast<uint8_t>(sport >> 8);
  tcp[1] = static_cast<uint8_t>(sport);
  tcp[2] = static_cast<uint8_t>(dport >> 8);
  tcp[3] = static_cast<uint8_t>(dport);
  tcp[7] = 1;      // seq
  tcp[12] = 0x50;  // data offset 5
  tcp[13] = flags;
  tcp[14] = 0xff;  // window
  std::memcpy(tcp + kTcp, payload.data(), payload.size());
  // Pseudo-header: addresses, protocol, TCP length.
  uint8_t pseudo[12];
  std::memcpy(pseudo, iph + 12, 8);
  pseudo[8] = 0;
  pseudo[9] = proto;
  uint16_t len = static_cast<uint16_t>(kTcp + payload.size());
  pseudo[10] = static_cast<uint8_t>(len >> 8);
  pseudo[11] = static_cast<uint8_t>(len);
  uint16_t tc = static_cast<uint16_t>(~sum16(tcp, len, sum16(pseudo, 12)));
  tcp[16] = static_cast<uint8_t>(tc >> 8);
  tcp[17] = static_cast<uint8_t>(tc);
  return b;
}

std::vector<uint8_t> udpPacket(const char* src, uint16_t sport, const char* dst, uint16_t dport) {
  return tcpPacket(src, sport, dst, dport, 0, "", 17);
}

std::vector<uint8_t> arpPacket() {
  std::vector<uint8_t> b(42, 0);
  std::memset(b.data(), 0xff, 6);
  b[12] = 0x08;
  b[13] = 0x06;
  return b;
}

Packet parse(const std::vector<uint8_t>& b) {
  Packet p;
  std::memcpy(p.dstMac.data(), b.data(), 6);
  std::memcpy(p.srcMac.data(), b.data() + 6, 6);
  const uint8_t* iph = b.data() + kEth;
  p.proto = iph[9];
  std::memcpy(&p.saddr, iph + 12, 4);
  std::memcpy(&p.daddr, iph + 16, 4);
  p.ipChecksumOk = sum16(iph, kIp) == 0xffff;
  const uint8_t* tcp = iph + kIp;
  std::memcpy(&p.sport, tcp, 2);
  std::memcpy(&p.dport, tcp + 2, 2);
  p.flags = tcp[13];
  size_t len = b.size() - kEth - kIp;
  uint8_t pseudo[12];
  std::memcpy(pseudo, iph + 12, 8);
  pseudo[8] = 0;
  pseudo[9] = p.proto;
  pseudo[10] = static_cast<uint8_t>(len >> 8);
  pseudo[11] = static_cast<uint8_t>(len);
  p.tcpChecksumOk = sum16(tcp, len, sum16(pseudo, 12)) == 0xffff;
  p.payload.assign(reinterpret_cast<const char*>(tcp + kTcp), len - kTcp);
  return p;
}

struct Outcome {
  int retval = -1;
  std::vector<uint8_t> out;
};

lp_fp_tuple tuple(const char* s, uint16_t sport, const char* d, uint16_t dport) {
  return lp_fp_tuple{ip(s), ip(d), htons(sport), htons(dport)};
}

class FastpathProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "the BPF fast path's tests need root (BPF_PROG_TEST_RUN)";
    FastpathLimits limits;
    limits.connections = 1024;
    limits.links = 64;
    limits.endpoints = 64;
    limits.targetSets = 64;
    limits.hosts = 64;
    auto maps = FastpathMaps::create(limits);
    ASSERT_TRUE(maps.ok()) << maps.status().toString();
    maps_ = std::move(maps).value();
    consumer_ = loadSpace(kConsumer);
    provider_ = loadSpace(kProvider);
    ASSERT_TRUE(consumer_ && provider_);
    // Consumer VPC 10.0.0.0/16 with endpoint interface 10.0.1.100 listening on 80;
    // provider VPC, also 10.0.0.0/16, with target 10.0.2.10:8080 and node 10.0.2.200.
    ASSERT_TRUE(maps_->putLink(kLink, link(kConsumer)).ok());
    ASSERT_TRUE(maps_->putEndpoint(kConsumer, ip("10.0.1.100"), 80, kLink).ok());
    ASSERT_TRUE(maps_->putTargets(kLink, 80, 0, {target("10.0.2.10", 8080)}).ok());
  }

  std::unique_ptr<FastpathPrograms> loadSpace(uint32_t space) {
    auto p = FastpathPrograms::load(*maps_, space);
    EXPECT_TRUE(p.ok()) << p.status().toString();
    return p.ok() ? std::move(p).value() : nullptr;
  }

  static lp_fp_link link(uint32_t consumerSpace) {
    lp_fp_link l{};
    l.consumer_space = consumerSpace;
    l.provider_space = kProvider;
    l.node_addr = ip("10.0.2.200");
    l.consumer_ifindex = kTestDevice;
    l.provider_ifindex = kTestDevice;
    const uint8_t fc[6] = {0x0a, 0, 0, 0, 0xfc, 1}, fp[6] = {0x0a, 0, 0, 0, 0xfb, 1};
    std::memcpy(l.consumer_mac, fc, 6);
    std::memcpy(l.provider_mac, fp, 6);
    return l;
  }

  static lp_fp_target target(const char* addr, uint16_t port) { return lp_fp_target{ip(addr), htons(port), 0}; }

  Outcome run(const FastpathPrograms& progs, FastpathProgram which, const std::vector<uint8_t>& in,
              uint32_t ingressIfindex = 0) {
    Outcome r;
    r.out.resize(in.size() + 256);
    __sk_buff ctx{};
    ctx.ingress_ifindex = ingressIfindex;
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.data(), .data_out = r.out.data(),
                .data_size_in = static_cast<uint32_t>(in.size()), .data_size_out = static_cast<uint32_t>(r.out.size()),
                .ctx_in = &ctx, .ctx_size_in = sizeof ctx, .repeat = 1);
    int err = bpf_prog_test_run_opts(progs.fd(which), &opts);
    EXPECT_EQ(err, 0) << "BPF_PROG_TEST_RUN: " << std::strerror(errno);
    r.retval = static_cast<int>(opts.retval);
    r.out.resize(opts.data_size_out);
    return r;
  }

  std::optional<lp_fp_conn> conn(uint32_t space, const lp_fp_tuple& t) {
    auto c = maps_->connection(space, t);
    EXPECT_TRUE(c.ok()) << c.status().toString();
    return c.ok() ? *c : std::nullopt;
  }

  lp_fp_link_stats stats(uint32_t link) {
    auto s = maps_->linkStats(link);
    EXPECT_TRUE(s.ok()) << s.status().toString();
    return s.ok() ? *s : lp_fp_link_stats{};
  }

  // The SYN of client 10.0.1.5:<sport> to the endpoint, through the consumer's link egress.
  Outcome syn(uint16_t sport, const FastpathPrograms* progs = nullptr) {
    return run(progs ? *progs : *consumer_, FastpathProgram::kLinkOut,
               tcpPacket("10.0.1.5", sport, "10.0.1.100", 80, kSyn), 9);
  }

  // The same SYN arriving on the test run's own device, so the client's later
  // packets (test runs too) come from where its entry expects them.
  Outcome synHere(uint16_t sport) {
    return run(*consumer_, FastpathProgram::kLinkOut, tcpPacket("10.0.1.5", sport, "10.0.1.100", 80, kSyn),
               kTestDevice);
  }

  // A FIN from the client (space kConsumer) or from the target (kProvider) of the
  // connection synHere(sport) made, moved across by its workload's program.
  void finFrom(uint32_t space, uint16_t sport) {
    auto pkt = space == kConsumer ? tcpPacket("10.0.1.5", sport, "10.0.1.100", 80, kFin | kAck)
                                  : tcpPacket("10.0.2.10", 8080, "10.0.2.200", sport, kFin | kAck);
    ASSERT_EQ(run(space == kConsumer ? *consumer_ : *provider_, FastpathProgram::kWorkloadIn, pkt).retval,
              TC_ACT_REDIRECT);
  }

  std::unique_ptr<FastpathMaps> maps_;
  std::unique_ptr<FastpathPrograms> consumer_, provider_;
};

TEST_F(FastpathProgramTest, SynToAnEndpointMakesBothEntriesAndIsTranslatedWithValidChecksums) {
  Outcome r = syn(40000);
  ASSERT_EQ(r.retval, TC_ACT_OK);
  Packet p = parse(r.out);
  EXPECT_EQ(p.saddr, ip("10.0.2.200"));  // the node in the endpoint's zone, never the client
  EXPECT_EQ(p.daddr, ip("10.0.2.10"));
  EXPECT_EQ(ntohs(p.sport), 40000);  // the client's port, free at the node
  EXPECT_EQ(ntohs(p.dport), 8080);
  EXPECT_EQ(p.flags, kSyn);
  EXPECT_TRUE(p.ipChecksumOk);
  EXPECT_TRUE(p.tcpChecksumOk);

  auto fwd = conn(kConsumer, tuple("10.0.1.5", 40000, "10.0.1.100", 80));
  ASSERT_TRUE(fwd.has_value());
  EXPECT_EQ(fwd->dir, LP_FP_DIR_FWD);
  EXPECT_EQ(fwd->link, kLink);
  EXPECT_EQ(fwd->ifindex, 9u);  // the client's device, where its later packets must come from
  EXPECT_EQ(fwd->to.daddr, ip("10.0.2.10"));
  EXPECT_GT(fwd->last_seen_ns, 0u);
  auto rev = conn(kProvider, tuple("10.0.2.10", 8080, "10.0.2.200", 40000));
  ASSERT_TRUE(rev.has_value());
  EXPECT_EQ(rev->dir, LP_FP_DIR_REV);
  EXPECT_EQ(rev->to.saddr, ip("10.0.1.100"));
  EXPECT_EQ(rev->to.daddr, ip("10.0.1.5"));
  EXPECT_EQ(ntohs(rev->to.sport), 80);
  EXPECT_EQ(ntohs(rev->to.dport), 40000);
  EXPECT_EQ(*maps_->connectionCount(), 2u);
  lp_fp_link_stats s = stats(kLink);
  EXPECT_EQ(s.new_conns, 1u);
  EXPECT_EQ(s.fwd_packets, 1u);
  EXPECT_EQ(s.fwd_bytes, r.out.size());
}

TEST_F(FastpathProgramTest, ReplyIsTranslatedBackAndMovedToTheClientAndTheClientsAckToTheTarget) {
  ASSERT_EQ(syn(40000).retval, TC_ACT_OK);
  lp_fp_host client{};
  client.ifindex = 7;
  const uint8_t clientMac[6] = {2, 0, 0, 0, 0, 5}, gwMac[6] = {2, 0, 0, 0, 0, 0xee};
  std::memcpy(client.mac, clientMac, 6);
  std::memcpy(client.gw_mac, gwMac, 6);
  ASSERT_TRUE(maps_->putHost(kConsumer, ip("10.0.1.5"), client).ok());

  // The target's SYN-ACK, at its veth in the provider's namespace.
  Outcome back = run(*provider_, FastpathProgram::kWorkloadIn,
                     tcpPacket("10.0.2.10", 8080, "10.0.2.200", 40000, kSyn | kAck, "hello"));
  ASSERT_EQ(back.retval, TC_ACT_REDIRECT);
  Packet p = parse(back.out);
  EXPECT_EQ(p.saddr, ip("10.0.1.100"));
  EXPECT_EQ(p.daddr, ip("10.0.1.5"));
  EXPECT_EQ(ntohs(p.sport), 80);
  EXPECT_EQ(ntohs(p.dport), 40000);
  EXPECT_TRUE(p.ipChecksumOk);
  EXPECT_TRUE(p.tcpChecksumOk);
  EXPECT_EQ(p.payload, "hello");
  EXPECT_EQ(p.dstMac[4], 0xfc);  // toward the link's consumer end

  // It arrives on the link in the consumer's namespace and goes to the client's veth.
  Outcome in = run(*consumer_, FastpathProgram::kLinkIn, back.out);
  EXPECT_EQ(in.retval, TC_ACT_REDIRECT);
  Packet q = parse(in.out);
  EXPECT_EQ(q.dstMac, (std::array<uint8_t, 6>{2, 0, 0, 0, 0, 5}));
  EXPECT_EQ(q.srcMac, (std::array<uint8_t, 6>{2, 0, 0, 0, 0, 0xee}));
  EXPECT_EQ(q.saddr, p.saddr);

  // The client's ACK, from its device (9, where the SYN came from), to the target.
  Outcome ackRun = run(*consumer_, FastpathProgram::kWorkloadIn, tcpPacket("10.0.1.5", 40000, "10.0.1.100", 80, kAck));
  // The test run's device is 1, not the client's 9: not this connection's packet.
  EXPECT_EQ(ackRun.retval, TC_ACT_OK);
  EXPECT_EQ(parse(ackRun.out).daddr, ip("10.0.1.100"));
}

TEST_F(FastpathProgramTest, ClientPacketsAfterTheSynGoPeerToPeerTranslated) {
  // The SYN came in on the test device itself, so the client's later packets match.
  ASSERT_EQ(
      run(*consumer_, FastpathProgram::kLinkOut, tcpPacket("10.0.1.5", 40001, "10.0.1.100", 80, kSyn), kTestDevice)
          .retval,
      TC_ACT_OK);
  Outcome r = run(*consumer_, FastpathProgram::kWorkloadIn,
                  tcpPacket("10.0.1.5", 40001, "10.0.1.100", 80, kAck, "GET / HTTP/1.0\r\n\r\n"));
  ASSERT_EQ(r.retval, TC_ACT_REDIRECT);
  Packet p = parse(r.out);
  EXPECT_EQ(p.saddr, ip("10.0.2.200"));
  EXPECT_EQ(p.daddr, ip("10.0.2.10"));
  EXPECT_EQ(ntohs(p.sport), 40001);
  EXPECT_EQ(ntohs(p.dport), 8080);
  EXPECT_TRUE(p.ipChecksumOk);
  EXPECT_TRUE(p.tcpChecksumOk);
  EXPECT_EQ(p.dstMac[4], 0xfb);  // toward the link's provider end

  // On the provider's link ingress it goes to the target (a host entry) ...
  lp_fp_host target{};
  target.ifindex = 11;
  ASSERT_TRUE(maps_->putHost(kProvider, ip("10.0.2.10"), target).ok());
  EXPECT_EQ(run(*provider_, FastpathProgram::kLinkIn, r.out).retval, TC_ACT_REDIRECT);
  // ... and a SYN there goes to the provider's stack (the target's security groups).
  Outcome synOut = syn(40002);
  EXPECT_EQ(run(*provider_, FastpathProgram::kLinkIn, synOut.out).retval, TC_ACT_OK);
}

TEST_F(FastpathProgramTest, PacketsOfUnknownFlowsAreNotTranslated) {
  ASSERT_EQ(syn(40000).retval, TC_ACT_OK);
  // Another client port: no entry. The workload's veth hands it to the stack untouched.
  auto in = tcpPacket("10.0.1.5", 40009, "10.0.1.100", 80, kAck, "x");
  Outcome r = run(*consumer_, FastpathProgram::kWorkloadIn, in);
  EXPECT_EQ(r.retval, TC_ACT_OK);
  EXPECT_EQ(r.out, in);
  // The stack routes it to the link, whose egress lets only SYNs out.
  EXPECT_EQ(run(*consumer_, FastpathProgram::kLinkOut, in).retval, TC_ACT_SHOT);
  // A reply for a connection nobody opened, on either link end: dropped.
  EXPECT_EQ(run(*consumer_, FastpathProgram::kLinkIn, tcpPacket("10.0.1.100", 80, "10.0.1.5", 40009, kAck)).retval,
            TC_ACT_SHOT);
  EXPECT_EQ(run(*provider_, FastpathProgram::kLinkIn, tcpPacket("10.0.2.200", 40009, "10.0.2.10", 8080, kAck)).retval,
            TC_ACT_SHOT);
  // A target's packet to an unknown node port stays in the provider's namespace, untouched.
  auto reply = tcpPacket("10.0.2.10", 8080, "10.0.2.200", 40009, kAck);
  Outcome rr = run(*provider_, FastpathProgram::kWorkloadIn, reply);
  EXPECT_EQ(rr.retval, TC_ACT_OK);
  EXPECT_EQ(rr.out, reply);
  EXPECT_EQ(*maps_->connectionCount(), 2u);
  EXPECT_EQ(stats(kLink).drops, 1u);  // the link's egress refusal; the others belong to no link
  EXPECT_EQ(stats(0).drops, 2u);
}

TEST_F(FastpathProgramTest, NonTcpAndOtherPortsPassInsideTheNamespaceButNeverCrossTheLink) {
  auto udp = udpPacket("10.0.1.5", 5353, "10.0.1.100", 80);
  Outcome w = run(*consumer_, FastpathProgram::kWorkloadIn, udp);
  EXPECT_EQ(w.retval, TC_ACT_OK);
  EXPECT_EQ(w.out, udp);
  EXPECT_EQ(run(*consumer_, FastpathProgram::kLinkOut, udp).retval, TC_ACT_SHOT);
  EXPECT_EQ(run(*consumer_, FastpathProgram::kLinkIn, udp).retval, TC_ACT_SHOT);

  // A SYN to the endpoint's address on a port it does not listen on.
  auto other = tcpPacket("10.0.1.5", 40000, "10.0.1.100", 81, kSyn);
  EXPECT_EQ(run(*consumer_, FastpathProgram::kWorkloadIn, other).retval, TC_ACT_OK);
  EXPECT_EQ(run(*consumer_, FastpathProgram::kLinkOut, other).retval, TC_ACT_SHOT);
  // A SYN with another flag (SYN+FIN), to the listener port: not a new connection.
  EXPECT_EQ(
      run(*consumer_, FastpathProgram::kLinkOut, tcpPacket("10.0.1.5", 40000, "10.0.1.100", 80, kSyn | kFin)).retval,
      TC_ACT_SHOT);
  EXPECT_EQ(*maps_->connectionCount(), 0u);
  // ARP resolves the link's neighbours.
  EXPECT_EQ(run(*consumer_, FastpathProgram::kLinkOut, arpPacket()).retval, TC_ACT_OK);
  EXPECT_EQ(run(*consumer_, FastpathProgram::kLinkIn, arpPacket()).retval, TC_ACT_OK);
}

TEST_F(FastpathProgramTest, TheProviderCannotOpenAConnectionIntoTheConsumer) {
  ASSERT_EQ(syn(40000).retval, TC_ACT_OK);
  // A SYN from the provider's side to the client, on the link in the consumer's namespace.
  EXPECT_EQ(run(*consumer_, FastpathProgram::kLinkIn, tcpPacket("10.0.1.100", 80, "10.0.1.5", 40123, kSyn)).retval,
            TC_ACT_SHOT);
  // A SYN from a provider workload to the endpoint address as it exists there.
  EXPECT_EQ(run(*provider_, FastpathProgram::kLinkOut, tcpPacket("10.0.2.10", 8080, "10.0.1.100", 80, kSyn)).retval,
            TC_ACT_SHOT);
  EXPECT_EQ(*maps_->connectionCount(), 2u);
}

TEST_F(FastpathProgramTest, ALinkPacketOnAnotherDeviceIsDropped) {
  ASSERT_EQ(syn(40000).retval, TC_ACT_OK);
  lp_fp_link l = link(kConsumer);
  l.consumer_ifindex = 42;  // the link's device is not the one this packet is on
  ASSERT_TRUE(maps_->putLink(kLink, l).ok());
  EXPECT_EQ(run(*consumer_, FastpathProgram::kLinkIn, tcpPacket("10.0.1.100", 80, "10.0.1.5", 40000, kAck)).retval,
            TC_ACT_SHOT);
  EXPECT_EQ(stats(kLink).drops, 1u);
}

TEST_F(FastpathProgramTest, TwoConsumerVpcsWithTheSameAddressesAreKeptApart) {
  // A second consumer VPC, same 10.0.0.0/16, its own endpoint with the same address
  // and port, to the same service: same node, same target.
  auto other = loadSpace(kOtherConsumer);
  ASSERT_TRUE(other);
  ASSERT_TRUE(maps_->putLink(kOtherLink, link(kOtherConsumer)).ok());
  ASSERT_TRUE(maps_->putEndpoint(kOtherConsumer, ip("10.0.1.100"), 80, kOtherLink).ok());
  ASSERT_TRUE(maps_->putTargets(kOtherLink, 80, 0, {target("10.0.2.10", 8080)}).ok());

  Outcome a = syn(40000);
  Outcome b = syn(40000, other.get());  // the very same tuple, in the other VPC
  ASSERT_EQ(a.retval, TC_ACT_OK);
  ASSERT_EQ(b.retval, TC_ACT_OK);
  uint16_t portA = parse(a.out).sport, portB = parse(b.out).sport;
  EXPECT_EQ(ntohs(portA), 40000);
  EXPECT_NE(portA, portB);  // the node's port toward the target was taken: moved
  EXPECT_TRUE(parse(b.out).tcpChecksumOk);

  auto t = tuple("10.0.1.5", 40000, "10.0.1.100", 80);
  auto fa = conn(kConsumer, t), fb = conn(kOtherConsumer, t);
  ASSERT_TRUE(fa && fb);
  EXPECT_EQ(fa->link, kLink);
  EXPECT_EQ(fb->link, kOtherLink);
  EXPECT_EQ(fb->to.sport, portB);
  EXPECT_EQ(*maps_->connectionCount(), 4u);

  // The target's replies on each node port go back over their own link.
  Outcome ra = run(*provider_, FastpathProgram::kWorkloadIn,
                   tcpPacket("10.0.2.10", 8080, "10.0.2.200", ntohs(portA), kAck, "aa"));
  Outcome rb = run(*provider_, FastpathProgram::kWorkloadIn,
                   tcpPacket("10.0.2.10", 8080, "10.0.2.200", ntohs(portB), kAck, "bbb"));
  EXPECT_EQ(ra.retval, TC_ACT_REDIRECT);
  EXPECT_EQ(rb.retval, TC_ACT_REDIRECT);
  EXPECT_EQ(parse(rb.out).daddr, ip("10.0.1.5"));
  EXPECT_EQ(ntohs(parse(rb.out).dport), 40000);
  EXPECT_EQ(stats(kLink).rev_packets, 1u);
  EXPECT_EQ(stats(kOtherLink).rev_packets, 1u);
  EXPECT_EQ(stats(kOtherLink).rev_bytes, rb.out.size());
  EXPECT_EQ(stats(kLink).new_conns, 1u);
  EXPECT_EQ(stats(kOtherLink).new_conns, 1u);
}

TEST_F(FastpathProgramTest, ARetransmittedSynKeepsItsTranslation) {
  Outcome first = syn(40000);
  Outcome again = syn(40000);
  ASSERT_EQ(again.retval, TC_ACT_OK);
  EXPECT_EQ(first.out, again.out);
  EXPECT_EQ(stats(kLink).new_conns, 1u);
  EXPECT_EQ(stats(kLink).fwd_packets, 2u);
  EXPECT_EQ(*maps_->connectionCount(), 2u);
}

TEST_F(FastpathProgramTest, TheFlowHashPicksAmongTheTierTheDaemonWrote) {
  std::vector<lp_fp_target> tier = {target("10.0.2.10", 8080), target("10.0.2.11", 8080), target("10.0.2.12", 8081)};
  ASSERT_TRUE(maps_->putTargets(kLink, 80, 1, tier).ok());
  std::set<uint32_t> used;
  for (uint16_t port = 41000; port < 41032; ++port) {
    Outcome r = syn(port);
    ASSERT_EQ(r.retval, TC_ACT_OK);
    Packet p = parse(r.out);
    const lp_fp_target& want = tier[lp_fp_flow_hash(ip("10.0.1.5"), htons(port)) % tier.size()];
    EXPECT_EQ(p.daddr, want.addr) << port;
    EXPECT_EQ(p.dport, want.port) << port;
    used.insert(p.daddr);
  }
  EXPECT_EQ(used.size(), 3u);
  // An empty tier refuses new connections, counted as drops.
  ASSERT_TRUE(maps_->putTargets(kLink, 80, 5, {}).ok());
  EXPECT_EQ(syn(42000).retval, TC_ACT_SHOT);
  EXPECT_EQ(stats(kLink).drops, 1u);
}

TEST_F(FastpathProgramTest, CountersFinAndResetAreRecorded) {
  ASSERT_EQ(
      run(*consumer_, FastpathProgram::kLinkOut, tcpPacket("10.0.1.5", 40000, "10.0.1.100", 80, kSyn), kTestDevice)
          .retval,
      TC_ACT_OK);
  size_t fwdBytes = 54;  // the SYN
  for (int i = 0; i < 3; ++i) {
    auto pkt = tcpPacket("10.0.1.5", 40000, "10.0.1.100", 80, kAck, std::string(100, 'a'));
    fwdBytes += pkt.size();
    ASSERT_EQ(run(*consumer_, FastpathProgram::kWorkloadIn, pkt).retval, TC_ACT_REDIRECT);
  }
  auto fin = tcpPacket("10.0.1.5", 40000, "10.0.1.100", 80, kFin | kAck);
  fwdBytes += fin.size();
  ASSERT_EQ(run(*consumer_, FastpathProgram::kWorkloadIn, fin).retval, TC_ACT_REDIRECT);
  auto rst = tcpPacket("10.0.2.10", 8080, "10.0.2.200", 40000, kRst);
  ASSERT_EQ(run(*provider_, FastpathProgram::kWorkloadIn, rst).retval, TC_ACT_REDIRECT);

  lp_fp_link_stats s = stats(kLink);
  EXPECT_EQ(s.new_conns, 1u);
  EXPECT_EQ(s.fwd_packets, 5u);
  EXPECT_EQ(s.fwd_bytes, fwdBytes);
  EXPECT_EQ(s.rev_packets, 1u);
  EXPECT_EQ(s.rev_bytes, rst.size());
  EXPECT_EQ(s.resets, 1u);
  EXPECT_EQ(s.drops, 0u);
  auto fwd = conn(kConsumer, tuple("10.0.1.5", 40000, "10.0.1.100", 80));
  auto rev = conn(kProvider, tuple("10.0.2.10", 8080, "10.0.2.200", 40000));
  ASSERT_TRUE(fwd && rev);
  EXPECT_EQ(fwd->seen, LP_FP_SEEN_FIN);
  EXPECT_EQ(rev->seen, LP_FP_SEEN_RST);
  EXPECT_GE(rev->last_seen_ns, fwd->last_seen_ns);
  // Another link's counters are untouched.
  EXPECT_EQ(stats(kOtherLink).fwd_packets, 0u);
}

TEST_F(FastpathProgramTest, ADeletedLinkCarriesNothing) {
  ASSERT_EQ(
      run(*consumer_, FastpathProgram::kLinkOut, tcpPacket("10.0.1.5", 40000, "10.0.1.100", 80, kSyn), kTestDevice)
          .retval,
      TC_ACT_OK);
  ASSERT_TRUE(maps_->deleteLink(kLink).ok());
  auto ack = tcpPacket("10.0.1.5", 40000, "10.0.1.100", 80, kAck);
  Outcome r = run(*consumer_, FastpathProgram::kWorkloadIn, ack);
  EXPECT_EQ(r.retval, TC_ACT_OK);
  EXPECT_EQ(r.out, ack);
  EXPECT_EQ(syn(40001).retval, TC_ACT_SHOT);
}

// Stage 3 (dataplane/bpf_sweep.h): entries the programs made, swept at an injected
// time and ended per link or target.
TEST_F(FastpathProgramTest, AnIdlePairIsSweptAfterTheTimeoutAndAKeepaliveRefreshedOneIsNot) {
  for (uint16_t port : {40000, 40001}) ASSERT_EQ(synHere(port).retval, TC_ACT_OK);
  // 40001's client sends a keepalive probe (an empty ACK) and the target answers it.
  ASSERT_EQ(run(*consumer_, FastpathProgram::kWorkloadIn, tcpPacket("10.0.1.5", 40001, "10.0.1.100", 80, kAck)).retval,
            TC_ACT_REDIRECT);
  ASSERT_EQ(
      run(*provider_, FastpathProgram::kWorkloadIn, tcpPacket("10.0.2.10", 8080, "10.0.2.200", 40001, kAck)).retval,
      TC_ACT_REDIRECT);
  auto quiet = conn(kConsumer, tuple("10.0.1.5", 40000, "10.0.1.100", 80));
  auto kept = conn(kProvider, tuple("10.0.2.10", 8080, "10.0.2.200", 40001));
  ASSERT_TRUE(quiet && kept);
  ASSERT_GT(kept->last_seen_ns, quiet->last_seen_ns);
  constexpr uint64_t kIdle = 2'000'000'000;  // [dataplane] idle_timeout_seconds = 2, as a test sets it

  auto none = dataplane::sweepBpfConnections(*maps_, quiet->last_seen_ns + kIdle - 1, kIdle);
  ASSERT_TRUE(none.ok()) << none.status().toString();
  EXPECT_EQ(none->idle, 0u);
  EXPECT_EQ(*maps_->connectionCount(), 4u);

  auto swept = dataplane::sweepBpfConnections(*maps_, quiet->last_seen_ns + kIdle, kIdle);
  ASSERT_TRUE(swept.ok()) << swept.status().toString();
  EXPECT_EQ(swept->idle, 1u);
  EXPECT_EQ(swept->closed, 0u);
  ASSERT_EQ(swept->idleConnections.size(), 1u);
  EXPECT_EQ(ntohs(swept->idleConnections[0].client.sport), 40000);  // to reset
  EXPECT_FALSE(conn(kConsumer, tuple("10.0.1.5", 40000, "10.0.1.100", 80)));
  EXPECT_FALSE(conn(kProvider, tuple("10.0.2.10", 8080, "10.0.2.200", 40000)));
  EXPECT_TRUE(conn(kConsumer, tuple("10.0.1.5", 40001, "10.0.1.100", 80)));
  EXPECT_TRUE(conn(kProvider, tuple("10.0.2.10", 8080, "10.0.2.200", 40001)));
  // A client packet of the swept connection now finds nothing to translate.
  EXPECT_EQ(
      run(*consumer_, FastpathProgram::kWorkloadIn, tcpPacket("10.0.1.5", 40000, "10.0.1.100", 80, kAck, "x")).retval,
      TC_ACT_OK);

  auto later = dataplane::sweepBpfConnections(*maps_, kept->last_seen_ns + kIdle, kIdle);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->idle, 1u);
  EXPECT_EQ(*maps_->connectionCount(), 0u);
}

TEST_F(FastpathProgramTest, AConnectionWithFinBothWaysIsCleanedAfterTheLingerAndAHalfClosedOneStays) {
  for (uint16_t port : {40000, 40001}) ASSERT_EQ(synHere(port).retval, TC_ACT_OK);
  // 40000: the client's FIN, the target's FIN, the client's last ACK. 40001: the client's FIN only.
  for (uint16_t port : {40000, 40001}) ASSERT_NO_FATAL_FAILURE(finFrom(kConsumer, port));
  ASSERT_NO_FATAL_FAILURE(finFrom(kProvider, 40000));
  ASSERT_EQ(run(*consumer_, FastpathProgram::kWorkloadIn, tcpPacket("10.0.1.5", 40000, "10.0.1.100", 80, kAck)).retval,
            TC_ACT_REDIRECT);
  auto last = conn(kConsumer, tuple("10.0.1.5", 40000, "10.0.1.100", 80));
  ASSERT_TRUE(last);
  constexpr uint64_t kIdle = 350'000'000'000;

  auto early = dataplane::sweepBpfConnections(*maps_, last->last_seen_ns + dataplane::kBpfClosedLingerNs - 1, kIdle);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->closed, 0u);  // the last ACK may still be retransmitted for
  auto swept = dataplane::sweepBpfConnections(*maps_, last->last_seen_ns + dataplane::kBpfClosedLingerNs, kIdle);
  ASSERT_TRUE(swept.ok()) << swept.status().toString();
  EXPECT_EQ(swept->closed, 1u);
  EXPECT_EQ(swept->idle, 0u);
  EXPECT_TRUE(swept->idleConnections.empty());  // closed ones need no reset
  EXPECT_FALSE(conn(kConsumer, tuple("10.0.1.5", 40000, "10.0.1.100", 80)));
  EXPECT_FALSE(conn(kProvider, tuple("10.0.2.10", 8080, "10.0.2.200", 40000)));
  EXPECT_TRUE(conn(kProvider, tuple("10.0.2.10", 8080, "10.0.2.200", 40001)));  // the target may still send
  EXPECT_EQ(*maps_->connectionCount(), 2u);
}

// A client that reuses its port for a new connection before the sweeper removed the
// closed one's entries gets a new connection, not the closed one's flags (with
// them, the sweeper would end the new connection after 10 s of quiet).
TEST_F(FastpathProgramTest, ASynOnAClosedConnectionsTupleStartsAFreshConnection) {
  ASSERT_EQ(synHere(40000).retval, TC_ACT_OK);
  ASSERT_NO_FATAL_FAILURE(finFrom(kConsumer, 40000));
  ASSERT_NO_FATAL_FAILURE(finFrom(kProvider, 40000));
  ASSERT_EQ(conn(kConsumer, tuple("10.0.1.5", 40000, "10.0.1.100", 80))->seen, LP_FP_SEEN_FIN);

  ASSERT_EQ(synHere(40000).retval, TC_ACT_OK);
  auto fwd = conn(kConsumer, tuple("10.0.1.5", 40000, "10.0.1.100", 80));
  auto rev = conn(kProvider, tuple("10.0.2.10", 8080, "10.0.2.200", 40000));
  ASSERT_TRUE(fwd && rev);
  EXPECT_EQ(fwd->seen, 0u);
  EXPECT_EQ(rev->seen, 0u);
  EXPECT_EQ(stats(kLink).new_conns, 2u);
  EXPECT_EQ(*maps_->connectionCount(), 2u);
  auto swept = dataplane::sweepBpfConnections(*maps_, fwd->last_seen_ns + dataplane::kBpfClosedLingerNs, 350'000'000'000);
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->closed, 0u);
  EXPECT_TRUE(conn(kConsumer, tuple("10.0.1.5", 40000, "10.0.1.100", 80)));
}

TEST_F(FastpathProgramTest, EndingALinkDeletesExactlyItsEntriesAndEndingATargetOnlyItsConnections) {
  // A second interface (link) of the endpoint in the same consumer VPC, same target.
  ASSERT_TRUE(maps_->putLink(kOtherLink, link(kConsumer)).ok());
  ASSERT_TRUE(maps_->putEndpoint(kConsumer, ip("10.0.1.101"), 80, kOtherLink).ok());
  ASSERT_TRUE(maps_->putTargets(kOtherLink, 80, 0, {target("10.0.2.10", 8080)}).ok());
  ASSERT_EQ(syn(40000).retval, TC_ACT_OK);
  ASSERT_EQ(syn(40001).retval, TC_ACT_OK);
  Outcome other = run(*consumer_, FastpathProgram::kLinkOut, tcpPacket("10.0.1.5", 40002, "10.0.1.101", 80, kSyn), 9);
  ASSERT_EQ(other.retval, TC_ACT_OK);
  ASSERT_EQ(*maps_->connectionCount(), 6u);

  auto ended = dataplane::endLinkConnections(*maps_, kLink);
  ASSERT_TRUE(ended.ok()) << ended.status().toString();
  ASSERT_EQ(ended->size(), 2u);
  std::set<uint16_t> ports;
  for (const auto& c : *ended) {
    ports.insert(ntohs(c.client.sport));
    EXPECT_EQ(c.client.daddr, ip("10.0.1.100"));  // the client's end: the endpoint it talks to
    EXPECT_EQ(c.target.saddr, ip("10.0.2.10"));   // the target's end: the node's port it sees
    EXPECT_EQ(c.target.daddr, ip("10.0.2.200"));
  }
  EXPECT_EQ(ports, (std::set<uint16_t>{40000, 40001}));
  EXPECT_EQ(*maps_->connectionCount(), 2u);
  EXPECT_TRUE(conn(kConsumer, tuple("10.0.1.5", 40002, "10.0.1.101", 80)));

  // The other link's connection ends with its target, not with another target.
  auto wrong = dataplane::endTargetConnections(*maps_, kOtherLink, ip("10.0.2.11"), 8080);
  ASSERT_TRUE(wrong.ok());
  EXPECT_TRUE(wrong->empty());
  auto byTarget = dataplane::endTargetConnections(*maps_, kOtherLink, ip("10.0.2.10"), 8080);
  ASSERT_TRUE(byTarget.ok());
  EXPECT_EQ(byTarget->size(), 1u);
  EXPECT_EQ(*maps_->connectionCount(), 0u);
}

TEST_F(FastpathProgramTest, TheWalkVisitsEveryEntryOnceAcrossBatchesAndDeletesWhatIsAsked) {
  FastpathLimits limits;
  limits.connections = 16384;
  auto big = FastpathMaps::create(limits);
  ASSERT_TRUE(big.ok());
  constexpr uint32_t kEntries = 9000;  // more than two of the walk's batches
  for (uint32_t i = 0; i < kEntries; ++i) {
    lp_fp_conn_key k{kConsumer, lp_fp_tuple{htonl(0x0a000000u + i), ip("10.0.1.100"), htons(40000), htons(80)}};
    lp_fp_conn v{};
    v.link = kLink;
    v.dir = LP_FP_DIR_FWD;
    ASSERT_EQ(bpf_map_update_elem((*big)->fd(FastpathMaps::kConns), &k, &v, BPF_NOEXIST), 0);
  }
  std::set<uint32_t> seen;
  size_t visits = 0;
  std::vector<lp_fp_conn_key> half;
  ASSERT_TRUE(visitConnections(**big, [&](const lp_fp_conn_key& k, const lp_fp_conn&) {
                ++visits;
                seen.insert(k.t.saddr);
                if (ntohl(k.t.saddr) % 2) half.push_back(k);
              }).ok());
  EXPECT_EQ(visits, kEntries);
  EXPECT_EQ(seen.size(), kEntries);
  auto gone = deleteConnections(**big, half);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(*gone, kEntries / 2);
  EXPECT_EQ(*deleteConnections(**big, half), 0u);  // already gone: not an error
  EXPECT_EQ(*(*big)->connectionCount(), kEntries / 2);
}

TEST_F(FastpathProgramTest, BadArgumentsAreRefusedWithTheirOwnErrors) {
  std::vector<lp_fp_target> many(LP_FP_MAX_TARGETS + 1, target("10.0.2.10", 1));
  Status st = maps_->putTargets(kLink, 80, 0, many);
  EXPECT_EQ(bpfErrorOf(st), BpfError::kInvalid);
  EXPECT_EQ(bpfErrorOf(maps_->putLink(0, link(kConsumer))), BpfError::kInvalid);
  EXPECT_EQ(bpfErrorOf(maps_->putLink(64, link(kConsumer))), BpfError::kInvalid);
  EXPECT_EQ(bpfErrorOf(maps_->putEndpoint(kConsumer, ip("10.0.1.1"), 80, 0)), BpfError::kInvalid);
  EXPECT_EQ(std::string(bpfErrorCode(BpfError::kNotPinned)), "BpfFastpath.NotPinned");
  auto missing = FastpathMaps::openPinned("/nonexistent/lp-bpf");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(bpfErrorOf(missing.status()), BpfError::kNotPinned);
}

// ---- The bandwidth cap and the connection limit (stage 4)

// The TCP checksum of a crafted packet made again after its header was edited.
void fixTcpChecksum(std::vector<uint8_t>& b) {
  uint8_t* iph = b.data() + kEth;
  uint8_t* tcp = iph + kIp;
  size_t len = b.size() - kEth - kIp;
  tcp[16] = tcp[17] = 0;
  uint8_t pseudo[12];
  std::memcpy(pseudo, iph + 12, 8);
  pseudo[8] = 0;
  pseudo[9] = 6;
  pseudo[10] = static_cast<uint8_t>(len >> 8);
  pseudo[11] = static_cast<uint8_t>(len);
  uint16_t c = static_cast<uint16_t>(~sum16(tcp, len, sum16(pseudo, 12)));
  tcp[16] = static_cast<uint8_t>(c >> 8);
  tcp[17] = static_cast<uint8_t>(c);
}

class FastpathCapTest : public FastpathProgramTest {
 protected:
  void SetUp() override {
    FastpathProgramTest::SetUp();
    if (HasFatalFailure()) return;
    usage_ = maps_->linkUsage();
    ASSERT_NE(usage_, nullptr);
    // The client's veth in the consumer's namespace: where a refusal's reset goes,
    // and where its later packets come from (the test device).
    lp_fp_host client{};
    client.ifindex = kTestDevice;
    std::memcpy(client.mac, kClientMac.data(), 6);
    std::memcpy(client.gw_mac, kGatewayMac.data(), 6);
    ASSERT_TRUE(maps_->putHost(kConsumer, ip("10.0.1.5"), client).ok());
  }

  // A connection from 10.0.1.5:<sport> (its SYN through the bridge, device 9).
  void open(uint16_t sport) {
    ASSERT_EQ(
        run(*consumer_, FastpathProgram::kLinkOut, tcpPacket("10.0.1.5", sport, "10.0.1.100", 80, kSyn), 9).retval,
        TC_ACT_OK);
  }
  int clientSends(uint16_t sport, size_t bytes, uint8_t flags = kAck) {
    return run(*consumer_, FastpathProgram::kWorkloadIn,
               tcpPacket("10.0.1.5", sport, "10.0.1.100", 80, flags, std::string(bytes, 'c')))
        .retval;
  }
  // The target's packet to the node's port (the client's: free at the node).
  int targetSends(uint16_t sport, size_t bytes, uint8_t flags = kAck) {
    return run(*provider_, FastpathProgram::kWorkloadIn,
               tcpPacket("10.0.2.10", 8080, "10.0.2.200", sport, flags, std::string(bytes, 't')))
        .retval;
  }
  // What the sweeper does for a closed connection: both entries deleted (which
  // releases the slot).
  void sweep(uint16_t sport, uint16_t nodePort) {
    lp_fp_conn_key f{kConsumer, tuple("10.0.1.5", sport, "10.0.1.100", 80)};
    lp_fp_conn_key r{kProvider, tuple("10.0.2.10", 8080, "10.0.2.200", nodePort)};
    auto n = deleteConnections(*maps_, {f, r, f});  // the third is gone already: nothing more released
    ASSERT_TRUE(n.ok()) << n.status().toString();
    EXPECT_EQ(*n, 2u);
  }

  static constexpr std::array<uint8_t, 6> kClientMac = {2, 0, 0, 0, 0, 5}, kGatewayMac = {2, 0, 0, 0, 0, 0xee};
  LinkUsage* usage_ = nullptr;
};

// The daemon's workload veths are bridge ports: a client's SYN reaches the link
// from the bridge, its later packets the veth's hook. The entry names the veth.
TEST_F(FastpathCapTest, AClientBehindABridgeIsExpectedOnItsVethNotTheBridge) {
  open(40000);
  auto fwd = conn(kConsumer, tuple("10.0.1.5", 40000, "10.0.1.100", 80));
  ASSERT_TRUE(fwd.has_value());
  EXPECT_EQ(fwd->ifindex, kTestDevice);  // lp_hosts' veth, not the SYN's ingress device (9)
  EXPECT_EQ(clientSends(40000, 10), TC_ACT_REDIRECT);
}

TEST_F(FastpathCapTest, DataOverTheCapIsDroppedBothWaysAndCountedAndPassesAgainOnceTheRateAllows) {
  open(40000);
  // 1000 bytes/s with a burst of 1000 bytes (1 s at the rate): 600 bytes cost 0.6 s.
  ASSERT_TRUE(putLinkCap(*maps_, kLink, LinkCap{1000, 1000, 0}).ok());
  EXPECT_EQ(clientSends(40000, 600), TC_ACT_REDIRECT);  // 0.6 s of the burst
  EXPECT_EQ(clientSends(40000, 600), TC_ACT_REDIRECT);  // within the burst: 1.2 s ahead of the rate
  EXPECT_EQ(targetSends(40000, 600), TC_ACT_SHOT);      // the other way shares the cap
  EXPECT_EQ(clientSends(40000, 1), TC_ACT_SHOT);
  // Packets without data are neither dropped nor charged: ACKs, FIN, RST keep flowing.
  EXPECT_EQ(clientSends(40000, 0), TC_ACT_REDIRECT);
  EXPECT_EQ(targetSends(40000, 0), TC_ACT_REDIRECT);
  EXPECT_EQ(clientSends(40000, 0, kFin | kAck), TC_ACT_REDIRECT);

  lp_fp_link_stats s = stats(kLink);
  EXPECT_EQ(s.drops, 2u);
  EXPECT_EQ(s.over_cap, 2u);
  EXPECT_EQ(s.refused, 0u);
  EXPECT_EQ(s.fwd_packets, 1u + 2 + 2);  // the SYN, two data, ACK, FIN: dropped packets are not counted as carried
  EXPECT_EQ(s.fwd_bytes, 54u + 2 * (54 + 600) + 2 * 54);
  EXPECT_EQ(s.rev_packets, 1u);
  EXPECT_EQ(s.rev_bytes, 54u);

  // 0.2 s after the first packet the link is back within its burst.
  usleep(400'000);
  EXPECT_EQ(targetSends(40000, 600), TC_ACT_REDIRECT);
  EXPECT_EQ(targetSends(40000, 600), TC_ACT_SHOT);
  EXPECT_EQ(stats(kLink).over_cap, 3u);
}

// BIG TCP (GSO size 185000 on the workload veths) leaves an IPv4 packet over
// 64 KiB with total length 0: its data is charged by the packet's length.
TEST_F(FastpathCapTest, ABigTcpPacketIsChargedByItsLength) {
  open(40000);
  ASSERT_TRUE(putLinkCap(*maps_, kLink, LinkCap{1000, 1000, 0}).ok());
  auto big = tcpPacket("10.0.1.5", 40000, "10.0.1.100", 80, kAck, std::string(1400, 'b'));
  big[kEth + 2] = big[kEth + 3] = 0;
  EXPECT_EQ(run(*consumer_, FastpathProgram::kWorkloadIn, big).retval, TC_ACT_REDIRECT);  // 1.4 s of the rate
  EXPECT_EQ(run(*consumer_, FastpathProgram::kWorkloadIn, big).retval, TC_ACT_SHOT);
  EXPECT_EQ(stats(kLink).over_cap, 1u);
}

TEST_F(FastpathCapTest, UnderTheCapAndWithoutOneEverythingPasses) {
  open(40000);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(clientSends(40000, 1400), TC_ACT_REDIRECT) << i;  // no cap written
  // 1 GB/s with 10 ms of burst: 100 packets of 1400 bytes in far less than 10 ms of sending.
  ASSERT_TRUE(putLinkCap(*maps_, kLink, LinkCap{1'000'000'000, 10'000'000, 0}).ok());
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(clientSends(40000, 1400), TC_ACT_REDIRECT) << i;
    ASSERT_EQ(targetSends(40000, 1400), TC_ACT_REDIRECT) << i;
  }
  // A cap taken away: nothing is held back.
  ASSERT_TRUE(putLinkCap(*maps_, kLink, LinkCap{1000, 0, 0}).ok());
  EXPECT_EQ(clientSends(40000, 1400), TC_ACT_REDIRECT);
  EXPECT_EQ(clientSends(40000, 1400), TC_ACT_SHOT);
  ASSERT_TRUE(putLinkCap(*maps_, kLink, LinkCap{}).ok());
  EXPECT_EQ(clientSends(40000, 1400), TC_ACT_REDIRECT);
  lp_fp_link_stats s = stats(kLink);
  EXPECT_EQ(s.fwd_packets, 1u + 50 + 50 + 1 + 1);
  EXPECT_EQ(s.rev_packets, 50u);
  EXPECT_EQ(s.drops, 1u);
}

TEST_F(FastpathCapTest, TheConnectionPastTheLimitIsRefusedWithAResetUntilOneIsReleased) {
  ASSERT_TRUE(putLinkCap(*maps_, kLink, LinkCap{0, 0, 2}).ok());
  open(40000);
  open(40001);
  EXPECT_EQ(usage_->live(kLink), 2u);
  open(40000);  // a retransmitted SYN is the same connection
  EXPECT_EQ(usage_->live(kLink), 2u);

  auto third = tcpPacket("10.0.1.5", 40002, "10.0.1.100", 80, kSyn);
  Outcome r = run(*consumer_, FastpathProgram::kLinkOut, third, 9);
  ASSERT_EQ(r.retval, TC_ACT_REDIRECT);  // back out of the client's veth
  ASSERT_EQ(r.out.size(), kEth + kIp + kTcp);
  Packet p = parse(r.out);
  EXPECT_EQ(p.saddr, ip("10.0.1.100"));  // from the endpoint the client called
  EXPECT_EQ(p.daddr, ip("10.0.1.5"));
  EXPECT_EQ(ntohs(p.sport), 80);
  EXPECT_EQ(ntohs(p.dport), 40002);
  EXPECT_EQ(p.flags, kRst | kAck);
  EXPECT_EQ(r.out[kEth + kIp + 8 + 3], 2);  // acknowledges the SYN (sequence 1)
  EXPECT_EQ(r.out[kEth + 3], 40);           // IP total length
  EXPECT_TRUE(p.ipChecksumOk);
  EXPECT_TRUE(p.tcpChecksumOk);
  EXPECT_EQ(p.dstMac, kClientMac);
  EXPECT_EQ(p.srcMac, kGatewayMac);
  EXPECT_FALSE(conn(kConsumer, tuple("10.0.1.5", 40002, "10.0.1.100", 80)).has_value());
  EXPECT_EQ(usage_->live(kLink), 2u);

  // A SYN with options (MSS, SACK permitted, timestamps, window scale) is answered
  // without them, its checksum still right.
  const uint8_t options[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
  auto withOptions = tcpPacket("10.0.1.5", 40003, "10.0.1.100", 80, kSyn,
                               std::string(reinterpret_cast<const char*>(options), sizeof options));
  withOptions[kEth + kIp + 12] = 0xa0;  // data offset 10: the "payload" is options
  fixTcpChecksum(withOptions);
  Outcome ro = run(*consumer_, FastpathProgram::kLinkOut, withOptions, kTestDevice);
  ASSERT_EQ(ro.retval, TC_ACT_REDIRECT);
  ASSERT_EQ(ro.out.size(), kEth + kIp + kTcp);
  Packet po = parse(ro.out);
  EXPECT_EQ(po.flags, kRst | kAck);
  EXPECT_EQ(ro.out[kEth + kIp + 12], 0x50);
  EXPECT_TRUE(po.ipChecksumOk);
  EXPECT_TRUE(po.tcpChecksumOk);

  lp_fp_link_stats s = stats(kLink);
  EXPECT_EQ(s.new_conns, 2u);
  EXPECT_EQ(s.refused, 2u);
  EXPECT_EQ(s.drops, 2u);
  EXPECT_EQ(s.over_cap, 0u);

  // One connection closes and the sweeper removes it: the next is accepted.
  sweep(40000, 40000);
  EXPECT_EQ(usage_->live(kLink), 1u);
  EXPECT_EQ(run(*consumer_, FastpathProgram::kLinkOut, third, kTestDevice).retval, TC_ACT_OK);
  EXPECT_EQ(usage_->live(kLink), 2u);
  EXPECT_EQ(stats(kLink).new_conns, 3u);

  // A client with no host entry cannot be answered: its SYN is dropped, counted the same.
  ASSERT_TRUE(maps_->deleteHost(kConsumer, ip("10.0.1.5")).ok());
  EXPECT_EQ(run(*consumer_, FastpathProgram::kLinkOut, tcpPacket("10.0.1.5", 40004, "10.0.1.100", 80, kSyn)).retval,
            TC_ACT_SHOT);
  EXPECT_EQ(stats(kLink).refused, 3u);
  // A limit taken away.
  ASSERT_TRUE(putLinkCap(*maps_, kLink, LinkCap{}).ok());
  open(40004);
  EXPECT_EQ(usage_->live(kLink), 3u);
}

TEST_F(FastpathCapTest, TheLiveCountIsReleasedResetAndRecountedWithoutGoingBelowZero) {
  open(40000);
  open(40001);
  EXPECT_EQ(usage_->live(kLink), 2u);    // counted with or without a limit
  auto other = LinkUsage::open(*maps_);  // another mapping of the same map
  ASSERT_TRUE(other.ok()) << other.status().toString();
  EXPECT_EQ((*other)->live(kLink), 2u);
  EXPECT_EQ(usage_->live(kOtherLink), 0u);
  EXPECT_FALSE(usage_->recount(kLink, 5, 1));  // the count is not what the walk began with
  EXPECT_EQ(usage_->live(kLink), 2u);
  EXPECT_TRUE(usage_->recount(kLink, 2, 1));  // an entry the kernel evicted
  EXPECT_EQ(usage_->live(kLink), 1u);
  EXPECT_TRUE(usage_->release(kLink));
  EXPECT_FALSE(usage_->release(kLink));  // never below zero
  EXPECT_EQ(usage_->live(kLink), 0u);
  open(40002);
  usage_->reset(kLink);
  EXPECT_EQ(usage_->live(kLink), 0u);
  EXPECT_EQ(usage_->live(1u << 20), 0u);  // past the map: nothing
  EXPECT_FALSE(usage_->release(1u << 20));
  EXPECT_EQ(bpfErrorOf(putLinkCap(*maps_, 0, LinkCap{})), BpfError::kInvalid);
  EXPECT_EQ(bpfErrorOf(putLinkCap(*maps_, 64, LinkCap{})), BpfError::kInvalid);
  // A freed id's counters start from zero for its next holder.
  EXPECT_GT(stats(kLink).new_conns, 0u);
  ASSERT_TRUE(clearLinkStats(*maps_, kLink).ok());
  EXPECT_EQ(stats(kLink).new_conns, 0u);
  EXPECT_EQ(stats(kLink).fwd_packets, 0u);
}

// As the conntrack path's count (nf_conncount skips closed connections): a
// connection that ends gives its slot back at once, not when its entries go.
TEST_F(FastpathCapTest, AConnectionThatEndsGivesItsSlotBackAtOnceAndOnlyOnce) {
  ASSERT_TRUE(putLinkCap(*maps_, kLink, LinkCap{0, 0, 2}).ok());
  open(40000);
  open(40001);
  ASSERT_EQ(usage_->live(kLink), 2u);
  EXPECT_EQ(clientSends(40000, 0, kFin | kAck), TC_ACT_REDIRECT);
  EXPECT_EQ(usage_->live(kLink), 2u);  // half closed: still open
  EXPECT_EQ(targetSends(40000, 0, kFin | kAck), TC_ACT_REDIRECT);
  EXPECT_EQ(usage_->live(kLink), 1u);  // FIN both ways
  auto closed = maps_->connection(kConsumer, tuple("10.0.1.5", 40000, "10.0.1.100", 80));
  ASSERT_TRUE(closed.ok() && closed->has_value());
  EXPECT_EQ((*closed)->released, 1u);  // still translated for the linger, its slot marked given
  EXPECT_EQ(targetSends(40000, 0, kFin | kAck), TC_ACT_REDIRECT);
  EXPECT_EQ(clientSends(40000, 0, kAck), TC_ACT_REDIRECT);
  EXPECT_EQ(usage_->live(kLink), 1u);  // a retransmitted FIN gives nothing more
  EXPECT_EQ(targetSends(40001, 0, kRst), TC_ACT_REDIRECT);
  EXPECT_EQ(usage_->live(kLink), 0u);  // a reset either way
  EXPECT_EQ(clientSends(40001, 0, kRst), TC_ACT_REDIRECT);
  EXPECT_EQ(usage_->live(kLink), 0u);

  // A SYN on a closed connection's ports is a new connection: it takes a slot.
  open(40000);
  EXPECT_EQ(usage_->live(kLink), 1u);
  auto fresh = maps_->connection(kConsumer, tuple("10.0.1.5", 40000, "10.0.1.100", 80));
  ASSERT_TRUE(fresh.ok() && fresh->has_value());
  EXPECT_EQ((*fresh)->released, 0u);
  open(40002);
  EXPECT_EQ(usage_->live(kLink), 2u);
  open(40002);  // retransmitted: the same connection, no slot more
  EXPECT_EQ(usage_->live(kLink), 2u);
  EXPECT_EQ(run(*consumer_, FastpathProgram::kLinkOut, tcpPacket("10.0.1.5", 40003, "10.0.1.100", 80, kSyn), 9).retval,
            TC_ACT_REDIRECT);  // the limit holds
  // The closed connection's entries deleted after the linger: nothing given twice.
  sweep(40001, 40001);
  EXPECT_EQ(usage_->live(kLink), 2u);
  auto walk = dataplane::sweepBpfConnections(*maps_, 0, 350'000'000'000ull);
  ASSERT_TRUE(walk.ok());
  EXPECT_TRUE(walk->recounted.empty());  // the count is the table's
  EXPECT_EQ(stats(kLink).new_conns, 4u);
}

// An entry the kernel evicts from the LRU (or a slot give_conn could not give back
// after lost compare-and-swaps) leaves the live count too high, so the link would
// refuse connections it has room for: the sweep's walk brings it back to the table.
TEST_F(FastpathCapTest, TheSweepCorrectsALiveCountLeftTooHighByAnEvictedEntry) {
  ASSERT_TRUE(putLinkCap(*maps_, kLink, LinkCap{0, 0, 2}).ok());
  open(40000);
  open(40001);
  ASSERT_EQ(usage_->live(kLink), 2u);
  // Evicted: gone from the table without a release.
  lp_fp_conn_key f{kConsumer, tuple("10.0.1.5", 40001, "10.0.1.100", 80)};
  lp_fp_conn_key r{kProvider, tuple("10.0.2.10", 8080, "10.0.2.200", 40001)};
  ASSERT_EQ(bpf_map_delete_elem(maps_->fd(FastpathMaps::kConns), &f), 0);
  ASSERT_EQ(bpf_map_delete_elem(maps_->fd(FastpathMaps::kConns), &r), 0);
  EXPECT_EQ(run(*consumer_, FastpathProgram::kLinkOut, tcpPacket("10.0.1.5", 40002, "10.0.1.100", 80, kSyn), 9).retval,
            TC_ACT_REDIRECT);  // refused: the limit looks reached
  auto kept = conn(kConsumer, tuple("10.0.1.5", 40000, "10.0.1.100", 80));
  ASSERT_TRUE(kept.has_value());
  const uint64_t now = kept->last_seen_ns + 1'000'000'000ull;
  auto swept = dataplane::sweepBpfConnections(*maps_, now, 350'000'000'000ull);
  ASSERT_TRUE(swept.ok()) << swept.status().toString();
  ASSERT_EQ(swept->recounted.size(), 1u);
  EXPECT_EQ(swept->recounted[0].link, kLink);
  EXPECT_EQ(swept->recounted[0].seen, 2u);
  EXPECT_EQ(swept->recounted[0].counted, 1u);
  EXPECT_EQ(usage_->live(kLink), 1u);
  EXPECT_EQ(swept->idle + swept->closed, 0u);  // the live connection stays
  open(40002);                                 // now it fits
  EXPECT_EQ(usage_->live(kLink), 2u);
  // A count that is right is left as it is.
  auto again = dataplane::sweepBpfConnections(*maps_, now, 350'000'000'000ull);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->recounted.empty());
  EXPECT_EQ(usage_->live(kLink), 2u);
}

}  // namespace
// ---- The host-wide connection limit (lp_conns full: refused, not evicted)

class FastpathHostLimitTest : public FastpathCapTest {
 protected:
  void SetUp() override {
    FastpathCapTest::SetUp();
    if (HasFatalFailure()) return;
    // A second endpoint, 10.0.1.101, on another link of the same consumer VPC.
    ASSERT_TRUE(maps_->putLink(kOtherLink, link(kConsumer)).ok());
    ASSERT_TRUE(maps_->putEndpoint(kConsumer, ip("10.0.1.101"), 80, kOtherLink).ok());
    ASSERT_TRUE(maps_->putTargets(kOtherLink, 80, 0, {target("10.0.2.10", 8080)}).ok());
  }
  // What putHostConnectionLimit writes, at a size a test can fill.
  void putHostLimit(uint32_t n) {
    uint32_t host = LP_FP_HOST;
    lp_fp_link_cap v{};
    v.max_conns = n;
    ASSERT_EQ(bpf_map_update_elem(maps_->fd(FastpathMaps::kLinkCaps), &host, &v, BPF_ANY), 0);
  }
  Outcome synTo(const char* endpoint, uint16_t sport) {
    return run(*consumer_, FastpathProgram::kLinkOut, tcpPacket("10.0.1.5", sport, endpoint, 80, kSyn), 9);
  }
  uint64_t hostLive() { return usage_->hostLive(); }
};

TEST_F(FastpathHostLimitTest, TheSynPastTheHostsLimitIsRefusedWithAResetOnAnyLinkUntilASlotIsGivenBack) {
  putHostLimit(3);
  ASSERT_EQ(synTo("10.0.1.100", 40000).retval, TC_ACT_OK);
  ASSERT_EQ(synTo("10.0.1.100", 40001).retval, TC_ACT_OK);
  ASSERT_EQ(synTo("10.0.1.101", 40002).retval, TC_ACT_OK);  // the host's slots are every link's
  EXPECT_EQ(hostLive(), 3u);
  ASSERT_EQ(synTo("10.0.1.100", 40000).retval, TC_ACT_OK);  // a retransmitted SYN takes no slot
  EXPECT_EQ(hostLive(), 3u);

  // The fourth, on either link (neither has a limit of its own): a reset from the
  // endpoint's address back out of the client's veth, no entry made.
  for (const char* endpoint : {"10.0.1.100", "10.0.1.101"}) {
    Outcome r = synTo(endpoint, 40003);
    ASSERT_EQ(r.retval, TC_ACT_REDIRECT) << endpoint;
    Packet p = parse(r.out);
    EXPECT_EQ(p.saddr, ip(endpoint));
    EXPECT_EQ(p.daddr, ip("10.0.1.5"));
    EXPECT_EQ(ntohs(p.sport), 80);
    EXPECT_EQ(ntohs(p.dport), 40003);
    EXPECT_EQ(p.flags, kRst | kAck);
    EXPECT_TRUE(p.ipChecksumOk);
    EXPECT_TRUE(p.tcpChecksumOk);
    EXPECT_EQ(p.dstMac, kClientMac);
    EXPECT_FALSE(conn(kConsumer, tuple("10.0.1.5", 40003, endpoint, 80)).has_value());
  }
  EXPECT_EQ(*maps_->connectionCount(), 6u);
  EXPECT_EQ(hostLive(), 3u);
  EXPECT_EQ(usage_->live(kLink), 2u) << "a refusal leaves the link's count as it was";
  EXPECT_EQ(usage_->live(kOtherLink), 1u);
  // Counted as each link's drop and refusal (its endpoint's PacketsDropped), and
  // as the host's, which the daemon's log reads.
  EXPECT_EQ(stats(kLink).drops, 1u);
  EXPECT_EQ(stats(kLink).refused, 1u);
  EXPECT_EQ(stats(kOtherLink).refused, 1u);
  EXPECT_EQ(stats(LP_FP_HOST).refused, 2u);
  auto host = hostConnections(*maps_);
  ASSERT_TRUE(host.ok()) << host.status().toString();
  EXPECT_EQ(host->live, 3u);
  EXPECT_EQ(host->limit, 3u);
  EXPECT_EQ(host->refused, 2u);

  // The sweeper removes a closed connection: its slot, the link's and the host's, is back.
  sweep(40000, 40000);
  EXPECT_EQ(hostLive(), 2u);
  EXPECT_EQ(usage_->live(kLink), 1u);
  ASSERT_EQ(synTo("10.0.1.101", 40003).retval, TC_ACT_OK);
  EXPECT_EQ(hostLive(), 3u);
  EXPECT_EQ(usage_->live(kOtherLink), 2u);
  EXPECT_EQ(synTo("10.0.1.100", 40004).retval, TC_ACT_REDIRECT);
  EXPECT_EQ(stats(LP_FP_HOST).refused, 3u);

  // A link's own limit refuses as before, without counting as the host's.
  putHostLimit(10);
  ASSERT_TRUE(putLinkCap(*maps_, kLink, LinkCap{0, 0, 1}).ok());
  EXPECT_EQ(synTo("10.0.1.100", 40005).retval, TC_ACT_REDIRECT);
  EXPECT_EQ(stats(kLink).refused, 3u);
  EXPECT_EQ(stats(LP_FP_HOST).refused, 3u);
  EXPECT_EQ(hostLive(), 3u) << "the host's slot taken for it was given back";
}

// A closed connection's entry taken over by a new SYN on another link (the
// endpoint moved to it meanwhile): the old entry's slot goes back to its link and
// the host, so the host's count stays one per live connection.
TEST_F(FastpathHostLimitTest, ANewConnectionReplacingAnotherLinksClosedEntryKeepsTheHostsCountExact) {
  putHostLimit(2);
  ASSERT_EQ(synHere(40000).retval, TC_ACT_OK);
  finFrom(kConsumer, 40000);
  ASSERT_TRUE(maps_->putEndpoint(kConsumer, ip("10.0.1.100"), 80, kOtherLink).ok());
  ASSERT_EQ(synTo("10.0.1.100", 40000).retval, TC_ACT_OK);
  auto fwd = conn(kConsumer, tuple("10.0.1.5", 40000, "10.0.1.100", 80));
  ASSERT_TRUE(fwd.has_value());
  EXPECT_EQ(fwd->link, kOtherLink);
  EXPECT_EQ(usage_->live(kLink), 0u);
  EXPECT_EQ(usage_->live(kOtherLink), 1u);
  EXPECT_EQ(hostLive(), 1u);
  ASSERT_EQ(synTo("10.0.1.101", 40001).retval, TC_ACT_OK);
  EXPECT_EQ(synTo("10.0.1.101", 40002).retval, TC_ACT_REDIRECT);
  // The same over a connection closed both ways (its link's slot went back then):
  // only its host slot goes with its entry.
  ASSERT_EQ(synHere(40003).retval, TC_ACT_REDIRECT) << "the table is full (2)";
  putHostLimit(3);
  ASSERT_TRUE(maps_->putEndpoint(kConsumer, ip("10.0.1.100"), 80, kLink).ok());
  ASSERT_EQ(synHere(40003).retval, TC_ACT_OK);
  finFrom(kConsumer, 40003);
  finFrom(kProvider, 40003);
  EXPECT_EQ(usage_->live(kLink), 0u);
  EXPECT_EQ(hostLive(), 3u);
  ASSERT_TRUE(maps_->putEndpoint(kConsumer, ip("10.0.1.100"), 80, kOtherLink).ok());
  ASSERT_EQ(synTo("10.0.1.100", 40003).retval, TC_ACT_OK);
  EXPECT_EQ(usage_->live(kLink), 0u);
  EXPECT_EQ(usage_->live(kOtherLink), 3u);
  EXPECT_EQ(hostLive(), 3u);
}

TEST(FastpathHostLimit, TheLimitLeavesTheLrusPerCpuFreeListsAndASixtyFourthOfTheTable) {
  EXPECT_EQ(connectionLimitFor(262144, 2), (262144u - 2 * 128 - 4096) / 2);  // 128,896: the default table here
  EXPECT_EQ(connectionLimitFor(262144, 64), (262144u - 64 * 128 - 4096) / 2);
  EXPECT_EQ(connectionLimitFor(1024, 1), (1024u - 128 - 16) / 2);
  EXPECT_EQ(connectionLimitFor(268, 2), 4u);  // what test_bpf_table_full.py sizes for 2 CPUs
  EXPECT_EQ(connectionLimitFor(260, 2), 0u);
  EXPECT_EQ(connectionLimitFor(64, 1), 0u);
}

// The host's count is of connections in the table, not open ones: a closed
// connection gives its link's slot back at once, the host's when the sweeper
// deletes its entries (until then they fill the table).
TEST_F(FastpathHostLimitTest, AClosedConnectionHoldsItsHostSlotUntilItsEntriesAreSwept) {
  putHostLimit(2);
  ASSERT_EQ(synHere(40000).retval, TC_ACT_OK);
  ASSERT_EQ(synHere(40001).retval, TC_ACT_OK);
  finFrom(kConsumer, 40000);
  finFrom(kProvider, 40000);
  EXPECT_EQ(usage_->live(kLink), 1u) << "closed: the link's slot is back";
  EXPECT_EQ(hostLive(), 2u) << "its entries are still in the table";
  EXPECT_EQ(synTo("10.0.1.101", 40002).retval, TC_ACT_REDIRECT);
  EXPECT_EQ(stats(LP_FP_HOST).refused, 1u);
  sweep(40000, 40000);
  EXPECT_EQ(hostLive(), 1u);
  EXPECT_EQ(usage_->live(kLink), 1u) << "released once, at the close";
  ASSERT_EQ(synTo("10.0.1.101", 40002).retval, TC_ACT_OK);
  EXPECT_EQ(hostLive(), 2u);
}

TEST_F(FastpathHostLimitTest, UserSpaceKeepsTheHostsCountToTheTablesEntries) {
  open(40000);
  open(40001);
  ASSERT_EQ(synTo("10.0.1.101", 40002).retval, TC_ACT_OK);
  EXPECT_EQ(hostLive(), 3u);
  // A link's count moves alone: its release, reset and recount are not the table's.
  EXPECT_TRUE(usage_->release(kLink));
  EXPECT_TRUE(usage_->recount(kLink, 1, 3));
  usage_->reset(kLink);
  EXPECT_EQ(hostLive(), 3u);
  usage_->releaseHost();
  EXPECT_EQ(hostLive(), 2u);
  EXPECT_TRUE(usage_->recount(LP_FP_HOST, 2, 5));  // a walk's count
  EXPECT_EQ(hostLive(), 5u);
  // What an adopting start does: the count set to the consumer-side entries.
  auto moved = syncHostCount(*maps_);
  ASSERT_TRUE(moved.ok()) << moved.status().toString();
  EXPECT_EQ(*moved, -2);
  EXPECT_EQ(hostLive(), 3u);
  // Below zero (maps whose host count was never kept): read as none, and lets SYNs through.
  EXPECT_EQ(usage_->setHost(static_cast<uint64_t>(-2)), -5);
  EXPECT_EQ(hostLive(), 0u);
  putHostLimit(1);
  EXPECT_EQ(synTo("10.0.1.100", 40003).retval, TC_ACT_OK);
}

}  // namespace lp::net::bpf
