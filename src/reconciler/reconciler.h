// Reconciler: the backend of the control plane. It turns store changes into work
// on the host, one key at a time, and writes the observed status back.
//
// How a change flows (Redpanda's controller backend and Kubernetes controllers
// work the same way):
//  1. ingest: the changes since the last revision applied (Store::changesSince)
//     are read under a short store read; only the changed objects are decoded into
//     DesiredState, whose indexes name the keys they affect (a VPC, an endpoint, a
//     target group). A gap in the history, and the first pass, load everything.
//  2. queue: keys wait in deduplicating queues; a key that fails is retried on its
//     own with exponential backoff, and every VPC is compared with the host again
//     once per drift period, a slice at a time.
//  3. plan and apply, outside every store lock: plans are pure functions of the
//     decoded state (host_plan.h, dataplane_plan.h, dns_plan.h); HostNetwork,
//     DataplaneSink and NameSink apply them. An API write is acknowledged when it
//     is durable, never after host work.
//  4. status: pending -> available once the endpoint's interfaces are in place and
//     its listeners bound; -> failed with LastError when it cannot be built;
//     deleting -> deleted once it is gone from the host; deleted ones purged after
//     kDeletedRetention. Each write is conditional on the object's revision being
//     the one the decision was made from, so a concurrent accept, reject or delete
//     always wins. The reconciler takes what it wrote into its own state, so its
//     writes are never parsed back and never wake it.
//
// Owned by the daemon; start() spawns the thread, stop() joins it. reconcileOnce()
// is for tests and must not race with the thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "common/background_loop.h"
#include "common/time.h"
#include "model/elb.h"
#include "reconciler/desired_state.h"
#include "reconciler/dns_plan.h"
#include "reconciler/host_provisioner.h"
#include "store/store.h"

namespace lp::reconciler {

struct ReconcilerOptions {
  std::string region = "us-east-1";
  // Whether the DNS server gets a resolver per VPC (false: no namespaces exist,
  // names are served on the host listener only).
  bool vpcResolvers = true;
  // Upkeep when nothing changes: target health, counters, retries and drift.
  std::chrono::milliseconds tick{1000};
  // Every VPC is compared with the host at least this often (someone may have
  // deleted a link behind our back), spread over the period a slice per tick. With
  // 5 minutes, perf put 40% of an idle daemon's 1% of a core at 300 VPCs in these
  // slices (bench/scale, PERF=1); at 1,000 VPCs and 15 minutes they were still 39 %
  // of its 3 % (two VPCs a tick, each planned in full): 30 minutes halves that.
  std::chrono::seconds driftPeriod{1800};
  std::chrono::milliseconds retryFirst{200};
  std::chrono::milliseconds retryMax{30000};
  // A pending endpoint that still cannot be built after this many tries is failed.
  int attemptsBeforeFailed = 8;
  // Keys applied per pass before new changes are looked at again, so a full
  // resync of a large store does not hold back the API's latest writes.
  size_t vpcsPerPass = 32;
  size_t endpointsPerPass = 256;
};

// What the reconciler has done, for tests and the benchmark.
struct ReconcilerStats {
  uint64_t passes = 0;
  uint64_t resyncs = 0;
  uint64_t changesIngested = 0;   // changes of tracked kinds read from the store
  uint64_t vpcsApplied = 0;       // HostNetwork::applyVpc / removeVpc calls
  uint64_t endpointsPlanned = 0;  // endpoint keys planned
  uint64_t statusWrites = 0;      // store updates of endpoint status
  uint64_t statusConflicts = 0;   // decisions dropped because the object changed
  uint64_t errors = 0;            // host, data plane or status work that failed and waits for a retry
  // The last start or resync until its queues first drained, and where it went
  // (the daemon logs it; the scale benchmark reads the log).
  std::chrono::milliseconds resyncTook{0}, resyncHost{0}, resyncListeners{0}, resyncNames{0}, resyncStatus{0};
};

class Reconciler {
 public:
  // dataplane may be null (control plane only: endpoints are ready once their
  // interfaces are); names may be null (no DNS).
  Reconciler(store::Store& store, HostNetwork& host, DataplaneSink* dataplane, NameSink* names, const Clock& clock,
             ReconcilerOptions options = {});
  ~Reconciler();
  void start();
  void stop();
  // Stops, then removes everything from the host: connections and listeners
  // first, then resolvers, then namespaces (clean stop).
  void teardown();

