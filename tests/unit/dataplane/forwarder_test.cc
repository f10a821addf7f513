// The Forwarder against the real kernel: a consumer and a provider namespace
// (lp-tfwc-<pid>, lp-tfwp-<pid>, removed even when an assertion fails), a listener
// on the consumer side and real target servers on the provider side. Needs root.
#include "dataplane/forwarder.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "dataplane/proxy_protocol.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "net/nftables.h"
#include "../test_namespaces.h"

namespace lp::dataplane {
namespace {

using namespace std::chrono_literals;

constexpr const char* kEndpointIp = "10.201.0.50";
constexpr const char* kClientIp = "10.201.0.10";
constexpr const char* kTargetIp = "10.202.0.10";
constexpr const char* kNodeIp = "10.202.0.5";

sockaddr_in addr(const std::string& ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

void setTimeout(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Reads until EOF (or error); returns the bytes and sets *err to errno of a failure.
std::string readAll(int fd, int* err = nullptr) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (err) *err = n == 0 ? 0 : errno;
    return out;
  }
}

bool sendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// tx_queue of this thread's namespace's TCP socket from localIp to remotePort, from
// /proc/net/tcp: bytes in flight plus bytes not yet sent; -1 if there is none.
long txQueue(const std::string& localIp, unsigned remotePort) {
  FILE* f = fopen("/proc/thread-self/net/tcp", "r");
  if (!f) return -1;
  long out = -1;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    unsigned laddr, lport, raddr, rport, st;
    unsigned long tx, rx;
    int n = sscanf(line, " %*d: %8X:%X %8X:%X %X %lX:%lX", &laddr, &lport, &raddr, &rport, &st, &tx, &rx);
    if (n == 7 && laddr == addr(localIp, 0).sin_addr.s_addr && rport == remotePort) out = static_cast<long>(tx);
  }
  fclose(f);
  return out;
}

class ForwarderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    consumer_ = lp::testenv::testNamespace("fwc");
    provider_ = lp::testenv::testNamespace("fwp");
    for (const auto& [ns, addrs] : {std::pair{consumer_, std::vector<std::string>{kEndpointIp, kClientIp}},
                                    std::pair{provider_, std::vector<std::string>{kTargetIp, kNodeIp}}}) {
      ASSERT_TRUE(net::createNamespace(ns).ok());
      auto nl = net::Netlink::open(ns);
      ASSERT_TRUE(nl.ok());
      ASSERT_TRUE((*nl)->setUp("lo").ok());
      for (const auto& a : addrs) ASSERT_TRUE((*nl)->addAddress("lo", a + "/32").ok());
    }
  }
  void TearDown() override {
    fwd_.reset();
    for (int fd : servers_) shutdown(fd, SHUT_RDWR);  // wakes the blocked accept()
    for (auto& t : threads_) t.join();
    for (int fd : servers_) close(fd);
    (void)net::deleteNamespace(consumer_);
    (void)net::deleteNamespace(provider_);
  }

  // keepaliveSeconds: idle time and probe interval, with two probes (0 = the default).
  void startForwarder(uint64_t bytesPerSecond = 0, int keepaliveSeconds = 0) {
    ForwarderOptions o;
    o.loops = 2;
    o.endpointBytesPerSecond = bytesPerSecond;
    if (keepaliveSeconds > 0) {
      o.keepaliveIdleSeconds = o.keepaliveIntervalSeconds = keepaliveSeconds;
      o.keepaliveProbes = 2;
    }
    auto f = Forwarder::start(o);
    ASSERT_TRUE(f.ok());
    fwd_ = std::move(*f);
  }

  ListenerSpec listener(std::vector<int> targetPorts, bool proxy = false, bool forwarding = true) {
    ListenerSpec l;
    l.endpointId = "vpce-0123456789abcdef0";
    l.interfaceId = "eni-0123456789abcdef0";
    l.zoneId = "use1-az1";
    l.ns = consumer_;
    l.ip = kEndpointIp;
    l.port = 443;
    l.forwarding = forwarding;
    for (int p : targetPorts) {
      TargetSpec t;
      t.healthKey = "tg|" + std::string(kTargetIp) + ":" + std::to_string(p);
      t.ns = provider_;
      t.sourceIp = kNodeIp;
      t.ip = kTargetIp;
      t.port = p;
      t.zoneId = "use1-az1";
      t.proxyProtocolV2 = proxy;
      l.targets.push_back(t);
    }
    return l;
  }

  // A server in the provider namespace; each accepted connection runs fn on its own thread.
  int serve(int port, std::function<void(int)> fn) {
    auto s = net::socketInNamespace(provider_, AF_INET, SOCK_STREAM);
    EXPECT_TRUE(s.ok());
    int one = 1;
    setsockopt(*s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto a = addr(kTargetIp, port);
    EXPECT_EQ(bind(*s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << strerror(errno);
    EXPECT_EQ(listen(*s, 64), 0);
    int lfd = *s;
    servers_.push_back(lfd);
    threads_.emplace_back([lfd, fn] {
      for (;;) {
        int c = accept(lfd, nullptr, nullptr);
        // Out of descriptors (OutOfDescriptors... fills this process's table) a
        // server waits, as a real one does; it used to quit, and the test then
        // waited 5 s for an echo nobody would send (1 run in 5 under load).
        if (c < 0 && (errno == EMFILE || errno == ENFILE)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
          continue;
        }
        if (c < 0) return;  // shut down
        setTimeout(c, 5000);
        fn(c);
        close(c);
      }
    });
    return lfd;
  }
  void stopServer(int lfd) { shutdown(lfd, SHUT_RDWR); }

  int dial(int timeoutMs = 5000, int port = 443) {
    auto s = net::socketInNamespace(consumer_, AF_INET, SOCK_STREAM);
    EXPECT_TRUE(s.ok());
    auto src = addr(kClientIp, 0);
    EXPECT_EQ(bind(*s, reinterpret_cast<sockaddr*>(&src), sizeof src), 0);
    setTimeout(*s, timeoutMs);
    auto a = addr(kEndpointIp, port);
    if (connect(*s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      close(*s);
      return -1;
    }
    return *s;
  }

  std::string consumer_, provider_;
  std::unique_ptr<Forwarder> fwd_;
  std::vector<int> servers_;
  std::vector<std::thread> threads_;
};

TEST_F(ForwarderTest, BytesFlowBothWaysAndHalfClosePropagates) {
  startForwarder();
  std::string seenPeer;
  serve(7001, [&](int c) {
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    getpeername(c, reinterpret_cast<sockaddr*>(&peer), &len);
    seenPeer = inet_ntoa(peer.sin_addr);
    std::string got = readAll(c);  // until the client's FIN arrives through the forwarder
    sendAll(c, "echo:" + got);
  });
  Snapshot s;
  s.listeners.push_back(listener({7001}));
  EXPECT_TRUE(fwd_->update(s).listenerErrors.empty());

  int c = dial();
  ASSERT_GE(c, 0);
  ASSERT_TRUE(sendAll(c, "hello"));
  shutdown(c, SHUT_WR);  // half-close: the server sees EOF and can still answer
  int err = -1;
  EXPECT_EQ(readAll(c, &err), "echo:hello");
  EXPECT_EQ(err, 0);  // a clean FIN back
  close(c);
  EXPECT_EQ(seenPeer, kNodeIp);  // the target sees the load balancer node address

  // A large transfer, checked byte for byte.
  std::string big(8 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  c = dial();
  ASSERT_GE(c, 0);
  std::thread writer([&] {
    sendAll(c, big);
    shutdown(c, SHUT_WR);
  });
  std::string back = readAll(c);
  writer.join();
  close(c);
  EXPECT_EQ(back.size(), big.size() + 5);
  EXPECT_TRUE(back == "echo:" + big);

  std::this_thread::sleep_for(100ms);
  auto counters = fwd_->counters();
  auto e = counters.endpoints["vpce-0123456789abcdef0"];
  EXPECT_EQ(e.connections, 2u);
  EXPECT_EQ(e.active, 0u);
  EXPECT_EQ(e.bytesIn, 5u + big.size());
  EXPECT_EQ(e.bytesOut, 10u + big.size() + 5);
  EXPECT_EQ(counters.interfaces["eni-0123456789abcdef0"].bytesIn, e.bytesIn);
}

// Readers slower than writers on both sides: the forwarder keeps reading into its
// pipes while the destination is blocked, and must neither lose nor reorder bytes
// nor spin; the pipe full versus socket empty case is exercised on every pause.
TEST_F(ForwarderTest, SlowReadersOnBothSidesLoseNothing) {
  startForwarder();
  auto slowRead = [](int fd) {
    std::string out;
    char buf[1000];
    for (int i = 0;; ++i) {
      if (i % 512 == 0) std::this_thread::sleep_for(2ms);
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  };
  serve(7005, [&](int c) {
    std::this_thread::sleep_for(200ms);  // everything piles up in the forwarder first
    std::string got = slowRead(c);
    sendAll(c, got);
  });
  Snapshot s;
  s.listeners.push_back(listener({7005}));
  EXPECT_TRUE(fwd_->update(s).listenerErrors.empty());
  std::string big(6 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2246822519u) >> 11);
  int c = dial(20000);
  ASSERT_GE(c, 0);
  std::thread writer([&] {
    sendAll(c, big);
    shutdown(c, SHUT_WR);
  });
  std::this_thread::sleep_for(100ms);
  std::string back = slowRead(c);
  writer.join();
  close(c);
  EXPECT_EQ(back.size(), big.size());
  EXPECT_TRUE(back == big);
}

TEST_F(ForwarderTest, ProxyProtocolV2HeaderComesFirst) {
  startForwarder();
  std::string got;
  serve(7001, [&](int c) { got = readAll(c); });
  Snapshot s;
  s.listeners.push_back(listener({7001}, /*proxy=*/true));
  EXPECT_TRUE(fwd_->update(s).listenerErrors.empty());
  int c = dial();
  ASSERT_GE(c, 0);
  sockaddr_in local{};
  socklen_t len = sizeof local;
  getsockname(c, reinterpret_cast<sockaddr*>(&local), &len);
  sendAll(c, "payload");
  close(c);
  std::this_thread::sleep_for(300ms);
  std::string header = encodeProxyV2(local, addr(kEndpointIp, 443), "vpce-0123456789abcdef0");
  EXPECT_EQ(got, header + "payload");
}

TEST_F(ForwarderTest, ResetPropagatesFromTheTarget) {
  startForwarder();
  serve(7001, [&](int c) {
    char b[5];
    recv(c, b, sizeof b, MSG_WAITALL);
    linger l{1, 0};
    setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);  // close() sends RST
  });
  Snapshot s;
  s.listeners.push_back(listener({7001}));
  ASSERT_TRUE(fwd_->update(s).listenerErrors.empty());
  int c = dial();
  ASSERT_GE(c, 0);
  sendAll(c, "hello");
  int err = 0;
  readAll(c, &err);
  EXPECT_EQ(err, ECONNRESET);
  close(c);
}

TEST_F(ForwarderTest, ResetPropagatesFromTheClient) {
  startForwarder();
  std::atomic<int> serverErr{-1};
  serve(7001, [&](int c) {
    int e = 0;
    readAll(c, &e);
    serverErr = e;
  });
  Snapshot s;
  s.listeners.push_back(listener({7001}));
  ASSERT_TRUE(fwd_->update(s).listenerErrors.empty());
  int c = dial();
  ASSERT_GE(c, 0);
  sendAll(c, "x");
  std::this_thread::sleep_for(100ms);
  linger l{1, 0};
  setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(c);
  for (int i = 0; i < 50 && serverErr == -1; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(serverErr, ECONNRESET);
}

TEST_F(ForwarderTest, EndpointThatStopsForwardingCutsLiveConnections) {
  startForwarder();
  serve(7001, [&](int c) { readAll(c); });
  Snapshot s;
  s.listeners.push_back(listener({7001}));
  ASSERT_TRUE(fwd_->update(s).listenerErrors.empty());
  int c = dial();
  ASSERT_GE(c, 0);
  sendAll(c, "x");
  std::this_thread::sleep_for(100ms);
  // Rejected: the listener stays but forwards no more, and live connections are reset.
  s.listeners[0].forwarding = false;
  ASSERT_TRUE(fwd_->update(s).listenerErrors.empty());
  int err = 0;
  readAll(c, &err);
  EXPECT_EQ(err, ECONNRESET);
  close(c);
  // New connections are refused with a reset too.
  int d = dial();
  if (d >= 0) {
    readAll(d, &err);
    EXPECT_EQ(err, ECONNRESET);
    close(d);
  }
  // Gone from the snapshot: nothing listens any more.
  ASSERT_TRUE(fwd_->update(Snapshot{}).listenerErrors.empty());
  std::this_thread::sleep_for(100ms);
  EXPECT_LT(dial(), 0);
}

TEST_F(ForwarderTest, ListenerRemovedFromAForwardingEndpointCutsItsConnections) {
  startForwarder();
  serve(7001, [&](int c) { readAll(c); });
  Snapshot s;
  s.listeners.push_back(listener({7001}));
  s.listeners.push_back(listener({7001}));
  s.listeners[1].port = 444;
  ASSERT_TRUE(fwd_->update(s).listenerErrors.empty());
  int c = dial(5000, 443);
  ASSERT_GE(c, 0);
  sendAll(c, "x");
  std::this_thread::sleep_for(100ms);
  s.listeners.erase(s.listeners.begin());  // the endpoint still forwards on 444
  ASSERT_TRUE(fwd_->update(s).listenerErrors.empty());
  int err = 0;
  readAll(c, &err);
  EXPECT_EQ(err, ECONNRESET);
  close(c);
  int d = dial(5000, 444);
  EXPECT_GE(d, 0);
  if (d >= 0) close(d);
}

TEST_F(ForwarderTest, HealthChecksMoveTrafficOffAStoppedTarget) {
  startForwarder();
  // Each server says its name; A, once told to, then holds the connection until
  // the other side ends it. B never holds.
  std::atomic<bool> holdA{false}, holdB{false};
  auto answer = [](const char* name, std::atomic<bool>& hold) {
    return [name, &hold](int c) {
      sendAll(c, name);
      if (hold) readAll(c);
    };
  };
  int a = serve(7001, answer("A", holdA));
  serve(7002, answer("B", holdB));
  Snapshot s;
  s.listeners.push_back(listener({7001, 7002}));
  for (int p : {7001, 7002}) {
    HealthCheckSpec h;
    h.key = "tg|" + std::string(kTargetIp) + ":" + std::to_string(p);
    h.ns = provider_;
    h.sourceIp = kNodeIp;
    h.ip = kTargetIp;
    h.port = p;
    h.intervalSeconds = 1;
    h.timeoutSeconds = 1;
    h.healthyThreshold = 1;
    h.unhealthyThreshold = 1;
    s.healthChecks.push_back(h);
  }
  ASSERT_TRUE(fwd_->update(s).listenerErrors.empty());
  auto bothHealthy = [&] {
    auto h = fwd_->health();
    return h.size() == 2 && h.begin()->second.state == Health::kHealthy && h.rbegin()->second.state == Health::kHealthy;
  };
  for (int i = 0; i < 50 && !bothHealthy(); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(bothHealthy());
  std::set<std::string> seen;
  for (int i = 0; i < 30; ++i) {
    int c = dial();
    ASSERT_GE(c, 0);
    seen.insert(readAll(c));
    close(c);
  }
  EXPECT_EQ(seen, (std::set<std::string>{"A", "B"}));

  // A connection held open to A is reset when A turns unhealthy (NLB default).
  // holdA stays set: clearing it could let A's handler, not yet past its check,
  // close the connection with a FIN before the reset.
  holdA = true;
  int held = -1;
  for (int i = 0; i < 20 && held < 0; ++i) {
    int c = dial();
    ASSERT_GE(c, 0);
    char b;
    if (recv(c, &b, 1, 0) == 1 && b == 'A') {
      held = c;
    } else {
      close(c);
    }
  }
  ASSERT_GE(held, 0);
  stopServer(a);
  auto aDown = [&] { return fwd_->health()["tg|10.202.0.10:7001"].state == Health::kUnhealthy; };
  for (int i = 0; i < 60 && !aDown(); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(aDown());
  EXPECT_EQ(fwd_->health()["tg|10.202.0.10:7001"].reason, "Target.FailedHealthChecks");
  int err = 0;
  EXPECT_EQ(readAll(held, &err), "");
  EXPECT_EQ(err, ECONNRESET);
  close(held);
  for (int i = 0; i < 20; ++i) {
    int c = dial();
    ASSERT_GE(c, 0);
    EXPECT_EQ(readAll(c), "B");
    close(c);
  }
}

// A request/response protocol that writes each message in two pieces, a few
// milliseconds apart, both ways. Once the peers are in interactive mode they delay
// their ACKs (40 ms or more), so a data plane with Nagle on would hold each second
// piece until the first one is acknowledged: every exchange would take 40 ms or
// more instead of about 10. Client and server turn Nagle off themselves, as
// interactive programs do.
TEST_F(ForwarderTest, MessagesInSmallPiecesAreNotHeldBack) {
  startForwarder();
  auto twoPieces = [](int fd, const char* a, const char* b) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (send(fd, a, 1, MSG_NOSIGNAL) != 1) return false;
    std::this_thread::sleep_for(5ms);
    return send(fd, b, 1, MSG_NOSIGNAL) == 1;
  };
  auto readN = [](int fd, size_t n) {
    std::string out;
    char buf[16];
    while (out.size() < n) {
      ssize_t k = recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
      if (k <= 0) break;
      out.append(buf, static_cast<size_t>(k));
    }
    return out;
  };
  serve(7001, [&](int c) {
    while (readN(c, 2) == "rq" && twoPieces(c, "o", "k")) {
    }
  });
  Snapshot s;
  s.listeners.push_back(listener({7001}));
  ASSERT_TRUE(fwd_->update(s).listenerErrors.empty());
  int c = dial();
  ASSERT_GE(c, 0);
  std::vector<double> ms;
  for (int i = 0; i < 30; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(twoPieces(c, "r", "q"));
    ASSERT_EQ(readN(c, 2), "ok");
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  close(c);
  std::sort(ms.begin(), ms.end());
  EXPECT_LT(ms[ms.size() / 2], 30.0) << "median exchange in ms; slowest " << ms.back();
}

// Bytes queued in the kernel for a target that reads slowly stay bounded in the
// data plane's outgoing socket (TCP_NOTSENT_LOWAT): the rest waits in the client's
// socket and TCP window, not in the data plane's memory.
TEST_F(ForwarderTest, UnsentBytesForASlowTargetStayBounded) {
  startForwarder();
  std::atomic<bool> drain{false};
  std::atomic<size_t> got{0};
  serve(7001, [&](int c) {
    while (!drain) std::this_thread::sleep_for(10ms);
    got = readAll(c).size();
  });
  Snapshot s;
  s.listeners.push_back(listener({7001}));
  ASSERT_TRUE(fwd_->update(s).listenerErrors.empty());
  int c = dial(10000);
  ASSERT_GE(c, 0);
  const size_t total = 16 << 20;
  std::thread writer([&] {
    sendAll(c, std::string(total, 'x'));
    shutdown(c, SHUT_WR);
  });
  std::this_thread::sleep_for(1s);  // the target's window is full by now
  // tx_queue of the data plane's socket to the target (node address -> port 7001):
  // bytes in flight (at most the target's receive window) plus bytes not yet sent.
  long queued = -1;
  Status scanned = net::runInNamespace(provider_, [&] {
    queued = txQueue(kNodeIp, 7001);
    return Status::Ok();
  });
  drain = true;  // before any assertion: the writer and the server must finish
  writer.join();
  close(c);
  ASSERT_TRUE(scanned.ok()) << scanned.message();
  for (int i = 0; i < 500 && got < total; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(got, total);
  ASSERT_GE(queued, 0) << "no socket to the target";
  EXPECT_LT(queued, 512 << 10) << "bytes queued in the data plane's socket to the target";
}

// With every descriptor of the process in use, accept() fails while the listener
// stays readable. The data plane must not spin on it, and the connection waiting in
// the backlog is served once descriptors are free again.
TEST_F(ForwarderTest, OutOfDescriptorsNeitherSpinsNorDropsTheWaitingConnection) {
  startForwarder();
  serve(7001, [](int c) { sendAll(c, "echo:" + readAll(c)); });
  Snapshot s;
  s.listeners.push_back(listener({7001}));
  ASSERT_TRUE(fwd_->update(s).listenerErrors.empty());
  auto made = net::socketInNamespace(consumer_, AF_INET, SOCK_STREAM);
  ASSERT_TRUE(made.ok());
  int c = *made;
  setTimeout(c, 5000);
  auto src = addr(kClientIp, 0);
  ASSERT_EQ(bind(c, reinterpret_cast<sockaddr*>(&src), sizeof src), 0);

  // Fill the descriptor table (under a limit of at most 4096, to keep this small).
  struct Filled {
    rlimit old{};
    std::vector<int> fds;
    ~Filled() {
      for (int fd : fds) close(fd);
      setrlimit(RLIMIT_NOFILE, &old);
    }
  } filled;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &filled.old), 0);
  rlimit low = filled.old;
  low.rlim_cur = std::min<rlim_t>(low.rlim_cur, 4096);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  for (int fd; (fd = dup(c)) >= 0;) filled.fds.push_back(fd);
  ASSERT_EQ(errno, EMFILE);

  // The handshake completes in the kernel; the data plane cannot accept it.
  auto a = addr(kEndpointIp, 443);
  ASSERT_EQ(connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << strerror(errno);
  rusage r0{}, r1{};
  getrusage(RUSAGE_SELF, &r0);
  std::this_thread::sleep_for(500ms);
  getrusage(RUSAGE_SELF, &r1);
  auto cpuMs = [](const rusage& r) {
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000.0 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1000.0;
  };
  double used = cpuMs(r1) - cpuMs(r0);
  for (int fd : filled.fds) close(fd);
  filled.fds.clear();
  EXPECT_LT(used, 150.0) << "ms of CPU in 500 ms while out of descriptors";

  ASSERT_TRUE(sendAll(c, "hello"));
  shutdown(c, SHUT_WR);
  EXPECT_EQ(readAll(c), "echo:hello");
  close(c);
}

// A client that vanishes without a FIN or RST (here: every packet to it dropped) is
// found by keepalive, and its target gets a reset instead of an idle connection that
// lasts forever. A live client that is idle for longer keeps its connection.
TEST_F(ForwarderTest, AVanishedClientIsFoundAndItsTargetReset) {
  startForwarder(0, 1);  // probes after 1 s idle, 1 s apart, two of them
  std::mutex mu;
  std::vector<int> errs;
  serve(7001, [&](int c) {
    setTimeout(c, 20000);
    char b[64];
    for (ssize_t n; (n = recv(c, b, sizeof b, 0)) > 0;) sendAll(c, std::string(b, static_cast<size_t>(n)));
    std::lock_guard<std::mutex> g(mu);
    errs.push_back(errno);
  });
  Snapshot s;
  s.listeners.push_back(listener({7001}));
  ASSERT_TRUE(fwd_->update(s).listenerErrors.empty());
  auto exchange = [](int fd, const std::string& m) {
    char b[64];
    return sendAll(fd, m) && recv(fd, b, sizeof b, 0) == static_cast<ssize_t>(m.size());
  };

  int live = dial();
  ASSERT_GE(live, 0);
  ASSERT_TRUE(exchange(live, "one"));
  std::this_thread::sleep_for(4500ms);  // idle longer than the probes take to give up
  EXPECT_TRUE(exchange(live, "two")) << "an idle live client lost its connection";
  close(live);

  int gone = dial();
  ASSERT_GE(gone, 0);
  ASSERT_TRUE(exchange(gone, "three"));
  sockaddr_in local{};
  socklen_t len = sizeof local;
  getsockname(gone, reinterpret_cast<sockaddr*>(&local), &len);
  std::string drop = R"({"nftables":[{"add":{"table":{"family":"inet","name":"lp-tka"}}},
    {"add":{"chain":{"family":"inet","table":"lp-tka","name":"out","type":"filter","hook":"output","prio":0,"policy":"accept"}}},
    {"add":{"rule":{"family":"inet","table":"lp-tka","chain":"out","expr":[{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":)" +
                     std::to_string(ntohs(local.sin_port)) + R"(}},{"drop":null}]}}}]})";
  ASSERT_TRUE(net::nftRunJson(consumer_, drop).ok());
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard<std::mutex> g(mu);
      if (errs.size() == 2) break;
    }
    std::this_thread::sleep_for(50ms);
  }
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  close(gone);
  std::lock_guard<std::mutex> g(mu);
  ASSERT_EQ(errs.size(), 2u) << "the target's connection to a vanished client is still open after 10 s";
  EXPECT_EQ(errs[1], ECONNRESET);
  EXPECT_LT(waited, 8.0);
  EXPECT_EQ(fwd_->counters().endpoints["vpce-0123456789abcdef0"].active, 0u);
}

TEST_F(ForwarderTest, BandwidthIsCappedPerEndpoint) {
  startForwarder(4'000'000);  // 4 MB/s
  // Shared with the server thread, which may still be reading when a slow run gives up
  // waiting: a local would be written after the test returned.
  auto got = std::make_shared<std::atomic<size_t>>(0);
  serve(7001, [got](int c) { *got = readAll(c).size(); });
  Snapshot s;
  s.listeners.push_back(listener({7001}));
  ASSERT_TRUE(fwd_->update(s).listenerErrors.empty());
  int c = dial();
  ASSERT_GE(c, 0);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(sendAll(c, std::string(2'000'000, 'x')));
  close(c);
  for (int i = 0; i < 1000 && *got < 2'000'000; ++i) std::this_thread::sleep_for(10ms);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(*got, 2'000'000u);
  EXPECT_GT(secs, 0.4);  // 2 MB at 4 MB/s is 0.5 s: the cap holds it back
  // and does not hold it back far more than it should (a loaded machine adds seconds,
  // so only a gross error, a cap several times too strict, fails here).
  EXPECT_LT(secs, 5.0);
}

}  // namespace
}  // namespace lp::dataplane
