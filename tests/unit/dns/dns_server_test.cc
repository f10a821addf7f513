// The VPC resolver over real sockets: the host listener on 127.0.0.1 (port 0),
// and a resolver inside a network namespace made by the test. Queries are built
// with ldns and answers parsed back, so every assertion is about the wire.
#include "dns/dns_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "dns/responder.h"
#include "dns_test_util.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "../test_namespaces.h"

namespace lp::dns {
namespace {

using namespace lp::dns::testing;

constexpr const char* kRegional = "vpce-0123456789abcdef0-abcdefgh.ec2.us-east-1.vpce.amazonaws.com";
constexpr const char* kZonal = "vpce-0123456789abcdef0-abcdefgh-us-east-1a.ec2.us-east-1.vpce.amazonaws.com";

std::shared_ptr<ZoneSnapshot> snapshot() {
  auto s = std::make_shared<ZoneSnapshot>();
  s->serial = 7;
  s->shared.zones = {"us-east-1.vpce.amazonaws.com"};
  s->shared.a[kRegional] = {"10.0.1.10", "10.0.2.10"};
  s->shared.a[kZonal] = {"10.0.1.10"};
  NameSet priv;
  priv.zones = {"ec2.us-east-1.amazonaws.com"};
  priv.a["ec2.us-east-1.amazonaws.com"] = {"10.0.1.10", "10.0.2.10"};
  s->views["vpc-a"] = priv;
  // Many addresses: more than fit in 512 or 1232 bytes.
  for (int i = 0; i < 100; ++i)
    s->shared.a["big.us-east-1.vpce.amazonaws.com"].push_back("10.9.0." + std::to_string(i));
  return s;
}

class DnsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DnsServerOptions o;
    o.hostAddress = "127.0.0.1";
    o.hostPort = 0;
    server_ = std::make_unique<DnsServer>(o);
    ASSERT_TRUE(server_->start().ok());
    port_ = server_->hostPort();
    ASSERT_NE(port_, 0);
    server_->publish(snapshot());
  }
  void TearDown() override { server_->stop(); }

  Pkt udp(const std::vector<uint8_t>& q) {
    auto r = udpExchange(q, "127.0.0.1", port_);
    return r ? parse(*r) : nullptr;
  }

  std::unique_ptr<DnsServer> server_;
  uint16_t port_ = 0;
};

TEST_F(DnsServerTest, RegionalNameAnswersEveryInterfaceAuthoritatively) {
  auto r = udp(query(kRegional, LDNS_RR_TYPE_A));
  ASSERT_TRUE(r);
  EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_aa(r.get()));
  EXPECT_TRUE(ldns_pkt_qr(r.get()));
  EXPECT_EQ(ldns_pkt_id(r.get()), 4242);
  EXPECT_EQ(answers(r.get()), (std::vector<std::string>{"10.0.1.10", "10.0.2.10"}));
  EXPECT_EQ(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(r.get()), 0)), kTtl);
}

TEST_F(DnsServerTest, ZonalNameAnswersItsZoneOnly) {
  auto r = udp(query(kZonal, LDNS_RR_TYPE_A));
  ASSERT_TRUE(r);
  EXPECT_EQ(answers(r.get()), (std::vector<std::string>{"10.0.1.10"}));
}

TEST_F(DnsServerTest, NamesAreCaseInsensitiveAndTheAnswerEchoesTheQuestion) {
  std::string mixed = "VPCE-0123456789ABCDEF0-abcdefgh.EC2.us-EAST-1.vpce.AmazonAWS.com.";
  auto r = udp(query(mixed, LDNS_RR_TYPE_A));
  ASSERT_TRUE(r);
  ASSERT_EQ(answers(r.get()).size(), 2u);
  EXPECT_EQ(ownerOf(ldns_rr_list_rr(ldns_pkt_answer(r.get()), 0)), mixed);
}

