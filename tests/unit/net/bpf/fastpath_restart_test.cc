// The BPF fast path across a daemon's death and restart, with real connections in
// the scratch topology of fastpath_traffic.h: a forked "daemon" makes and pins the
// maps (adoptOrCreate, on a bpffs the test mounts through it), loads and attaches the
// programs, and is killed with SIGKILL while a connection streams both ways; a second
// one adopts the pins, loads new copies and replaces the filters in place, and stops
// cleanly (detach, teardown). And the pins a start cannot adopt (another build's
// layout, fields moved at the same sizes, other sizes, an incomplete set), a bpffs
// mounted on the pin directory, a directory that is not on a bpffs. Needs root.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <thread>

#include "fastpath_traffic.h"
#include "net/bpf/bpffs.h"
#include "net/bpf/fastpath_pins.h"

namespace lp::net::bpf {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Paced traffic both ways over one connection (1 KiB every millisecond each way),
// every byte checked, the longest pause between two arrivals measured.
class Stream {
 public:
  struct Way {
    std::atomic<uint64_t> sent{0}, received{0};
    std::atomic<int64_t> maxGapUs{0}, lastUs{0};  // lastUs: the last arrival, steady clock
    std::atomic<bool> corrupt{false};
    std::atomic<int> error{0};  // errno of a failed send or receive; -1: the peer closed
  };

  Stream(int a, int b) : a_(a), b_(b) {
    threads_.emplace_back([this] { send(a_, aToB); });
    threads_.emplace_back([this] { send(b_, bToA); });
    threads_.emplace_back([this] { receive(b_, aToB); });
    threads_.emplace_back([this] { receive(a_, bToA); });
  }
  ~Stream() { stop(); }

  // Stops sending and waits until each side has what the other sent (3 s at most).
  void stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  // Forgets the longest pause so far: the next one measured is after this call.
  void resetGaps() {
    aToB.maxGapUs = 0;
    bToA.maxGapUs = 0;
  }
  // The longest pause between arrivals either way since resetGaps, counting the one
  // still going on (a way that stopped has paused since its last arrival).
  int64_t longestPauseUs() const {
    int64_t now = micros(Clock::now());
    int64_t longest = 0;
    for (const Way* way : {&aToB, &bToA})
      longest = std::max({longest, way->maxGapUs.load(), way->lastUs ? now - way->lastUs : 0});
    return longest;
  }
  // Waits until both ways have received at least `bytes` more than now.
  bool flows(uint64_t bytes) {
    uint64_t a = aToB.received + bytes, b = bToA.received + bytes;
    auto deadline = Clock::now() + milliseconds(3000);
    while (Clock::now() < deadline) {
      if (aToB.received >= a && bToA.received >= b) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }

  Way aToB, bToA;

 private:
  static unsigned char pattern(uint64_t offset) { return static_cast<unsigned char>(offset % 251); }
  static int64_t micros(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  }

  void send(int fd, Way& way) {
    unsigned char buf[1024];
    while (!stop_) {
      for (size_t i = 0; i < sizeof buf; ++i) buf[i] = pattern(way.sent + i);
      ssize_t n = ::send(fd, buf, sizeof buf, MSG_NOSIGNAL);
      if (n <= 0) {
        way.error = errno;
        break;
      }
      way.sent += static_cast<uint64_t>(n);
      std::this_thread::sleep_for(milliseconds(1));
    }
    sendersDone_ += 1;
  }

  void receive(int fd, Way& way) {
    unsigned char buf[65536];
    auto deadline = Clock::time_point::max();
    while (Clock::now() < deadline) {
      if (stop_ && sendersDone_ == 2) {
        if (deadline == Clock::time_point::max()) deadline = Clock::now() + milliseconds(3000);
        if (way.received == way.sent) return;
      }
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 20) != 1) continue;
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        way.error = n == 0 ? -1 : errno;
        return;
      }
      int64_t now = micros(Clock::now());
      if (way.lastUs != 0 && now - way.lastUs > way.maxGapUs) way.maxGapUs = now - way.lastUs;
      way.lastUs = now;
      for (ssize_t i = 0; i < n; ++i)
        if (buf[i] != pattern(way.received + static_cast<uint64_t>(i))) way.corrupt = true;
      way.received += static_cast<uint64_t>(n);
    }
  }

  int a_, b_;
  std::atomic<bool> stop_{false};
  std::atomic<int> sendersDone_{0};
  std::vector<std::thread> threads_;
};

