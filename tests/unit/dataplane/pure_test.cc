// The data plane's pure parts: PROXY v2 bytes, target choice, the token bucket and
// the health threshold rule.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "dataplane/health_checker.h"
#include "dataplane/proxy_protocol.h"
#include "dataplane/target_choice.h"
#include "dataplane/token_bucket.h"

namespace lp::dataplane {
namespace {

sockaddr_in addr(const char* ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

TEST(ProxyV2, HeaderIsExactlyWhatAnAwsNlbSendsForAnEndpoint) {
  std::string h = encodeProxyV2(addr("10.1.1.10", 40000), addr("10.1.1.50", 443), "vpce-0123456789abcdef0");
  const unsigned char want[] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,  // signature
                                0x21,                                                                    // v2, PROXY
                                0x11,                  // TCP over IPv4
                                0x00, 0x26,            // 12 + 3 + 1 + 22 = 38
                                10,   1,    1,    10,  // source address
                                10,   1,    1,    50,  // destination address
                                0x9C, 0x40,            // source port 40000
                                0x01, 0xBB,            // destination port 443
                                0xEA, 0x00, 0x17,      // PP2_TYPE_AWS, length 1 + 22
                                0x01,                  // PP2_SUBTYPE_AWS_VPCE_ID
                                'v',  'p',  'c',  'e',  '-',  '0',  '1',  '2',  '3',  '4',  '5',  '6',
                                '7',  '8',  '9',  'a',  'b',  'c',  'd',  'e',  'f',  '0'};
  ASSERT_EQ(h.size(), sizeof want);
  EXPECT_EQ(h, std::string(reinterpret_cast<const char*>(want), sizeof want));
}

TEST(TargetChoice, HealthySameZoneFirstThenOtherZonesThenFailOpen) {
  std::vector<Candidate> c = {{"az1", Health::kHealthy}, {"az2", Health::kHealthy}, {"az1", Health::kUnhealthy}};
  for (uint64_t h = 0; h < 50; ++h) EXPECT_EQ(chooseTarget(c, "az1", h), 0);
  for (uint64_t h = 0; h < 50; ++h) EXPECT_EQ(chooseTarget(c, "az2", h), 1);
  // No healthy target in az1: another zone serves.
  c[0].health = Health::kUnhealthy;
  for (uint64_t h = 0; h < 50; ++h) EXPECT_EQ(chooseTarget(c, "az1", h), 1);
  // Initial targets serve only when nothing is healthy.
  c[1].health = Health::kUnhealthy;
  c.push_back({"az3", Health::kInitial});
  for (uint64_t h = 0; h < 50; ++h) EXPECT_EQ(chooseTarget(c, "az1", h), 3);
  // Nothing healthy or initial: fail open, same zone first.
  c[3].health = Health::kUnhealthy;
  for (uint64_t h = 0; h < 50; ++h) {
    int i = chooseTarget(c, "az1", h);
    EXPECT_TRUE(i == 0 || i == 2) << i;
  }
  EXPECT_EQ(chooseTarget({}, "az1", 7), -1);
}

TEST(TargetChoice, FlowHashSpreadsOverHealthyTargets) {
  std::vector<Candidate> c = {{"az1", Health::kHealthy}, {"az1", Health::kHealthy}, {"az1", Health::kHealthy}};
  int count[3] = {0, 0, 0};
  for (uint16_t port = 1000; port < 4000; ++port) {
    ++count[chooseTarget(c, "az1", flowHash(0x0a01010a, htons(port), 0x0a010132, htons(443)))];
  }
  for (int n : count) EXPECT_GT(n, 800);
}

TEST(TokenBucket, CapsTheRateAndAllowsAShortBurst) {
  TokenBucket b(1'000'000, 10'000'000);  // 1 MB/s, 10 ms burst = 10 kB
  int64_t t = 1'000'000'000;
  EXPECT_EQ(b.take(100'000, t), 10'000u);  // only the burst
  EXPECT_EQ(b.take(1, t), 0u);
  EXPECT_GT(b.waitNanos(1000, t), 0);
  EXPECT_EQ(b.take(100'000, t + 1'000'000), 1'000u);  // 1 ms later: 1 kB
  // Over one simulated second the total stays at about the rate.
  uint64_t total = 0;
  for (int64_t ns = 0; ns < 1'000'000'000; ns += 1'000'000) total += b.take(1'000'000, t + 1'000'000 + ns);
  EXPECT_GE(total, 990'000u);
  EXPECT_LE(total, 1'010'000u);
  // Refunded bytes can be taken again.
  int64_t end = t + 1'001'000'000;
  uint64_t got = b.take(5'000, end + 5'000'000);
  b.refund(got);
  EXPECT_GE(b.take(5'000, end + 5'000'000), got - 1);
}

TEST(TokenBucket, ZeroRateMeansUnlimited) {
  TokenBucket b(0);
  EXPECT_EQ(b.take(1ull << 40, 0), 1ull << 40);
  EXPECT_EQ(b.waitNanos(1 << 20, 0), 0);
}

TEST(HealthCounter, ThresholdsOfConsecutiveResults) {
  HealthCounter c;
  EXPECT_FALSE(c.observe(true, 3, 2));
  EXPECT_FALSE(c.observe(true, 3, 2));
  EXPECT_TRUE(c.observe(true, 3, 2));
  EXPECT_EQ(c.state, Health::kHealthy);
  EXPECT_FALSE(c.observe(false, 3, 2));  // one failure is not enough
  EXPECT_FALSE(c.observe(true, 3, 2));   // and a success resets the count
  EXPECT_FALSE(c.observe(false, 3, 2));
  EXPECT_TRUE(c.observe(false, 3, 2));
  EXPECT_EQ(c.state, Health::kUnhealthy);
}

}  // namespace
}  // namespace lp::dataplane
