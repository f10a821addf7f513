// Reconciler: the backend of the control plane. One thread waits for store
// revisions, hands the desired state to the HostProvisioner, and writes observed
// status back (endpoint pending -> available, failed + LastError; deleting ->
// deleted; purge of long-deleted endpoints). Level-triggered: it also re-runs
// periodically, so a missed wake-up or a crash converges on the next pass.
//
// Owned by the daemon; start() spawns the thread, stop() joins it.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "common/time.h"
#include "reconciler/host_provisioner.h"
#include "store/store.h"

namespace lp::reconciler {

class Reconciler {
 public:
  Reconciler(store::Store& store, HostProvisioner& provisioner, const Clock& clock);
  ~Reconciler();
  void start();
  void stop();
  // One pass, synchronously (tests).
  void reconcileOnce();
  // How long deleted endpoints stay visible before they are purged.
  static constexpr std::chrono::minutes kDeletedRetention{10};

 private:
  void run();
  Status writeStatus(const ProvisionReport& report);
  Status writeTargetHealth(const ProvisionReport& report);

  store::Store& store_;
  HostProvisioner& provisioner_;
  const Clock& clock_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace lp::reconciler
