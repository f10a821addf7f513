// Loop (forwarder_loop.h): accepting (the listener the local address names,
// target choice, the outgoing socket made in the provider's namespace), installing
// the changes the Forwarder posts, and the epoll loop itself. Loop thread only,
// apart from what forwarder_loop.h says.
#include "dataplane/forwarder_loop.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <set>

#include "dataplane/target_choice.h"

namespace lp::dataplane::forwarder_internal {

int64_t monoNanos() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int msUntil(int64_t deadline, int64_t now) {
  return static_cast<int>(std::clamp<int64_t>((deadline - now + 999'999) / 1'000'000, 0, 1000));
}

bool parseAddr(const std::string& ip, int port, sockaddr_in& out) {
  out = {};
  out.sin_family = AF_INET;
  out.sin_port = htons(static_cast<uint16_t>(port));
  return inet_pton(AF_INET, ip.c_str(), &out.sin_addr) == 1;
}

void setStreamOptions(int fd, const ForwarderOptions& o) {
  int one = 1;
  int unsent = 2 * o.pipeBytes;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &unsent, sizeof unsent);
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &o.keepaliveIdleSeconds, sizeof o.keepaliveIdleSeconds);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &o.keepaliveIntervalSeconds, sizeof o.keepaliveIntervalSeconds);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &o.keepaliveProbes, sizeof o.keepaliveProbes);
}

void resetFd(int fd) {
  if (fd < 0) return;
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

bool Loop::accept(int lfd, const std::string& ns, int port) {
  for (int i = 0; i < 64; ++i) {
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    int fd = accept4(lfd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return !(errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM);
    }
    // The address it was made to names the endpoint interface; any other address of
    // the namespace on this port (a router, a resolver, an endpoint not in service)
    // is reset at once.
    sockaddr_in local{};
    socklen_t llen = sizeof local;
    char ip[INET_ADDRSTRLEN] = {};
    std::shared_ptr<const ListenerRt> rt;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) == 0 &&
        inet_ntop(AF_INET, &local.sin_addr, ip, sizeof ip)) {
      auto it = routes_.find(ns + "|" + ip + "|" + std::to_string(port));
      if (it != routes_.end()) rt = it->second;
    }
    if (!rt || !rt->spec.forwarding) {
      resetFd(fd);
      continue;
    }
    std::vector<Candidate> cands;
    cands.reserve(rt->targets.size());
    for (const auto& t : rt->targets) {
      Health h = t.health ? static_cast<Health>(t.health->load(std::memory_order_relaxed)) : Health::kHealthy;
      cands.push_back({t.spec.zoneId, h});
    }
    int pick = chooseTarget(cands, rt->spec.zoneId,
                            flowHash(peer.sin_addr.s_addr, peer.sin_port, 0, static_cast<uint16_t>(rt->spec.port)));
    if (pick < 0) {
      resetFd(fd);
      continue;
    }
    const TargetRt& t = rt->targets[static_cast<size_t>(pick)];
    auto s = nsOnThread_->socket(t.spec.ns, SOCK_STREAM | SOCK_NONBLOCK);
    if (!s) {
      resetFd(fd);
      continue;
    }
    int tfd = *s;
    // The accepted socket has these from its listener (see setStreamOptions).
    setStreamOptions(tfd, opts_);
    if (t.hasSrc) {
      int one = 1;
      setsockopt(tfd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      if (bind(tfd, reinterpret_cast<const sockaddr*>(&t.src), sizeof t.src) != 0) {
        close(tfd);
        resetFd(fd);
        continue;
      }
    }
    if (connect(tfd, reinterpret_cast<const sockaddr*>(&t.addr), sizeof t.addr) != 0 && errno != EINPROGRESS) {
      close(tfd);
      resetFd(fd);
      continue;
    }
    auto conn = std::make_unique<Conn>(*this, rt, fd, tfd, t.spec.proxyProtocolV2);
    Conn* c = conn.get();
    // Watched only when it was not already unhealthy (an NLB failing open keeps those).
    if (t.health && t.spec.terminateWhenUnhealthy && cands[static_cast<size_t>(pick)].health != Health::kUnhealthy) {
      c->targetHealth = t.health;
    }
    rt->endpoint->connections.fetch_add(1, std::memory_order_relaxed);
    rt->iface->connections.fetch_add(1, std::memory_order_relaxed);
    rt->endpoint->active.fetch_add(1, std::memory_order_relaxed);
    rt->iface->active.fetch_add(1, std::memory_order_relaxed);
    noteActivity();
    conns_.emplace(c, std::move(conn));
    if (!c->init(opts_.pipeBytes)) c->reset();
  }
  return true;  // more may wait: the listener stays readable and comes back next turn
}

