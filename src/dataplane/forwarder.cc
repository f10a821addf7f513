#include "dataplane/forwarder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/log.h"
#include "dataplane/ns_cache.h"
#include "dataplane/proxy_protocol.h"
#include "dataplane/target_choice.h"
#include "dataplane/token_bucket.h"
#include "net/netns.h"

namespace lp::dataplane {

namespace {

int64_t monoNanos() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Milliseconds from now until deadline (both monoNanos()), rounded up, for an
// epoll_wait timeout of at most a second.
int msUntil(int64_t deadline, int64_t now) {
  return static_cast<int>(std::clamp<int64_t>((deadline - now + 999'999) / 1'000'000, 0, 1000));
}

bool parseAddr(const std::string& ip, int port, sockaddr_in& out) {
  out = {};
  out.sin_family = AF_INET;
  out.sin_port = htons(static_cast<uint16_t>(port));
  return inet_pton(AF_INET, ip.c_str(), &out.sin_addr) == 1;
}

// Options of every socket that carries a forwarded stream (a listener passes them
// on to the sockets it accepts):
// - TCP_NODELAY: whatever was read leaves at once. With Nagle, the sub-MSS tail of
//   each chunk would wait for the ACK of the one before, and the stream would stall.
// - TCP_NOTSENT_LOWAT of two pipes: the kernel holds at most about that much not yet
//   sent, and reports the socket writable when half of it is gone, so each EPOLLOUT
//   has room for a whole pipe. Without it, megabytes queue unsent in the outgoing
//   socket while the data plane keeps reading: more memory and latency, and 12% less
//   single-stream throughput (docs/dataplane.md).
// - Keepalive (see ForwarderOptions): a vanished peer ends in an error, and so a reset.
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

// Closes with RST instead of FIN.
void resetFd(int fd) {
  if (fd < 0) return;
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

struct Stats {
  std::atomic<uint64_t> bytesIn{0}, bytesOut{0}, connections{0}, active{0}, resets{0};
  TrafficCounters read() const {
    return {bytesIn.load(), bytesOut.load(), connections.load(), active.load(), resets.load()};
  }
};

struct TargetRt {
  TargetSpec spec;
  sockaddr_in addr{};
  sockaddr_in src{};
  bool hasSrc = false;
  std::shared_ptr<std::atomic<int>> health;  // null = not checked: always healthy
};

struct ListenerRt {
  std::string key;    // ns|ip|port
  ListenerSpec spec;  // targets are in `targets`
  std::vector<TargetRt> targets;
  std::shared_ptr<Stats> endpoint;
  std::shared_ptr<Stats> iface;
  std::shared_ptr<TokenBucket> bucket;  // null = unlimited
};

using ListenerKey = std::string;  // ns|ip|port: one endpoint interface address and listener port
// ns|*|port: the listening socket in a namespace that takes every address's
// connections on one port (ns|ip|53 for port 53, which the VPC resolver holds).
using SocketKey = std::string;

// Lets update() wait until every loop has installed a change: resets of connections
// must leave before the reconciler removes the addresses they were made on (a
// socket cannot send from an address the host no longer has).
struct Barrier {
  std::mutex mu;
  std::condition_variable cv;
  size_t remaining = 0;
  void done() {
    std::lock_guard lock(mu);
    if (--remaining == 0) cv.notify_all();
  }
  void wait(std::chrono::milliseconds limit) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, limit, [&] { return remaining == 0; });
  }
};

// A change to a loop's listeners: the runtime of listeners new or changed, keys
// that are gone, and the loop's own sockets for listeners that need new ones.
struct Install {
  std::map<ListenerKey, std::shared_ptr<const ListenerRt>> upserts;
  std::vector<ListenerKey> removals;
  std::map<SocketKey, int> newFds;  // owned by the loop once posted
  std::vector<SocketKey> closeSockets;
  std::shared_ptr<Barrier> barrier;
};

struct Handler {
  virtual ~Handler() = default;
  virtual void onEvent(uint32_t events) = 0;
};

class Loop;

// One direction of a connection: src -> pipe -> dst.
struct Direction {
  int src = -1;
  int dst = -1;
  int pipeR = -1;
  int pipeW = -1;
  size_t pending = 0;  // bytes in the pipe
  // Edge-triggered readiness: set by epoll events, cleared on EAGAIN, so a pump
  // never makes a system call that is known to fail.
  bool* srcReady = nullptr;
  bool* dstReady = nullptr;
  bool eof = false;
  bool shut = false;
  bool done() const { return eof && shut && pending == 0; }
};

enum class Pump { kBlocked, kBudget, kThrottled, kError };

class Conn {
 public:
  struct Side final : Handler {
    Conn* conn = nullptr;
    bool isTarget = false;
    void onEvent(uint32_t events) override { conn->onEvent(isTarget, events); }
  };

  Conn(Loop& loop, std::shared_ptr<const ListenerRt> rt, int clientFd, int targetFd, bool proxy)
      : loop_(loop), rt_(std::move(rt)), cfd_(clientFd), tfd_(targetFd), proxy_(proxy) {
    clientSide_.conn = this;
    targetSide_.conn = this;
    targetSide_.isTarget = true;
  }
  ~Conn() {
    for (int fd : {up_.pipeR, up_.pipeW, down_.pipeR, down_.pipeW}) {
      if (fd >= 0) close(fd);
    }
  }
  // Hands empty pipes back to the loop's pool (before the connection is buried).
  void recyclePipes();

  bool init(int pipeBytes);
  void onEvent(bool isTarget, uint32_t events);
  void run();
  void reset();  // RST both ways
  const std::string& endpointId() const { return rt_->spec.endpointId; }
  const std::string& listenerKey() const { return rt_->key; }

  std::shared_ptr<std::atomic<int>> targetHealth;  // set: reset when it turns unhealthy
  bool dead = false;
  bool queued = false;
  bool throttled = false;

 private:
  friend class Loop;
  Pump pump(Direction& d, bool up, int& budget);
  void finishConnect();
  void closeGracefully();
  void release(bool wasReset);

  Loop& loop_;
  std::shared_ptr<const ListenerRt> rt_;
  int cfd_;
  int tfd_;
  bool proxy_;
  bool connecting_ = true;
  Side clientSide_;
  Side targetSide_;
  Direction up_;    // client -> target
  Direction down_;  // target -> client
  // All start unknown: registering an edge-triggered fd reports what is ready already.
  bool clientIn_ = false, clientOut_ = false, targetIn_ = false, targetOut_ = false;
};

class Loop final : public Handler {
 public:
  Loop(int index, const ForwarderOptions& opts) : index_(index), opts_(opts) {}
  ~Loop() override {
    if (ep_ >= 0) close(ep_);
    if (wake_ >= 0) close(wake_);
  }

  Status init() {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ep_ < 0 || wake_ < 0) return Status("InternalError", std::string("epoll/eventfd: ") + std::strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = static_cast<Handler*>(this);
    epoll_ctl(ep_, EPOLL_CTL_ADD, wake_, &ev);
    return Status::Ok();
  }
  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void post(Install in) {
    {
      std::lock_guard lock(mu_);
      inbox_.push_back(std::move(in));
    }
    uint64_t one = 1;
    (void)!write(wake_, &one, sizeof one);
  }
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    uint64_t one = 1;
    (void)!write(wake_, &one, sizeof one);
    if (thread_.joinable()) thread_.join();
  }

  // The wake eventfd.
  void onEvent(uint32_t) override {
    uint64_t v;
    while (read(wake_, &v, sizeof v) > 0) {
    }
    drainInbox();
  }

  void add(int fd, Handler* h) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = h;
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
  }
  void again(Conn* c) {
    if (!c->queued) {
      c->queued = true;
      ready_.push_back(c);
    }
  }
  void throttle(Conn* c, int64_t wakeAt) {
    if (!c->throttled) {
      c->throttled = true;
      throttled_.push_back({wakeAt, c});
    }
  }
  void bury(Conn* c) {
    c->dead = true;
    auto it = conns_.find(c);
    if (it != conns_.end()) {
      graveyard_.push_back(std::move(it->second));
      conns_.erase(it);
    }
  }
  const ForwarderOptions& opts() const { return opts_; }
  // Pipes are pooled: a new connection costs no pipe2/fcntl/close system calls.
  std::pair<int, int> takePipe(int bytes) {
    if (!pipes_.empty()) {
      auto p = pipes_.back();
      pipes_.pop_back();
      return p;
    }
    int p[2];
    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) return {-1, -1};
    fcntl(p[1], F_SETPIPE_SZ, bytes);
    return {p[0], p[1]};
  }
  void givePipe(std::pair<int, int> p) {
    if (pipes_.size() < kPipePool) {
      pipes_.push_back(p);
    } else {
      close(p.first);
      close(p.second);
    }
  }
  // False when it stopped for want of descriptors or memory (EMFILE and the like).
  bool accept(int lfd, const std::string& ns, int port);
  // Counts changes to this loop's traffic counters (one writer: this loop), so the
  // counters are read only when something moved: reading 30,000 of them every 2 s
  // was most of an idle daemon's CPU at 10,000 endpoints.
  void noteActivity() { activity_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t activity() const { return activity_.load(std::memory_order_relaxed); }

 private:
  struct ListenerSock final : Handler {
    Loop* loop = nullptr;
    int fd = -1;
    std::string ns;           // where it listens, and the port, to name the listener an accepted
    int port = 0;             // connection reached (by its local address)
    int64_t pausedUntil = 0;  // monoNanos(); 0 = watched
    void onEvent(uint32_t) override {
      if (fd >= 0 && !loop->accept(fd, ns, port)) loop->pause(this);
    }
  };

  // Registers a listener (EPOLL_CTL_ADD) or changes what it is watched for.
  void watchListener(ListenerSock* l, int op, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = static_cast<Handler*>(l);
    epoll_ctl(ep_, op, l->fd, &ev);
  }

  // A listener whose accept() fails for lack of descriptors stays readable: watched,
  // it would wake the loop at once, forever. It is unwatched for a while instead
  // (as nginx does); its connections wait in the kernel's backlog meanwhile.
  static constexpr int64_t kAcceptPauseNanos = 100'000'000;
  void pause(ListenerSock* l) {
    int err = errno;
    watchListener(l, EPOLL_CTL_MOD, 0);
    int64_t now = monoNanos();
    l->pausedUntil = now + kAcceptPauseNanos;
    anyPaused_ = true;
    if (now - lastPauseLog_ > 10'000'000'000) {
      lastPauseLog_ = now;
      LP_LOG_WARN(
          "dataplane: accept on port {} in {} failed ({}); new connections wait {} ms at a time until "
          "descriptors are free (raise the open-file limit)",
          l->port, l->ns, strerror(err), kAcceptPauseNanos / 1'000'000);
    }
  }
  // Watches again the listeners whose pause is over; answers the nearest pause end (0 = none).
  int64_t resumeListeners(int64_t now) {
    int64_t next = 0;
    for (auto& [_, l] : listeners_) {
      if (l->pausedUntil == 0) continue;
      if (l->pausedUntil <= now) {
        l->pausedUntil = 0;
        watchListener(l.get(), EPOLL_CTL_MOD, EPOLLIN);
      } else if (next == 0 || l->pausedUntil < next) {
        next = l->pausedUntil;
      }
    }
    anyPaused_ = next != 0;
    return next;
  }

  // Closes a listener; the object lives until the end of the loop turn, since
  // events of the current epoll batch may still name it.
  void retire(std::unique_ptr<ListenerSock> l) {
    epoll_ctl(ep_, EPOLL_CTL_DEL, l->fd, nullptr);
    close(l->fd);
    l->fd = -1;
    retiredListeners_.push_back(std::move(l));
  }
  void run();
  void drainInbox();
  void install(Install& in);
  void shutdownAll();

  int index_;
  std::atomic<uint64_t> activity_{0};
  ForwarderOptions opts_;
  int ep_ = -1;
  int wake_ = -1;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Install> inbox_;  // guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  bool stopped_ = false;        // loop thread only

  std::map<SocketKey, std::unique_ptr<ListenerSock>> listeners_;
  std::unordered_map<ListenerKey, std::shared_ptr<const ListenerRt>> routes_;
  std::unordered_map<Conn*, std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> ready_;
  std::vector<std::pair<int64_t, Conn*>> throttled_;
  std::vector<std::unique_ptr<Conn>> graveyard_;
  std::vector<std::unique_ptr<ListenerSock>> retiredListeners_;
  bool anyPaused_ = false;
  int64_t lastPauseLog_ = 0;
  static constexpr size_t kPipePool = 256;
  std::vector<std::pair<int, int>> pipes_;
  std::unique_ptr<NsCache> nsOnThread_;  // made on the loop thread (see run)
};

bool Conn::init(int pipeBytes) {
  auto a = loop_.takePipe(pipeBytes);
  if (a.first < 0) return false;
  auto b = loop_.takePipe(pipeBytes);
  if (b.first < 0) {
    loop_.givePipe(a);
    return false;
  }
  up_ = {cfd_, tfd_, a.first, a.second, 0, &clientIn_, &targetOut_};
  down_ = {tfd_, cfd_, b.first, b.second, 0, &targetIn_, &clientOut_};
  loop_.add(cfd_, &clientSide_);
  loop_.add(tfd_, &targetSide_);
  return true;
}

void Conn::onEvent(bool isTarget, uint32_t events) {
  if (dead) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) (isTarget ? targetIn_ : clientIn_) = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) (isTarget ? targetOut_ : clientOut_) = true;
  if (connecting_) {
    if (isTarget && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) finishConnect();
    return;
  }
  run();
}

