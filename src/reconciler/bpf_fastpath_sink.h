// BpfFastPathSink: the data plane with the BPF fast path in front of the splice
// forwarder ([dataplane] path = "bpf"; docs/dataplane.md, "The BPF fast path").
// Each time the snapshot, target health or a VPC's workloads change it plans the
// path again (dataplane::planBpf, on the listeners the conntrack path plans from,
// the workloads of host_plan's VpcPlan and the ids of the last plan), diffs the
// plan against the one in place (diffBpfPlans) and executes the writes in the
// order the plan documents, through a BpfExecutor: the OS calls behind a small
// interface, so tests drive the sink with a fake that records and fails calls.
//
// Every delta still goes to the splice sink: its listeners make an endpoint
// `available`, check target health, and carry what the BPF path does not (the
// endpoints planBpf refuses, and those whose writes failed: an endpoint goes whole
// or not at all; a failed one loses what was written for it, so its SYNs reach the
// local listener again, and is tried again after kRetryFailedAfter).
//
// Spaces and link ids are kept in <state dir>/bpf-fastpath-ids.json, so a restart
// gives every namespace and interface the numbers the kernel's state is keyed by.
//
// The kernel executor adopts the maps a killed run pinned (stage 5), so a restart
// writes the whole plan again over them and replaces the filters in place without
// cutting the connections they carry; a clean stop sweeps and unpins.
//
// Each tick also: connections to targets that turned unhealthy end with resets (as
// the splice path's, for targets with terminateWhenUnhealthy); every sweepEvery the
// connection table is swept (idle ones reset, closed ones deleted; SYNs refused
// since the last sweep because the table is full logged once per episode); every two
// seconds the links' counters are read for the counters file and the metrics
// (counters()/activity(), which the conntrack sink adds to the forwarder's).
//
// Owned by the daemon; apply/tick/drain/stop/setWorkloads on the reconciler thread;
// status() from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "dataplane/bpf_fastpath_plan.h"
#include "reconciler/host_provisioner.h"