TEST_F(DnsServerTest, UnknownNameUnderOwnedZoneIsNxdomainWithSoa) {
  auto r = udp(query("vpce-nope.ec2.us-east-1.vpce.amazonaws.com", LDNS_RR_TYPE_A));
  ASSERT_TRUE(r);
  EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_TRUE(ldns_pkt_aa(r.get()));
  EXPECT_EQ(ldns_pkt_ancount(r.get()), 0);
  ASSERT_EQ(ldns_pkt_nscount(r.get()), 1);
  const ldns_rr* soa = ldns_rr_list_rr(ldns_pkt_authority(r.get()), 0);
  EXPECT_EQ(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
  EXPECT_EQ(ownerOf(soa), "us-east-1.vpce.amazonaws.com.");
  EXPECT_EQ(ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)), 7u);  // serial
}

TEST_F(DnsServerTest, AaaaOfAnIpv4OnlyNameIsNoDataWithSoa) {
  auto r = udp(query(kRegional, LDNS_RR_TYPE_AAAA));
  ASSERT_TRUE(r);
  EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(r.get()), 0);
  ASSERT_EQ(ldns_pkt_nscount(r.get()), 1);
  EXPECT_EQ(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_authority(r.get()), 0)), LDNS_RR_TYPE_SOA);
}

TEST_F(DnsServerTest, EmptyNonTerminalAndApexExistWithoutRecords) {
  auto r = udp(query("ec2.us-east-1.vpce.amazonaws.com", LDNS_RR_TYPE_A));
  ASSERT_TRUE(r);
  EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(r.get()), 0);
  auto soa = udp(query("us-east-1.vpce.amazonaws.com", LDNS_RR_TYPE_SOA));
  ASSERT_TRUE(soa);
  ASSERT_EQ(ldns_pkt_ancount(soa.get()), 1);
  EXPECT_EQ(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(soa.get()), 0)), LDNS_RR_TYPE_SOA);
}

TEST_F(DnsServerTest, NamesItDoesNotOwnAreRefused) {
  auto r = udp(query("example.com", LDNS_RR_TYPE_A));
  ASSERT_TRUE(r);
  EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_REFUSED);
  EXPECT_FALSE(ldns_pkt_aa(r.get()));
  // The private name exists only in its VPC's view: the host is refused.
  auto p = udp(query("ec2.us-east-1.amazonaws.com", LDNS_RR_TYPE_A));
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_REFUSED);
}

TEST_F(DnsServerTest, Edns0QueriesGetOptAndPlainOnesDoNot) {
  auto plain = udp(query(kRegional, LDNS_RR_TYPE_A));
  ASSERT_TRUE(plain);
  EXPECT_FALSE(ldns_pkt_edns(plain.get()));
  auto e = udp(query(kRegional, LDNS_RR_TYPE_A, 4096));
  ASSERT_TRUE(e);
  EXPECT_TRUE(ldns_pkt_edns(e.get()));
  EXPECT_EQ(ldns_pkt_edns_udp_size(e.get()), kMaxUdpSize);
  EXPECT_EQ(answers(e.get()).size(), 2u);
  EXPECT_FALSE(ldns_pkt_edns_do(e.get()));
  // DNSSEC OK is echoed (RFC 3225), whether the answer is built or served from the cache.
  for (int i = 0; i < 2; ++i) {
    Pkt q(ldns_pkt_query_new(ldns_dname_new_frm_str(kRegional), LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD));
    ldns_pkt_set_edns_udp_size(q.get(), 1232);
    ldns_pkt_set_edns_do(q.get(), true);
    auto d = udp(wire(q.get()));
    ASSERT_TRUE(d);
    EXPECT_TRUE(ldns_pkt_edns_do(d.get())) << i;
    EXPECT_EQ(answers(d.get()).size(), 2u);
  }
}

