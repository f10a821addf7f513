#include "dataplane/forwarder.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "dataplane/forwarder_loop.h"
#include "net/netns.h"

namespace lp::dataplane {

using namespace forwarder_internal;

namespace {

// One listening socket per namespace and port takes the connections of every
// endpoint interface there: 10,000 endpoints in 2 subnets held 40,000 sockets with
// one per address and loop, past this machine's 20,000-descriptor hard limit, and
// now 2 per VPC and port. Port 53 keeps a socket per address: the VPC resolver
// holds its own address's port 53.
SocketKey socketKeyOf(const ListenerSpec& l) {
  return l.ns + "|" + (l.port == 53 ? l.ip : std::string("*")) + "|" + std::to_string(l.port);
}

}  // namespace

class Forwarder::Impl {
 public:
  explicit Impl(const ForwarderOptions& opts) : opts_(opts) {}

  Status start() {
    int n = opts_.loops > 0 ? opts_.loops : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 0; i < n; ++i) {
      auto l = std::make_unique<Loop>(i, opts_);
      LP_RETURN_IF_ERROR(l->init());
      loops_.push_back(std::move(l));
    }
    for (auto& l : loops_) l->start();
    checker_.start();
    return Status::Ok();
  }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    for (auto& l : loops_) l->stop();
    loops_.clear();
    checker_.stop();
  }

  UpdateResult update(const Snapshot& snap);
  UpdateResult apply(const SnapshotDelta& delta);
  CountersReport counters();
  uint64_t activity();
  std::map<std::string, HealthResult> health() { return checker_.report(); }

 private:
  Result<int> makeListener(const ListenerSpec& l, bool wildcard);
  std::shared_ptr<const ListenerRt> makeRuntime(const ListenerKey& key, const ListenerSpec& l);
  unsigned long nsInode(const std::string& ns) {
    struct stat st {};
    if (stat((std::string(net::kNetnsDir) + "/" + ns).c_str(), &st) != 0) return 0;
    return static_cast<unsigned long>(st.st_ino);
  }

  ForwarderOptions opts_;
  std::vector<std::unique_ptr<Loop>> loops_;
  HealthChecker checker_;
  bool stopped_ = false;
  std::unique_ptr<NsCache> ns_;  // made on the update thread
  struct Bound {
    ListenerSpec spec;
    SocketKey socket;
  };
  struct Sock {
    unsigned long ino = 0;  // of the namespace it was made in
    int users = 0;          // bound listeners it takes connections for
  };
  std::map<ListenerKey, Bound> bound_;  // listeners installed in every loop
  std::map<SocketKey, Sock> sockets_;   // with a socket in every loop
  // Forgets a listener; its socket goes (closeSockets) once no listener uses it.
  void unbind(std::map<ListenerKey, Bound>::iterator b, std::vector<SocketKey>& closeSockets);
  std::map<std::string, std::vector<ListenerKey>> keysOf_;      // endpoint -> its bound listeners
  std::map<std::string, std::vector<HealthCheckSpec>> checks_;  // by target group
  std::chrono::steady_clock::time_point lastSweep_{};
  std::mutex statsMu_;
  std::atomic<uint64_t> statsMade_{0};                                        // endpoints and interfaces given counters
  std::map<std::string, std::shared_ptr<Stats>> endpointStats_, ifaceStats_;  // guarded by statsMu_
  std::map<std::string, std::shared_ptr<TokenBucket>> buckets_;               // by endpoint|zone
};

Result<int> Forwarder::Impl::makeListener(const ListenerSpec& l, bool wildcard) {
  sockaddr_in addr{};
  if (!parseAddr(wildcard ? "0.0.0.0" : l.ip, l.port, addr)) {
    return Status("InvalidParameterValue", "bad listener address " + l.ip);
  }
  LP_ASSIGN_OR_RETURN(int fd, ns_->socket(l.ns, SOCK_STREAM | SOCK_NONBLOCK));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  setStreamOptions(fd, opts_);  // inherited by accepted sockets
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 4096) != 0) {
    Status st("InternalError", "listen on " + std::string(wildcard ? "port " : l.ip + ":") + std::to_string(l.port) +
                                   " in " + l.ns + ": " + std::strerror(errno));
    close(fd);
    return st;
  }
  return fd;
}