// Segments the socket's side retransmitted (a packet lost anywhere on the path).
uint32_t retransmissions(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len), 0);
  return info.tcpi_total_retrans;
}

// A "daemon": a child process (forked while a Stream's threads run: they hold no
// lock the child takes, and glibc's fork keeps malloc usable) that runs start, reports its result (one line, "ok..."
// on success) and then, on a line from the test, runs stop and reports that. The
// test kills it with SIGKILL or asks it to stop.
class Daemon {
 public:
  Daemon(const std::function<std::string()>& start, const std::function<std::string()>& stop) {
    int report[2], command[2];
    if (pipe(report) != 0 || pipe(command) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(report[0]);
      close(command[1]);
      std::string line = start() + "\n";
      (void)!write(report[1], line.data(), line.size());
      char c;
      if (read(command[0], &c, 1) == 1) {  // EOF: the test is gone; exit as if killed
        line = stop() + "\n";
        (void)!write(report[1], line.data(), line.size());
      }
      _exit(0);
    }
    close(report[1]);
    close(command[0]);
    report_ = report[0];
    command_ = command[1];
  }
  ~Daemon() {
    kill9();
    if (report_ >= 0) close(report_);
    if (command_ >= 0) close(command_);
  }

  pid_t pid() const { return pid_; }
  // The daemon's next report; "" when none came within 30 s (loading programs on a
  // busy machine takes seconds).
  std::string report() {
    std::string line;
    char c;
    while (true) {
      pollfd p{report_, POLLIN, 0};
      if (poll(&p, 1, 30000) != 1 || read(report_, &c, 1) != 1) return line;
      if (c == '\n') return line;
      line += c;
    }
  }
  void askToStop() { (void)!write(command_, "s", 1); }
  // Waits for the process; its wait status.
  int reap() {
    int status = 0;
    if (pid_ > 0) waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  void kill9() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      reap();
    }
  }

 private:
  pid_t pid_ = -1;
  int report_ = -1, command_ = -1;
};

// A pin directory lp-tpin-XXXXXX/linkplane under /tmp, whose parent adoptOrCreate
// mounts a bpffs on (as the daemon mounts /sys/fs/bpf); small maps.
class PinDirectory {
 protected:
  bool makePinDirectory() {
    char tmpl[] = "/tmp/lp-tpin-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return false;
    root_ = tmpl;
    dir_ = root_ + "/linkplane";
    limits_.connections = 4096;
    limits_.links = 16;
    limits_.endpoints = limits_.targetSets = limits_.hosts = 64;
    return true;
  }
  // Unmounts every bpffs on the parent (the pins go with it) and removes it.
  void removePinDirectory() {
    if (root_.empty()) return;
    for (const auto& mountPoint : {dir_, root_})
      while (isBpffs(mountPoint) && umount2(mountPoint.c_str(), MNT_DETACH) == 0) {
      }
    rmdir(dir_.c_str());
    unlink((root_ + "/keep").c_str());
    rmdir(root_.c_str());
  }

  std::string root_, dir_;
  FastpathLimits limits_;
};

// The traffic topology and a pin directory.
class FastpathRestartTest : public FastpathTrafficTest, protected PinDirectory {
 protected:
  void SetUp() override {
    FastpathTrafficTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(makePinDirectory());
  }
  void TearDown() override {
    removePinDirectory();
    FastpathTrafficTest::TearDown();
  }

