#include "dataplane/target_choice.h"

namespace lp::dataplane {

int chooseTarget(const std::vector<Candidate>& candidates, const std::string& zoneId, uint64_t hash) {
  if (candidates.empty()) return -1;
  // Tiers, best first: healthy here, healthy elsewhere, initial here, initial
  // elsewhere, anything here (fail open), anything.
  auto pick = [&](auto&& accept) -> int {
    int n = 0;
    for (const auto& c : candidates) n += accept(c) ? 1 : 0;
    if (n == 0) return -1;
    int k = static_cast<int>(hash % static_cast<uint64_t>(n));
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (accept(candidates[i]) && k-- == 0) return static_cast<int>(i);
    }
    return -1;
  };
  auto here = [&](const Candidate& c) { return c.zoneId == zoneId; };
  for (Health h : {Health::kHealthy, Health::kInitial}) {
    if (int i = pick([&](const Candidate& c) { return c.health == h && here(c); }); i >= 0) return i;
    if (int i = pick([&](const Candidate& c) { return c.health == h; }); i >= 0) return i;
  }
  if (int i = pick(here); i >= 0) return i;
  return pick([](const Candidate&) { return true; });
}

uint64_t flowHash(uint32_t srcIp, uint16_t srcPort, uint32_t dstIp, uint16_t dstPort) {
  // splitmix64 over the packed tuple: cheap and well mixed.
  uint64_t x = (static_cast<uint64_t>(srcIp) << 32 | dstIp) ^
               (static_cast<uint64_t>(srcPort) << 16 | dstPort) * 0x9E3779B97F4A7C15ull;
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

}  // namespace lp::dataplane
