#include "dataplane/token_bucket.h"

#include <algorithm>

namespace lp::dataplane {

TokenBucket::TokenBucket(uint64_t bytesPerSecond, int64_t burstNanos)
    : rate_(bytesPerSecond), burstNanos_(std::max<int64_t>(burstNanos, 1'000'000)) {}

int64_t TokenBucket::costNanos(uint64_t bytes) const {
  return static_cast<int64_t>((static_cast<unsigned __int128>(bytes) * 1'000'000'000u + rate_ - 1) / rate_);
}

uint64_t TokenBucket::take(uint64_t want, int64_t now) {
  if (rate_ == 0 || want == 0) return want;
  int64_t t = tat_.load(std::memory_order_relaxed);
  for (;;) {
    int64_t base = std::max(t, now - burstNanos_);
    int64_t room = now - base;  // credit in nanoseconds
    if (room <= 0) return 0;
    uint64_t grant =
        std::min<uint64_t>(want, static_cast<uint64_t>(static_cast<unsigned __int128>(room) * rate_ / 1'000'000'000u));
    if (grant == 0) return 0;
    int64_t next = base + costNanos(grant);
    if (tat_.compare_exchange_weak(t, next, std::memory_order_relaxed)) return grant;
  }
}

void TokenBucket::refund(uint64_t bytes) {
  if (rate_ == 0 || bytes == 0) return;
  tat_.fetch_sub(costNanos(bytes) - 1, std::memory_order_relaxed);
}

int64_t TokenBucket::waitNanos(uint64_t chunk, int64_t now) const {
  if (rate_ == 0) return 0;
  int64_t base = std::max(tat_.load(std::memory_order_relaxed), now - burstNanos_);
  int64_t ready = base + costNanos(std::max<uint64_t>(chunk, 1));
  return std::max<int64_t>(0, ready - now);
}

}  // namespace lp::dataplane