void Loop::drainInbox() {
  std::vector<Install> items;
  bool stop;
  {
    std::lock_guard lock(mu_);
    items.swap(inbox_);
    stop = stopping_;
  }
  for (auto& in : items) {
    install(in);
    if (in.barrier) in.barrier->done();
  }
  if (stop) {
    shutdownAll();
    stopped_ = true;
  }
}

void Loop::install(Install& in) {
  std::set<ListenerKey> cutKeys;
  for (const auto& key : in.removals) {
    cutKeys.insert(key);
    routes_.erase(key);
  }
  for (auto& [key, fd] : in.newFds) {
    auto l = std::make_unique<ListenerSock>();
    l->loop = this;
    l->fd = fd;
    // SocketKey: ns|addr|port.
    auto bar = key.find('|'), last = key.rfind('|');
    l->ns = key.substr(0, bar);
    l->port = std::stoi(key.substr(last + 1));
    watchListener(l.get(), EPOLL_CTL_ADD, EPOLLIN);
    auto& slot = listeners_[key];
    if (slot) retire(std::move(slot));
    slot = std::move(l);
  }
  in.newFds.clear();
  for (const auto& key : in.closeSockets) {
    auto it = listeners_.find(key);
    if (it == listeners_.end()) continue;
    retire(std::move(it->second));
    listeners_.erase(it);
  }
  for (const auto& [key, rt] : in.upserts) {
    routes_[key] = rt;
    if (!rt->spec.forwarding) cutKeys.insert(key);
  }
  if (cutKeys.empty()) return;
  // Connections of endpoints that stop forwarding, or of listeners gone (the
  // endpoint left that subnet: its address is gone too), are reset.
  std::vector<Conn*> cut;
  for (auto& [c, _] : conns_) {
    if (cutKeys.count(c->listenerKey())) cut.push_back(c);
  }
  for (Conn* c : cut) c->reset();
}

void Loop::shutdownAll() {
  for (auto& [_, l] : listeners_) retire(std::move(l));
  listeners_.clear();
  routes_.clear();
  std::vector<Conn*> all;
  for (auto& [c, _] : conns_) all.push_back(c);
  for (Conn* c : all) c->reset();
}

void Loop::run() {
  nsOnThread_ = std::make_unique<NsCache>();
  epoll_event events[256];
  int64_t lastSweep = monoNanos();
  int64_t lastHealthScan = lastSweep;
  while (!stopped_) {
    int timeout = 1000;
    if (!ready_.empty()) {
      timeout = 0;
    } else if (!throttled_.empty()) {
      int64_t now = monoNanos();
      int64_t first = throttled_.front().first;
      for (auto& [t, _] : throttled_) first = std::min(first, t);
      timeout = msUntil(first, now);
    }
    if (anyPaused_) {
      int64_t now = monoNanos();
      int64_t next = resumeListeners(now);
      if (next != 0 && timeout != 0) timeout = std::min(timeout, msUntil(next, now));
    }
    int n = epoll_wait(ep_, events, 256, timeout);
    for (int i = 0; i < n; ++i) static_cast<Handler*>(events[i].data.ptr)->onEvent(events[i].events);
    if (!ready_.empty()) {
      std::vector<Conn*> r;
      r.swap(ready_);
      for (Conn* c : r) {
        c->queued = false;
        c->run();
      }
    }
    if (!throttled_.empty()) {
      int64_t now = monoNanos();
      std::vector<std::pair<int64_t, Conn*>> keep;
      std::vector<Conn*> due;
      for (auto& e : throttled_) {
        if (e.second->dead) continue;
        if (e.first <= now) {
          due.push_back(e.second);
        } else {
          keep.push_back(e);
        }
      }
      throttled_.swap(keep);
      for (Conn* c : due) {
        c->throttled = false;
        c->run();
      }
    }
    std::erase_if(ready_, [](Conn* c) { return c->dead; });
    std::erase_if(throttled_, [](const auto& e) { return e.second->dead; });
    graveyard_.clear();
    retiredListeners_.clear();
    if (int64_t now = monoNanos(); now - lastHealthScan > 500'000'000) {
      lastHealthScan = now;
      std::vector<Conn*> cut;
      for (auto& [c, _] : conns_) {
        if (c->targetHealth && c->targetHealth->load(std::memory_order_relaxed) == static_cast<int>(Health::kUnhealthy))
          cut.push_back(c);
      }
      for (Conn* c : cut) c->reset();
    }
    if (int64_t now = monoNanos(); now - lastSweep > 10'000'000'000) {
      nsOnThread_->sweep();
      lastSweep = now;
    }
  }
  graveyard_.clear();
  for (auto& p : pipes_) {
    close(p.first);
    close(p.second);
  }
  pipes_.clear();
  nsOnThread_.reset();
  (void)index_;
}

}  // namespace lp::dataplane::forwarder_internal