  // What a daemon does at start: adopt or make the pins, write the plan, load a copy
  // per space, attach. "ok adopted <entries>" or "ok fresh", else what failed.
  std::string startDaemon() const {
    auto pins = adoptOrCreate(dir_, limits_);
    if (!pins.ok()) return "adoptOrCreate: " + pins.status().toString();
    Status st = installLink(*pins->maps);
    if (!st.ok()) return "installLink: " + st.toString();
    auto cp = FastpathPrograms::load(*pins->maps, kC);
    auto pp = FastpathPrograms::load(*pins->maps, kP);
    if (!cp.ok() || !pp.ok()) return "load: " + cp.status().toString() + pp.status().toString();
    st = attachPrograms(**cp, **pp);
    if (!st.ok()) return "attach: " + st.toString();
    if (!pins->adopted) return "ok fresh" + pins->discarded;
    auto entries = pins->maps->connectionCount();
    return "ok adopted " + (entries.ok() ? std::to_string(*entries) : entries.status().toString());
  }
  // What a daemon does at a clean stop: detach, then remove the pins.
  std::string stopDaemon() const {
    auto cfd = openNamespace(c_), pfd = openNamespace(p_);
    if (!cfd.ok() || !pfd.ok()) return "open namespaces";
    for (const Hook& h : kHooks)
      if (Status st = detachTc(h.consumer ? *cfd : *pfd, h.device, h.hook); !st.ok()) return st.toString();
    close(*cfd);
    close(*pfd);
    Status st = teardown(dir_);
    return st.ok() ? "ok" : st.toString();
  }
};

