// Forwarder: the TCP data plane. For every endpoint interface address and
// listener port it holds listening sockets in the consumer VPC's namespace; an
// accepted connection gets a target (target_choice.h), an outgoing socket made in
// the provider VPC's namespace and bound to the load balancer node address, an
// optional PROXY v2 header, and then bytes moved both ways with splice() through a
// pipe per direction (no copies through user space). Half-close (FIN) and reset
// (RST, via SO_LINGER 0) propagate both ways. A token bucket per endpoint per zone
// caps bandwidth. Bytes and connections are counted per endpoint and per interface.
//
// Threads: one event loop (epoll, edge-triggered) per core; each loop owns its own
// SO_REUSEPORT listening socket per address, so the kernel spreads new connections
// over the loops without any shared accept lock, and a connection lives and dies
// on the loop that accepted it. update() and apply() (one caller thread, the
// reconciler) make new listening sockets and post the changed listeners'
// immutable runtimes to every loop; the loops install them between events, so the
// hot path takes no lock. Connections of endpoints that stop forwarding
// (rejected, deleted, gone) are reset on the install.
//
// Owned by the daemon (through the reconciler's data plane applier).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "dataplane/health_checker.h"
#include "dataplane/snapshot.h"

namespace lp::dataplane {

struct ForwarderOptions {
  int loops = 0;  // 0 = one per core
  // Cap per endpoint per zone, in bytes per second; 0 = none. Default 10 Gbit/s.
  uint64_t endpointBytesPerSecond = 10'000'000'000ull / 8;
  // One pipe per direction. 64 KiB (16 pages) is what a single splice moves best:
  // each chunk leaves as soon as it arrives (TCP_NODELAY), so client, data plane and
  // server overlap; 256 KiB or 1 MiB pipes batched more and moved 10-25% less
  // (docs/dataplane.md, "Numbers").
  int pipeBytes = 1 << 16;
  // TCP keepalive on both sockets of every forwarded connection. A peer that is gone
  // without a FIN or RST (its namespace deleted, its host down) would otherwise hold
  // an idle connection, and its six descriptors, forever; after the probes go
  // unanswered the connection is reset on the other side too. 350 s is PrivateLink's
  // idle timeout. A live peer's kernel answers the probes, so idle connections stay.
  int keepaliveIdleSeconds = 350;
  int keepaliveIntervalSeconds = 30;
  int keepaliveProbes = 4;
};

struct TrafficCounters {
  uint64_t bytesIn = 0;   // consumer -> provider
  uint64_t bytesOut = 0;  // provider -> consumer
  uint64_t connections = 0;
  uint64_t active = 0;
  uint64_t resets = 0;  // connections ended by a reset (either side, or by the data plane)
  uint64_t dropped = 0;  // packets dropped by the kernel fast path (bandwidth cap, full tables)
  bool operator==(const TrafficCounters&) const = default;
};
// Field by field: one endpoint's interfaces, or one interface on two paths.
inline TrafficCounters& operator+=(TrafficCounters& a, const TrafficCounters& b) {
  a.bytesIn += b.bytesIn;
  a.bytesOut += b.bytesOut;
  a.connections += b.connections;
  a.active += b.active;
  a.resets += b.resets;
  a.dropped += b.dropped;
  return a;
}

struct CountersReport {
  std::map<std::string, TrafficCounters> endpoints;   // by vpce id
  std::map<std::string, TrafficCounters> interfaces;  // by endpoint eni id
  // Of each interface's figures, those counted in kernel state that outlives the
  // daemon (the conntrack path's nft counters, the BPF path's pinned maps): after
  // a kill -9 the next run reads them on from where they were, not from zero. The
  // rest (the forwarder's) starts from zero with the process.
  std::map<std::string, TrafficCounters> kept;
};

struct UpdateResult {
  // Endpoints some of whose listeners could not be made, with why. Every other
  // endpoint of the snapshot has all its listeners in place.
  std::map<std::string, std::string> listenerErrors;
};

// A change to the data plane: the listeners of some endpoints and the health
// checks of some target groups, each replacing everything that key had (an empty
// list removes it). Keys left out are untouched.
struct SnapshotDelta {
  std::map<std::string, std::vector<ListenerSpec>> endpoints;        // vpce id -> its listeners
  std::map<std::string, std::vector<HealthCheckSpec>> healthChecks;  // target group -> its checks
  bool empty() const { return endpoints.empty() && healthChecks.empty(); }
};

// Where the counters come from: the forwarder alone, or the forwarder and the
// kernel fast path together (reconciler/fastpath_sink.h).
class CounterSource {
 public:
  virtual ~CounterSource() = default;
  virtual CountersReport counters() = 0;
  // Grows whenever any counter may have changed.
  virtual uint64_t activity() = 0;
};

class Forwarder final : public CounterSource {
 public:
  static Result<std::unique_ptr<Forwarder>> start(const ForwarderOptions& options);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Converges listeners and health checks on the snapshot. One caller thread.
  // Returns once every loop has the new table: connections it cuts are reset by then.
  UpdateResult update(const Snapshot& snapshot);
  // Converges only the keys the delta names: the cost is that of the change, not
  // of every listener held. Same guarantees as update().
  UpdateResult apply(const SnapshotDelta& delta);
  std::map<std::string, HealthResult> health();
  CountersReport counters() override;
  // Grows whenever any counter may have changed (cheap: no counter is read).
  uint64_t activity() override;
  // Resets every connection, closes every listener, joins the loops.
  void stop();

  class Impl;

 private:
  explicit Forwarder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lp::dataplane
