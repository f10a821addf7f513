// notify/delivery_scheduler: one subscriber or account that never answers holds
// up nobody else (issue 19), and each subscriber still gets its messages in order.
#include "notify/delivery_scheduler.h"

#include <gtest/gtest.h>

namespace lp::notify {
namespace {

model::SnsDelivery delivery(const std::string& account, const std::string& sub, int64_t dueMs = 0) {
  model::SnsDelivery d;
  d.topicArn = "arn:aws:sns:us-east-1:" + account + ":t";
  d.subscriptionArn = d.topicArn + ":" + sub;
  d.nextAttemptMs = dueMs;
  return d;
}

std::vector<std::string> started(const std::vector<model::SnsDelivery>& pending, const DeliveryPlan& plan) {
  std::vector<std::string> out;
  for (size_t i : plan.start) out.push_back(pending[i].subscriptionArn.substr(pending[i].subscriptionArn.rfind(':') + 1));
  return out;
}

TEST(DeliveryScheduler, OneInFlightPerSubscriberInOrder) {
  std::vector<model::SnsDelivery> pending = {delivery("111111111111", "a"), delivery("111111111111", "a"),
                                             delivery("111111111111", "b")};
  InFlightDeliveries inFlight;
  auto plan = planDeliveries(pending, inFlight, 0, {});
  EXPECT_EQ(plan.start, (std::vector<size_t>{0, 2}));  // a's second waits behind its first
  inFlight.add(pending[0]);
  EXPECT_EQ(started(pending, planDeliveries(pending, inFlight, 0, {})), std::vector<std::string>{"b"});
}

TEST(DeliveryScheduler, AFloodingAccountLeavesRoomForTheOthers) {
  std::vector<model::SnsDelivery> pending;
  for (int i = 0; i < 50; ++i) pending.push_back(delivery("333333333333", "tarpit" + std::to_string(i)));
  pending.push_back(delivery("222222222222", "victim"));
  DeliveryLimits limits{32, 8};
  InFlightDeliveries inFlight;
  auto plan = planDeliveries(pending, inFlight, 0, limits);
  ASSERT_EQ(plan.start.size(), 9u);  // 8 of the adversary's, and the victim's at once
  EXPECT_EQ(started(pending, plan)[1], "victim");
  for (size_t i : plan.start) inFlight.add(pending[i]);
  // All eight of the adversary's hang: a new victim message still goes at once.
  pending.push_back(delivery("111111111111", "other"));
  EXPECT_EQ(started(pending, planDeliveries(pending, inFlight, 0, limits)), std::vector<std::string>{"other"});
}

TEST(DeliveryScheduler, SharesTheTotalRoundRobinAndReportsTheNextRetry) {
  std::vector<model::SnsDelivery> pending;
  // Appended: `"a" + std::to_string(i)` made GCC 12 at -O3 report a -Wrestrict overlap
  // that cannot happen (GCC PR 105651) and failed the Release build with LP_WERROR=ON.
  auto named = [](std::string prefix, int i) { return prefix.append(std::to_string(i)); };
  for (int i = 0; i < 4; ++i) pending.push_back(delivery("111111111111", named("a", i)));
  for (int i = 0; i < 4; ++i) pending.push_back(delivery("222222222222", named("b", i)));
  pending.push_back(delivery("222222222222", "later", 5000));
  pending.push_back(delivery("222222222222", "sooner", 3000));
  auto plan = planDeliveries(pending, InFlightDeliveries(), 1000, DeliveryLimits{4, 8});
  EXPECT_EQ(started(pending, plan), (std::vector<std::string>{"a0", "b0", "a1", "b1"}));
  EXPECT_EQ(plan.nextDueMs, 3000);
}

TEST(DeliveryScheduler, InFlightBookkeeping) {
  InFlightDeliveries f;
  auto d = delivery("111111111111", "a");
  f.add(d);
  EXPECT_TRUE(f.subscriberBusy(d.subscriptionArn));
  EXPECT_EQ(f.account("111111111111"), 1);
  f.remove(d);
  f.remove(d);  // twice is harmless
  EXPECT_EQ(f.total(), 0);
  EXPECT_EQ(f.account("111111111111"), 0);
  EXPECT_EQ(deliveryAccount(d), "111111111111");
}

}  // namespace
}  // namespace lp::notify