UpdateResult Forwarder::Impl::update(const Snapshot& snap) {
  SnapshotDelta d;
  for (const auto& [id, _] : keysOf_) d.endpoints[id];
  for (const auto& l : snap.listeners) d.endpoints[l.endpointId].push_back(l);
  for (const auto& [group, _] : checks_) d.healthChecks[group];
  d.healthChecks[""] = snap.healthChecks;
  return apply(d);
}

UpdateResult Forwarder::Impl::apply(const SnapshotDelta& delta) {
  UpdateResult result;
  if (stopped_) {
    for (const auto& [id, ls] : delta.endpoints) {
      if (!ls.empty()) result.listenerErrors[id] = "data plane stopped";
    }
    return result;
  }
  if (!ns_) ns_ = std::make_unique<NsCache>(static_cast<int>(loops_.size()));
  bool checksChanged = false;
  for (const auto& [group, checks] : delta.healthChecks) {
    auto it = checks_.find(group);
    if (checks.empty() ? it == checks_.end() : it != checks_.end() && it->second == checks) continue;
    checksChanged = true;
    if (checks.empty()) {
      checks_.erase(it);
    } else {
      checks_[group] = checks;
    }
  }
  if (checksChanged) {
    std::vector<HealthCheckSpec> all;
    for (const auto& [_, checks] : checks_) all.insert(all.end(), checks.begin(), checks.end());
    checker_.update(all);
  }

  std::map<ListenerKey, std::shared_ptr<const ListenerRt>> upserts;
  std::vector<ListenerKey> removals;
  std::vector<SocketKey> closeSockets;
  std::vector<std::map<SocketKey, int>> newFds(loops_.size());
  std::map<std::string, unsigned long> inodes;  // per namespace, once per delta
  auto inodeOf = [&](const std::string& ns) {
    auto it = inodes.find(ns);
    return it != inodes.end() ? it->second : (inodes[ns] = nsInode(ns));
  };
  for (const auto& [endpointId, listeners] : delta.endpoints) {
    std::vector<ListenerKey> keep;
    for (const auto& l : listeners) {
      ListenerKey key = listenerKey(l);
      if (std::find(keep.begin(), keep.end(), key) != keep.end()) continue;  // two load balancers on one port
      // A socket per namespace and port; a namespace made again (same name, new
      // inode) needs new ones.
      SocketKey sk = socketKeyOf(l);
      unsigned long ino = inodeOf(l.ns);
      auto sock = sockets_.find(sk);
      if (sock == sockets_.end() || sock->second.ino != ino) {
        std::vector<int> fds;
        Status err;
        for (size_t i = 0; i < loops_.size() && err.ok(); ++i) {
          auto fd = makeListener(l, sk.find("|*|") != std::string::npos);
          if (fd) {
            fds.push_back(*fd);
          } else {
            err = fd.status();
          }
        }
        if (!err.ok()) {
          for (int fd : fds) close(fd);
          result.listenerErrors[endpointId] = err.message();
          continue;
        }
        for (size_t i = 0; i < loops_.size(); ++i) {
          if (auto old = newFds[i].find(sk); old != newFds[i].end()) close(old->second);
          newFds[i][sk] = fds[i];
        }
        sockets_[sk].ino = ino;
        // Closed earlier in this delta (its last listener went) and wanted again.
        closeSockets.erase(std::remove(closeSockets.begin(), closeSockets.end(), sk), closeSockets.end());
      }
      keep.push_back(key);
      auto was = bound_.find(key);
      // Health states are shared atomics the checker may have made anew.
      if (was != bound_.end() && was->second.spec == l && !checksChanged) continue;
      if (was == bound_.end()) {
        sockets_[sk].users++;
        bound_[key] = Bound{l, sk};
      } else {
        was->second.spec = l;
      }
      upserts[key] = makeRuntime(key, l);
    }
    auto& had = keysOf_[endpointId];
    for (const auto& key : had) {
      if (std::find(keep.begin(), keep.end(), key) != keep.end()) continue;
      // Another endpoint may have taken the key over in this same delta.
      if (auto b = bound_.find(key); b != bound_.end() && b->second.spec.endpointId == endpointId) {
        unbind(b, closeSockets);
        removals.push_back(key);
      }
    }
    if (keep.empty()) {
      keysOf_.erase(endpointId);
    } else {
      had = std::move(keep);
    }
  }
  bool posted = !upserts.empty() || !removals.empty() || !closeSockets.empty();
  for (const auto& fds : newFds) posted = posted || !fds.empty();
  if (posted) {
    auto barrier = std::make_shared<Barrier>();
    barrier->remaining = loops_.size();
    for (size_t i = 0; i < loops_.size(); ++i) {
      loops_[i]->post(Install{upserts, removals, std::move(newFds[i]), closeSockets, barrier});
    }
    barrier->wait(std::chrono::seconds(2));
  }
  // The namespace cache forgets namespaces unused for a while; a delta touches a
  // few, so sweeping after each would drop every other namespace's descriptor.
  if (auto now = std::chrono::steady_clock::now(); now - lastSweep_ > std::chrono::seconds(30)) {
    ns_->sweep();
    lastSweep_ = now;
  }
  return result;
}

