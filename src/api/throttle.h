// Request throttling per account, as EC2 does it: token buckets, one for mutating
// calls and one for describe/read calls, refilled at a configured rate up to a
// burst. A refused call gets RequestLimitExceeded (EC2, 503) or Throttling (Query
// services, 400), which every AWS SDK retries with backoff.
//
// RequestBucket is a plain value (not thread-safe); AccountThrottle owns one pair per
// configured account, each pair behind its own mutex, so accounts never contend with
// each other. The account set is an immutable map swapped whole when a reload
// changes the accounts (setAccounts): a caller reads it with one atomic load; an
// account that stays keeps its buckets (and their tokens).
// Time comes from the injected Clock's steadyNow(): tests drive a ManualClock.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/time.h"
#include "model/region.h"

namespace lp::api {

// [throttle] in the config. Rates are tokens per second, bursts the bucket size.
// Defaults: EC2's documented request-token buckets (mutating 50 / 5 per s,
// non-mutating 100 / 20 per s) with ten times the rate and the same time to refill
// from empty (10 s and 5 s): one host answers a call in a millisecond, and the
// tests, the demo and infrastructure tools burst far beyond AWS's per-second figures.
struct ThrottleConfig {
  bool enabled = true;
  double mutatingRate = 50;
  double mutatingBurst = 500;
  double readRate = 200;
  double readBurst = 1000;
  // Calls of one account running at once (in_flight.h); 0: three quarters of the API threads.
  int maxInFlight = 0;
  // The longest a connection's next read is held after a throttling refusal
  // (refusal_hold_max_ms; 0: never held). http/server.h, docs/throttling-and-audit.md.
  int refusalHoldMaxMs = 1000;
};

class RequestBucket {
 public:
  RequestBucket(double ratePerSecond, double burst, std::chrono::steady_clock::time_point now)
      : rate_(ratePerSecond), burst_(burst), tokens_(burst), last_(now) {}
  // Takes one token if there is one.
  bool take(std::chrono::steady_clock::time_point now);
  // Whether take(now) would fail; takes nothing.
  bool empty(std::chrono::steady_clock::time_point now) const;
  double tokens() const { return tokens_; }
  // How long until take() could succeed: 0 when it could now.
  std::chrono::microseconds untilToken(std::chrono::steady_clock::time_point now) const;
  double rate() const { return rate_; }

 private:
  double rate_;
  double burst_;
  double tokens_;
  std::chrono::steady_clock::time_point last_;
};

// Whether an action only reads (Describe*, List*, Get*, Lookup*): the read bucket,
// and no audit record.
bool isReadOnlyAction(std::string_view action);

class AccountThrottle {
 public:
  AccountThrottle(const ThrottleConfig& config, const model::RegionConfig& region, const Clock& clock);
  // True when account may make the call now (and charges it). Unknown accounts are
  // never throttled here: authentication has refused them already.
  bool admit(std::string_view accountId, bool readOnly);
  // True when admit() would refuse account's call now; charges nothing. For the
  // check before the signature is verified (api_service.cc: an unauthenticated
  // request may learn that an account is over its limit, never spend its tokens).
  bool overLimit(std::string_view accountId, bool readOnly) const;
  // How long a connection whose call was just refused should wait before its next call
  // is read: until the bucket could grant a token, or one token's refill time (1/rate)
  // when it has one now (the call was refused for the cap on calls in flight). Reads
  // only; 0 when throttling is off or the account is unknown.
  std::chrono::microseconds refusalHold(std::string_view accountId, bool readOnly) const;
  // After a reload: buckets for the accounts of region, full ones for new accounts;
  // a removed account's are dropped. One caller at a time (the daemon's reload).
  void setAccounts(const model::RegionConfig& region);
  size_t accountCount() const;

 private:
  struct Buckets {
    std::mutex mu;
    RequestBucket mutating;
    RequestBucket read;
  };
  using Map = std::map<std::string, std::shared_ptr<Buckets>, std::less<>>;
  std::shared_ptr<Buckets> fullBuckets(std::chrono::steady_clock::time_point now) const;

  const ThrottleConfig config_;
  const Clock& clock_;
  std::atomic<std::shared_ptr<const Map>> accounts_;  // each map immutable; replaced by setAccounts
};

}  // namespace lp::api
