// The BPF fast path's connection table kept and cut (docs/dataplane.md, "The BPF
// fast path", stage 3): bpf_sweep_plan.h's policy applied to the maps through the
// loader's walk and delete, and the resets of what was cut. What the sink calls:
//   each tick       sweepBpfConnections(maps, CLOCK_MONOTONIC now, idle_timeout_seconds),
//                   then resetBpfConnections(result.idle, ...)
//   reject/delete   endBpfConnections(maps, {links}) (the plan diff's endConnections),
//                   then resetBpfConnections(...)
//   unhealthy       endBpfConnections(maps, a scope per (link, target)), then resetBpfConnections
// Built only with the BPF fast path (LP_BPF_BUILT). Any thread, as FastpathMaps.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "dataplane/bpf_sweep_plan.h"
#include "net/bpf/bpf_fastpath.h"

namespace lp::dataplane {

// Every lp_conns entry.
Result<std::vector<BpfConnEntry>> readBpfConnections(const net::bpf::FastpathMaps& maps);

struct BpfSweepResult {
  size_t idle = 0, closed = 0;                 // connections whose entries went
  std::vector<BpfConnection> idleConnections;  // to reset: their peers do not know yet
  std::vector<BpfRecount> recounted;           // live counts corrected
};
// Deletes the entries of connections idle for idleNs and of closed ones
// (bpfConnState). nowNs: CLOCK_MONOTONIC, as bpf_ktime_get_ns. Each connection is
// read again just before its entries go, so a packet that came during the walk
// (a keepalive after 350 s of silence) keeps it. The same walk corrects the live
// count of every link whose count is not zero (planBpfRecount, LinkUsage::recount)
// before anything is deleted; a count of zero with entries in the table (too low,
// which only lets a connection past the limit) is left.
Result<BpfSweepResult> sweepBpfConnections(const net::bpf::FastpathMaps& maps, uint64_t nowNs, uint64_t idleNs);

// Deletes the entries of the connections in scope (a link's, several links', or one
// link's to one target) and returns them, for resetBpfConnections.
Result<std::vector<BpfConnection>> endBpfConnections(const net::bpf::FastpathMaps& maps, const BpfEndScope& scope);
// Those of any of the scopes, in one walk of the table (several targets turning
// unhealthy at once, each on many links).
Result<std::vector<BpfConnection>> endBpfConnections(const net::bpf::FastpathMaps& maps,
                                                     const std::vector<BpfEndScope>& scopes);
Result<std::vector<BpfConnection>> endLinkConnections(const net::bpf::FastpathMaps& maps, uint32_t link);
Result<std::vector<BpfConnection>> endTargetConnections(const net::bpf::FastpathMaps& maps, uint32_t link,
                                                        uint32_t targetAddr, uint16_t targetPort);

// The namespaces of a link (the sink's names for them).
struct BpfLinkNamespaces {
  std::string consumer, provider;
};
struct BpfResetResult {
  size_t clients = 0, targets = 0;  // ends reset
  size_t unknownLinks = 0;          // connections whose link nsOf did not know
};
// Resets both ends of each connection whose entries are gone: the clients from
// inside their consumer namespace first (what a user waits on), then the targets
// from inside the provider's (net::tcpResetPeers). An end that does not answer
// within `wait` (a dead target) is left; errors of one namespace are logged and
// the others still reset.
BpfResetResult resetBpfConnections(const std::vector<BpfConnection>& conns,
                                   const std::function<std::optional<BpfLinkNamespaces>(uint32_t link)>& nsOf,
                                   std::chrono::milliseconds wait = std::chrono::milliseconds(500));

}  // namespace lp::dataplane
