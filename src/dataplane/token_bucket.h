// TokenBucket: a byte-rate cap shared by every loop that forwards for one endpoint
// in one zone. Lock-free (GCRA on one atomic "theoretical arrival time"), so the
// hot path pays one compare-and-swap per splice. Time is passed in (nanoseconds on
// a monotonic clock) so tests drive it by hand. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

namespace lp::dataplane {

class TokenBucket {
 public:
  // bytesPerSecond 0 = unlimited. burstNanos: how much unused time may be saved up.
  explicit TokenBucket(uint64_t bytesPerSecond, int64_t burstNanos = 10'000'000);

  // Grants up to `want` bytes now (possibly fewer, possibly 0).
  uint64_t take(uint64_t want, int64_t nowNanos);
  // Gives back bytes granted but not used.
  void refund(uint64_t bytes);
  // Nanoseconds until at least `chunk` bytes can be granted (0 = now).
  int64_t waitNanos(uint64_t chunk, int64_t nowNanos) const;
  uint64_t rate() const { return rate_; }

 private:
  int64_t costNanos(uint64_t bytes) const;
  uint64_t rate_;
  int64_t burstNanos_;
  std::atomic<int64_t> tat_{0};  // when the bucket, as charged so far, is "paid off"
};

}  // namespace lp::dataplane
