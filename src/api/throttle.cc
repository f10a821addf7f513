#include "api/throttle.h"

#include <algorithm>

namespace lp::api {

bool RequestBucket::take(std::chrono::steady_clock::time_point now) {
  if (now > last_) {
    double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    last_ = now;
  }
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

bool isReadOnlyAction(std::string_view action) {
  for (std::string_view prefix : {"Describe", "List", "Get", "Lookup"})
    if (action.substr(0, prefix.size()) == prefix) return true;
  return false;
}

AccountThrottle::AccountThrottle(const ThrottleConfig& config, const model::RegionConfig& region, const Clock& clock)
    : config_(config), clock_(clock) {
  auto now = clock_.steadyNow();
  for (auto& a : region.accounts)
    accounts_.emplace(
        a.id, std::unique_ptr<Buckets>(new Buckets{{},
                                                   RequestBucket(config.mutatingRate, config.mutatingBurst, now),
                                                   RequestBucket(config.readRate, config.readBurst, now)}));
}

bool AccountThrottle::admit(std::string_view accountId, bool readOnly) {
  if (!config_.enabled) return true;
  auto it = accounts_.find(accountId);
  if (it == accounts_.end()) return true;
  Buckets& b = *it->second;
  auto now = clock_.steadyNow();
  std::lock_guard lock(b.mu);
  return (readOnly ? b.read : b.mutating).take(now);
}

}  // namespace lp::api
