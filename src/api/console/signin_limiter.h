// SignInLimiter: slows down guessing of secrets at the console's sign-in. Failures
// are counted per source address and per access key id. After `free` (5) failures
// of either, that address or key must wait before its next try: 10 s, then twice as
// long after each further failure (20 s, 40 s ... at most 15 min). While
// blocked, a sign-in is refused before the secret is looked at, so a guess made
// then tells nothing, and the refusal is the same whether the key exists or not.
//
// A success forgets that address's and that key's failures. An entry with no
// failure for `forget` is dropped; at most `maxEntries` are kept (the oldest go),
// so a flood of made-up key ids bounds the memory, not the daemon.
//
// Blocking by key lets someone who knows a key id delay its owner's console
// sign-in (not the API: SigV4 is not limited here), for at most the cap.
//
// Owned by ConsoleService. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/time.h"

namespace lp::api::console {

struct SignInLimits {
  int free = 5;
  std::chrono::seconds firstDelay{10};
  std::chrono::seconds maxDelay{15 * 60};
  std::chrono::seconds forget{60 * 60};
  size_t maxEntries = 10'000;
};

class SignInLimiter {
 public:
  SignInLimiter(const Clock& clock, SignInLimits limits = {}) : clock_(clock), limits_(limits) {}

  // How long until one of keys may try again; nullopt when none is blocked.
  std::optional<std::chrono::seconds> blocked(const std::vector<std::string>& keys);
  void failed(const std::vector<std::string>& keys);
  void succeeded(const std::vector<std::string>& keys);
  size_t size() const;

 private:
  struct Entry {
    int failures = 0;
    WallTime last;
    WallTime until;  // blocked before this time
  };
  void pruneLocked(WallTime now, const std::vector<std::string>& keep);

  const Clock& clock_;
  const SignInLimits limits_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace lp::api::console