namespace lp::reconciler {

// A link's counters (lp_link_stats summed over CPUs) and its live count.
using BpfLinkStats = dataplane::BpfLinkFigures;

// A link's connections to one target, to end (the target turned unhealthy).
struct BpfTargetEnd {
  uint32_t link = 0;
  std::string addr;
  int port = 0;
  auto operator<=>(const BpfTargetEnd&) const = default;
};

// The BPF path's host-wide connection limit (net/bpf's HostConnections): the
// connections in the table (closed ones not swept yet included), the limit, and
// the SYNs refused for it since the maps were made.
struct BpfTableUse {
  uint64_t live = 0, limit = 0, refused = 0;
};

// The OS calls of one diff step each. Puts converge (Ok when already so); deletes
// are Ok when the thing is absent. Reconciler thread, except linkStats (any thread).
class BpfExecutor {
 public:
  virtual ~BpfExecutor() = default;
  // The calls between beginBatch and endBatch (one executeBpfDiff) may share one
  // netlink socket per namespace: no namespace is made or removed meanwhile (the
  // host network changes them on the same thread, between two diffs).
  virtual void beginBatch() = 0;
  virtual void endBatch() = 0;
  virtual Status load(uint32_t space, const std::string& ns) = 0;
  virtual Status unload(uint32_t space) = 0;
  virtual Status putPair(const dataplane::BpfPair& pair) = 0;
  virtual Status deletePair(const dataplane::BpfPairKey& pair) = 0;
  virtual Status setSysctl(const dataplane::BpfSysctl& s) = 0;
  virtual Status addRule(const dataplane::BpfRule& r) = 0;
  virtual Status deleteRule(const dataplane::BpfRule& r) = 0;
  // Deletes / adds back `pref 0 lookup local` in a consumer namespace.
  virtual Status moveLocalRule(const std::string& ns) = 0;
  virtual Status restoreLocalRule(const std::string& ns) = 0;
  virtual Status addRoute(const dataplane::BpfRoute& r) = 0;
  virtual Status deleteRoute(const dataplane::BpfRoute& r) = 0;
  virtual Status writeNotrack(const std::string& ns, const std::string& batch) = 0;
  virtual Status dropNotrack(const std::string& ns) = 0;
  virtual Status putHost(const dataplane::BpfHostKey& k, const dataplane::BpfHost& h) = 0;
  virtual Status deleteHost(const dataplane::BpfHostKey& k) = 0;
  virtual Status putLink(uint32_t id, const dataplane::BpfLink& l) = 0;
  virtual Status deleteLink(uint32_t id) = 0;
  // A link's bandwidth cap and connection limit; deleteCap also zeroes the freed
  // id's cap state, live count and counters, so its next holder starts from zero.
  virtual Status putCap(uint32_t id, const dataplane::BpfLinkCap& cap) = 0;
  virtual Status deleteCap(uint32_t id) = 0;
  virtual Status putTargets(const dataplane::BpfTargetsKey& k, const dataplane::BpfTargets& t) = 0;
  virtual Status deleteTargets(const dataplane::BpfTargetsKey& k) = 0;
  virtual Status putEndpoint(const dataplane::BpfEndpointKey& k, uint32_t link) = 0;
  virtual Status deleteEndpoint(const dataplane::BpfEndpointKey& k) = 0;
  virtual Status attach(const dataplane::BpfAttachment& a) = 0;
  virtual Status detach(const dataplane::BpfAttachment& a) = 0;
  // Links removed or changed (id -> the link as it was), after their map entries
  // went: their lp_conns entries go and both ends of their connections are reset.
  virtual void endConnections(const std::map<uint32_t, dataplane::BpfLink>& was) = 0;
  // The links' connections to these targets (turned unhealthy): their entries go
  // and both ends are reset. links: those in place, for their namespaces. Returns
  // the connections reset, by link.
  virtual std::map<uint32_t, uint64_t> endTargetConnections(const std::set<BpfTargetEnd>& ends,
                                                            const std::map<uint32_t, dataplane::BpfLink>& links) = 0;
  // The sweep: entries of connections without a packet either way for idle, and of
  // closed ones, go; both ends of the idle ones are reset. It may run on a thread
  // of its own (the kernel executor's does): then a call starts one unless one is
  // under way, and returns what the sweeps finished since the last call reset, by
  // link, as above.
  virtual std::map<uint32_t, uint64_t> sweepConnections(std::chrono::nanoseconds idle,
                                                        const std::map<uint32_t, dataplane::BpfLink>& links) = 0;
  virtual std::optional<BpfLinkStats> linkStats(uint32_t id) const = 0;
  // For an adopted map's links that no plan holds (their endpoint went while no
  // daemon ran, so their keys were never written down): the (consumer, provider)
  // spaces lp_links holds for one, nullopt when it holds none; and the removal of
  // every lp_endpoints entry naming one of them and every lp_targets entry keyed
  // by one.
  virtual std::optional<std::pair<uint32_t, uint32_t>> linkSpaces(uint32_t id) const = 0;
  virtual Status dropEntriesOfLinks(const std::set<uint32_t>& links) = 0;
  // The host-wide limit's figures; nullopt when they cannot be read.
  virtual std::optional<BpfTableUse> tableUse() const { return std::nullopt; }
  // Removes from the namespace what a run of the BPF path may have left there and
  // keep does not hold: routes of its table, the rules with pref 0 restored, the
  // notrack table, pairs, linkplane's filters on workload veths, proxy_arp on
  // gateways. For a start after a run that ended without a clean stop.
  virtual Status sweep(const std::string& ns, const dataplane::BpfPlan& keep) = 0;
  // A clean stop, once no filter holds the programs: removes the maps' pins, so they
  // keep no kernel memory. Dying before it leaves pins the next start adopts.
  virtual Status unpin() = 0;
};

// What executing a diff did.
struct BpfExecution {
  // The plan as now in the kernel: `after`, less the puts that failed and are
  // tried again at the next pass (hosts, workload attachments, sysctls).
  dataplane::BpfPlan applied;
  // Endpoints some of whose writes failed (endpoint -> the first error): the sink
  // takes them off the path.
  std::map<std::string, std::string> failedEndpoints;
  // Everything that failed, for the log (removals included).
  std::vector<std::string> errors;
  bool retry = false;  // some put outside an endpoint failed: run again later
};

// Executes diff (from diffBpfPlans(before, after)) in its documented order. The
// local rule at pref 0 goes only once the namespace's rules at 100/150/200 are in
// place, and comes back before they go; a failure is attributed to the endpoints
// it concerns and the rest carries on. Pure but for the executor's calls.
BpfExecution executeBpfDiff(const dataplane::BpfPlan& before, const dataplane::BpfPlan& after,
                            const dataplane::BpfPlanDiff& diff, BpfExecutor& exec);

// BpfIds as the ids file holds them; an unreadable file gives empty ids.
std::string bpfIdsJson(const dataplane::BpfIds& ids);
dataplane::BpfIds parseBpfIdsJson(const std::string& text);

// The ids file a BPF-path run keeps in the state directory.
std::string bpfIdsPath(const std::string& stateDir);

// The workloads of one VPC plan as planBpf wants them.
std::vector<dataplane::BpfWorkload> bpfWorkloadsOf(const VpcPlan& plan);

struct BpfSinkOptions {
  std::string stateDir;  // bpf-fastpath-ids.json
  // [dataplane] endpoint_bandwidth_gbps and max_connections_per_interface (BpfInputs).
  uint64_t endpointBytesPerSecond = 10'000'000'000ull / 8;
  uint32_t maxConnectionsPerInterface = 50'000;
  std::chrono::seconds retryFailedAfter{30};
  // Namespaces the last run had spaces in are swept (BpfExecutor::sweep) this long
  // after start, once the first passes have put back what is still wanted.
  std::chrono::seconds sweepAfter{10};
  // [dataplane] idle_timeout_seconds: a connection without packets for this long is
  // reset at both ends (PrivateLink's 350 s).
  std::chrono::seconds idleTimeout{350};
  // How often the connection table is swept (idle and closed connections). A full
  // table (262,144 entries) took 0.19 s to walk and judge on the shared 2-core
  // machine (docs/dataplane.md, stage 3), 100,000 entries 0.2-0.4 s under load
  // (bench/bpf/sweep_bench), on the kernel executor's sweeper thread: every 5 s is
  // under 8 % of a core at the worst, an idle connection goes at most 5 s past its
  // timeout (its reset counted at the next sweep), and a closed one's slot comes
  // back within 15 s of its last packet.
  std::chrono::seconds sweepEvery{5};
};

class BpfFastPathSink final : public DataplaneSink, public dataplane::CounterSource {
 public:
  BpfFastPathSink(std::unique_ptr<DataplaneSink> splice, std::unique_ptr<BpfExecutor> exec, BpfSinkOptions options);
  ~BpfFastPathSink() override;

