#include "api/console/session_table.h"

#include <openssl/rand.h>

#include <stdexcept>

namespace lp::api::console {

namespace {

// 32 bytes from the OS's CSPRNG as 64 hex digits.
std::string secureToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("RAND_bytes failed");
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

}  // namespace

ConsoleSession SessionTable::create(const model::AccountId& account, std::string credential) {
  std::lock_guard lock(mu_);
  WallTime now = clock_.now();
  dropExpiredLocked(now);
  ConsoleSession s{secureToken(), secureToken(), account, std::move(credential), now + lifetime_};
  sessions_[s.id] = s;
  return s;
}

std::optional<ConsoleSession> SessionTable::find(const std::string& id) {
  if (id.size() != 64) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (clock_.now() >= it->second.expires) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void SessionTable::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  sessions_.erase(id);
}

size_t SessionTable::removeUnless(const std::function<bool(const ConsoleSession&)>& keep) {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (keep(it->second)) {
      ++it;
    } else {
      it = sessions_.erase(it);
      ++n;
    }
  }
  return n;
}

void SessionTable::dropExpiredLocked(WallTime now) {
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = now >= it->second.expires ? sessions_.erase(it) : std::next(it);
}

}  // namespace lp::api::console
