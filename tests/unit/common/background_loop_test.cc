// BackgroundLoop: a pass at start, one per change, one when the pass said it is
// due, none while nothing changes, and stop() within a wait slice.
#include "common/background_loop.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

namespace lp {
namespace {

using namespace std::chrono_literals;

// A version number that waiters can block on, like a store's revision.
struct Changes {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t version = 0;
  void bump() {
    {
      std::lock_guard l(mu);
      ++version;
    }
    cv.notify_all();
  }
  bool waitPast(uint64_t seen, std::chrono::milliseconds t) {
    std::unique_lock l(mu);
    return cv.wait_for(l, t, [&] { return version > seen; });
  }
  uint64_t now() {
    std::lock_guard l(mu);
    return version;
  }
};

TEST(BackgroundLoop, PassesOnChangesAndWhenDueButNotOnIdleSlices) {
  Changes changes;
  std::atomic<int> passes{0};
  std::atomic<uint64_t> seen{0};
  std::atomic<int64_t> dueMs{3'600'000};
  BackgroundLoop loop({[&] {
                         seen = changes.now();
                         ++passes;
                         return std::chrono::milliseconds(dueMs.load());
                       },
                       [&](std::chrono::milliseconds t) { return changes.waitPast(seen, t); }},
                      20ms);
  loop.start();
  auto waitFor = [&](int n) {
    for (int i = 0; i < 200 && passes < n; ++i) std::this_thread::sleep_for(5ms);
    return passes.load();
  };
  EXPECT_EQ(waitFor(1), 1);
  std::this_thread::sleep_for(150ms);  // several idle slices
  EXPECT_EQ(passes, 1);
  changes.bump();
  EXPECT_EQ(waitFor(2), 2);
  dueMs = 50;
  changes.bump();  // this pass says the next is due in 50 ms, without a change
  EXPECT_EQ(waitFor(3), 3);
  EXPECT_GE(waitFor(4), 4);
  auto t0 = std::chrono::steady_clock::now();
  loop.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
}

}  // namespace
}  // namespace lp
