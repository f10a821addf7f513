#include "dns/dns_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "common/log.h"
#include "dns/responder.h"
#include "net/netns.h"

namespace lp::dns {

namespace {

constexpr int kUdpBurst = 256;             // datagrams per wake-up before others get a turn
constexpr size_t kMaxTcpOut = 256 * 1024;  // a client that never reads is cut off

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Status sysError(const std::string& what) { return Status("InternalError", what + ": " + std::strerror(errno)); }

// Binds (and for TCP, listens on) an already made socket.
Status bindSocket(int fd, const std::string& address, uint16_t port, bool tcp) {
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // No IP_FREEBIND: an address that is not (yet) local should fail the bind.
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) {
    return Status("InvalidParameterValue", "bad resolver address '" + address + "'");
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    return sysError("bind " + address + ":" + std::to_string(port));
  }
  if (tcp && listen(fd, 128) != 0) return sysError("listen");
  return Status::Ok();
}

// 0 until the namespace is mounted: its file exists a moment before (setns on it
// would fail with EINVAL).
uint64_t namespaceInode(const std::string& ns) {
  if (!net::namespaceExists(ns)) return 0;
  struct stat st {};
  std::string path = std::string(net::kNetnsDir) + "/" + ns;
  if (stat(path.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

}  // namespace

DnsServer::DnsServer(DnsServerOptions options) : options_(std::move(options)) {
  current_ = std::make_shared<ZoneSnapshot>();
}

DnsServer::~DnsServer() { stop(); }

Status DnsServer::start() {
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) return sysError("epoll_create1");
  wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_ < 0) return sysError("eventfd");
  add(wake_, Kind::kWake, "", EPOLLIN);
  if (!options_.upstreamAddress.empty()) LP_RETURN_IF_ERROR(openUpstream());
  if (!options_.hostAddress.empty()) {
    if (Status st = openHost(); !st.ok()) {
      for (int* fd : {&hostUdp_, &hostTcp_}) {
        if (*fd >= 0) ::close(*fd);
        *fd = -1;
      }
      return st;
    }
    add(hostUdp_, Kind::kUdp, "", EPOLLIN);
    add(hostTcp_, Kind::kTcpListen, "", EPOLLIN);
  }
  if (upstream_ >= 0 && hostUdp_ >= 0 && options_.upstreamPort == hostPort_ &&
      options_.upstreamAddress == options_.hostAddress) {
    return Status("InvalidConfig", "the DNS upstream cannot be the resolver's own host listener");
  }
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
  return Status::Ok();
}

Status DnsServer::openHost() {
  // Port 0: the kernel picks a free UDP port, which may be taken for TCP by
  // someone else; then pick again.
  Status st;
  for (int attempt = 0; attempt < (options_.hostPort == 0 ? 20 : 1); ++attempt) {
    for (int* fd : {&hostUdp_, &hostTcp_}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
    hostUdp_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    hostTcp_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (hostUdp_ < 0 || hostTcp_ < 0) return sysError("socket");
    LP_RETURN_IF_ERROR(bindSocket(hostUdp_, options_.hostAddress, options_.hostPort, false));
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    getsockname(hostUdp_, reinterpret_cast<sockaddr*>(&sa), &len);
    hostPort_ = ntohs(sa.sin_port);
    st = bindSocket(hostTcp_, options_.hostAddress, hostPort_, true);
    if (st.ok()) return st;
  }
  return st;
}

void DnsServer::stop() {
  stopping_ = true;
  if (wake_ >= 0) {
    uint64_t one = 1;
    (void)!write(wake_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  for (auto& [_, r] : resolvers_) closeResolver(r);
  resolvers_.clear();
  for (auto& [fd, _] : handles_) ::close(fd);  // the host listeners and the wake-up fd too
  handles_.clear();
  hostUdp_ = hostTcp_ = wake_ = upstream_ = -1;
  forwards_.clear();
  if (epoll_ >= 0) ::close(epoll_);
  epoll_ = -1;
  tcpConnections_ = 0;
}

void DnsServer::publish(std::shared_ptr<const ZoneSnapshot> snapshot) {
  {
    std::lock_guard<std::mutex> l(mu_);
    pending_ = std::move(snapshot);
    hasPending_.store(true, std::memory_order_release);
  }
  uint64_t one = 1;
  if (wake_ >= 0) (void)!write(wake_, &one, sizeof one);
}

DnsStats DnsServer::stats() const {
  DnsStats st;
  st.udpQueries = udpQueries_.load();
  st.tcpQueries = tcpQueries_.load();
  st.ignored = ignored_.load();
  st.forwarded = forwarded_.load();
  st.cacheHits = cacheHits_.load();
  for (size_t i = 0; i < st.answersByRcode.size(); ++i) st.answersByRcode[i] = answersByRcode_[i].load();
  return st;
}

void DnsServer::add(int fd, Kind kind, const std::string& view, uint32_t events) {
  Handle& h = handles_[fd];
  h = Handle{};
  h.kind = kind;
  h.view = view;
  h.serial = nextSerial_++;
  h.lastActive = nowSeconds();
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
}

void DnsServer::close(int fd) {
  auto it = handles_.find(fd);
  if (it == handles_.end()) return;
  if (it->second.kind == Kind::kTcpConn) --tcpConnections_;
  handles_.erase(it);
  epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
}

void DnsServer::run() {
  std::vector<epoll_event> events(128);
  while (!stopping_) {
    int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 1000);
    if (n < 0 && errno != EINTR) {
      LP_LOG_ERROR("dns: epoll_wait: {}", std::strerror(errno));
      break;
    }
    takeSnapshot();
    if (needSync_) {
      needSync_ = false;
      syncResolvers();
    }
    for (int i = 0; i < n && !stopping_; ++i) {
      int fd = events[i].data.fd;
      auto it = handles_.find(fd);
      if (it == handles_.end()) continue;  // closed earlier in this batch
      Handle& h = it->second;
      switch (h.kind) {
        case Kind::kWake: {
          uint64_t v;
          (void)!read(wake_, &v, sizeof v);
          break;
        }
        case Kind::kUdp:
          onUdp(fd, h);
          break;
        case Kind::kTcpListen:
          onAccept(fd, h);
          break;
        case Kind::kTcpConn:
          onTcp(fd, h, events[i].events);
          break;
        case Kind::kUpstream:
          onUpstream();
          break;
      }
    }
    if (needSync_ || nowSeconds() != lastSync_) {
      // Every second only while a resolver waits for its namespace: a sweep stats
      // every VPC's namespace, and at 1,000 VPCs that was half of an idle daemon's
      // CPU. A namespace made again is the reconciler's to notice; it publishes anew.
      if (needSync_ || openResolvers_ < current_->resolvers.size()) syncResolvers();
      needSync_ = false;
      lastSync_ = nowSeconds();
      expireIdle();
      expireForwards();
    }
  }
}

void DnsServer::onUdp(int fd, const Handle& h) {
  static thread_local std::vector<uint8_t> buf(65536);
  for (int i = 0; i < kUdpBurst; ++i) {
    sockaddr_storage from{};
    socklen_t fromLen = sizeof from;
    ssize_t n = recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fromLen);
    if (n < 0) return;  // EAGAIN, or an ICMP error queued on the socket
    udpQueries_++;
    takeSnapshot();
    bool fwd = false;
    const auto& reply = answer(h.view, buf.data(), static_cast<size_t>(n), Transport::kUdp, &fwd);
    if (reply.empty()) {
      ignored_++;
      continue;
    }
    if (fwd && forward(fd, h, buf.data(), static_cast<size_t>(n), &from, fromLen)) continue;
    countAnswer(reply.data(), reply.size());
    sendto(fd, reply.data(), reply.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), fromLen);
  }
}

void DnsServer::onAccept(int fd, const Handle& h) {
  std::string view = h.view;  // add() may rehash handles_
  for (;;) {
    int c = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) return;
    if (tcpConnections_ >= options_.maxTcpConnections) {
      ::close(c);
      continue;
    }
    ++tcpConnections_;
    add(c, Kind::kTcpConn, view, EPOLLIN | EPOLLRDHUP);
  }
}

