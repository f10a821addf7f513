// DataplaneProvisioner: the host network (an inner provisioner, NetHostProvisioner)
// plus the TCP data plane. Each pass hands the forwarder the snapshot
// (dataplane_plan.h) before and after converging namespaces, addresses and
// nftables: before, so connections being cut are reset while their addresses still
// exist; after, to listen on new addresses. An endpoint is
// reported ready only when the inner provisioner says its interfaces are in place
// and every one of its listeners is bound, and failed when it cannot forward at
// all (an AWS service with no backend configured). Reports target health, and
// writes the traffic counters to <stateDir>/dataplane-counters.json (and the log)
// every few seconds when they change.
//
// Owned by the daemon; apply() and teardown() run on the reconciler thread only.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "dataplane/forwarder.h"
#include "reconciler/host_provisioner.h"

namespace lp::reconciler {

class DataplaneProvisioner final : public HostProvisioner {
 public:
  DataplaneProvisioner(std::unique_ptr<HostProvisioner> inner, std::unique_ptr<dataplane::Forwarder> forwarder,
                       std::string stateDir);
  ~DataplaneProvisioner() override;

  ProvisionReport apply(const store::ReadView& view) override;
  // Resets live connections and closes listeners, then tears the network down.
  void teardown() override;

  dataplane::Forwarder& forwarder() { return *forwarder_; }

 private:
  void publishCounters();

  std::unique_ptr<HostProvisioner> inner_;
  std::unique_ptr<dataplane::Forwarder> forwarder_;
  std::string countersPath_;
  std::chrono::steady_clock::time_point lastCounters_{};
  dataplane::CountersReport lastReport_;
};

// The daemon's provisioner with the data plane: a NetHostProvisioner on stateDir
// wrapped in a DataplaneProvisioner.
Result<std::unique_ptr<HostProvisioner>> makeDataplaneProvisioner(const std::string& stateDir,
                                                                  const dataplane::ForwarderOptions& options);

}  // namespace lp::reconciler