  dataplane::UpdateResult apply(const dataplane::SnapshotDelta& delta) override;
  std::map<std::string, dataplane::HealthResult> health() override { return splice_->health(); }
  // Target health into lp_targets (one write per changed tier), failed endpoints
  // and puts tried again, then the splice sink's tick.
  void tick() override;
  bool drain(const std::function<bool()>& newWork) override { return splice_->drain(newWork); }
  // Sweeps every namespace this run or the last had a space in with nothing kept
  // (filters detached, rules, routes, pairs gone), then unpins the maps; a sweep
  // that fails keeps the pins and the ids file, for the next start to finish.
  void stop() override;

  // A VPC namespace's workloads (from the host network's plan), [] when it is gone.
  void setWorkloads(const std::string& vpcNs, std::vector<dataplane::BpfWorkload> workloads);

  // {"links": [{id, endpoint, interface, new_connections, ...}], "refused": {...}, "failed": {...}}.
  std::string statusJson() const;
  const dataplane::BpfPlan& applied() const { return applied_; }
  const std::map<std::string, std::string>& failed() const { return failedWhy_; }

  // The BPF links' counters (bpfCounters), as read at the last tick; the conntrack
  // sink adds them to the forwarder's (FastPathSink::setExtraCounters).
  dataplane::CountersReport counters() override;
  uint64_t activity() override;

 private:
  void converge();
  void dropLinksLeftBehind();
  void loadIds();
  void saveIds();
  void endUnhealthy(const std::set<std::string>& turnedUnhealthy);
  void readCounters(std::chrono::steady_clock::time_point now);
  void watchTableFull();

  std::unique_ptr<DataplaneSink> splice_;
  std::unique_ptr<BpfExecutor> exec_;
  BpfSinkOptions opts_;
  std::string idsPath_;

  // Reconciler thread only.
  std::map<std::string, std::vector<dataplane::ListenerSpec>> listeners_;  // by endpoint
  std::map<std::string, std::vector<dataplane::BpfWorkload>> workloads_;  // by VPC namespace
  std::map<std::string, dataplane::Health> health_;
  dataplane::BpfPlan applied_;
  dataplane::BpfIds savedIds_;
  std::map<std::string, std::chrono::steady_clock::time_point> failedAt_;  // endpoint -> when its writes failed
  std::map<std::string, std::string> failedWhy_;
  std::map<std::string, std::string> refusedLogged_;
  std::set<dataplane::BpfHostKey> unhostedLogged_;
  bool dirty_ = false;
  dataplane::BpfIds leftBy_;  // the ids file as the last run left it
  std::chrono::steady_clock::time_point started_;
  bool swept_ = false;  // leftBy_'s namespaces were swept
  std::chrono::steady_clock::time_point retryAt_{};
  std::chrono::steady_clock::time_point lastSweep_{}, lastCounters_{};
  std::map<std::string, uint64_t> resetByUs_;  // by interface: connections linkplane reset (idle, unhealthy)
  bool resetsMoved_ = false;                   // resetByUs_ grew since the counters were read
  uint64_t tableRefused_ = 0;                  // the host's refusals at the last sweep
  bool tableFull_ = false;                     // the last sweep saw new ones

  // What status() reports, copied after each converge.
  mutable std::mutex mu_;
  std::map<uint32_t, dataplane::BpfLink> reportLinks_;           // guarded by mu_
  std::map<std::string, std::string> reportRefused_, reportFailed_;  // guarded by mu_
  dataplane::CountersReport counters_;                               // guarded by mu_
  uint64_t activity_ = 0;                                            // guarded by mu_
};

// A HostNetwork that hands each VPC plan's workloads to the BPF sink after the
// host network converged it (the inner provisioner does the work).
class BpfWorkloadTap final : public HostNetwork {
 public:
  BpfWorkloadTap(std::unique_ptr<HostNetwork> inner, BpfFastPathSink& sink) : inner_(std::move(inner)), sink_(sink) {}
  Result<VpcResult> applyVpc(const VpcPlan& plan) override;
  Status removeVpc(const std::string& vpcId) override;
  void removeOrphans(const std::set<std::string>& wanted) override { inner_->removeOrphans(wanted); }
  void teardown() override { inner_->teardown(); }
  HostNetwork& inner() { return *inner_; }

 private:
  std::unique_ptr<HostNetwork> inner_;
  BpfFastPathSink& sink_;
};

}  // namespace lp::reconciler
