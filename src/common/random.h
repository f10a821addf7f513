// Random: the only source of randomness (ids, request ids, tokens), injectable so
// tests are deterministic. SystemRandom is thread-safe (one engine per thread).
#pragma once

#include <cstdint>
#include <string>

namespace lp {

class Random {
 public:
  virtual ~Random() = default;
  virtual uint64_t next64() = 0;
  // n lower-case hex digits.
  std::string hex(size_t n);
  // RFC 4122 version-4 UUID text.
  std::string uuid();
};

class SystemRandom final : public Random {
 public:
  uint64_t next64() override;
};

// Deterministic sequence for unit tests. Not thread-safe.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed) {}
  uint64_t next64() override;

 private:
  uint64_t state_;
};

}  // namespace lp
