// SessionTable: the console's signed-in sessions, in memory (a daemon restart signs
// everyone out, which is what a short-lived browser session should do). Each session
// is an opaque random id (the HttpOnly cookie), the account it signed in as and with
// which key, a CSRF token the page must echo on every call, and an absolute expiry. The ids come from
// OpenSSL's RAND_bytes, not lp::Random: SystemRandom is a Mersenne Twister whose state
// can be recovered from its outputs, and its outputs are visible (request ids).
//
// Owned by ConsoleService. Thread-safe: the HTTP threads call it concurrently.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/time.h"
#include "model/ids.h"

namespace lp::api::console {

struct ConsoleSession {
  std::string id;    // the cookie value: 64 hex digits
  std::string csrf;  // 64 hex digits, handed to the page, never in a cookie
  model::AccountId account;
  // The access key id and a SHA-256 of the secret it signed in with: the session
  // lasts only while the account has that very key (a reload may remove or rotate it).
  std::string credential;
  WallTime expires;
};

class SessionTable {
 public:
  SessionTable(const Clock& clock, std::chrono::seconds lifetime) : clock_(clock), lifetime_(lifetime) {}

  ConsoleSession create(const model::AccountId& account, std::string credential);
  // The live session with this id; expired ones are removed and not returned.
  std::optional<ConsoleSession> find(const std::string& id);
  void remove(const std::string& id);
  // Ends every session for which keep() is false; returns how many ended.
  size_t removeUnless(const std::function<bool(const ConsoleSession&)>& keep);
  std::chrono::seconds lifetime() const { return lifetime_; }

 private:
  void dropExpiredLocked(WallTime now);

  const Clock& clock_;
  const std::chrono::seconds lifetime_;
  std::mutex mu_;
  std::map<std::string, ConsoleSession, std::less<>> sessions_;
};

}  // namespace lp::api::console
