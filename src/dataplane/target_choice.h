// Target choice as a Network Load Balancer makes it: healthy targets in the
// listener's zone first, then healthy targets in other zones; when no target
// anywhere is healthy, targets still in their initial checks; when none of those
// either, every target (an NLB "fails open"). Within the chosen tier a flow hash
// picks one, so a client's connections spread evenly. Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lp::dataplane {

enum class Health : int { kInitial = 0, kHealthy = 1, kUnhealthy = 2 };

struct Candidate {
  std::string zoneId;
  Health health = Health::kInitial;
};

// Index into candidates, or -1 when there are none.
int chooseTarget(const std::vector<Candidate>& candidates, const std::string& zoneId, uint64_t flowHash);

// Hash of a connection's 4-tuple (addresses and ports in network order).
uint64_t flowHash(uint32_t srcIp, uint16_t srcPort, uint32_t dstIp, uint16_t dstPort);

}  // namespace lp::dataplane
