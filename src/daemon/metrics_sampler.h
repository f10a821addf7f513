// MetricsSampler: every few seconds, reads the data plane's per-interface
// counters and records them into the CloudWatch series store, attributed through
// the store (endpoint, VPC, subnet, service, the two owner accounts), then closes
// finished minutes to the series file. It also notes which endpoints are
// available and the bytes each moved, for the usage ledger (what endpoints cost). Reading the counters takes the
// forwarder's stats lock, never a forwarding loop's time: the hot path only bumps
// its atomics. Skipped when nothing moved and nothing is open.
//
// Owned by the daemon; its own thread between start() and stop().
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/background_loop.h"
#include "control/context.h"
#include "dataplane/forwarder.h"
#include "metrics/series_store.h"
#include "metrics/usage.h"

namespace lp::daemon {

// One endpoint interface's figures as of the last round.
struct InterfaceFigures {
  metrics::InterfaceInfo info;
  metrics::CumulativeCounters counters;
};

class MetricsSampler {
 public:
  MetricsSampler(const control::ControlContext& ctx, dataplane::CounterSource& forwarder, metrics::SeriesStore& series,
                 metrics::UsageLedger& usage, std::chrono::milliseconds every);
  ~MetricsSampler();
  void start();
  void stop();
  // One round (what the thread runs); public for tests.
  void sampleOnce();
  // The figures read in the last round that saw traffic (Prometheus's /metrics):
  // at most one sampling period old. Any thread.
  std::shared_ptr<const std::vector<InterfaceFigures>> latest() const;

 private:
  const control::ControlContext& ctx_;
  dataplane::CounterSource& forwarder_;
  metrics::SeriesStore& series_;
  metrics::UsageLedger& usage_;
  std::chrono::milliseconds every_;
  uint64_t lastActivity_ = ~uint64_t{0};
  dataplane::CountersReport last_;
  std::map<std::string, metrics::InterfaceInfo> infos_;  // by interface id
  // The available endpoints and their interfaces as of store revision availableRev_:
  // read again only when the store changed (each read parses every endpoint and
  // interface: 47 % of an idle daemon's time at 10,000 endpoints, bench/scale).
  uint64_t availableRev_ = ~uint64_t{0};
  std::vector<metrics::InterfaceInfo> availableInterfaces_;
  std::vector<metrics::AvailableEndpoint> availableEndpoints_;
  int64_t markedMinute_ = -1;  // the minute availableInterfaces_ were last marked connected in
  // The ledger's marks (UsageLedger::setMarks) of the run before, until each
  // interface is read; and this run's: each interface's kept bytes as added.
  std::map<std::string, uint64_t> marksBefore_, marks_;
  static uint64_t bytesSince(uint64_t before, uint64_t now);
  uint64_t firstBytes(const std::string& id, uint64_t total, uint64_t kept);
  std::unique_ptr<BackgroundLoop> loop_;
  mutable std::mutex latestMu_;
  std::shared_ptr<const std::vector<InterfaceFigures>> latest_ = std::make_shared<std::vector<InterfaceFigures>>();
};

}  // namespace lp::daemon
