#include "reconciler/instance_supervisor.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "common/log.h"
#include "common/strings.h"
#include "net/instance_process.h"
#include "net/exec.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "model/volume.h"

namespace lp::reconciler {

using model::Instance;
using model::InstanceState;

InstanceStep nextStep(const Instance& i, const InstanceObservation& o) {
  switch (i.stateValue()) {
    case InstanceState::kPending:
      return o.interfaceReady ? InstanceStep::kBoot : InstanceStep::kWait;
    case InstanceState::kRunning:
      if (i.rebootsRequested > i.rebootsDone) {
        if (o.processes == 0) return InstanceStep::kFinishReboot;
        if (!o.signalled) return InstanceStep::kSignalTerm;
        return o.graceOver ? InstanceStep::kSignalKill : InstanceStep::kWait;
      }
      return InstanceStep::kPostConsole;
    case InstanceState::kStopping:
    case InstanceState::kShuttingDown:
      if (o.processes == 0)
        return i.stateValue() == InstanceState::kStopping ? InstanceStep::kFinishStop : InstanceStep::kFinishTerminate;
      if (!o.signalled) return InstanceStep::kSignalTerm;
      return o.graceOver ? InstanceStep::kSignalKill : InstanceStep::kWait;
    case InstanceState::kTerminated:
      return o.retentionOver ? InstanceStep::kPurge : InstanceStep::kWait;
    case InstanceState::kStopped:
      return InstanceStep::kWait;
  }
  return InstanceStep::kWait;
}

namespace {

// Each volume attached to the instance goes with it, or stays available
// (DeleteOnTermination=false: a data volume attached after launch, or a root volume
// launched so). A scan of the volumes: terminations are rare and volumes few.
void releaseVolumes(store::WriteTxn& w, const Instance& i) {
  std::vector<model::Volume> attached;
  w.forEach(model::Volume::kKind, [&](const store::Object& o) {
    auto j = nlohmann::json::parse(o.body, nullptr, false);
    if (!j.is_discarded()) {
      auto vol = j.get<model::Volume>();
      if (vol.instanceId == i.id) attached.push_back(std::move(vol));
    }
    return true;
  });
  for (auto& vol : attached) {
    if (model::keepAtTermination(vol))
      w.put(model::Volume::kKind, vol.id.str(), nlohmann::json(vol).dump());
    else
      w.erase(model::Volume::kKind, vol.id.str());
  }
}

}  // namespace

InstanceSupervisor::InstanceSupervisor(store::Store& store, InstanceHost& host, const Clock& clock,
                                       InstanceSupervisorOptions options)
    : store_(store),
      host_(host),
      clock_(clock),
      opts_(options),
      loop_({[this] { return passOnce(); },
             [this](std::chrono::milliseconds t) {
               uint64_t seen = seen_;
               return store_.waitForRevision(seen, t);
             }}) {}

InstanceSupervisor::~InstanceSupervisor() { stop(); }
void InstanceSupervisor::start() { loop_.start(); }
void InstanceSupervisor::stop() { loop_.stop(); }

bool InstanceSupervisor::writeIf(const std::string& id, uint64_t rev,
                                 const std::function<void(Instance&, store::WriteTxn&)>& fn) {
  Status st = store_.update([&](store::WriteTxn& w) -> Status {
    auto o = w.get(Instance::kKind, id);
    if (!o || o->revision != rev) return Status("Conflict", "changed");
    auto j = nlohmann::json::parse(o->body, nullptr, false);
    if (j.is_discarded()) return Status("Conflict", "unreadable");
    auto i = j.get<Instance>();
    fn(i, w);
    w.put(Instance::kKind, id, nlohmann::json(i).dump());
    return Status::Ok();
  });
  if (!st.ok() && st.code() != "Conflict") LP_LOG_WARN("instances: {}: {}", id, st.toString());
  return st.ok();
}

void InstanceSupervisor::postConsole(const Instance& i, bool force) {
  auto text = host_.consoleIfChanged(i);
  if (!text && !force) return;
  model::InstanceConsole c;
  if (text) {
    c.output = std::move(*text);
  } else if (auto prior = [&] {
               std::optional<store::Object> o;
               store_.read([&](const store::ReadView& r) { o = r.get(model::InstanceConsole::kKind, i.id.str()); });
               return o;
             }()) {
    return;  // nothing new and something already posted
  }
  c.timestamp = iso8601Millis(clock_.now());
  Status st = store_.update([&](store::WriteTxn& w) -> Status {
    if (!w.get(Instance::kKind, i.id.str())) return Status::Ok();  // purged meanwhile
    w.put(model::InstanceConsole::kKind, i.id.str(), nlohmann::json(c).dump());
    return Status::Ok();
  });
  if (!st.ok()) LP_LOG_WARN("instances: console of {}: {}", i.id.str(), st.toString());
}

void InstanceSupervisor::boot(const Instance& i, uint64_t rev) {
  bool runScript = !i.userDataRan && !i.userData.empty();
  host_.appendConsole(i, fmt::format("linkplane: {} {} in namespace lp-{} ({}, {}, {})",
                                     i.userDataRan ? "starting" : "booting", i.id.str(), i.networkInterfaceId.str(),
                                     i.imageId, i.instanceType, i.privateIp));
  if (runScript) {
    auto script = base64Decode(i.userData).value_or("");
    if (script.rfind("#!", 0) != 0) {
      host_.appendConsole(i, "linkplane: user-data is not a script (it does not start with #!): not run");
    } else if (auto pid = host_.launch(i, script); pid.ok()) {
      children_[*pid] = i.id.str();
      host_.appendConsole(i, "linkplane: running user-data as root (pid " + std::to_string(*pid) + ")");
    } else {
      host_.appendConsole(i, "linkplane: user-data not run: " + pid.status().message());
    }
  } else if (i.userDataRan) {
    host_.appendConsole(i, "linkplane: user-data ran at first start; not run again");
  }
  bool wrote = writeIf(i.id.str(), rev, [&](Instance& x, store::WriteTxn&) {
    x.state = std::string(model::instanceStateName(InstanceState::kRunning));
    x.stateTransitionReason.clear();
    x.stateReasonCode.clear();
    x.stateReasonMessage.clear();
    if (runScript) x.userDataRan = true;
  });
  if (wrote) host_.markRunning(i, true);
  postConsole(i, true);
}

std::chrono::milliseconds InstanceSupervisor::passOnce() {
  seen_ = store_.revision();
  for (auto it = children_.begin(); it != children_.end();) {
    auto code = host_.reaped(it->first);
    if (!code) {
      ++it;
      continue;
    }
    std::optional<Instance> inst;
    store_.read([&](const store::ReadView& r) {
      if (auto o = r.get(Instance::kKind, it->second)) {
        auto j = nlohmann::json::parse(o->body, nullptr, false);
        if (!j.is_discarded()) inst = j.get<Instance>();
      }
    });
    if (inst) {
      host_.appendConsole(*inst, "linkplane: user-data exited with status " + std::to_string(*code));
      postConsole(*inst, true);
    }
    it = children_.erase(it);
  }

  std::vector<std::pair<Instance, uint64_t>> all;
  store_.read([&](const store::ReadView& r) {
    r.forEach(Instance::kKind, [&](const store::Object& o) {
      auto j = nlohmann::json::parse(o.body, nullptr, false);
      if (!j.is_discarded()) all.emplace_back(j.get<Instance>(), o.revision);
      return true;
    });
  });
  bool busy = !children_.empty();
  auto now = clock_.steadyNow();
  for (const auto& entry : all) {
    // Named, not a structured binding: Clang 14 cannot capture bindings in lambdas.
    const Instance& i = entry.first;
    const uint64_t rev = entry.second;
    InstanceObservation o;
    auto state = i.stateValue();
    if (state == InstanceState::kPending) o.interfaceReady = host_.interfaceReady(i);
    bool rebooting = state == InstanceState::kRunning && i.rebootsRequested > i.rebootsDone;
    if (state == InstanceState::kStopping || state == InstanceState::kShuttingDown || rebooting) {
      o.processes = host_.processes(i).size();
      auto s = signalled_.find(i.id.str());
      o.signalled = s != signalled_.end();
      o.graceOver = o.signalled && now - s->second >= opts_.stopGrace;
    }
    if (state == InstanceState::kTerminated) {
      auto at = parseIso8601(i.terminatedAt);
      o.retentionOver = at && clock_.now() - *at >= opts_.terminatedRetention;
    }
    if (model::isTransitional(state) || rebooting) busy = true;
    switch (nextStep(i, o)) {
      case InstanceStep::kWait:
        break;
      case InstanceStep::kBoot:
        boot(i, rev);
        break;
      case InstanceStep::kPostConsole:
        postConsole(i, false);
        break;
      case InstanceStep::kSignalTerm:
        host_.appendConsole(i, rebooting ? "linkplane: rebooting: sending TERM to the instance's processes"
                                         : "linkplane: stopping: sending TERM to the instance's processes");
        host_.signal(host_.processes(i), SIGTERM);
        signalled_[i.id.str()] = now;
        break;
      case InstanceStep::kSignalKill:
        host_.signal(host_.processes(i), SIGKILL);
        break;
      case InstanceStep::kFinishStop:
      case InstanceStep::kFinishTerminate: {
        bool terminate = state == InstanceState::kShuttingDown;
        host_.appendConsole(i, terminate ? "linkplane: terminated" : "linkplane: stopped");
        host_.markRunning(i, false);
        postConsole(i, true);
        std::string at = iso8601Millis(clock_.now());
        if (writeIf(i.id.str(), rev, [&](Instance& x, store::WriteTxn& w) {
              x.state = std::string(model::instanceStateName(terminate ? InstanceState::kTerminated
                                                                           : InstanceState::kStopped));
              if (terminate) {
                x.terminatedAt = at;
                // Its primary interface goes with it; the reconciler removes the namespace.
                w.erase(model::NetworkInterface::kKind, x.networkInterfaceId.str());
                releaseVolumes(w, x);
              }
            })) {
          signalled_.erase(i.id.str());
        }
        break;
      }
      case InstanceStep::kFinishReboot: {
        host_.appendConsole(i, "linkplane: rebooted " + i.id.str() + "; user-data ran at first start; not run again");
        int asked = i.rebootsRequested;
        if (writeIf(i.id.str(), rev, [&](Instance& x, store::WriteTxn&) { x.rebootsDone = asked; }))
          signalled_.erase(i.id.str());
        postConsole(i, true);
        break;
      }
      case InstanceStep::kPurge: {
        Status st = store_.update([&](store::WriteTxn& w) -> Status {
          w.erase(Instance::kKind, i.id.str());
          w.erase(model::InstanceConsole::kKind, i.id.str());
          return Status::Ok();
        });
        if (!st.ok()) LP_LOG_WARN("instances: purge {}: {}", i.id.str(), st.toString());
        break;
      }
    }
  }
  seen_ = store_.revision();
  return busy ? opts_.busyTick : opts_.idleTick;
}

std::set<std::string> InstanceSupervisor::namespacesToKeep() const {
  std::set<std::string> out;
  store_.read([&](const store::ReadView& r) {
    r.forEach(Instance::kKind, [&](const store::Object& o) {
      auto j = nlohmann::json::parse(o.body, nullptr, false);
      if (j.is_discarded()) return true;
      auto i = j.get<Instance>();
      auto s = i.stateValue();
      if (s == InstanceState::kRunning || s == InstanceState::kPending || s == InstanceState::kStopping) {
        out.insert("lp-" + i.networkInterfaceId.str());
        out.insert("lp-" + i.vpcId.str());
      }
      return true;
    });
  });
  return out;
}

namespace {

class NetInstanceHost final : public InstanceHost {
 public:
  NetInstanceHost(std::string stateDir, bool dataplane, std::string etcNetns)
      : dir_(std::move(stateDir) + "/instances"), dataplane_(dataplane), etcNetns_(std::move(etcNetns)) {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n > 0) self_.assign(buf, static_cast<size_t>(n));
  }