TEST_F(FastpathRestartTest, EstablishedConnectionsSurviveKill9AndTheRestartThatAdoptsThePins) {
  Daemon first([this] { return startDaemon(); }, [] { return std::string("not asked"); });
  ASSERT_GT(first.pid(), 0);
  ASSERT_EQ(first.report(), "ok fresh");
  EXPECT_TRUE(isBpffs(root_)) << "adoptOrCreate mounts a bpffs on the pin directory's parent";
  std::vector<uint32_t> firstIds = attachedIds();
  for (uint32_t id : firstIds) EXPECT_NE(id, 0u);

  int lsn = listenOnTarget();
  ASSERT_GE(lsn, 0);
  auto cli = connectClient();
  ASSERT_TRUE(cli.ok()) << cli.status().toString();
  sockaddr_in peer{};
  socklen_t plen = sizeof peer;
  int srv = accept(lsn, reinterpret_cast<sockaddr*>(&peer), &plen);
  ASSERT_GE(srv, 0) << std::strerror(errno);
  setTimeouts(srv);
  EXPECT_EQ(peer.sin_addr.s_addr, ip("10.0.2.200"));

  Stream stream(*cli, srv);
  ASSERT_TRUE(stream.flows(64 * 1024)) << "the connection carries data both ways through the first daemon's programs";
  stream.resetGaps();
  ASSERT_TRUE(stream.flows(128 * 1024));
  int64_t gapBefore = stream.longestPauseUs();

  // kill -9: nothing of the fast path is the process's.
  stream.resetGaps();
  first.kill9();
  EXPECT_EQ(attachedIds(), firstIds) << "the filters keep the dead daemon's programs";
  EXPECT_TRUE(stream.flows(128 * 1024)) << "both ways after kill -9";
  int64_t gapAtKill = stream.longestPauseUs();

  // The restart adopts the pins, writes its plan again, loads new copies, replaces the filters.
  stream.resetGaps();
  Daemon second([this] { return startDaemon(); }, [this] { return stopDaemon(); });
  ASSERT_GT(second.pid(), 0);
  EXPECT_EQ(second.report(), "ok adopted 2") << "one connection: an entry each way";
  std::vector<uint32_t> secondIds = attachedIds();
  ASSERT_EQ(secondIds.size(), firstIds.size());
  for (size_t i = 0; i < secondIds.size(); ++i) {
    EXPECT_NE(secondIds[i], 0u) << kHooks[i].device;
    EXPECT_NE(secondIds[i], firstIds[i]) << kHooks[i].device << ": replaced by the new daemon's copy";
  }
  EXPECT_TRUE(stream.flows(128 * 1024)) << "both ways after the restart replaced the filters";
  int64_t gapAtReplace = stream.longestPauseUs();

  // A new connection through the new programs.
  auto cli2 = connectClient();
  ASSERT_TRUE(cli2.ok()) << cli2.status().toString();
  int srv2 = accept(lsn, reinterpret_cast<sockaddr*>(&peer), &plen);
  ASSERT_GE(srv2, 0) << std::strerror(errno);
  setTimeouts(srv2);
  EXPECT_EQ(peer.sin_addr.s_addr, ip("10.0.2.200"));
  char buf[8];
  ASSERT_EQ(send(*cli2, "ping", 4, 0), 4);
  ASSERT_EQ(recv(srv2, buf, sizeof buf, 0), 4);
  ASSERT_EQ(send(srv2, "pong", 4, 0), 4);
  ASSERT_EQ(recv(*cli2, buf, sizeof buf, 0), 4);
  EXPECT_EQ(std::string(buf, 4), "pong");

  stream.stop();
  for (Stream::Way* way : {&stream.aToB, &stream.bToA}) {
    EXPECT_EQ(way->error, 0) << std::strerror(way->error) << " (-1: closed)";
    EXPECT_FALSE(way->corrupt);
    EXPECT_EQ(way->received, way->sent);
  }
  // No segment was lost: a drop while a filter was replaced would be retransmitted.
  EXPECT_EQ(retransmissions(*cli), 0u);
  EXPECT_EQ(retransmissions(srv), 0u);
  // 1 KiB a millisecond each way; a loss would stall for the retransmission timeout (>= 200 ms).
  EXPECT_LT(gapAtKill, 200000);
  EXPECT_LT(gapAtReplace, 200000);
  std::printf("longest pause in arrivals: %.1f ms before, %.1f ms around kill -9, %.1f ms around the restart\n",
              gapBefore / 1000.0, gapAtKill / 1000.0, gapAtReplace / 1000.0);
  {
    auto maps = FastpathMaps::openPinned(dir_);
    ASSERT_TRUE(maps.ok()) << maps.status().toString();
    auto s = (*maps)->linkStats(kLinkId);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->new_conns, 2u) << "the counters are the first daemon's, adopted";
    EXPECT_GE(s->fwd_bytes, stream.aToB.sent.load());
    EXPECT_GE(s->rev_bytes, stream.bToA.sent.load());
    EXPECT_EQ(s->drops, 0u);
  }

  // A clean stop: detached, pins gone.
  second.askToStop();
  EXPECT_EQ(second.report(), "ok");
  int status = second.reap();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  for (uint32_t id : attachedIds()) EXPECT_EQ(id, 0u);
  struct stat st;
  EXPECT_NE(stat(dir_.c_str(), &st), 0) << dir_ << " is removed";
  for (int fd : {*cli, srv, *cli2, srv2, lsn}) close(fd);
}

