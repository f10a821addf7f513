#include "api/throttle.h"

#include <algorithm>
#include <cmath>

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

bool RequestBucket::empty(std::chrono::steady_clock::time_point now) const {
  double tokens = tokens_;
  if (now > last_) tokens = std::min(burst_, tokens + std::chrono::duration<double>(now - last_).count() * rate_);
  return tokens < 1.0;
}

std::chrono::microseconds RequestBucket::untilToken(std::chrono::steady_clock::time_point now) const {
  double tokens = tokens_;
  if (now > last_) tokens = std::min(burst_, tokens + std::chrono::duration<double>(now - last_).count() * rate_);
  if (tokens >= 1.0) return std::chrono::microseconds(0);
  return std::chrono::microseconds(static_cast<int64_t>(std::ceil((1.0 - tokens) / rate_ * 1e6)));
}

bool isReadOnlyAction(std::string_view action) {
  for (std::string_view prefix : {"Describe", "List", "Get", "Lookup"})
    if (action.substr(0, prefix.size()) == prefix) return true;
  return false;
}

AccountThrottle::AccountThrottle(const ThrottleConfig& config, const model::RegionConfig& region, const Clock& clock)
    : config_(config), clock_(clock), accounts_(std::make_shared<const Map>()) {
  setAccounts(region);
}

std::shared_ptr<AccountThrottle::Buckets> AccountThrottle::fullBuckets(std::chrono::steady_clock::time_point now) const {
  return std::shared_ptr<Buckets>(new Buckets{{},
                                              RequestBucket(config_.mutatingRate, config_.mutatingBurst, now),
                                              RequestBucket(config_.readRate, config_.readBurst, now)});
}

void AccountThrottle::setAccounts(const model::RegionConfig& region) {
  auto now = clock_.steadyNow();
  auto old = accounts_.load(std::memory_order_acquire);
  auto next = std::make_shared<Map>();
  for (const auto& a : region.accounts) {
    auto it = old->find(a.id);
    next->emplace(a.id, it != old->end() ? it->second : fullBuckets(now));
  }
  accounts_.store(std::move(next), std::memory_order_release);
}

size_t AccountThrottle::accountCount() const { return accounts_.load(std::memory_order_acquire)->size(); }

bool AccountThrottle::admit(std::string_view accountId, bool readOnly) {
  if (!config_.enabled) return true;
  // The map and the buckets are held by this reference even if a reload drops them now.
  const auto accounts = accounts_.load(std::memory_order_acquire);
  auto it = accounts->find(accountId);
  if (it == accounts->end()) return true;
  Buckets& b = *it->second;
  auto now = clock_.steadyNow();
  std::lock_guard lock(b.mu);
  return (readOnly ? b.read : b.mutating).take(now);
}

bool AccountThrottle::overLimit(std::string_view accountId, bool readOnly) const {
  if (!config_.enabled) return false;
  const auto accounts = accounts_.load(std::memory_order_acquire);
  auto it = accounts->find(accountId);
  if (it == accounts->end()) return false;
  Buckets& b = *it->second;
  auto now = clock_.steadyNow();
  std::lock_guard lock(b.mu);
  return (readOnly ? b.read : b.mutating).empty(now);
}

std::chrono::microseconds AccountThrottle::refusalHold(std::string_view accountId, bool readOnly) const {
  if (!config_.enabled) return std::chrono::microseconds(0);
  const auto accounts = accounts_.load(std::memory_order_acquire);
  auto it = accounts->find(accountId);
  if (it == accounts->end()) return std::chrono::microseconds(0);
  Buckets& b = *it->second;
  auto now = clock_.steadyNow();
  std::lock_guard lock(b.mu);
  const RequestBucket& bucket = readOnly ? b.read : b.mutating;
  auto wait = bucket.untilToken(now);
  if (wait.count() > 0) return wait;
  return std::chrono::microseconds(static_cast<int64_t>(std::ceil(1e6 / bucket.rate())));
}

}  // namespace lp::api
