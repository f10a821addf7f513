// HostProvisioner: makes the host match the desired state at one store revision
// (namespaces, bridges, addresses, nftables, listeners, DNS). The reconciler calls
// it; net/ and dataplane/ implement it. ControlOnlyProvisioner provisions nothing
// and reports success: the control plane alone, for hosts without the data plane.
//
// Called from the reconciler thread only.
#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "model/elb.h"
#include "store/store.h"

namespace lp::reconciler {

struct ProvisionReport {
  // Endpoints whose host objects are all in place and forwarding: may be "available".
  // Endpoints absent from both maps are still in progress.
  std::map<std::string, bool> endpointsReady;
  // Endpoints that cannot be provisioned: id -> (LastError code, message).
  std::map<std::string, std::pair<std::string, std::string>> endpointsFailed;
  // Observed target health by model::targetHealthKey (healthy and unhealthy ones;
  // absent = initial). Only when reportsTargetHealth: the reconciler then makes the
  // store's elb-target-health rows match, writing only what changed.
  bool reportsTargetHealth = false;
  std::map<std::string, model::TargetHealthRecord> targetHealth;
};

class HostProvisioner {
 public:
  virtual ~HostProvisioner() = default;
  // Converges the host on the state in view (level-triggered, idempotent).
  virtual ProvisionReport apply(const store::ReadView& view) = 0;
  // Removes everything it made (clean stop).
  virtual void teardown() = 0;
};

class ControlOnlyProvisioner final : public HostProvisioner {
 public:
  ProvisionReport apply(const store::ReadView& view) override;
  void teardown() override {}
};

}  // namespace lp::reconciler
