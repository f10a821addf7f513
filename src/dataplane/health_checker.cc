#include "dataplane/health_checker.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "common/log.h"
#include "dataplane/ns_cache.h"

namespace lp::dataplane {

namespace {
using SteadyTime = std::chrono::steady_clock::time_point;
constexpr std::chrono::milliseconds kTick{100};
}  // namespace

bool HealthCounter::observe(bool ok, int healthyThreshold, int unhealthyThreshold) {
  Health before = state;
  if (ok) {
    failures = 0;
    ++successes;
    if (state != Health::kHealthy && successes >= std::max(1, healthyThreshold)) state = Health::kHealthy;
  } else {
    successes = 0;
    ++failures;
    if (state != Health::kUnhealthy && failures >= std::max(1, unhealthyThreshold)) state = Health::kUnhealthy;
  }
  return state != before;
}

struct HealthChecker::Entry {
  HealthCheckSpec spec;
  std::shared_ptr<std::atomic<int>> shared = std::make_shared<std::atomic<int>>(0);
  // Touched by the checker thread only, except `result` (under mu_).
  HealthCounter counter;
  HealthResult result;
  SteadyTime nextDue{};
  SteadyTime deadline{};
  int fd = -1;
  bool removed = false;
};

HealthChecker::HealthChecker() = default;
HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::start() {
  std::lock_guard lock(mu_);
  stopping_ = false;
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void HealthChecker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void HealthChecker::update(const std::vector<HealthCheckSpec>& checks) {
  std::lock_guard lock(mu_);
  std::map<std::string, std::shared_ptr<Entry>> next;
  for (const auto& c : checks) {
    auto it = entries_.find(c.key);
    std::shared_ptr<Entry> e;
    if (it != entries_.end() && it->second->spec == c) {
      e = it->second;
    } else if (it != entries_.end()) {
      // Settings changed: keep the state (targets do not flap on a new interval).
      e = std::make_shared<Entry>();
      e->spec = c;
      e->shared = it->second->shared;
      e->counter.state = static_cast<Health>(it->second->shared->load());
      e->result = it->second->result;
      it->second->removed = true;
    } else {
      e = std::make_shared<Entry>();
      e->spec = c;
      e->result = {Health::kInitial, "Elb.InitialHealthChecking", "Initial health checking in progress"};
    }
    next[c.key] = e;
  }
  for (auto& [k, e] : entries_) {
    if (!next.count(k)) e->removed = true;
  }
  entries_ = std::move(next);
  changed_ = true;
  cv_.notify_all();
}

std::shared_ptr<std::atomic<int>> HealthChecker::stateOf(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) return it->second->shared;
  return std::make_shared<std::atomic<int>>(static_cast<int>(Health::kInitial));
}

std::map<std::string, HealthResult> HealthChecker::report() {
  std::lock_guard lock(mu_);
  std::map<std::string, HealthResult> out;
  for (const auto& [k, e] : entries_) out[k] = e->result;
  return out;
}

void HealthChecker::run() {
  NsCache ns;
  auto lastSweep = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<Entry>> active;
  auto finish = [&](Entry& e, bool ok, const char* why) {
    if (e.fd >= 0) close(e.fd);
    e.fd = -1;
    bool changed = e.counter.observe(ok, e.spec.healthyThreshold, e.spec.unhealthyThreshold);
    e.shared->store(static_cast<int>(e.counter.state), std::memory_order_relaxed);
    if (changed) {
      LP_LOG_INFO("dataplane: target {} is now {} ({})", e.spec.key,
                  e.counter.state == Health::kHealthy ? "healthy" : "unhealthy", why);
      std::lock_guard lock(mu_);
      if (e.counter.state == Health::kHealthy) {
        e.result = {Health::kHealthy, "", ""};
      } else {
        e.result = {Health::kUnhealthy, "Target.FailedHealthChecks", "Health checks failed"};
      }
    }
  };
  auto begin = [&](Entry& e, SteadyTime now) {
    e.nextDue = now + std::chrono::seconds(std::max(1, e.spec.intervalSeconds));
    e.deadline = now + std::chrono::seconds(std::max(1, e.spec.timeoutSeconds));
    auto s = ns.socket(e.spec.ns, SOCK_STREAM | SOCK_NONBLOCK);
    if (!s) return finish(e, false, "no namespace");
    e.fd = *s;
    sockaddr_in src{};
    src.sin_family = AF_INET;
    if (!e.spec.sourceIp.empty() && inet_pton(AF_INET, e.spec.sourceIp.c_str(), &src.sin_addr) == 1) {
      if (bind(e.fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) return finish(e, false, "bind");
    }
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(static_cast<uint16_t>(e.spec.port));
    if (inet_pton(AF_INET, e.spec.ip.c_str(), &dst.sin_addr) != 1) return finish(e, false, "bad address");
    if (connect(e.fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0) return finish(e, true, "connected");
    if (errno != EINPROGRESS) return finish(e, false, "connect");
  };

  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (stopping_) break;
      if (changed_) {
        changed_ = false;
        std::vector<std::shared_ptr<Entry>> next;
        for (auto& [_, e] : entries_) next.push_back(e);
        for (auto& e : active) {
          if (e->removed && e->fd >= 0) {
            close(e->fd);
            e->fd = -1;
          }
        }
        active = std::move(next);
        ns.sweep();
      }
    }
    auto now = std::chrono::steady_clock::now();
    // Let go of namespaces no check has used for a while (a deleted VPC's stays
    // alive as long as a descriptor of it is open).
    if (now - lastSweep > std::chrono::seconds(30)) {
      ns.sweep();
      lastSweep = now;
    }
    for (auto& e : active) {
      if (e->fd < 0 && now >= e->nextDue) begin(*e, now);
    }
    std::vector<pollfd> pfds;
    std::vector<Entry*> owners;
    for (auto& e : active) {
      if (e->fd < 0) continue;
      pfds.push_back({e->fd, POLLOUT, 0});
      owners.push_back(e.get());
    }
    poll(pfds.data(), pfds.size(), static_cast<int>(kTick.count()));
    now = std::chrono::steady_clock::now();
    for (size_t i = 0; i < pfds.size(); ++i) {
      Entry& e = *owners[i];
      if (pfds[i].revents) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(e.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        finish(e, err == 0, err == 0 ? "connected" : "refused");
      } else if (now >= e.deadline) {
        finish(e, false, "timeout");
      }
    }
    if (pfds.empty()) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kTick, [&] { return stopping_ || changed_; });
    }
  }
  for (auto& e : active) {
    if (e->fd >= 0) close(e->fd);
    e->fd = -1;
  }
}

}  // namespace lp::dataplane