TEST_F(DnsServerTest, UnknownEdnsVersionIsBadvers) {
  Pkt q(ldns_pkt_query_new(ldns_dname_new_frm_str(kRegional), LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD));
  ldns_pkt_set_edns_udp_size(q.get(), 1232);
  ldns_pkt_set_edns_version(q.get(), 1);
  auto r = udp(wire(q.get()));
  ASSERT_TRUE(r);
  EXPECT_EQ(ldns_pkt_edns_extended_rcode(r.get()), 1);  // BADVERS = 16
  EXPECT_EQ(ldns_pkt_ancount(r.get()), 0);
}

TEST_F(DnsServerTest, LargeAnswerTruncatesOverUdpAndTcpServesItWhole) {
  const char* big = "big.us-east-1.vpce.amazonaws.com";
  auto plain = udp(query(big, LDNS_RR_TYPE_A));
  ASSERT_TRUE(plain);
  EXPECT_TRUE(ldns_pkt_tc(plain.get()));
  EXPECT_EQ(ldns_pkt_ancount(plain.get()), 0);
  EXPECT_EQ(ldns_pkt_qdcount(plain.get()), 1);
  // EDNS0 1232 is still too small for 100 records (> 1600 bytes): TC, with OPT.
  std::vector<uint8_t> raw = *udpExchange(query(big, LDNS_RR_TYPE_A, 4096), "127.0.0.1", port_);
  EXPECT_LE(raw.size(), kMaxUdpSize);
  auto e = parse(raw);
  ASSERT_TRUE(e);
  EXPECT_TRUE(ldns_pkt_tc(e.get()));
  EXPECT_TRUE(ldns_pkt_edns(e.get()));
  // A client advertising less than 512 still gets 512.
  auto small = udp(query(kRegional, LDNS_RR_TYPE_A, 100));
  ASSERT_TRUE(small);
  EXPECT_FALSE(ldns_pkt_tc(small.get()));

  auto tcp = tcpExchange({query(big, LDNS_RR_TYPE_A)}, "127.0.0.1", port_);
  ASSERT_EQ(tcp.size(), 1u);
  auto full = parse(tcp[0]);
  ASSERT_TRUE(full);
  EXPECT_FALSE(ldns_pkt_tc(full.get()));
  EXPECT_EQ(answers(full.get()).size(), 100u);
}

TEST_F(DnsServerTest, TcpAnswersPipelinedQueriesInOrder) {
  auto rs = tcpExchange({query(kRegional, LDNS_RR_TYPE_A, 0, 1), query(kZonal, LDNS_RR_TYPE_A, 0, 2),
                         query("x.us-east-1.vpce.amazonaws.com", LDNS_RR_TYPE_A, 0, 3)},
                        "127.0.0.1", port_);
  ASSERT_EQ(rs.size(), 3u);
  auto a = parse(rs[0]), b = parse(rs[1]), c = parse(rs[2]);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(ldns_pkt_id(a.get()), 1);
  EXPECT_EQ(answers(a.get()).size(), 2u);
  EXPECT_EQ(ldns_pkt_id(b.get()), 2);
  EXPECT_EQ(answers(b.get()).size(), 1u);
  EXPECT_EQ(ldns_pkt_get_rcode(c.get()), LDNS_RCODE_NXDOMAIN);
}

