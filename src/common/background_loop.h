// BackgroundLoop: one worker thread that runs a pass, then sleeps until a change,
// the pass's next due time or stop(), whichever comes first. The reconciler and
// the notifier each own one; what counts as a change (a store revision, the
// outbox's version) is theirs to say through waitForChange.
//
// Waits are cut into short slices so stop() returns within one slice; a slice
// that ends with nothing changed and nothing due runs no pass.
//
// Owned by its user; start() and stop() from the owner's thread; the hooks run on
// the loop's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

namespace lp {

class BackgroundLoop {
 public:
  struct Hooks {
    // Does the work; returns how long until a pass is due again without a change
    // (zero: at once).
    std::function<std::chrono::milliseconds()> pass;
    // Blocks until a change or the timeout; returns whether a change came.
    std::function<bool(std::chrono::milliseconds)> waitForChange;
  };
  explicit BackgroundLoop(Hooks hooks, std::chrono::milliseconds slice = std::chrono::milliseconds(200))
      : hooks_(std::move(hooks)), slice_(slice) {}
  ~BackgroundLoop() { stop(); }
  BackgroundLoop(const BackgroundLoop&) = delete;
  BackgroundLoop& operator=(const BackgroundLoop&) = delete;

  void start() {
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool stopping() const { return stopping_; }

 private:
  void run() {
    using Clock = std::chrono::steady_clock;
    while (!stopping_) {
      auto due = Clock::now() + hooks_.pass();
      while (!stopping_) {
        // Rounded up: truncated, the last fraction of a millisecond before a due
        // time read as zero, and the loop ran passes back to back until it came
        // (about a thousand per tick, measured).
        auto left = std::chrono::ceil<std::chrono::milliseconds>(due - Clock::now());
        if (left <= std::chrono::milliseconds::zero()) break;
        if (hooks_.waitForChange(std::min(left, slice_))) break;
      }
    }
  }

  Hooks hooks_;
  std::chrono::milliseconds slice_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace lp