void DnsServer::onTcp(int fd, Handle& h, uint32_t events) {
  h.lastActive = nowSeconds();
  if (events & EPOLLOUT) flush(fd, h);
  if (!handles_.count(fd)) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    char buf[16384];
    bool eof = false;
    for (;;) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) {
        h.in.append(buf, static_cast<size_t>(n));
        if (h.in.size() > 2 * 65537) break;  // processed below before reading more
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) eof = true;
      break;
    }
    // Every complete length-prefixed message gets its answer, in order.
    size_t pos = 0;
    while (h.in.size() - pos >= 2) {
      size_t len = (static_cast<uint8_t>(h.in[pos]) << 8) | static_cast<uint8_t>(h.in[pos + 1]);
      if (h.in.size() - pos - 2 < len) break;
      tcpQueries_++;
      takeSnapshot();
      const uint8_t* msg = reinterpret_cast<const uint8_t*>(h.in.data() + pos + 2);
      bool fwd = false;
      const auto& reply = answer(h.view, msg, len, Transport::kTcp, &fwd);
      if (reply.empty()) {
        // Garbage on a stream: nothing sensible follows it.
        ignored_++;
        eof = true;
        pos = h.in.size();
        break;
      }
      bool sent = fwd && forward(fd, h, msg, len, nullptr, 0);
      pos += 2 + len;
      if (sent) continue;
      countAnswer(reply.data(), reply.size());
      h.out.push_back(static_cast<char>(reply.size() >> 8));
      h.out.push_back(static_cast<char>(reply.size() & 0xff));
      h.out.append(reinterpret_cast<const char*>(reply.data()), reply.size());
    }
    h.in.erase(0, pos);
    if (eof) h.closing = true;
    if (h.out.size() > kMaxTcpOut) {
      close(fd);
      return;
    }
    flush(fd, h);
  }
}

