// HealthChecker: TCP connect checks of registered targets, made from the provider
// VPC's namespace with a load balancer node address as source, at the target
// group's interval and timeout. A target turns healthy after healthyThreshold
// consecutive successes and unhealthy after unhealthyThreshold consecutive
// failures; it starts "initial" and is first checked at once.
//
// Owned by the Forwarder. One thread of its own runs the checks; update() and
// report() may be called from any thread; states are read lock-free by the
// forwarding loops through the shared atomics handed out by stateOf().
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/snapshot.h"
#include "dataplane/target_choice.h"

namespace lp::dataplane {

// The pure threshold rule, separate so tests need no sockets.
struct HealthCounter {
  Health state = Health::kInitial;
  int successes = 0;
  int failures = 0;
  // Records one check; returns true when the state changed.
  bool observe(bool ok, int healthyThreshold, int unhealthyThreshold);
};

struct HealthResult {
  Health state = Health::kInitial;
  std::string reason;  // AWS TargetHealthReasonEnum when not healthy
  std::string description;
};

class HealthChecker {
 public:
  HealthChecker();
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  void start();
  void stop();
  // Replaces the set of checks; targets kept keep their state.
  void update(const std::vector<HealthCheckSpec>& checks);
  // The live state of a check's target (kInitial until known), shared with loops.
  std::shared_ptr<std::atomic<int>> stateOf(const std::string& key);
  // Current result of every check, by key.
  std::map<std::string, HealthResult> report();

 private:
  struct Entry;
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;  // guarded by mu_
  bool changed_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lp::dataplane
