// What the reconciler converges, each behind a small interface so the reconciler
// is tested with fakes (tests/unit/reconciler) and the daemon wires the real ones:
//  - HostNetwork: one VPC at a time, its namespace, bridges, addresses, workload
//    namespaces and nftables table (NetHostProvisioner, on net/);
//  - DataplaneSink: listeners per endpoint and health checks per target group
//    (dataplane::Forwarder through ForwarderSink);
//  - NameSink: the zone snapshot the VPC resolvers serve (dns::DnsServer).
// NullHostNetwork provisions nothing and reports every interface in place: the
// control plane alone, for hosts without the data plane.
//
// Called from the reconciler thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "common/status.h"
#include "dataplane/forwarder.h"
#include "dns/zone_snapshot.h"
#include "reconciler/host_plan.h"

namespace lp::reconciler {

struct VpcResult {
  std::set<std::string> readyInterfaces;  // interfaces of the plan now in place
  bool namespaceMade = false;             // the VPC's namespace is new: sockets in it must be made again
};

class HostNetwork {
 public:
  virtual ~HostNetwork() = default;
  // Converges one VPC, and its workloads' namespaces, on plan (idempotent).
  virtual Result<VpcResult> applyVpc(const VpcPlan& plan) = 0;
  // Removes what a VPC had on the host (it is gone from the store).
  virtual Status removeVpc(const std::string& vpcId) = 0;
  // Removes every namespace it made that is not wanted: at start, what a crash or
  // a change made while stopped left behind.
  virtual void removeOrphans(const std::set<std::string>& wantedNamespaces) = 0;
  // Removes everything it made (clean stop).
  virtual void teardown() = 0;
};

class NullHostNetwork final : public HostNetwork {
 public:
  Result<VpcResult> applyVpc(const VpcPlan& plan) override {
    VpcResult r;
    r.readyInterfaces.insert(plan.interfaceIds.begin(), plan.interfaceIds.end());
    return r;
  }
  Status removeVpc(const std::string&) override { return Status::Ok(); }
  void removeOrphans(const std::set<std::string>&) override {}
  void teardown() override {}
};

class DataplaneSink {
 public:
  virtual ~DataplaneSink() = default;
  // Converges the keys the delta names; returns once connections it cuts are reset.
  virtual dataplane::UpdateResult apply(const dataplane::SnapshotDelta& delta) = 0;
  // Observed health by model::targetHealthKey (healthy and unhealthy; absent = initial).
  virtual std::map<std::string, dataplane::HealthResult> health() = 0;
  // Periodic upkeep off the hot path (the counters file).
  virtual void tick() {}
  // A bounded slice of work apply() left for later (the kernel fast path's links);
  // true while more is left, and the reconciler calls it again after its next pass.
  // Between steps it asks newWork() and stops early when it says true (an API
  // write waits for one step at most, not for the whole slice).
  virtual bool drain(const std::function<bool()>& newWork) {
    (void)newWork;
    return false;
  }
  // Resets every connection and closes every listener (clean stop).
  virtual void stop() = 0;
};

class NameSink {
 public:
  virtual ~NameSink() = default;
  virtual void publish(std::shared_ptr<const dns::ZoneSnapshot> snapshot) = 0;
};

}  // namespace lp::reconciler
