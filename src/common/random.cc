#include "common/random.h"

#include <random>

#include <fmt/format.h>

namespace lp {

std::string Random::hex(size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n);
  uint64_t bits = 0;
  int left = 0;
  for (size_t i = 0; i < n; ++i) {
    if (left == 0) {
      bits = next64();
      left = 16;
    }
    out.push_back(kDigits[bits & 0xf]);
    bits >>= 4;
    --left;
  }
  return out;
}

std::string Random::uuid() {
  uint64_t a = next64(), b = next64();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff, b >> 48,
                     b & 0xffffffffffffULL);
}

uint64_t SystemRandom::next64() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine();
}

uint64_t SeededRandom::next64() {
  // splitmix64
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace lp
