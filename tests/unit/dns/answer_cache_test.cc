// The answer cache: queries that differ only in id, letter case or EDNS options
// (a client cookie) are answered from it, byte for byte as respond() answers
// them; everything respond() reads stays in the key (view, transport and size,
// flags, EDNS version), so no query ever gets another's answer.
#include "dns/answer_cache.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "dns/responder.h"
#include "dns_test_util.h"

namespace lp::dns {
namespace {

using namespace lp::dns::testing;

constexpr const char* kRegional = "vpce-0123456789abcdef0-abcdefgh.ec2.us-east-1.vpce.amazonaws.com";
constexpr const char* kZonal = "vpce-0123456789abcdef0-abcdefgh-us-east-1a.ec2.us-east-1.vpce.amazonaws.com";
constexpr const char* kPrivate = "ec2.us-east-1.amazonaws.com";

ZoneSnapshot snapshot() {
  ZoneSnapshot s;
  s.serial = 7;
  s.shared.zones = {"us-east-1.vpce.amazonaws.com"};
  s.shared.a[kRegional] = {"10.0.1.10", "10.0.2.10"};
  s.shared.a[kZonal] = {"10.0.1.10"};
  for (int i = 0; i < 100; ++i) s.shared.a["big.us-east-1.vpce.amazonaws.com"].push_back("10.9.0." + std::to_string(i));
  // 700 bytes: too large for 512, fits 1232.
  for (int i = 0; i < 40; ++i) s.shared.a["mid.us-east-1.vpce.amazonaws.com"].push_back("10.8.0." + std::to_string(i));
  NameSet a;
  a.zones = {kPrivate};
  a.a[kPrivate] = {"10.0.1.10", "10.0.2.10"};
  s.views["vpc-a"] = a;
  NameSet b;  // the same private name, other addresses: VPC B's own endpoint
  b.zones = {kPrivate};
  b.a[kPrivate] = {"10.1.1.20"};
  s.views["vpc-b"] = b;
  return s;
}

// A query as a client writes it, every field chosen.
struct Q {
  std::string name;
  uint16_t type = 1;  // A
  uint16_t cls = 1;   // IN
  uint16_t id = 4242;
  uint8_t flags2 = 0x01;  // RD
  uint8_t flags3 = 0;
  bool edns = false;
  uint16_t udpSize = 1232;
  uint8_t version = 0;
  bool dnssecOk = false;
  std::vector<uint8_t> options = {};  // EDNS options, raw
};

std::vector<uint8_t> build(const Q& q) {
  std::vector<uint8_t> w = {
      static_cast<uint8_t>(q.id >> 8),     static_cast<uint8_t>(q.id), q.flags2, q.flags3, 0, 1, 0, 0, 0, 0, 0,
      static_cast<uint8_t>(q.edns ? 1 : 0)};
  size_t start = 0;
  while (start <= q.name.size()) {
    size_t dot = q.name.find('.', start);
    if (dot == std::string::npos) dot = q.name.size();
    if (dot > start) {
      w.push_back(static_cast<uint8_t>(dot - start));
      w.insert(w.end(), q.name.begin() + static_cast<long>(start), q.name.begin() + static_cast<long>(dot));
    }
    start = dot + 1;
  }
  w.push_back(0);
  for (uint16_t v : {q.type, q.cls}) {
    w.push_back(static_cast<uint8_t>(v >> 8));
    w.push_back(static_cast<uint8_t>(v));
  }
  if (q.edns) {
    w.insert(w.end(), {0, 0, 41, static_cast<uint8_t>(q.udpSize >> 8), static_cast<uint8_t>(q.udpSize), 0, q.version,
                       static_cast<uint8_t>(q.dnssecOk ? 0x80 : 0), 0, static_cast<uint8_t>(q.options.size() >> 8),
                       static_cast<uint8_t>(q.options.size())});
    w.insert(w.end(), q.options.begin(), q.options.end());
  }
  return w;
}

// An EDNS COOKIE option (code 10) with an 8-byte client cookie, as dig sends.
std::vector<uint8_t> cookie(std::mt19937& rng) {
  std::vector<uint8_t> o = {0, 10, 0, 8};
  for (int i = 0; i < 8; ++i) o.push_back(static_cast<uint8_t>(rng()));
  return o;
}

std::string randomCase(const std::string& name, std::mt19937& rng) {
  std::string out = name;
  for (char& c : out) {
    if (c >= 'a' && c <= 'z' && (rng() & 1)) c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string questionName(const std::vector<uint8_t>& reply) {
  auto p = parse(reply);
  if (!p || ldns_rr_list_rr_count(ldns_pkt_question(p.get())) != 1) return "";
  return ownerOf(ldns_rr_list_rr(ldns_pkt_question(p.get()), 0));
}

class AnswerCacheTest : public ::testing::Test {
 protected:
  // The cache's answer, checked against respond()'s for the same bytes.
  std::vector<uint8_t> ask(const Q& q, const std::string& view = "", Transport t = Transport::kUdp) {
    auto bytes = build(q);
    bool cachedNotOwned = false, notOwned = false;
    std::vector<uint8_t> cached = cache_.answer(snap_, view, bytes.data(), bytes.size(), t, &cachedNotOwned);
    std::vector<uint8_t> direct = respond(snap_, view, bytes.data(), bytes.size(), t, &notOwned);
    EXPECT_EQ(cached, direct) << q.name << " in view '" << view << "'";
    EXPECT_EQ(cachedNotOwned, notOwned) << q.name;
    return cached;
  }
  ZoneSnapshot snap_ = snapshot();
  AnswerCache cache_;
};

TEST_F(AnswerCacheTest, MixedCaseQueriesAreServedFromTheCacheWithTheClientsSpelling) {
  ask({.name = kRegional});
  ASSERT_EQ(cache_.stats().misses, 1u);
  std::string spelled = "VPCE-0123456789abcdef0-ABCDEFGH.Ec2.US-EAST-1.vpce.AmazonAWS.com";
  auto r = ask({.name = spelled, .id = 7});
  EXPECT_EQ(cache_.stats().hits, 1u);
  EXPECT_EQ(cache_.stats().misses, 1u);
  auto p = parse(r);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_id(p.get()), 7);
  EXPECT_EQ(questionName(r), spelled + ".");
  EXPECT_EQ(answers(p.get()), (std::vector<std::string>{"10.0.1.10", "10.0.2.10"}));
  // The records' owner names point at the question: they read as the client spelled it too.
  EXPECT_EQ(ownerOf(ldns_rr_list_rr(ldns_pkt_answer(p.get()), 0)), spelled + ".");
}

TEST_F(AnswerCacheTest, QueriesWithAClientCookieHitAndGetNoCookieBack) {
  std::mt19937 rng(5);
  ask({.name = kZonal, .edns = true, .options = cookie(rng)});
  for (int i = 0; i < 5; ++i) {
    auto r = ask({.name = kZonal, .id = static_cast<uint16_t>(i), .edns = true, .options = cookie(rng)});
    auto p = parse(r);
    ASSERT_TRUE(p);
    EXPECT_TRUE(ldns_pkt_edns(p.get()));
    EXPECT_EQ(ldns_pkt_edns_data(p.get()), nullptr);  // no options: cookies are not implemented, so ignored
    EXPECT_EQ(answers(p.get()), (std::vector<std::string>{"10.0.1.10"}));
  }
  EXPECT_EQ(cache_.stats().misses, 1u);
  EXPECT_EQ(cache_.stats().hits, 5u);
}

TEST_F(AnswerCacheTest, AVpcNeverGetsAnotherViewsCachedAnswer) {
  auto a = parse(ask({.name = kPrivate}, "vpc-a"));
  auto b = parse(ask({.name = kPrivate}, "vpc-b"));
  auto c = parse(ask({.name = kPrivate}, "vpc-c"));
  auto host = parse(ask({.name = kPrivate}, ""));
  ASSERT_TRUE(a && b && c && host);
  EXPECT_EQ(answers(a.get()), (std::vector<std::string>{"10.0.1.10", "10.0.2.10"}));
  EXPECT_EQ(answers(b.get()), (std::vector<std::string>{"10.1.1.20"}));
  EXPECT_EQ(ldns_pkt_get_rcode(c.get()), LDNS_RCODE_REFUSED);
  EXPECT_EQ(ldns_pkt_get_rcode(host.get()), LDNS_RCODE_REFUSED);
  EXPECT_EQ(cache_.stats().hits, 0u);
  // Again, in another spelling: each view its own answer, now from the cache.
  auto a2 = parse(ask({.name = "EC2.us-east-1.amazonaws.com"}, "vpc-a"));
  auto b2 = parse(ask({.name = "EC2.us-east-1.amazonaws.com"}, "vpc-b"));
  ASSERT_TRUE(a2 && b2);
  EXPECT_EQ(answers(a2.get()), (std::vector<std::string>{"10.0.1.10", "10.0.2.10"}));
  EXPECT_EQ(answers(b2.get()), (std::vector<std::string>{"10.1.1.20"}));
  EXPECT_EQ(cache_.stats().hits, 2u);
}

TEST_F(AnswerCacheTest, SizeTransportAndFlagsKeepTheirOwnAnswers) {
  const std::string big = "big.us-east-1.vpce.amazonaws.com";
  auto tcp = parse(ask({.name = big}, "", Transport::kTcp));
  auto udp = parse(ask({.name = big}));
  ASSERT_TRUE(tcp && udp);
  EXPECT_EQ(answers(tcp.get()).size(), 100u);
  EXPECT_TRUE(ldns_pkt_tc(udp.get()));
  // A small answer fits 512 but the EDNS size decides for a larger one, the
  // clamped size: 4096 is served as 1232.
  auto regional512 = parse(ask({.name = kRegional, .edns = true, .udpSize = 512}));
  ASSERT_TRUE(regional512);
  EXPECT_FALSE(ldns_pkt_tc(regional512.get()));
  ask({.name = big, .edns = true, .udpSize = 4096});
  ask({.name = big, .edns = true, .udpSize = 1232});
  const std::string mid = "mid.us-east-1.vpce.amazonaws.com";
  auto mid512 = parse(ask({.name = mid, .edns = true, .udpSize = 512}));
  auto mid1232 = parse(ask({.name = mid, .edns = true, .udpSize = 1232}));
  auto midPlain = parse(ask({.name = mid}));
  auto midTcp = parse(ask({.name = mid}, "", Transport::kTcp));
  ASSERT_TRUE(mid512 && mid1232 && midPlain && midTcp);
  EXPECT_TRUE(ldns_pkt_tc(mid512.get()));
  EXPECT_EQ(answers(mid1232.get()).size(), 40u);
  EXPECT_TRUE(ldns_pkt_tc(midPlain.get()));
  EXPECT_EQ(answers(midTcp.get()).size(), 40u);
  // RD and CD are echoed; an unknown EDNS version is BADVERS; other opcodes NOTIMP.
  auto noRd = parse(ask({.name = kRegional, .flags2 = 0}));
  auto rd = parse(ask({.name = kRegional, .flags2 = 0x01}));
  ASSERT_TRUE(noRd && rd);
  EXPECT_FALSE(ldns_pkt_rd(noRd.get()));
  EXPECT_TRUE(ldns_pkt_rd(rd.get()));
  EXPECT_TRUE(ldns_pkt_cd(parse(ask({.name = kRegional, .flags3 = 0x10})).get()));
  auto v0 = parse(ask({.name = kRegional, .edns = true}));
  auto v1 = parse(ask({.name = kRegional, .edns = true, .version = 1}));
  ASSERT_TRUE(v0 && v1);
  EXPECT_EQ(ldns_pkt_edns_extended_rcode(v0.get()), 0);
  EXPECT_EQ(ldns_pkt_edns_extended_rcode(v1.get()), 1);
  auto notify = parse(ask({.name = kRegional, .flags2 = 4 << 3}));
  ASSERT_TRUE(notify);
  EXPECT_EQ(ldns_pkt_get_rcode(notify.get()), LDNS_RCODE_NOTIMPL);
  // A and AAAA, IN and CH: different answers.
  EXPECT_EQ(ldns_pkt_ancount(parse(ask({.name = kRegional, .type = 28})).get()), 0);
  EXPECT_EQ(ldns_pkt_get_rcode(parse(ask({.name = kRegional, .cls = 3})).get()), LDNS_RCODE_REFUSED);
}

// Many spellings, ids, cookies, sizes, flags, types, views and transports, in
// random order: every answer is the one respond() gives (ask() checks), and most
// come from the cache.
TEST_F(AnswerCacheTest, CachedAnswersAreByteForByteTheUncachedOnes) {
  std::mt19937 rng(11);
  const std::vector<std::string> names = {kRegional,
                                          kZonal,
                                          kPrivate,
                                          "nope.us-east-1.vpce.amazonaws.com",
                                          "us-east-1.vpce.amazonaws.com",
                                          "ec2.us-east-1.vpce.amazonaws.com",
                                          "big.us-east-1.vpce.amazonaws.com",
                                          "mid.us-east-1.vpce.amazonaws.com",
                                          "foo.ec2.us-east-1.amazonaws.com",
                                          "example.org"};
  const std::vector<std::string> views = {"", "vpc-a", "vpc-b"};
  const uint16_t types[] = {1, 28, 6, 255, 16};
  const uint16_t sizes[] = {0, 512, 1000, 1232, 4096};
  for (int i = 0; i < 20000; ++i) {
    Q q;
    q.name = randomCase(names[rng() % names.size()], rng);
    q.type = types[rng() % 5];
    q.id = static_cast<uint16_t>(rng());
    q.flags2 = static_cast<uint8_t>(rng() & 0x07);                       // AA, TC, RD
    if (rng() % 8 == 0) q.flags2 |= static_cast<uint8_t>(rng() & 0x78);  // another opcode; never QR
    q.flags3 = static_cast<uint8_t>(rng() & 0xef);                       // RA, Z, AD, rcode
    if (rng() % 8 == 0) q.flags3 |= 0x10;                                // CD
    q.edns = rng() & 1;
    q.udpSize = sizes[rng() % 5];
    q.version = (rng() % 8 == 0) ? 1 : 0;
    q.dnssecOk = rng() & 1;
    if (rng() & 1) q.options = cookie(rng);
    ask(q, views[rng() % views.size()], (rng() % 4 == 0) ? Transport::kTcp : Transport::kUdp);
  }
  EXPECT_GT(cache_.stats().hits, 10000u);
}

TEST_F(AnswerCacheTest, OtherShapesAndJunkAreAnsweredAsRespondDoesAndNeverKept) {
  auto q = build({.name = kRegional});
  bool notOwned = false;
  // Two questions: FORMERR, not kept.
  auto two = q;
  two[5] = 2;
  two.insert(two.end(), q.begin() + 12, q.end());
  auto formerr = cache_.answer(snap_, "", two.data(), two.size(), Transport::kUdp, &notOwned);
  EXPECT_EQ(formerr, respond(snap_, "", two.data(), two.size(), Transport::kUdp));
  // A response, a short packet, a name running past the end: nothing, not kept.
  auto response = q;
  response[2] |= 0x80;
  EXPECT_TRUE(cache_.answer(snap_, "", response.data(), response.size(), Transport::kUdp, &notOwned).empty());
  EXPECT_TRUE(cache_.answer(snap_, "", q.data(), 11, Transport::kUdp, &notOwned).empty());
  EXPECT_TRUE(cache_.answer(snap_, "", q.data(), 30, Transport::kUdp, &notOwned).empty());
  // An OPT record cut short: ldns refuses it, so must the cache, even once the
  // same question was cached.
  std::mt19937 rng(1);
  ask({.name = kRegional, .edns = true});
  for (size_t drop : {1, 13}) {  // into the cookie, into the OPT record's fixed part
    auto cut = build({.name = kRegional, .edns = true, .options = cookie(rng)});
    cut.resize(cut.size() - drop);
    EXPECT_TRUE(cache_.answer(snap_, "", cut.data(), cut.size(), Transport::kUdp, &notOwned).empty()) << drop;
    EXPECT_TRUE(respond(snap_, "", cut.data(), cut.size(), Transport::kUdp).empty()) << drop;
  }
  EXPECT_EQ(cache_.size(), 1u);
}

TEST(AnswerCacheKeyTest, OnlyTheIdCaseAndOptionsAreLeftOut) {
  std::mt19937 rng(3);
  auto key = [](const Q& q, const std::string& view = "", Transport t = Transport::kUdp) {
    auto b = build(q);
    std::string k;
    size_t n = 0;
    EXPECT_TRUE(answerCacheKey(view, b.data(), b.size(), t, &k, &n));
    return k;
  };
  Q base{.name = kRegional, .edns = true};
  std::string k = key(base);
  EXPECT_EQ(key({.name = "VPCE-0123456789ABCDEF0-abcdefgh.ec2.us-east-1.vpce.amazonaws.COM",
                 .id = 1,
                 .edns = true,
                 .options = cookie(rng)}),
            k);
  EXPECT_EQ(key({.name = kRegional, .flags3 = 0x20, .edns = true}), k);  // AD: respond() ignores it
  EXPECT_NE(key(base, "vpc-a"), k);
  EXPECT_NE(key(base, "", Transport::kTcp), k);
  EXPECT_NE(key({.name = kRegional}), k);
  EXPECT_NE(key({.name = kRegional, .edns = true, .udpSize = 512}), k);
  EXPECT_NE(key({.name = kRegional, .edns = true, .version = 1}), k);
  EXPECT_NE(key({.name = kRegional, .edns = true, .dnssecOk = true}), k);
  EXPECT_NE(key({.name = kRegional, .flags2 = 0, .edns = true}), k);
  EXPECT_NE(key({.name = kRegional, .flags3 = 0x10, .edns = true}), k);
  EXPECT_NE(key({.name = kRegional, .type = 28, .edns = true}), k);
  EXPECT_NE(key({.name = kRegional, .cls = 3, .edns = true}), k);
  EXPECT_NE(key({.name = kZonal, .edns = true}), k);
}

}  // namespace
}  // namespace lp::dns