  bool interfaceReady(const Instance& i) override {
    if (!dataplane_) return true;
    std::string ns = nsOf(i);
    if (!net::namespaceExists(ns)) return false;
    auto nl = net::Netlink::open(ns);
    if (!nl.ok()) return false;
    auto addrs = (*nl)->addresses("eth0");
    if (!addrs.ok()) return false;
    for (const auto& a : *addrs)
      if (a.rfind(i.privateIp + "/", 0) == 0) return true;
    return false;
  }

  Result<int> launch(const Instance& i, const std::string& script) override {
    if (!dataplane_) return Status("Unsupported", "this daemon runs without its data plane (dataplane = false)");
    std::string d = dirOf(i);
    std::string path = d + "/user-data";
    {
      std::ofstream out(path, std::ios::trunc | std::ios::binary);
      out << script;
      if (!out.flush()) return Status("InternalError", "cannot write " + path);
    }
    ::chmod(path.c_str(), 0700);
    return net::spawnDetached({self_, "exec", "--eni", i.networkInterfaceId.str(), "--", path},
                              {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
                               "LANG=C.UTF-8", "INSTANCE_ID=" + i.id.str()},
                              consolePath(i));
  }

  std::vector<int> processes(const Instance& i) override {
    if (!dataplane_) return {};
    return net::processesInNamespace(nsOf(i));
  }
  void signal(const std::vector<int>& pids, int sig) override { net::signalAll(pids, sig); }
  std::optional<int> reaped(int pid) override { return net::reapIfExited(pid); }