void Conn::finishConnect() {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(tfd_, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return reset();
  connecting_ = false;
  if (proxy_) {
    sockaddr_in peer{}, local{};
    socklen_t pl = sizeof peer, ll = sizeof local;
    getpeername(cfd_, reinterpret_cast<sockaddr*>(&peer), &pl);
    getsockname(cfd_, reinterpret_cast<sockaddr*>(&local), &ll);
    std::string h = encodeProxyV2(peer, local, rt_->spec.endpointId);
    // A fresh connection's send buffer takes a few dozen bytes at once.
    if (send(tfd_, h.data(), h.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(h.size())) return reset();
  }
  run();
}

Pump Conn::pump(Direction& d, bool up, int& budget) {
  const auto& opts = loop_.opts();
  const size_t room = static_cast<size_t>(opts.pipeBytes);
  for (;;) {
    bool moved = false;
    if (d.pending > 0 && *d.dstReady) {
      ssize_t n = splice(d.pipeR, nullptr, d.dst, nullptr, d.pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        d.pending -= static_cast<size_t>(n);
        auto& e = up ? rt_->endpoint->bytesIn : rt_->endpoint->bytesOut;
        auto& i = up ? rt_->iface->bytesIn : rt_->iface->bytesOut;
        e.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
        i.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
        loop_.noteActivity();
        moved = true;
      } else if (n < 0 && errno == EAGAIN) {
        *d.dstReady = false;
      } else {
        return Pump::kError;
      }
    }
    if (d.eof) {
      if (d.pending == 0 && !d.shut) {
        shutdown(d.dst, SHUT_WR);
        d.shut = true;
      }
      if (!moved) return Pump::kBlocked;
      continue;
    }
    // Keep reading while the destination is slow, as long as the pipe has room:
    // the source's receive window stays open and the pipe is the buffer.
    if (*d.srcReady && d.pending < room) {
      if (budget-- <= 0) return Pump::kBudget;
      size_t want = room - d.pending;
      int64_t now = 0;
      if (rt_->bucket) {
        now = monoNanos();
        want = rt_->bucket->take(want, now);
        if (want == 0) {
          loop_.throttle(this, now + std::max<int64_t>(rt_->bucket->waitNanos(16384, now), 100'000));
          if (!moved) return Pump::kThrottled;
          continue;  // what is in the pipe may still go out
        }
      }
      ssize_t n = splice(d.src, nullptr, d.pipeW, nullptr, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      int err = errno;
      if (rt_->bucket && static_cast<size_t>(std::max<ssize_t>(n, 0)) < want) {
        rt_->bucket->refund(want - static_cast<size_t>(std::max<ssize_t>(n, 0)));
      }
      if (n > 0) {
        d.pending += static_cast<size_t>(n);
        moved = true;
      } else if (n == 0) {
        d.eof = true;
        moved = true;
      } else if (err != EAGAIN) {
        return Pump::kError;
      } else if (d.pending == 0) {
        // With data in the pipe, EAGAIN may mean the pipe is full (its slots hold
        // partial pages) rather than the socket empty: only an empty pipe proves
        // the source drained. A wrong guess costs one failed splice later.
        *d.srcReady = false;
      }
    }
    if (!moved) return Pump::kBlocked;
  }
}

void Conn::run() {
  if (dead || connecting_) return;
  int budget = 16;
  Pump a = pump(up_, true, budget);
  Pump b = a == Pump::kError ? Pump::kError : pump(down_, false, budget);
  if (a == Pump::kError || b == Pump::kError) return reset();
  if (up_.done() && down_.done()) return closeGracefully();
  if (a == Pump::kBudget || b == Pump::kBudget) loop_.again(this);
}

void Conn::recyclePipes() {
  for (Direction* d : {&up_, &down_}) {
    if (d->pipeR >= 0 && d->pending == 0) {
      loop_.givePipe({d->pipeR, d->pipeW});
      d->pipeR = d->pipeW = -1;
    }
  }
}

void Conn::release(bool wasReset) {
  recyclePipes();
  rt_->endpoint->active.fetch_sub(1, std::memory_order_relaxed);
  rt_->iface->active.fetch_sub(1, std::memory_order_relaxed);
  loop_.noteActivity();
  if (wasReset) {
    rt_->endpoint->resets.fetch_add(1, std::memory_order_relaxed);
    rt_->iface->resets.fetch_add(1, std::memory_order_relaxed);
  }
  loop_.bury(this);
}

void Conn::reset() {
  if (dead) return;
  resetFd(cfd_);
  resetFd(tfd_);
  release(true);
}

void Conn::closeGracefully() {
  if (dead) return;
  close(cfd_);
  close(tfd_);
  release(false);
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