TEST_F(FastpathRestartTest, ReplacingTheFiltersUnderAStreamLosesNothing) {
  auto pins = adoptOrCreate(dir_, limits_);
  ASSERT_TRUE(pins.ok()) << pins.status().toString();
  ASSERT_TRUE(installLink(*pins->maps).ok());
  {
    auto cp = FastpathPrograms::load(*pins->maps, kC), pp = FastpathPrograms::load(*pins->maps, kP);
    ASSERT_TRUE(cp.ok() && pp.ok());
    ASSERT_TRUE(attachPrograms(**cp, **pp).ok());
  }
  int lsn = listenOnTarget();
  ASSERT_GE(lsn, 0);
  auto cli = connectClient();
  ASSERT_TRUE(cli.ok()) << cli.status().toString();
  int srv = accept(lsn, nullptr, nullptr);
  ASSERT_GE(srv, 0);
  setTimeouts(srv);
  Stream stream(*cli, srv);
  ASSERT_TRUE(stream.flows(64 * 1024));
  stream.resetGaps();
  constexpr int kReplacements = 20;
  for (int i = 0; i < kReplacements; ++i) {
    auto cp = FastpathPrograms::load(*pins->maps, kC), pp = FastpathPrograms::load(*pins->maps, kP);
    ASSERT_TRUE(cp.ok() && pp.ok());
    std::vector<uint32_t> before = attachedIds();
    ASSERT_TRUE(attachPrograms(**cp, **pp).ok());
    std::vector<uint32_t> after = attachedIds();
    for (size_t h = 0; h < after.size(); ++h) ASSERT_NE(after[h], before[h]);
  }
  EXPECT_TRUE(stream.flows(64 * 1024));
  int64_t gap = stream.longestPauseUs();
  stream.stop();
  for (Stream::Way* way : {&stream.aToB, &stream.bToA}) {
    EXPECT_EQ(way->error, 0);
    EXPECT_FALSE(way->corrupt);
    EXPECT_EQ(way->received, way->sent);
  }
  EXPECT_EQ(retransmissions(*cli), 0u);
  EXPECT_EQ(retransmissions(srv), 0u);
  EXPECT_LT(gap, 200000);
  std::printf("%d replacements of the five filters: longest pause in arrivals %.1f ms\n", kReplacements, gap / 1000.0);
  EXPECT_EQ(pins->maps->linkStats(kLinkId)->drops, 0u);
  for (int fd : {*cli, srv, lsn}) close(fd);
  ASSERT_TRUE(teardown(dir_).ok());
}

// Pins a start cannot adopt (no traffic).
class FastpathPinsTest : public ::testing::Test, protected PinDirectory {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "the BPF fast path's tests need root";
    ASSERT_TRUE(makePinDirectory());
  }
  void TearDown() override { removePinDirectory(); }

  // How many times root_ is a mount point.
  int mounts() const {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    int n = 0;
    while (std::getline(in, line))
      if (line.find(" " + root_ + " ") != std::string::npos) ++n;
    return n;
  }
  // A start's fresh maps, pinned, with endpoint 10.0.1.100:80 (space 1) on link 3.
  void pinWithAnEndpoint() {
    auto pins = adoptOrCreate(dir_, limits_);
    ASSERT_TRUE(pins.ok()) << pins.status().toString();
    EXPECT_FALSE(pins->adopted);
    ASSERT_TRUE(pins->maps->putEndpoint(1, 0x6401000a, 80, 3).ok());
  }
  // The link an endpoint entry names; 0 when there is none.
  static uint32_t endpointLink(const FastpathMaps& maps, uint32_t addr, uint16_t port) {
    lp_fp_endpoint_key k{};
    k.space = 1;
    k.addr = addr;
    k.port = htons(port);
    lp_fp_endpoint v{};
    return bpf_map_lookup_elem(maps.fd(FastpathMaps::kEndpoints), &k, &v) == 0 ? v.link : 0;
  }
};

TEST_F(FastpathPinsTest, AStartPinsFreshMapsAndTheNextAdoptsThemWithTheirEntries) {
  {
    auto pins = adoptOrCreate(dir_, limits_);
    ASSERT_TRUE(pins.ok()) << pins.status().toString();
    EXPECT_FALSE(pins->adopted);
    EXPECT_EQ(pins->discarded, "") << "nothing was pinned: nothing discarded";
    EXPECT_TRUE(isBpffs(root_));
    ASSERT_TRUE(pins->maps->putEndpoint(1, 0x6401000a, 80, 3).ok());
  }
  auto again = adoptOrCreate(dir_, limits_);
  ASSERT_TRUE(again.ok()) << again.status().toString();
  EXPECT_TRUE(again->adopted);
  EXPECT_EQ(endpointLink(*again->maps, 0x6401000a, 80), 3u);
  EXPECT_EQ(mounts(), 1) << "a bpffs already there is used, not mounted over";
  ASSERT_TRUE(teardown(dir_).ok());
  ASSERT_TRUE(teardown(dir_).ok()) << "absent: Ok";
}