  void appendConsole(const Instance& i, const std::string& line) override {
    std::ofstream out(consolePath(i), std::ios::app);
    out << line << "\n";
  }

  std::optional<std::string> consoleIfChanged(const Instance& i) override {
    std::error_code ec;
    auto size = std::filesystem::file_size(consolePath(i), ec);
    if (ec) return std::nullopt;
    auto& seen = sizes_[i.id.str()];
    if (seen == size) return std::nullopt;
    seen = size;
    std::ifstream in(consolePath(i), std::ios::binary);
    size_t from = size > model::kMaxConsoleBytes ? size - model::kMaxConsoleBytes : 0;
    in.seekg(static_cast<std::streamoff>(from));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text;
  }

  void markRunning(const Instance& i, bool running) override {
    if (!dataplane_) return;
    std::string dir = net::namespaceFilesDir(nsOf(i), etcNetns_);
    std::string path = dir + "/instance";
    std::error_code ec;
    std::filesystem::remove(etcNetns_ + "/" + nsOf(i) + "/instance", ec);  // where it was before 2026-12-05
    if (!running) {
      std::filesystem::remove(path, ec);
      return;
    }
    std::filesystem::create_directories(dir, ec);
    std::ofstream out(path, std::ios::trunc);
    out << i.id.str() << "\n";
  }

 private:
  static std::string nsOf(const Instance& i) { return "lp-" + i.networkInterfaceId.str(); }
  std::string dirOf(const Instance& i) {
    std::string d = dir_ + "/" + i.id.str();
    std::error_code ec;
    std::filesystem::create_directories(d, ec);
    return d;
  }
  std::string consolePath(const Instance& i) { return dirOf(i) + "/console.log"; }

  std::string dir_;
  bool dataplane_;
  std::string etcNetns_;
  std::string self_;
  std::map<std::string, uintmax_t> sizes_;
};

}  // namespace

std::unique_ptr<InstanceHost> makeInstanceHost(const std::string& stateDir, bool dataplane,
                                               const std::string& etcNetns) {
  return std::make_unique<NetInstanceHost>(stateDir, dataplane, etcNetns);
}

}  // namespace lp::reconciler