  // One pass, synchronously (tests): ingest, then apply what is due. Returns
  // whether keys are still queued (call again).
  bool reconcileOnce();
  // Passes until nothing is queued or due now (tests).
  void reconcileUntilIdle(int maxPasses = 1000);

  ReconcilerStats stats() const;
  // Keys waiting, due now or for a retry (tests).
  size_t queued() const;

  // How long deleted endpoints stay visible before they are purged.
  static constexpr std::chrono::minutes kDeletedRetention{10};

 private:
  struct Retry {
    int attempts = 0;
    std::chrono::steady_clock::time_point due;
    std::string lastError;
  };
  struct StatusWrite {
    std::string id;
    uint64_t observed = 0;                   // revision the decision was made from
    std::optional<model::VpcEndpoint> next;  // nullopt = purge
  };

  std::chrono::milliseconds untilDue() const;
  void ingest();
  void queue(const DirtyKeys& d);
  void promoteDue();
  void applyVpcs(const std::set<std::string>& vpcs, std::set<std::string>& failedVpcs);
  void decide(const std::string& endpointId, const std::set<std::string>& failedVpcs,
              const std::map<std::string, std::pair<std::string, std::string>>& planFailed,
              std::vector<StatusWrite>& writes);
  void writeStatus(std::vector<StatusWrite>& writes);
  void writeTargetHealth();
  // Hands the delta to the data plane and remembers, per endpoint, the listeners
  // applied and why any of them could not be made.
  void applyListeners(dataplane::SnapshotDelta delta);
  void scheduleRetry(std::map<std::string, Retry>& retries, const std::string& key, const std::string& why);
  std::chrono::steady_clock::time_point nextDue() const;
  void publishNames(bool force);

  store::Store& store_;
  HostNetwork& host_;
  DataplaneSink* dataplane_;
  NameSink* names_;
  const Clock& clock_;
  ReconcilerOptions opts_;

  // Reconciler thread (or the test calling reconcileOnce) only.
  DesiredState state_;
  NameTable nameTable_;
  bool synced_ = false;
  uint64_t applied_ = 0;    // every change up to here is in state_
  std::set<uint64_t> own_;  // revisions of our own writes not yet passed by applied_
  std::set<std::string> dirtyVpcs_, dirtyEndpoints_, dirtyGroups_;
  std::map<std::string, Retry> vpcRetry_, endpointRetry_;
  std::map<std::string, std::set<std::string>> readyIn_;                   // VPC -> interfaces in place
  std::set<std::string> vpcsOnHost_;                                       // VPCs applied at least once since start
  std::map<std::string, std::vector<dataplane::ListenerSpec>> listeners_;  // per endpoint, as applied
  std::map<std::string, std::string> listenerErrors_;
  std::map<std::string, std::chrono::system_clock::time_point> purgeAt_;  // deleted endpoints
  bool namesDirty_ = false;
  std::map<std::string, model::TargetHealthRecord> healthWritten_;
  std::chrono::steady_clock::time_point nextTick_{}, nextDrift_{};
  // While a start or resync has not yet drained its queues: when it began and
  // the time spent per phase since (ReconcilerStats::resync*).
  struct ResyncClock {
    std::chrono::steady_clock::time_point began;
    std::chrono::steady_clock::duration host{}, listeners{}, names{}, status{};
  };
  std::optional<ResyncClock> resync_;
  // Adds the time since `from` to the running resync's phase (no-op otherwise).
  void charge(std::chrono::steady_clock::duration ResyncClock::*phase, std::chrono::steady_clock::time_point from);
  std::string driftCursor_;

  mutable std::mutex statsMu_;
  ReconcilerStats stats_;   // guarded by statsMu_
  size_t queuedCount_ = 0;  // guarded by statsMu_

  BackgroundLoop loop_;
};

}  // namespace lp::reconciler
