// InstanceSupervisor: the host's side of EC2 instances. The control plane stores an
// instance and the state a user asked for (instance_service.h); its primary
// interface is a workload ENI the reconciler builds like any other (namespace
// lp-<eni-id>). The supervisor watches instances in flight and moves them on:
//   pending       -> running      once its namespace has its address; the first
//                                  time, its UserData starts (detached, as root)
//   stopping      -> stopped      once no process is left in its namespace (TERM,
//                                  then KILL after the grace period)
//   shutting-down -> terminated   the same, then its primary interface is deleted
//   terminated    -> purged       after kTerminatedRetention
//   running, reboot asked (RebootInstances): its processes are stopped as for a
//                                  stop (TERM, then KILL); it stays running and its
//                                  UserData does not run again
// and posts the console (the UserData's output and what it started) into the store
// for GetConsoleOutput. Every write is conditional on the instance's revision, so a
// user's concurrent stop or terminate wins.
//
// Processes belong to an instance by the network namespace they live in, so they are
// found again after a daemon restart, and `linkplane exec --instance` ones count too.
//
// Owned by the daemon; start() spawns its thread, stop() joins it. passOnce() is for
// tests and must not race with the thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/background_loop.h"
#include "common/status.h"
#include "common/time.h"
#include "model/instance.h"
#include "store/store.h"

namespace lp::reconciler {

// The OS seam (NetInstanceHost on a real host; tests use fakes).
class InstanceHost {
 public:
  virtual ~InstanceHost() = default;
  // The instance's namespace is in place with its address.
  virtual bool interfaceReady(const model::Instance& i) = 0;
  // Starts the UserData script detached in the instance's namespace; returns its pid.
  virtual Result<int> launch(const model::Instance& i, const std::string& script) = 0;
  // Pids of the processes in the instance's namespace.
  virtual std::vector<int> processes(const model::Instance& i) = 0;
  virtual void signal(const std::vector<int>& pids, int sig) = 0;
  // Exit status of a launched script, once it exited.
  virtual std::optional<int> reaped(int pid) = 0;
  virtual void appendConsole(const model::Instance& i, const std::string& line) = 0;
  // The console's tail (model::kMaxConsoleBytes) when it changed since last asked.
  virtual std::optional<std::string> consoleIfChanged(const model::Instance& i) = 0;
  // Whether `linkplane exec --instance` may enter it (running, not stopped).
  virtual void markRunning(const model::Instance& i, bool running) = 0;
};

// What the supervisor does next for one instance (pure; tests).
enum class InstanceStep {
  kWait,             // nothing to do yet (or nothing at all)
  kBoot,             // pending and its namespace is ready: (UserData,) then running
  kSignalTerm,       // stopping/shutting-down with processes: ask them to stop
  kSignalKill,       // ... still there after the grace period
  kFinishStop,       // stopping and nothing left: stopped
  kFinishTerminate,  // shutting-down and nothing left: terminated, interface deleted
  kPurge,            // terminated long enough ago
  kPostConsole,      // running: post the console if it grew
  kFinishReboot,     // running, a reboot asked and nothing left: caught up
};
struct InstanceObservation {
  bool interfaceReady = false;
  size_t processes = 0;
  bool signalled = false;   // TERM already sent
  bool graceOver = false;   // ... longer ago than the grace period
  bool retentionOver = false;
};
InstanceStep nextStep(const model::Instance& i, const InstanceObservation& o);

struct InstanceSupervisorOptions {
  std::chrono::milliseconds busyTick{200};  // while an instance is in flight
  std::chrono::milliseconds idleTick{2000};  // console posts, purges
  std::chrono::milliseconds stopGrace{5000};  // TERM -> KILL
  std::chrono::minutes terminatedRetention{60};
};

class InstanceSupervisor {
 public:
  InstanceSupervisor(store::Store& store, InstanceHost& host, const Clock& clock,
                     InstanceSupervisorOptions options = {});
  ~InstanceSupervisor();
  void start();
  void stop();
  // One pass (tests); returns when the next one is due.
  std::chrono::milliseconds passOnce();
  // Namespaces a clean stop must leave in place so running instances keep running:
  // each live instance's own and its VPC's (read from the store).
  std::set<std::string> namespacesToKeep() const;

 private:
  // Writes fn's change to instance id if it is still at revision rev.
  bool writeIf(const std::string& id, uint64_t rev,
               const std::function<void(model::Instance&, store::WriteTxn&)>& fn);
  void postConsole(const model::Instance& i, bool force);
  void boot(const model::Instance& i, uint64_t rev);

  store::Store& store_;
  InstanceHost& host_;
  const Clock& clock_;
  InstanceSupervisorOptions opts_;
  // Supervisor thread only.
  std::map<int, std::string> children_;  // UserData pid -> instance id
  std::map<std::string, std::chrono::steady_clock::time_point> signalled_;
  uint64_t seen_ = 0;
  BackgroundLoop loop_;
};

// The host's instances: processes in the instance's namespace lp-<eni-id>, the
// UserData and console under stateDir/instances/<id>/, started through
// `selfExe exec --eni` so they see the VPC resolver and the daemon's CA as
// `linkplane exec` gives them. dataplane=false (no namespaces): instances run
// nothing, their console says so.
std::unique_ptr<InstanceHost> makeInstanceHost(const std::string& stateDir, bool dataplane,
                                               const std::string& etcNetns = "/etc/netns");

}  // namespace lp::reconciler