void Forwarder::Impl::unbind(std::map<ListenerKey, Bound>::iterator b, std::vector<SocketKey>& closeSockets) {
  auto s = sockets_.find(b->second.socket);
  if (s != sockets_.end() && --s->second.users <= 0) {
    closeSockets.push_back(s->first);
    sockets_.erase(s);
  }
  bound_.erase(b);
}

std::shared_ptr<const ListenerRt> Forwarder::Impl::makeRuntime(const ListenerKey& key, const ListenerSpec& l) {
  auto rt = std::make_shared<ListenerRt>();
  rt->key = key;
  rt->spec = l;
  rt->spec.targets.clear();
  {
    std::lock_guard lock(statsMu_);
    auto& e = endpointStats_[l.endpointId];
    auto& i = ifaceStats_[l.interfaceId];
    if (!e || !i) statsMade_.fetch_add(1, std::memory_order_relaxed);
    if (!e) e = std::make_shared<Stats>();
    if (!i) i = std::make_shared<Stats>();
    rt->endpoint = e;
    rt->iface = i;
  }
  if (opts_.endpointBytesPerSecond > 0) {
    auto& b = buckets_[l.endpointId + "|" + l.zoneId];
    if (!b) b = std::make_shared<TokenBucket>(opts_.endpointBytesPerSecond);
    rt->bucket = b;
  }
  for (const auto& t : l.targets) {
    TargetRt tr;
    tr.spec = t;
    if (!parseAddr(t.ip, t.port, tr.addr)) continue;
    tr.hasSrc = !t.sourceIp.empty() && parseAddr(t.sourceIp, 0, tr.src);
    if (!t.healthKey.empty()) tr.health = checker_.stateOf(t.healthKey);
    rt->targets.push_back(std::move(tr));
  }
  return rt;
}

uint64_t Forwarder::Impl::activity() {
  uint64_t a = statsMade_.load(std::memory_order_relaxed);
  for (const auto& l : loops_) a += l->activity();
  return a;
}

CountersReport Forwarder::Impl::counters() {
  CountersReport r;
  std::lock_guard lock(statsMu_);
  for (const auto& [id, s] : endpointStats_) r.endpoints[id] = s->read();
  for (const auto& [id, s] : ifaceStats_) r.interfaces[id] = s->read();
  return r;
}

Forwarder::Forwarder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Forwarder::~Forwarder() { stop(); }

Result<std::unique_ptr<Forwarder>> Forwarder::start(const ForwarderOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  LP_RETURN_IF_ERROR(impl->start());
  return std::unique_ptr<Forwarder>(new Forwarder(std::move(impl)));
}

UpdateResult Forwarder::update(const Snapshot& snapshot) { return impl_->update(snapshot); }
UpdateResult Forwarder::apply(const SnapshotDelta& delta) { return impl_->apply(delta); }
std::map<std::string, HealthResult> Forwarder::health() { return impl_->health(); }
CountersReport Forwarder::counters() { return impl_->counters(); }
uint64_t Forwarder::activity() { return impl_->activity(); }
void Forwarder::stop() {
  if (impl_) impl_->stop();
}

}  // namespace lp::dataplane
