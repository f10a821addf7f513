// Per-account request buckets, driven by a manual clock (no sleeping on real time).
#include "api/throttle.h"

#include <gtest/gtest.h>

namespace lp::api {
namespace {

using namespace std::chrono_literals;

WallTime start() { return WallTime(std::chrono::seconds(1'800'000'000)); }

model::RegionConfig twoAccounts() {
  model::RegionConfig r;
  r.name = "us-east-1";
  r.accounts = {{"111111111111", "provider", "AKIAP", "s1"}, {"222222222222", "consumer", "AKIAC", "s2"}};
  return r;
}

TEST(RequestBucket, BurstThenRefillAtRateNeverAboveBurst) {
  ManualClock clock(start());
  RequestBucket b(5, 50, clock.steadyNow());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(b.take(clock.steadyNow())) << i;
  EXPECT_FALSE(b.take(clock.steadyNow()));
  clock.advance(200ms);  // one token at 5 per second
  EXPECT_TRUE(b.take(clock.steadyNow()));
  EXPECT_FALSE(b.take(clock.steadyNow()));
  clock.advance(1h);  // a long pause refills to the burst, not beyond
  int granted = 0;
  while (b.take(clock.steadyNow())) ++granted;
  EXPECT_EQ(granted, 50);
}

TEST(RequestBucket, ClockGoingBackGrantsNothingExtra) {
  ManualClock clock(start());
  RequestBucket b(10, 1, clock.steadyNow());
  clock.advance(1s);
  EXPECT_TRUE(b.take(clock.steadyNow()));
  EXPECT_FALSE(b.take(clock.steadyNow() - 5s));
}

TEST(IsReadOnlyAction, DescribeListGetLookupOnly) {
  for (auto a : {"DescribeVpcs", "ListTopics", "GetCallerIdentity", "GetMetricData", "LookupEvents"})
    EXPECT_TRUE(isReadOnlyAction(a)) << a;
  for (auto a : {"CreateVpc", "DeleteVpcEndpoints", "Publish", "Subscribe", "ModifyVpcEndpoint",
                 "AcceptVpcEndpointConnections", "", "describeVpcs"})
    EXPECT_FALSE(isReadOnlyAction(a)) << a;
}

// The hold the HTTP server puts on a refused connection: until the bucket could grant a
// token, or one token's refill time when it has one (refused for calls in flight);
// reading it charges nothing, so asking (as a forged request does) changes no answer.
TEST(AccountThrottle, RefusalHoldIsTheTimeUntilTheNextTokenAndTakesNone) {
  ManualClock clock(start());
  ThrottleConfig cfg;
  cfg.mutatingRate = 4;  // a token every 250 ms
  cfg.mutatingBurst = 1;
  cfg.readRate = 100;
  cfg.readBurst = 5;
  AccountThrottle t(cfg, twoAccounts(), clock);
  EXPECT_EQ(t.refusalHold("111111111111", false), 250ms);  // has its token: one refill time
  EXPECT_TRUE(t.admit("111111111111", false));
  EXPECT_EQ(t.refusalHold("111111111111", false), 250ms);
  clock.advance(100ms);
  EXPECT_EQ(t.refusalHold("111111111111", false), 150ms);
  for (int i = 0; i < 1000; ++i) (void)t.refusalHold("111111111111", false);
  clock.advance(150ms);
  EXPECT_TRUE(t.admit("111111111111", false));  // the asking took nothing
  EXPECT_EQ(t.refusalHold("111111111111", true), 10ms);
  EXPECT_EQ(t.refusalHold("222222222222", false), 250ms);  // the other account's own bucket
  EXPECT_EQ(t.refusalHold("999999999999", false), 0ms);    // unknown: not throttled here
  cfg.enabled = false;
  AccountThrottle off(cfg, twoAccounts(), clock);
  EXPECT_EQ(off.refusalHold("111111111111", false), 0ms);
}

TEST(AccountThrottle, OneAccountEmptyingItsBucketLeavesTheOtherAlone) {
  ManualClock clock(start());
  auto region = twoAccounts();
  ThrottleConfig cfg;
  cfg.mutatingRate = 1;
  cfg.mutatingBurst = 3;
  cfg.readRate = 1;
  cfg.readBurst = 2;
  AccountThrottle t(cfg, region, clock);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(t.admit("111111111111", false));
  EXPECT_FALSE(t.admit("111111111111", false));
  // Reads have their own bucket; the other account has its own pair.
  EXPECT_TRUE(t.admit("111111111111", true));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(t.admit("222222222222", false));
  EXPECT_FALSE(t.admit("222222222222", false));
  clock.advance(1s);
  EXPECT_TRUE(t.admit("111111111111", false));
  EXPECT_FALSE(t.admit("111111111111", false));
}

// A reload: an added account gets its own full buckets (throttled like the others,
// not admitted without limit as an unknown account is), a removed one's are dropped,
// and one that stays keeps its state (a reload does not refill an emptied bucket).
TEST(AccountThrottle, AReloadGivesNewAccountsBucketsAndKeepsTheRunningOnes) {
  ManualClock clock(start());
  auto region = twoAccounts();
  ThrottleConfig cfg;
  cfg.mutatingRate = 1;
  cfg.mutatingBurst = 2;
  AccountThrottle t(cfg, region, clock);
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(t.admit("111111111111", false));
  EXPECT_FALSE(t.admit("111111111111", false));

  region.accounts.erase(region.accounts.begin() + 1);  // 222222222222 goes
  region.accounts.push_back({"333333333333", "carol", "AK3", "s3"});
  t.setAccounts(region);
  EXPECT_EQ(t.accountCount(), 2u);
  EXPECT_FALSE(t.admit("111111111111", false)) << "a reload refilled a running account's bucket";
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(t.admit("333333333333", false));
  EXPECT_FALSE(t.admit("333333333333", false)) << "the new account has no bucket";
}

TEST(AccountThrottle, DisabledAdmitsEverything) {
  ManualClock clock(start());
  auto region = twoAccounts();
  ThrottleConfig cfg;
  cfg.enabled = false;
  cfg.mutatingBurst = 1;
  AccountThrottle t(cfg, region, clock);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(t.admit("111111111111", false));
}

}  // namespace
}  // namespace lp::api