void DnsServer::flush(int fd, Handle& h) {
  while (!h.out.empty()) {
    ssize_t n = send(fd, h.out.data(), h.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      h.out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    close(fd);
    return;
  }
  if (h.out.empty() && h.closing && h.pendingForwards == 0) {
    close(fd);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (h.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
  ev.data.fd = fd;
  epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev);
}

const std::vector<uint8_t>& DnsServer::answer(const std::string& view, const uint8_t* data, size_t len, Transport t,
                                              bool* forward) {
  const std::vector<uint8_t>& reply = cache_.answer(*current_, view, data, len, t, forward);
  *forward = *forward && upstream_ >= 0;
  cacheHits_.store(cache_.stats().hits, std::memory_order_relaxed);
  return reply;
}

Status DnsServer::openUpstream() {
  upstream_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (upstream_ < 0) return sysError("socket");
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(options_.upstreamPort);
  if (inet_pton(AF_INET, options_.upstreamAddress.c_str(), &sa.sin_addr) != 1) {
    ::close(upstream_);
    upstream_ = -1;
    return Status("InvalidConfig", "DNS upstream must be an IPv4 address, got '" + options_.upstreamAddress + "'");
  }
  // Connected: only the upstream's datagrams reach this socket.
  if (connect(upstream_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    Status st = sysError("connect to the DNS upstream");
    ::close(upstream_);
    upstream_ = -1;
    return st;
  }
  add(upstream_, Kind::kUpstream, "", EPOLLIN);
  return Status::Ok();
}

bool DnsServer::forward(int fd, const Handle& h, const uint8_t* data, size_t len, const sockaddr_storage* from,
                        socklen_t fromLen) {
  if (forwards_.size() >= options_.maxForwards) return false;
  // A fresh id per forward, never one still in flight.
  uint16_t id = 0;
  for (int i = 0; i < 65536; ++i) {
    id = ++nextForwardId_;
    if (!forwards_.count(id)) break;
  }
  Forward f;
  f.clientId = static_cast<uint16_t>((data[0] << 8) | data[1]);
  f.fd = fd;
  f.serial = h.serial;
  if (from) f.from = *from;
  f.fromLen = fromLen;
  f.deadlineMs = nowMillis() + options_.upstreamTimeoutMs;
  std::vector<uint8_t> q(data, data + len);
  q[0] = static_cast<uint8_t>(id >> 8);
  q[1] = static_cast<uint8_t>(id & 0xff);
  if (send(upstream_, q.data(), q.size(), MSG_DONTWAIT) != static_cast<ssize_t>(q.size())) return false;
  forwards_[id] = f;
  forwarded_++;
  if (h.kind == Kind::kTcpConn) ++handles_[fd].pendingForwards;
  return true;
}

void DnsServer::onUpstream() {
  static thread_local std::vector<uint8_t> buf(65536);
  for (int i = 0; i < kUdpBurst; ++i) {
    ssize_t n = recv(upstream_, buf.data(), buf.size(), 0);
    if (n < 0) return;
    if (n < 12 || !(buf[2] & 0x80)) continue;  // not a response
    uint16_t id = static_cast<uint16_t>((buf[0] << 8) | buf[1]);
    auto it = forwards_.find(id);
    if (it == forwards_.end()) continue;  // late, or never asked
    Forward f = it->second;
    forwards_.erase(it);
    auto h = handles_.find(f.fd);
    if (h == handles_.end() || h->second.serial != f.serial) continue;  // the client's socket is gone
    if (h->second.kind == Kind::kTcpConn) --h->second.pendingForwards;
    buf[0] = static_cast<uint8_t>(f.clientId >> 8);
    buf[1] = static_cast<uint8_t>(f.clientId & 0xff);
    countAnswer(buf.data(), static_cast<size_t>(n));
    if (h->second.kind == Kind::kUdp) {
      sendto(f.fd, buf.data(), static_cast<size_t>(n), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&f.from), f.fromLen);
    } else if (h->second.kind == Kind::kTcpConn) {
      auto& out = h->second.out;
      out.push_back(static_cast<char>(n >> 8));
      out.push_back(static_cast<char>(n & 0xff));
      out.append(reinterpret_cast<const char*>(buf.data()), static_cast<size_t>(n));
      flush(f.fd, h->second);
    }
  }
}

void DnsServer::expireForwards() {
  int64_t now = nowMillis();
  std::vector<int> done;
  for (auto it = forwards_.begin(); it != forwards_.end();) {
    if (it->second.deadlineMs > now) {
      ++it;
      continue;
    }
    auto h = handles_.find(it->second.fd);
    if (h != handles_.end() && h->second.serial == it->second.serial && h->second.kind == Kind::kTcpConn &&
        --h->second.pendingForwards == 0 && h->second.closing) {
      done.push_back(it->second.fd);
    }
    it = forwards_.erase(it);
  }
  for (int fd : done) flush(fd, handles_[fd]);  // closes it once nothing is left to send
}

void DnsServer::takeSnapshot() {
  if (!hasPending_.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> l(mu_);
  if (pending_) {
    current_ = std::move(pending_);
    cache_.clear();
    needSync_ = true;
  }
  hasPending_.store(false, std::memory_order_relaxed);
}

void DnsServer::expireIdle() {
  int64_t now = nowSeconds();
  std::vector<int> idle;
  for (const auto& [fd, h] : handles_) {
    if (h.kind == Kind::kTcpConn && now - h.lastActive >= options_.tcpIdleSeconds) idle.push_back(fd);
  }
  for (int fd : idle) close(fd);
}

// Whether address is a local, usable address in namespace ns: a UDP socket
// connected to it then picks it as its own source. A socket bound to the resolver
// address before that (a new namespace has no local routing table until loopback
// is up, and binding then succeeds as if to a broadcast address) answered from
// whatever address the route gave, the subnet router's, and clients drop such
// answers: that VPC's UDP DNS stayed broken for the socket's whole life.
bool addressIsLocal(const std::string& ns, const std::string& address) {
  auto probe = net::socketInNamespace(ns, AF_INET, SOCK_DGRAM);
  if (!probe) return false;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(53);
  bool ok = inet_pton(AF_INET, address.c_str(), &to.sin_addr) == 1 &&
            connect(*probe, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  sockaddr_in self{};
  socklen_t len = sizeof self;
  ok = ok && getsockname(*probe, reinterpret_cast<sockaddr*>(&self), &len) == 0 &&
       self.sin_addr.s_addr == to.sin_addr.s_addr;
  ::close(*probe);
  return ok;
}

Status DnsServer::openResolver(Resolver& r) {
  if (!addressIsLocal(r.spec.ns, r.spec.address))
    return Status("Unavailable", r.spec.address + " is not yet an address of " + r.spec.ns);
  LP_ASSIGN_OR_RETURN(int udp, net::socketInNamespace(r.spec.ns, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK));
  auto tcp = net::socketInNamespace(r.spec.ns, AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  if (!tcp) {
    ::close(udp);
    return tcp.status();
  }
  Status st = bindSocket(udp, r.spec.address, r.spec.port, false);
  if (st.ok()) st = bindSocket(*tcp, r.spec.address, r.spec.port, true);
  if (!st.ok()) {
    ::close(udp);
    ::close(*tcp);
    return st;
  }
  r.udp = udp;
  r.tcp = *tcp;
  add(r.udp, Kind::kUdp, r.spec.vpcId, EPOLLIN);
  add(r.tcp, Kind::kTcpListen, r.spec.vpcId, EPOLLIN);
  return Status::Ok();
}

void DnsServer::closeResolver(Resolver& r) {
  // Connections accepted from it live in the same namespace: close them too, or
  // they would keep a deleted namespace alive.
  std::vector<int> conns;
  for (const auto& [fd, h] : handles_) {
    if (h.kind == Kind::kTcpConn && h.view == r.spec.vpcId) conns.push_back(fd);
  }
  for (int fd : conns) close(fd);
  for (int* fd : {&r.udp, &r.tcp}) {
    if (*fd < 0) continue;
    if (handles_.count(*fd)) {
      close(*fd);
    } else {
      ::close(*fd);
    }
    *fd = -1;
  }
  r.inode = 0;
}

void DnsServer::syncResolvers() {
  std::map<std::string, const VpcResolver*> wanted;
  for (const auto& spec : current_->resolvers) wanted[spec.vpcId] = &spec;
  for (auto it = resolvers_.begin(); it != resolvers_.end();) {
    if (!wanted.count(it->first)) {
      closeResolver(it->second);
      it = resolvers_.erase(it);
    } else {
      ++it;
    }
  }
  size_t open = 0;
  for (const auto& [vpcId, spec] : wanted) {
    Resolver& r = resolvers_[vpcId];
    uint64_t inode = namespaceInode(spec->ns);
    bool stale = r.udp >= 0 && (!(r.spec == *spec) || r.inode != inode);
    if (stale) closeResolver(r);
    if (r.udp < 0 && inode != 0) {
      r.spec = *spec;
      if (Status st = openResolver(r); st.ok()) {
        r.inode = inode;
        r.failures = 0;
        LP_LOG_DEBUG("dns: resolver for {} at {}:{}", vpcId, spec->address, spec->port);
      } else if (++r.failures >= 3) {  // about 2 s: no longer the namespace being set up
        LP_LOG_WARN("dns: resolver for {} in {}: {}", vpcId, spec->ns, st.toString());
      } else {
        LP_LOG_DEBUG("dns: resolver for {} in {} not yet: {}", vpcId, spec->ns, st.toString());
      }
    }
    if (r.udp >= 0) ++open;
  }
  openResolvers_ = open;
}

}  // namespace lp::dns
