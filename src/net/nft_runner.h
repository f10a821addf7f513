// NftRunner: every libnftables call runs in a small single-threaded helper
// process, never in the daemon.
//
// Why: libnftables 1.0.6 waits for netlink answers with select(), and glibc aborts
// the whole process ("bit out of range 0 - FD_SETSIZE on fd_set") when select() is
// handed a descriptor >= 1024. The daemon holds tens of thousands of descriptors
// (listeners, netlink and DNS sockets per namespace), so a netlink socket it opens
// gets a number far past 1023. The helper's descriptor table holds only stdio, its
// end of a socketpair, a descriptor of its home namespace and the one netlink
// socket of the call in progress, so select() there always sees small numbers.
//
// The helper is forked (not exec'd): by main() before any thread exists (start()),
// otherwise on first use (unit tests) and again after it died. It closes every
// inherited descriptor but its channel, then serves one request at a time: setns
// into /run/netns/<ns> (or back to its home namespace for ""), one nft context,
// run, answer. Requests and answers are length-prefixed frames on a SOCK_STREAM
// socketpair, so rulesets of any size fit. It exits when the daemon's end closes.
//
// A call whose helper dies or hangs fails with a Status naming the helper; the
// next call starts a new one. Owned by the process (shared(); tests may make their
// own); any thread may call run(): calls are serialized by a mutex.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <mutex>
#include <string>

#include "common/status.h"

namespace lp::net {

class NftRunner {
 public:
  explicit NftRunner(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  ~NftRunner();
  NftRunner(const NftRunner&) = delete;
  NftRunner& operator=(const NftRunner&) = delete;

  // The process-wide runner behind nftRunJson and nftQueryJson (never destroyed:
  // the helper sees end-of-file and exits when the process does).
  static NftRunner& shared();

  // Forks the helper now if none runs. Call early in main(), while the process is
  // single-threaded and its descriptor table small; later calls fork lazily.
  Status start();
  // Runs an nft command batch (JSON or nft syntax; output in JSON) in namespace ns
  // ("" = the namespace the helper was forked in) and returns its output.
  Result<std::string> run(const std::string& ns, const std::string& command);
  // The helper's pid, or -1 when none runs (tests).
  pid_t helperPid();

 private:
  Status spawnLocked();
  bool helperGoneLocked();
  void stopLocked();
  Status failLocked(const std::string& what);

  std::mutex mu_;
  int fd_ = -1;     // our end of the socketpair; guarded by mu_
  pid_t pid_ = -1;  // guarded by mu_
  std::chrono::milliseconds timeout_;
};

}  // namespace lp::net