TEST_F(DnsServerTest, MalformedPacketsGetNoAnswerAndDoNoHarm) {
  std::vector<std::vector<uint8_t>> bad = {{}, {0x12}, std::vector<uint8_t>(11, 0)};
  // A header promising a question that is not there.
  bad.push_back({0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
  // A label running past the end, and a compression pointer loop.
  bad.push_back({0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 'a', 'b'});
  bad.push_back({0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x0c, 0, 1, 0, 1});
  // A response (QR set): answering it could start a loop between two servers.
  auto resp = query(kRegional, LDNS_RR_TYPE_A);
  resp[2] |= 0x80;
  bad.push_back(resp);
  std::mt19937 rng(5);
  for (int i = 0; i < 200; ++i) {
    std::vector<uint8_t> junk(rng() % 300);
    for (auto& b : junk) b = static_cast<uint8_t>(rng());
    junk.resize(std::max<size_t>(junk.size(), 12));
    junk[2] |= 0x80;  // a response: must be dropped whatever the rest holds
    bad.push_back(junk);
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  for (const auto& b : bad) EXPECT_FALSE(udpExchange(b, "127.0.0.1", port_, 20, fd)) << b.size();
  close(fd);
  // Garbage over TCP ends that connection, not the server.
  auto none = tcpExchange({std::vector<uint8_t>{0x00, 0x01, 0x02}}, "127.0.0.1", port_, 500);
  EXPECT_TRUE(none.empty());
  EXPECT_GE(server_->stats().ignored, bad.size());
  auto r = udp(query(kRegional, LDNS_RR_TYPE_A));
  ASSERT_TRUE(r);
  EXPECT_EQ(answers(r.get()).size(), 2u);
}

TEST_F(DnsServerTest, NotOneQuestionIsFormerrAndOtherOpcodesNotimp) {
  auto q = query(kRegional, LDNS_RR_TYPE_A);
  auto two = q;
  two[5] = 2;  // QDCOUNT 2, one question present: malformed, ignored
  EXPECT_FALSE(udpExchange(two, "127.0.0.1", port_, 100));
  std::vector<uint8_t> zero(q.begin(), q.begin() + 12);
  zero[5] = 0;  // no question at all
  auto f = udp(zero);
  ASSERT_TRUE(f);
  EXPECT_EQ(ldns_pkt_get_rcode(f.get()), LDNS_RCODE_FORMERR);
  auto notify = q;
  notify[2] = (notify[2] & 0x87) | (4 << 3);  // opcode NOTIFY
  auto n = udp(notify);
  ASSERT_TRUE(n);
  EXPECT_EQ(ldns_pkt_get_rcode(n.get()), LDNS_RCODE_NOTIMPL);
}

TEST_F(DnsServerTest, ANewSnapshotIsServedAtOnce) {
  auto before = udp(query(kRegional, LDNS_RR_TYPE_A));  // cached now
  ASSERT_TRUE(before);
  ASSERT_EQ(answers(before.get()).size(), 2u);
  auto s = std::make_shared<ZoneSnapshot>(*snapshot());
  s->shared.a.erase(kRegional);
  server_->publish(s);
  auto r = udp(query(kRegional, LDNS_RR_TYPE_A));
  ASSERT_TRUE(r);
  EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NXDOMAIN);
}

// Queries in other letter cases and with other EDNS options are answered from
// the cache, and a snapshot without the name (endpoint deleted) ends that at once.
TEST_F(DnsServerTest, CaseAndCookieVariantsHitTheCacheUntilTheRecordsChange) {
  auto withCookie = [](const std::string& name, uint8_t salt) {
    Pkt q(ldns_pkt_query_new(ldns_dname_new_frm_str(name.c_str()), LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD));
    ldns_pkt_set_id(q.get(), salt);
    ldns_pkt_set_edns_udp_size(q.get(), 1232);
    uint8_t opt[12] = {0, 10, 0, 8, salt, 1, 2, 3, 4, 5, 6, salt};  // COOKIE, a client cookie
    ldns_pkt_set_edns_data(q.get(), ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, sizeof opt, opt));
    return wire(q.get());
  };
  ASSERT_TRUE(udp(withCookie(kRegional, 1)));
  uint64_t hits = server_->stats().cacheHits;
  const std::string spelled = "VPCE-0123456789abcdef0-abcdefgh.EC2.us-east-1.vpce.AMAZONAWS.com";
  auto r = udp(withCookie(spelled, 2));
  ASSERT_TRUE(r);
  EXPECT_EQ(server_->stats().cacheHits, hits + 1);
  EXPECT_EQ(ldns_pkt_id(r.get()), 2);
  EXPECT_EQ(ownerOf(ldns_rr_list_rr(ldns_pkt_question(r.get()), 0)), spelled + ".");
  EXPECT_EQ(answers(r.get()).size(), 2u);

  auto s = std::make_shared<ZoneSnapshot>(*snapshot());
  s->shared.a.erase(kRegional);
  server_->publish(s);
  auto gone = udp(withCookie("vpce-0123456789ABCDEF0-abcdefgh.ec2.US-EAST-1.vpce.amazonaws.com", 3));
  ASSERT_TRUE(gone);
  EXPECT_EQ(ldns_pkt_get_rcode(gone.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_TRUE(answers(gone.get()).empty());
}

TEST_F(DnsServerTest, RepeatedQuestionsEachGetTheirOwnId) {
  for (uint16_t id : {1, 2, 0xbeef, 2}) {
    auto r = udp(query(kZonal, LDNS_RR_TYPE_A, 0, id));
    ASSERT_TRUE(r);
    EXPECT_EQ(ldns_pkt_id(r.get()), id);
    EXPECT_EQ(answers(r.get()), (std::vector<std::string>{"10.0.1.10"}));
  }
  // Same question over TCP: the full answer, not the UDP one from the cache.
  auto tcp = tcpExchange({query("big.us-east-1.vpce.amazonaws.com", LDNS_RR_TYPE_A, 0, 9)}, "127.0.0.1", port_);
  auto udpBig = udp(query("big.us-east-1.vpce.amazonaws.com", LDNS_RR_TYPE_A, 0, 9));
  ASSERT_EQ(tcp.size(), 1u);
  ASSERT_TRUE(udpBig);
  EXPECT_TRUE(ldns_pkt_tc(udpBig.get()));
  EXPECT_EQ(answers(parse(tcp[0]).get()).size(), 100u);
}

// A configured upstream (here another real DnsServer, authoritative for
// corp.internal) answers the names this one does not own.
class DnsUpstreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DnsServerOptions uo;
    uo.hostAddress = "127.0.0.1";
    upstream_ = std::make_unique<DnsServer>(uo);
    ASSERT_TRUE(upstream_->start().ok());
    auto corp = std::make_shared<ZoneSnapshot>();
    corp->shared.zones = {"corp.internal"};
    corp->shared.a["db.corp.internal"] = {"10.50.0.9"};
    upstream_->publish(corp);

    DnsServerOptions o;
    o.hostAddress = "127.0.0.1";
    o.upstreamAddress = "127.0.0.1";
    o.upstreamPort = upstream_->hostPort();
    o.upstreamTimeoutMs = 300;
    server_ = std::make_unique<DnsServer>(o);
    ASSERT_TRUE(server_->start().ok());
    server_->publish(snapshot());
    port_ = server_->hostPort();
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (upstream_) upstream_->stop();
  }
  std::unique_ptr<DnsServer> upstream_, server_;
  uint16_t port_ = 0;
};

TEST_F(DnsUpstreamTest, NamesItDoesNotOwnGoUpstreamOverUdpAndTcp) {
  auto r = parse(*udpExchange(query("DB.corp.internal", LDNS_RR_TYPE_A, 0, 77), "127.0.0.1", port_));
  ASSERT_TRUE(r);
  EXPECT_EQ(ldns_pkt_id(r.get()), 77);
  EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(answers(r.get()), std::vector<std::string>{"10.50.0.9"});
  EXPECT_EQ(server_->stats().forwarded, 1u);
  // The upstream's own negative answers come back as they are.
  auto nx = parse(*udpExchange(query("nope.corp.internal", LDNS_RR_TYPE_A), "127.0.0.1", port_));
  ASSERT_TRUE(nx);
  EXPECT_EQ(ldns_pkt_get_rcode(nx.get()), LDNS_RCODE_NXDOMAIN);
  // Over TCP, mixed with names of its own, each answer with its id.
  auto rs = tcpExchange({query("db.corp.internal", LDNS_RR_TYPE_A, 0, 5), query(kZonal, LDNS_RR_TYPE_A, 0, 6)},
                        "127.0.0.1", port_);
  ASSERT_EQ(rs.size(), 2u);
  std::map<int, std::vector<std::string>> byId;
  for (const auto& raw : rs) {
    auto p = parse(raw);
    ASSERT_TRUE(p);
    byId[ldns_pkt_id(p.get())] = answers(p.get());
  }
  EXPECT_EQ(byId[5], std::vector<std::string>{"10.50.0.9"});
  EXPECT_EQ(byId[6], std::vector<std::string>{"10.0.1.10"});
}

TEST_F(DnsUpstreamTest, OwnedZonesNeverGoUpstream) {
  auto nx = parse(*udpExchange(query("nope.us-east-1.vpce.amazonaws.com", LDNS_RR_TYPE_A), "127.0.0.1", port_));
  ASSERT_TRUE(nx);
  EXPECT_EQ(ldns_pkt_get_rcode(nx.get()), LDNS_RCODE_NXDOMAIN);
  auto aaaa = parse(*udpExchange(query(kRegional, LDNS_RR_TYPE_AAAA), "127.0.0.1", port_));
  ASSERT_TRUE(aaaa);
  EXPECT_EQ(ldns_pkt_ancount(aaaa.get()), 0);
  EXPECT_EQ(server_->stats().forwarded, 0u);
}

TEST_F(DnsUpstreamTest, AnUpstreamThatIsDownCostsNoAnswerAndNoHarm) {
  upstream_->stop();
  EXPECT_FALSE(udpExchange(query("db.corp.internal", LDNS_RR_TYPE_A), "127.0.0.1", port_, 500));
  auto r = parse(*udpExchange(query(kRegional, LDNS_RR_TYPE_A), "127.0.0.1", port_));
  ASSERT_TRUE(r);
  EXPECT_EQ(answers(r.get()).size(), 2u);
}

TEST(DnsUpstreamConfigTest, TheUpstreamCannotBeItself) {
  DnsServerOptions o;
  o.hostAddress = "127.0.0.1";
  o.hostPort = 0;
  DnsServer probe(o);
  ASSERT_TRUE(probe.start().ok());
  uint16_t port = probe.hostPort();
  probe.stop();
  o.hostPort = port;
  o.upstreamAddress = "127.0.0.1";
  o.upstreamPort = port;
  DnsServer self(o);
  EXPECT_FALSE(self.start().ok());
}

TEST(DnsResponderTest, PrivateNamesAreSeenOnlyInTheirVpc) {
  auto s = snapshot();
  auto q = query("EC2.us-east-1.amazonaws.com", LDNS_RR_TYPE_A);
  auto a = parse(respond(*s, "vpc-a", q.data(), q.size(), Transport::kUdp));
  ASSERT_TRUE(a);
  EXPECT_EQ(answers(a.get()), (std::vector<std::string>{"10.0.1.10", "10.0.2.10"}));
  auto b = parse(respond(*s, "vpc-b", q.data(), q.size(), Transport::kUdp));
  ASSERT_TRUE(b);
  EXPECT_EQ(ldns_pkt_get_rcode(b.get()), LDNS_RCODE_REFUSED);
  // Inside vpc-a the private zone is authoritative: other names under it do not exist.
  auto other = query("foo.ec2.us-east-1.amazonaws.com", LDNS_RR_TYPE_A);
  auto n = parse(respond(*s, "vpc-a", other.data(), other.size(), Transport::kUdp));
  ASSERT_TRUE(n);
  EXPECT_EQ(ldns_pkt_get_rcode(n.get()), LDNS_RCODE_NXDOMAIN);
  // Endpoint-specific names are visible from every VPC.
  auto reg = query(kRegional, LDNS_RR_TYPE_A);
  auto c = parse(respond(*s, "vpc-b", reg.data(), reg.size(), Transport::kUdp));
  ASSERT_TRUE(c);
  EXPECT_EQ(answers(c.get()).size(), 2u);
}

// A resolver in a namespace made here: sockets in the namespace, answers to a
// client inside it, view by VPC, and reopened when the namespace is recreated and
// the snapshot published again.
class DnsNamespaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    ns_ = lp::testenv::testNamespace("dns");
    makeNamespace();
    server_ = std::make_unique<DnsServer>(DnsServerOptions{});
    ASSERT_TRUE(server_->start().ok());
  }
  void TearDown() override {
    if (server_) server_->stop();
    (void)net::deleteNamespace(ns_);
  }
  void makeNamespace(bool withAddresses = true) {
    ASSERT_TRUE(net::createNamespace(ns_).ok());
    if (withAddresses) addAddresses();
  }
  // Loopback up, the resolver address and a client's address (as a workload's).
  void addAddresses() {
    auto nl = net::Netlink::open(ns_);
    ASSERT_TRUE(nl.ok());
    ASSERT_TRUE((*nl)->setUp("lo").ok());
    ASSERT_TRUE((*nl)->addAddress("lo", "10.77.1.5/32").ok());
    ASSERT_TRUE((*nl)->addAddress("lo", "10.77.0.2/32").ok());
  }
  // Asks from inside the namespace, retrying while the server opens its sockets.
  // The client socket is connected, so, as with dig, an answer from any other
  // source address than the resolver's does not count.
  Pkt ask(const std::string& name) {
    for (int i = 0; i < 50; ++i) {
      auto fd = net::socketInNamespace(ns_, AF_INET, SOCK_DGRAM);
      if (!fd.ok()) return nullptr;
      sockaddr_in from = addr("10.77.1.5", 0), to = addr("10.77.0.2", 53);
      bind(*fd, reinterpret_cast<sockaddr*>(&from), sizeof from);
      connect(*fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
      auto r = udpExchange(query(name, LDNS_RR_TYPE_A), "10.77.0.2", 53, 100, *fd);
      close(*fd);
      if (r) return parse(*r);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return nullptr;
  }
  std::string ns_;
  std::unique_ptr<DnsServer> server_;
};

TEST_F(DnsNamespaceTest, AnswersInsideTheVpcNamespaceWithItsView) {
  auto s = snapshot();
  s->resolvers.push_back(VpcResolver{"vpc-a", ns_, "10.77.0.2", 53});
  server_->publish(s);
  auto r = ask("ec2.us-east-1.amazonaws.com");
  ASSERT_TRUE(r);
  EXPECT_EQ(answers(r.get()).size(), 2u);
  EXPECT_EQ(server_->openResolvers(), 1u);

  // The namespace is deleted and made again under the same name: once its owner
  // (the reconciler) publishes again, the resolver follows. The server itself no
  // longer stats every namespace each second to find out.
  ASSERT_TRUE(net::deleteNamespace(ns_).ok());
  makeNamespace();
  auto same = std::make_shared<ZoneSnapshot>(*s);
  server_->publish(same);
  auto again = ask(kZonal);
  ASSERT_TRUE(again);
  EXPECT_EQ(answers(again.get()), (std::vector<std::string>{"10.0.1.10"}));

  // Leaving the snapshot closes the sockets.
  server_->publish(snapshot());
  for (int i = 0; i < 40 && server_->openResolvers() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(server_->openResolvers(), 0u);
}

// The reconciler makes the namespace, then its addresses: a resolver opened in
// between must not end up answering from another address than its own.
TEST_F(DnsNamespaceTest, ResolverPublishedBeforeItsAddressAnswersFromItsAddress) {
  ASSERT_TRUE(net::deleteNamespace(ns_).ok());
  makeNamespace(false);  // loopback down, no addresses yet
  auto s = snapshot();
  s->resolvers.push_back(VpcResolver{"vpc-a", ns_, "10.77.0.2", 53});
  server_->publish(s);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the server has tried by now
  addAddresses();
  auto r = ask(kZonal);
  ASSERT_TRUE(r) << "no answer from 10.77.0.2";
  EXPECT_EQ(answers(r.get()), (std::vector<std::string>{"10.0.1.10"}));
}

}  // namespace
}  // namespace lp::dns
