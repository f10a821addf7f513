#include "api/in_flight.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace lp::api {
namespace {

TEST(InFlightLimiter, RefusesTheCallOverTheCapAndAdmitsAgainOnceOneEnds) {
  InFlightLimiter limit(2);
  auto a = limit.enter("111111111111");
  auto b = limit.enter("111111111111");
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(limit.enter("111111111111"));
  EXPECT_EQ(limit.running("111111111111"), 2);
  a.reset();
  EXPECT_EQ(limit.running("111111111111"), 1);
  EXPECT_TRUE(limit.enter("111111111111"));  // and it ends at once (a temporary)
  EXPECT_EQ(limit.running("111111111111"), 1);
}

TEST(InFlightLimiter, OneAccountAtItsCapLeavesTheOthersAlone) {
  InFlightLimiter limit(1);
  auto flooder = limit.enter("111111111111");
  ASSERT_TRUE(flooder);
  EXPECT_FALSE(limit.enter("111111111111"));
  auto other = limit.enter("222222222222");
  EXPECT_TRUE(other);
  EXPECT_EQ(limit.running("333333333333"), 0);
}

TEST(InFlightLimiter, AMovedSlotEndsOnce) {
  InFlightLimiter limit(1);
  std::optional<InFlightLimiter::Slot> kept;
  {
    auto s = limit.enter("111111111111");
    ASSERT_TRUE(s);
    kept.emplace(std::move(*s));
  }  // the moved-from slot ends nothing
  EXPECT_EQ(limit.running("111111111111"), 1);
  kept.reset();
  EXPECT_EQ(limit.running("111111111111"), 0);
}

TEST(InFlightLimiter, ConcurrentCallersNeverExceedTheCap) {
  InFlightLimiter limit(3);
  std::atomic<int> inside{0}, most{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto s = limit.enter("111111111111");
        if (!s) {
          ++refused;
          continue;
        }
        int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        --inside;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_LE(most.load(), 3);
  EXPECT_EQ(limit.running("111111111111"), 0);
}

}  // namespace
}  // namespace lp::api
