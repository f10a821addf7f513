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
  pruneLocked(now, keys);
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

void SignInLimiter::pruneLocked(WallTime now, const std::vector<std::string>& keep) {
  std::erase_if(entries_,
                [&](const auto& kv) { return kv.second.until <= now && now - kv.second.last >= limits_.forget; });
  // Full: the entries about to be counted stay; of the others, one not blocked
  // goes before a blocked one, then the one idle longest.
  auto rank = [&](const auto& kv) { return std::pair(kv.second.until > now, kv.second.last); };
  while (entries_.size() + keep.size() > limits_.maxEntries) {
    auto victim = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (std::find(keep.begin(), keep.end(), it->first) != keep.end()) continue;
      if (victim == entries_.end() || rank(*it) < rank(*victim)) victim = it;
    }
    if (victim == entries_.end()) break;
    entries_.erase(victim);
  }
}

}  // namespace lp::api::console