TEST_F(FastpathPinsTest, PinsOfAnotherBuildsLayoutAreReplacedWithFreshMaps) {
  ASSERT_TRUE(ensureBpffs(root_).ok());
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  // An older build's set: every name, other layouts, and a map this build does not know.
  std::vector<std::string> names(std::begin(FastpathMaps::kNames), std::end(FastpathMaps::kNames));
  names.push_back("lp_retired");
  names.push_back("other_tool");  // not linkplane's: stays
  for (const auto& name : names) {
    int fd = bpf_map_create(BPF_MAP_TYPE_HASH, name.c_str(), 4, 4, 8, nullptr);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    ASSERT_EQ(bpf_obj_pin(fd, (dir_ + "/" + name).c_str()), 0) << std::strerror(errno);
    close(fd);
  }
  auto pins = adoptOrCreate(dir_, limits_);
  ASSERT_TRUE(pins.ok()) << pins.status().toString();
  EXPECT_FALSE(pins->adopted);
  EXPECT_NE(pins->discarded.find("lp_conns has another layout"), std::string::npos) << pins->discarded;
  auto pinned = FastpathMaps::openPinned(dir_);
  EXPECT_TRUE(pinned.ok()) << "this build's maps are pinned in their place: " << pinned.status().toString();
  struct stat st;
  EXPECT_NE(stat((dir_ + "/lp_retired").c_str(), &st), 0) << "the old set is gone whole";
  ASSERT_TRUE(teardown(dir_).ok());
  EXPECT_EQ(stat((dir_ + "/other_tool").c_str(), &st), 0) << "only names lp_* are linkplane's to remove";
  EXPECT_EQ(bpfErrorOf(FastpathMaps::openPinned(dir_).status()), BpfError::kNotPinned);
  unlink((dir_ + "/other_tool").c_str());
}

TEST_F(FastpathPinsTest, AMapWhoseFieldsMovedAtTheSameSizesIsNotAdopted) {
  ASSERT_TRUE(adoptOrCreate(dir_, limits_).ok());
  // lp_hosts as a build that put the MACs first would pin it: the same key and value
  // sizes (which openPinned compares), other fields.
  btf* b = btf__new_empty();
  ASSERT_NE(b, nullptr);
  int u8 = btf__add_int(b, "__u8", 1, 0);
  int u32 = btf__add_int(b, "__u32", 4, 0);
  int mac = btf__add_array(b, u32, u8, 6);
  int key = btf__add_struct(b, "lp_fp_host_key", 8);
  ASSERT_EQ(btf__add_field(b, "space", u32, 0, 0), 0);
  ASSERT_EQ(btf__add_field(b, "addr", u32, 32, 0), 0);
  int value = btf__add_struct(b, "lp_fp_host", 16);
  ASSERT_EQ(btf__add_field(b, "mac", mac, 0, 0), 0);
  ASSERT_EQ(btf__add_field(b, "gw_mac", mac, 48, 0), 0);
  ASSERT_EQ(btf__add_field(b, "ifindex", u32, 96, 0), 0);
  ASSERT_EQ(btf__load_into_kernel(b), 0) << std::strerror(errno);
  LIBBPF_OPTS(bpf_map_create_opts, opts, .btf_fd = static_cast<__u32>(btf__fd(b)),
              .btf_key_type_id = static_cast<__u32>(key), .btf_value_type_id = static_cast<__u32>(value));
  int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "lp_hosts", 8, 16, 64, &opts);
  btf__free(b);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(unlink((dir_ + "/lp_hosts").c_str()), 0);
  ASSERT_EQ(bpf_obj_pin(fd, (dir_ + "/lp_hosts").c_str()), 0);
  close(fd);
  ASSERT_TRUE(FastpathMaps::openPinned(dir_).ok()) << "the sizes alone match";

  auto pins = adoptOrCreate(dir_, limits_);
  ASSERT_TRUE(pins.ok()) << pins.status().toString();
  EXPECT_FALSE(pins->adopted);
  EXPECT_NE(pins->discarded.find("the key or value fields of lp_hosts are not this build's"), std::string::npos)
      << pins->discarded;
  auto again = adoptOrCreate(dir_, limits_);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->adopted) << "this build's own pins are alike to it";
  ASSERT_TRUE(teardown(dir_).ok());
}

