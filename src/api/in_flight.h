// How many calls of one account the API runs at once. The token buckets
// (throttle.h) bound an account's calls per second, not how many hold an API
// thread at a time: with 8 threads, a flood of writes that each wait for two
// fsyncs (the store's and the audit log's) kept every thread busy, and another
// account's DescribeVpcs waited for a free one (bench/throttle: its p99 went from
// 2.6 ms to 23.7 ms while the flooder was refused 88 % of its calls). With a cap
// below the thread count, the threads left over are always free for the others.
// A call over the cap is refused like a throttled one (RequestLimitExceeded /
// Throttling), which the SDKs retry with backoff. The default cap is three
// quarters of the API threads: half of them refused 14 of 10,000 creates made by
// bench/scale's 8 clients (retries off), and tools run ten calls at once
// (Terraform's default parallelism).
//
// Thread-safe; accounts are counted as they come (none configured up front, so an
// account added by a reload needs nothing here).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace lp::api {

class InFlightLimiter {
 public:
  explicit InFlightLimiter(int maxPerAccount) : max_(maxPerAccount) {}
  InFlightLimiter(const InFlightLimiter&) = delete;
  InFlightLimiter& operator=(const InFlightLimiter&) = delete;

  // One running call; leaving its scope ends it.
  class Slot {
   public:
    Slot(Slot&& o) noexcept : owner_(o.owner_), account_(std::move(o.account_)) { o.owner_ = nullptr; }
    Slot& operator=(Slot&&) = delete;
    Slot(const Slot&) = delete;
    ~Slot();

   private:
    friend class InFlightLimiter;
    Slot(InFlightLimiter* owner, std::string account) : owner_(owner), account_(std::move(account)) {}
    InFlightLimiter* owner_;
    std::string account_;
  };

  // A slot for one call of account, or nullopt when it already has the maximum running.
  std::optional<Slot> enter(std::string_view account);
  int running(std::string_view account) const;
  // Whether enter(account) would refuse now; takes no slot.
  bool full(std::string_view account) const { return running(account) >= max_; }
  int maxPerAccount() const { return max_; }

 private:
  void leave(const std::string& account);
  const int max_;
  mutable std::mutex mu_;
  std::map<std::string, int, std::less<>> running_;  // accounts with a call running only
};

}  // namespace lp::api
