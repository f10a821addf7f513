// ForwarderSink: the data plane as the reconciler drives it. It hands each delta
// to the dataplane::Forwarder, reports its target health, and writes the traffic
// counters to <stateDir>/dataplane-counters.json (and the log) every few seconds
// when they change.
//
// Owned by the daemon; called on the reconciler thread only.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "dataplane/forwarder.h"
#include "reconciler/host_provisioner.h"

namespace lp::reconciler {

class ForwarderSink final : public DataplaneSink {
 public:
  ForwarderSink(std::unique_ptr<dataplane::Forwarder> forwarder, std::string stateDir);
  ~ForwarderSink() override;

  dataplane::UpdateResult apply(const dataplane::SnapshotDelta& delta) override;
  std::map<std::string, dataplane::HealthResult> health() override { return forwarder_->health(); }
  void tick() override { publishCounters(); }
  void stop() override { forwarder_->stop(); }

  dataplane::Forwarder& forwarder() { return *forwarder_; }
  // Where the counters file's figures come from (default: the forwarder).
  void setCounterSource(dataplane::CounterSource* source) { source_ = source; }

 private:
  void publishCounters();

  std::unique_ptr<dataplane::Forwarder> forwarder_;
  dataplane::CounterSource* source_;
  std::string countersPath_;
  std::chrono::steady_clock::time_point lastCounters_{};
  dataplane::CountersReport lastReport_;
  uint64_t lastActivity_ = 0;
};

}  // namespace lp::reconciler