TEST_F(FastpathPinsTest, MapsOfOtherSizesThanTheConfigurationAsksForAreNotAdopted) {
  ASSERT_NO_FATAL_FAILURE(pinWithAnEndpoint());
  FastpathLimits bigger = limits_;
  bigger.endpoints = 128;
  auto pins = adoptOrCreate(dir_, bigger);
  ASSERT_TRUE(pins.ok()) << pins.status().toString();
  EXPECT_FALSE(pins->adopted);
  EXPECT_EQ(pins->discarded, "lp_endpoints has 64 entries, the configuration asks for 128");
  EXPECT_EQ(endpointLink(*pins->maps, 0x6401000a, 80), 0u) << "fresh maps";
  auto again = adoptOrCreate(dir_, bigger);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->adopted) << "the new sizes are pinned";
  ASSERT_TRUE(teardown(dir_).ok());
}

// [dataplane] bpf_connection_table changed before a restart after kill -9: the
// connection table in place is kept with its connections, and the host's limit
// is that of the table in place; the new size comes with the next fresh maps.
TEST_F(FastpathPinsTest, AConnectionTableOfAnotherSizeIsAdoptedWithTheLimitOfItsOwnSize) {
  const int cpus = libbpf_num_possible_cpus();
  ASSERT_GT(cpus, 0);
  ASSERT_NO_FATAL_FAILURE(pinWithAnEndpoint());
  FastpathLimits bigger = limits_;
  bigger.connections = 8192;
  auto pins = adoptOrCreate(dir_, bigger);
  ASSERT_TRUE(pins.ok()) << pins.status().toString();
  EXPECT_TRUE(pins->adopted);
  EXPECT_EQ(endpointLink(*pins->maps, 0x6401000a, 80), 3u) << "the maps in place";
  EXPECT_EQ(pins->maps->connectionEntries(), 4096u);
  EXPECT_EQ(pins->connectionLimit, connectionLimitFor(4096, static_cast<uint32_t>(cpus)));
  auto host = hostConnections(*pins->maps);
  ASSERT_TRUE(host.ok()) << host.status().toString();
  EXPECT_EQ(host->limit, pins->connectionLimit) << "what the programs enforce";
  ASSERT_TRUE(teardown(dir_).ok());
  auto fresh = adoptOrCreate(dir_, bigger);
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(fresh->adopted);
  EXPECT_EQ(fresh->maps->connectionEntries(), 8192u);
  EXPECT_EQ(fresh->connectionLimit, connectionLimitFor(8192, static_cast<uint32_t>(cpus)));
  ASSERT_TRUE(teardown(dir_).ok());
}

TEST_F(FastpathPinsTest, ATableTooSmallForThisHostsCpusIsRefusedBeforeAnythingIsTouched) {
  ASSERT_NO_FATAL_FAILURE(pinWithAnEndpoint());
  FastpathLimits tiny = limits_;
  tiny.connections = 64;  // under 128 entries per CPU
  auto pins = adoptOrCreate(dir_, tiny);
  ASSERT_FALSE(pins.ok());
  EXPECT_EQ(bpfErrorOf(pins.status()), BpfError::kInvalid);
  EXPECT_NE(pins.status().message().find("a connection table of 64 entries leaves no room"), std::string::npos)
      << pins.status().message();
  auto kept = adoptOrCreate(dir_, limits_);
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->adopted) << "the pins in place were left alone";
  ASSERT_TRUE(teardown(dir_).ok());
}

