// Clock: the only way code reads time, so tests inject a ManualClock.
// Thread-safe: SystemClock is stateless; ManualClock guards its value with an atomic.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lp {

using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime now() const = 0;
  // Monotonic time for timeouts and intervals.
  virtual std::chrono::steady_clock::time_point steadyNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  WallTime now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point steadyNow() const override { return std::chrono::steady_clock::now(); }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(WallTime start) : ns_(start.time_since_epoch().count()) {}
  WallTime now() const override { return WallTime(WallTime::duration(ns_.load())); }
  std::chrono::steady_clock::time_point steadyNow() const override {
    return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(ns_.load()));
  }
  void advance(std::chrono::nanoseconds d) { ns_ += std::chrono::duration_cast<WallTime::duration>(d).count(); }

 private:
  std::atomic<int64_t> ns_;
};

// 2017-09-05T17:55:27.583Z, the form EC2 uses in responses.
std::string iso8601Millis(WallTime t);
// 20261122T125531Z (SigV4 X-Amz-Date) -> time; nullopt when malformed.
std::optional<WallTime> parseAmzDate(std::string_view s);
// ISO 8601 with or without millis, 'Z' suffix.
std::optional<WallTime> parseIso8601(std::string_view s);

}  // namespace lp
