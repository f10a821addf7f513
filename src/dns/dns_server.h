// DnsServer: the VPC resolvers. One thread, one epoll set, UDP and TCP sockets
// at VPC base+2 port 53 inside every VPC namespace the snapshot names, plus an
// optional listener on the host (loopback) that sees the shared names only.
// Answers come from the latest published ZoneSnapshot (dns/responder.h).
//
// Sockets are made in their namespace through net::socketInNamespace and keep it;
// when a namespace is recreated under the same name (its inode changes) or a
// resolver leaves the snapshot, its sockets are closed (so the old namespace can
// go) and, if still wanted, reopened. Sockets that cannot be opened yet are
// retried every second.
//
// Owned by the daemon. publish() and the accessors may be called from any thread;
// everything else runs on the server's own thread.
#pragma once

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "common/status.h"
#include "dns/answer_cache.h"
#include "dns/responder.h"
#include "dns/zone_snapshot.h"

namespace lp::dns {

struct DnsServerOptions {
  // Host listener ("127.0.0.1", 5353); empty address = none; port 0 picks one.
  std::string hostAddress;
  uint16_t hostPort = 0;
  // TCP: idle connections are closed after this long; at most this many open.
  int tcpIdleSeconds = 10;
  size_t maxTcpConnections = 512;
  // Names under no zone it owns go to this resolver ("127.0.0.1", 53) over UDP
  // from the host, instead of REFUSED; empty address = REFUSED. Unanswered
  // forwards are forgotten after upstreamTimeoutMs (the client retries).
  std::string upstreamAddress;
  uint16_t upstreamPort = 53;
  int upstreamTimeoutMs = 2000;
  size_t maxForwards = 4096;
};

struct DnsStats {
  uint64_t udpQueries = 0;
  uint64_t tcpQueries = 0;
  uint64_t ignored = 0;    // packets that got no answer (malformed, responses)
  uint64_t forwarded = 0;  // queries sent to the upstream
  uint64_t cacheHits = 0;  // answers served from the answer cache
  std::array<uint64_t, 16> answersByRcode{};  // answers sent (ours and the upstream's), by RCODE
};

class DnsServer {
 public:
  explicit DnsServer(DnsServerOptions options);
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  // Opens the host listener (when configured) and starts the thread. An error
  // when the host address cannot be bound; the server is then not running.
  Status start();
  void stop();
  // Installs a new snapshot; the thread picks it up before its next packet.
  void publish(std::shared_ptr<const ZoneSnapshot> snapshot);
  // The bound host port (0 when there is no host listener).
  uint16_t hostPort() const { return hostPort_; }
  DnsStats stats() const;
  // Namespaces whose resolver sockets are open now (tests, logs).
  size_t openResolvers() const { return openResolvers_.load(); }

 private:
  enum class Kind { kWake, kUdp, kTcpListen, kTcpConn, kUpstream };
  struct Handle {
    Kind kind;
    uint64_t serial = 0;      // tells a reused descriptor from the one a forward came in on
    int pendingForwards = 0;  // TCP: answers still to come from the upstream
    std::string view;
    std::string in, out;
    int64_t lastActive = 0;
    bool closing = false;
  };
  // A query waiting for the upstream, by the id it was sent with.
  struct Forward {
    uint16_t clientId = 0;
    int fd = -1;  // the listener (UDP) or connection (TCP) it came in on
    uint64_t serial = 0;
    sockaddr_storage from{};
    socklen_t fromLen = 0;
    int64_t deadlineMs = 0;
  };
  struct Resolver {
    VpcResolver spec;
    uint64_t inode = 0;
    int udp = -1;
    int tcp = -1;
    int failures = 0;  // opening attempts in a row that failed (the address may come a moment late)
  };

  Status openHost();
  void run();
  void add(int fd, Kind kind, const std::string& view, uint32_t events);
  void close(int fd);
  void syncResolvers();
  Status openResolver(Resolver& r);
  void closeResolver(Resolver& r);
  void onUdp(int fd, const Handle& h);
  void onAccept(int fd, const Handle& h);
  void onTcp(int fd, Handle& h, uint32_t events);
  void flush(int fd, Handle& h);
  void expireIdle();
  // Installs a published snapshot, if any. Called after each packet is read, so a
  // query sent after publish() returned is answered from the new snapshot.
  void takeSnapshot();
  // respond() through a cache of whole answers for the current snapshot.
  // *forward: not ours and an upstream is configured; the REFUSED answer is
  // returned for when forwarding fails.
  const std::vector<uint8_t>& answer(const std::string& view, const uint8_t* data, size_t len, Transport t,
                                     bool* forward);
  Status openUpstream();
  // Sends the query upstream; false when it cannot (too many in flight, send error).
  bool forward(int fd, const Handle& h, const uint8_t* data, size_t len, const sockaddr_storage* from,
               socklen_t fromLen);
  void onUpstream();
  void expireForwards();

  DnsServerOptions options_;
  int epoll_ = -1;
  int wake_ = -1;
  int hostUdp_ = -1, hostTcp_ = -1;
  int upstream_ = -1;
  std::unordered_map<uint16_t, Forward> forwards_;  // server thread only
  uint16_t nextForwardId_ = 0;
  uint64_t nextSerial_ = 1;
  uint16_t hostPort_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  std::mutex mu_;
  std::shared_ptr<const ZoneSnapshot> pending_;  // guarded by mu_
  std::atomic<bool> hasPending_{false};
  bool needSync_ = false;                        // server thread only: resolvers to match the new snapshot
  std::shared_ptr<const ZoneSnapshot> current_;  // server thread only

  std::unordered_map<int, Handle> handles_;  // server thread only
  // Answers by what they depend on (dns/answer_cache.h), so repeated questions
  // skip ldns whatever their id, letter case or EDNS options. Cleared with every
  // snapshot.
  AnswerCache cache_;                          // server thread only
  std::map<std::string, Resolver> resolvers_;  // server thread only, by VPC id
  size_t tcpConnections_ = 0;
  int64_t lastSync_ = 0;
  std::atomic<uint64_t> udpQueries_{0}, tcpQueries_{0}, ignored_{0}, forwarded_{0}, cacheHits_{0};
  std::array<std::atomic<uint64_t>, 16> answersByRcode_{};
  void countAnswer(const uint8_t* wire, size_t len) {
    if (len >= 4) answersByRcode_[wire[3] & 0x0f].fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<size_t> openResolvers_{0};
};

}  // namespace lp::dns
