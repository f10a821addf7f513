#include "api/console/signin_limiter.h"

#include <algorithm>

namespace lp::api::console {

std::optional<std::chrono::seconds> SignInLimiter::blocked(const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  WallTime now = clock_.now();
  std::optional<std::chrono::seconds> wait;
  for (const auto& k : keys) {
    auto it = entries_.find(k);
    if (it == entries_.end() || it->second.until <= now) continue;
    // Rounded up: "try again in 0 seconds" would be a lie.
    auto left = std::chrono::ceil<std::chrono::seconds>(it->second.until - now);
    if (!wait || left > *wait) wait = left;
  }
  return wait;
}

void SignInLimiter::failed(const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  WallTime now = clock_.now();
  pruneLocked(now);
  for (const auto& k : keys) {
    Entry& e = entries_[k];
    e.failures++;
    e.last = now;
    int over = e.failures - limits_.free;
    if (over < 0) continue;
    // Doubling per failure past the free ones, capped (and no shift past 2^20).
    auto delay = limits_.firstDelay * (int64_t{1} << std::min(over, 20));
    e.until = now + std::min<std::chrono::seconds>(delay, limits_.maxDelay);
  }
}

void SignInLimiter::succeeded(const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  for (const auto& k : keys) entries_.erase(k);
}

size_t SignInLimiter::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void SignInLimiter::pruneLocked(WallTime now) {
  std::erase_if(entries_, [&](const auto& kv) { return kv.second.until <= now && now - kv.second.last >= limits_.forget; });
  while (entries_.size() >= limits_.maxEntries) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                   [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
    entries_.erase(oldest);
  }
}

}  // namespace lp::api::console