TEST_F(FastpathPinsTest, AnIncompleteSetIsReplaced) {
  ASSERT_TRUE(adoptOrCreate(dir_, limits_).ok());
  ASSERT_EQ(unlink((dir_ + "/lp_hosts").c_str()), 0);
  auto pins = adoptOrCreate(dir_, limits_);
  ASSERT_TRUE(pins.ok()) << pins.status().toString();
  EXPECT_FALSE(pins->adopted);
  EXPECT_NE(pins->discarded.find("an incomplete set of pins"), std::string::npos) << pins->discarded;
  EXPECT_TRUE(FastpathMaps::openPinned(dir_).ok());
  ASSERT_TRUE(teardown(dir_).ok());
}

TEST_F(FastpathPinsTest, ABpffsMountedOnThePinDirectoryItselfServes) {
  // The admin's choice: a bpffs of its own on the directory, its parent a plain one
  // that is not empty (it holds the mount point), so nothing is mounted there.
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  ASSERT_EQ(mount("bpf", dir_.c_str(), "bpf", 0, nullptr), 0) << std::strerror(errno);
  {
    auto pins = adoptOrCreate(dir_, limits_);
    ASSERT_TRUE(pins.ok()) << pins.status().toString();
    EXPECT_FALSE(pins->adopted);
  }
  EXPECT_FALSE(isBpffs(root_));
  auto again = adoptOrCreate(dir_, limits_);
  ASSERT_TRUE(again.ok()) << again.status().toString();
  EXPECT_TRUE(again->adopted);
  ASSERT_TRUE(teardown(dir_).ok()) << "the mount point stays, empty";
  EXPECT_EQ(bpfErrorOf(FastpathMaps::openPinned(dir_).status()), BpfError::kNotPinned);
}

TEST(PinDirectoryFor, ThePackagedStateDirectoryPinsUnderLinkplaneAndOthersEachTheirOwn) {
  EXPECT_EQ(pinDirectoryFor("/var/lib/linkplane"), "/sys/fs/bpf/linkplane");
  EXPECT_EQ(pinDirectoryFor("/var/lib/linkplane/"), "/sys/fs/bpf/linkplane");
  std::string a = pinDirectoryFor("/tmp/lp-state-a"), b = pinDirectoryFor("/tmp/lp-state-b");
  EXPECT_EQ(a.rfind("/sys/fs/bpf/lp-", 0), 0u) << a;
  EXPECT_EQ(a.size(), std::string("/sys/fs/bpf/lp-").size() + 16);
  EXPECT_NE(a, b);
  EXPECT_EQ(pinDirectoryFor("/tmp/./lp-state-a/"), a) << "the same directory spelled another way";
}

TEST_F(FastpathPinsTest, ADirectoryNotOnABpffsIsNeitherMountedOverNorEmptied) {
  { std::ofstream(root_ + "/keep") << "state"; }
  auto pins = adoptOrCreate(dir_, limits_);
  EXPECT_EQ(bpfErrorOf(pins.status()), BpfError::kPin) << pins.status().toString();
  EXPECT_FALSE(isBpffs(root_));
  EXPECT_EQ(mounts(), 0);
  EXPECT_EQ(bpfErrorOf(teardown(root_)), BpfError::kPin);
  struct stat st;
  EXPECT_EQ(stat((root_ + "/keep").c_str(), &st), 0) << "nothing deleted";
  EXPECT_EQ(parentDirectory("/sys/fs/bpf/linkplane/"), "/sys/fs/bpf");
  EXPECT_EQ(parentDirectory("/linkplane"), "/");
}

}  // namespace
}  // namespace lp::net::bpf
