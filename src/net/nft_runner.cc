#include "net/nft_runner.h"

#include <fcntl.h>
#include <nftables/libnftables.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "net/netns.h"

namespace lp::net {

namespace {

// Frames are a header of two lengths, then the two strings:
//   request  (namespace, command)
//   answer   (status code, output or message); an empty code means success.
constexpr uint32_t kMaxFrame = 256u << 20;
// The helper's channel; everything above it is closed after fork.
constexpr int kChannelFd = 3;

bool writeAll(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// False on error (errno set) or end of file (errno = 0).
bool readAll(int fd, void* data, size_t n) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    ssize_t r = recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) errno = 0;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool writeFrame(int fd, const std::string& a, const std::string& b) {
  uint32_t h[2] = {static_cast<uint32_t>(a.size()), static_cast<uint32_t>(b.size())};
  return writeAll(fd, h, sizeof h) && writeAll(fd, a.data(), a.size()) && writeAll(fd, b.data(), b.size());
}

// False on error or end of file, and on a frame too large to be one of ours.
bool readFrame(int fd, std::string* a, std::string* b) {
  uint32_t h[2];
  if (!readAll(fd, h, sizeof h)) return false;
  if (h[0] > kMaxFrame || h[1] > kMaxFrame) {
    errno = EPROTO;
    return false;
  }
  a->resize(h[0]);
  b->resize(h[1]);
  return readAll(fd, a->data(), a->size()) && readAll(fd, b->data(), b->size());
}

// In the helper: one nft context per call, made after setns, since its netlink
// socket belongs to the namespace it was opened in. Returns a status code ("" =
// ok) and the output or error text.
std::string runHere(const std::string& ns, const std::string& command, int homeFd, std::string* text) {
  int target = homeFd;
  int nsFd = -1;
  if (!ns.empty()) {
    auto fd = openNamespace(ns);
    if (!fd.ok()) {
      *text = fd.status().message();
      return fd.status().code();
    }
    target = nsFd = *fd;
  }
  int rc = setns(target, CLONE_NEWNET);
  int err = errno;
  if (nsFd >= 0) close(nsFd);
  if (rc != 0) {
    *text = "setns " + (ns.empty() ? std::string("home") : ns) + ": " + std::strerror(err);
    return "InternalError";
  }
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx) {
    *text = "nft_ctx_new failed";
    return "InternalError";
  }
  nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  std::string code;
  if (nft_run_cmd_from_buffer(ctx, command.c_str()) != 0) {
    const char* e = nft_ctx_get_error_buffer(ctx);
    *text = std::string("nftables: ") + (e && *e ? e : "failed");
    code = "InternalError";
  } else {
    const char* out = nft_ctx_get_output_buffer(ctx);
    *text = out ? out : "";
  }
  nft_ctx_free(ctx);
  return code;
}

// The helper's whole life, in the child after fork. Only this thread exists, so
// it may switch the process's namespace freely; it never logs (the daemon's
// logger may have been locked by another thread at fork) and leaves by _exit, so
// no handler or destructor of the daemon runs here.
[[noreturn]] void helperMain(int channel, pid_t parent, bool forkedByMainThread) {
  // The death signal fires when the forking *thread* ends, so only a helper
  // forked by the main thread asks for it; the others go on end of file.
  if (forkedByMainThread) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0);
  }
  prctl(PR_SET_NAME, "linkplane-nft");
  // Ctrl-C or a SIGTERM to the process group must not take the helper away
  // while the daemon still needs it to shut down; it ends with its channel.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) signal(sig, SIG_IGN);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  if (channel != kChannelFd && dup2(channel, kChannelFd) < 0) _exit(3);
  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    dup2(devnull, STDIN_FILENO);
    dup2(devnull, STDOUT_FILENO);
    if (channel == STDERR_FILENO) dup2(devnull, STDERR_FILENO);
  }
  if (close_range(kChannelFd + 1, ~0U, 0) != 0) {
    rlimit r{};
    getrlimit(RLIMIT_NOFILE, &r);
    for (rlim_t fd = kChannelFd + 1; fd < r.rlim_cur; ++fd) close(static_cast<int>(fd));
  }
  int homeFd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (homeFd < 0) _exit(4);

  std::string ns, command, text;
  while (readFrame(kChannelFd, &ns, &command)) {
    std::string code = runHere(ns, command, homeFd, &text);
    if (text.size() > kMaxFrame) {
      code = "InternalError";
      text = "nftables output too large";
    }
    if (!writeFrame(kChannelFd, code, text)) break;
  }
  _exit(0);
}

}  // namespace

NftRunner::NftRunner(std::chrono::milliseconds timeout) : timeout_(timeout) {}

NftRunner::~NftRunner() {
  std::lock_guard<std::mutex> lock(mu_);
  stopLocked();
}

NftRunner& NftRunner::shared() {
  static NftRunner* runner = new NftRunner();
  return *runner;
}

Status NftRunner::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ >= 0 && !helperGoneLocked()) return Status::Ok();
  stopLocked();
  return spawnLocked();
}

pid_t NftRunner::helperPid() {
  std::lock_guard<std::mutex> lock(mu_);
  return pid_;
}

Status NftRunner::spawnLocked() {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return Status("InternalError", std::string("nftables helper: socketpair: ") + std::strerror(errno));
  }
  pid_t self = getpid();
  bool mainThread = gettid() == self;
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(sv[0]);
    close(sv[1]);
    return Status("InternalError", std::string("nftables helper: fork: ") + std::strerror(err));
  }
  if (pid == 0) helperMain(sv[1], self, mainThread);
  close(sv[1]);
  // A helper stuck in the kernel must not hold the caller (the reconciler) forever.
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
  setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  fd_ = sv[0];
  pid_ = pid;
  return Status::Ok();
}

// Between calls the helper never writes, so anything readable (end of file
// included) means it is gone or broken.
bool NftRunner::helperGoneLocked() {
  pollfd p{fd_, POLLIN, 0};
  return poll(&p, 1, 0) > 0;
}

void NftRunner::stopLocked() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  // Only an unreaped child is killed: its pid cannot have been reused.
  if (pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0) {
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
}

Status NftRunner::failLocked(const std::string& what) {
  int err = errno;
  std::string why = err == 0 ? "it exited"
                    : err == EAGAIN || err == EWOULDBLOCK
                        ? "no answer within " + std::to_string(timeout_.count()) + " ms"
                        : std::strerror(err);
  std::string pid = std::to_string(pid_);
  stopLocked();
  return Status("InternalError", "nftables helper (pid " + pid + ") failed while " + what + ": " + why +
                                     "; the next call starts a new one");
}

Result<std::string> NftRunner::run(const std::string& ns, const std::string& command) {
  if (ns.size() > kMaxFrame || command.size() > kMaxFrame) {
    return Status("InvalidParameterValue", "nftables command too large");
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ >= 0 && helperGoneLocked()) stopLocked();
  if (fd_ < 0) LP_RETURN_IF_ERROR(spawnLocked());
  if (!writeFrame(fd_, ns, command)) return failLocked("sending a command");
  std::string code, text;
  if (!readFrame(fd_, &code, &text)) return failLocked("waiting for its answer");
  if (!code.empty()) return Status(code, text);
  return text;
}

}  // namespace lp::net
