// The inside of Forwarder (forwarder.h): the event loops (Loop), the connections
// each owns (Conn), and the immutable listener runtimes (ListenerRt) the Forwarder
// posts to every loop (Install). forwarder.cc manages listeners and counters,
// forwarder_loop.cc runs a loop (accepting, target choice, installing changes),
// forwarder_conn.cc moves a connection's bytes (PROXY header, splice both ways,
// half-close, reset). Not for use elsewhere.
//
// Threads: a Loop and its Conns are touched only by the loop's own thread, except
// post() and stop() (any thread: the inbox is behind a mutex) and activity()
// (atomic). A ListenerRt is immutable once posted; its Stats are atomics.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/log.h"
#include "dataplane/forwarder.h"
#include "dataplane/ns_cache.h"
#include "dataplane/token_bucket.h"

namespace lp::dataplane::forwarder_internal {

int64_t monoNanos();

// Milliseconds from now until deadline (both monoNanos()), rounded up, for an
// epoll_wait timeout of at most a second.
int msUntil(int64_t deadline, int64_t now);

bool parseAddr(const std::string& ip, int port, sockaddr_in& out);

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
void setStreamOptions(int fd, const ForwarderOptions& o);

// Closes with RST instead of FIN.
void resetFd(int fd);

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

}  // namespace lp::dataplane::forwarder_internal
