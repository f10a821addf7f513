#include "daemon/status_socket.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace lp::daemon {

namespace {

Result<sockaddr_un> address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path))
    return Status("InternalError", "status socket path too long for a unix socket: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

void writeAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace

StatusSocket::StatusSocket(std::string path, std::function<std::string()> render)
    : path_(std::move(path)), render_(std::move(render)) {}

StatusSocket::~StatusSocket() { stop(); }

Status StatusSocket::listen() {
  LP_ASSIGN_OR_RETURN(auto addr, address(path_));
  // A socket that a running daemon answers on (a second daemon started on the same
  // state directory) is not taken from it; one left by a daemon that did not stop
  // cleanly is removed.
  int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bool live = probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (probe >= 0) ::close(probe);
  if (live) return Status("InternalError", "status socket " + path_ + " is answered by another running daemon");
  ::unlink(path_.c_str());
  listenFd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listenFd_ < 0) return Status("InternalError", std::string("status socket: ") + std::strerror(errno));
  mode_t old = ::umask(0077);
  int rc = ::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc != 0 || ::listen(listenFd_, 16) != 0) {
    Status st("InternalError", "status socket " + path_ + ": " + std::strerror(errno));
    ::close(listenFd_);
    listenFd_ = -1;
    return st;
  }
  wakeFd_ = ::eventfd(0, EFD_CLOEXEC);
  return Status::Ok();
}

void StatusSocket::serve() {
  thread_ = std::thread([this] { run(); });
}

void StatusSocket::stop() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!::write(wakeFd_, &one, sizeof one);
    thread_.join();
  }
  if (listenFd_ >= 0) {
    ::close(listenFd_);
    ::unlink(path_.c_str());
    listenFd_ = -1;
  }
  if (wakeFd_ >= 0) ::close(wakeFd_);
  wakeFd_ = -1;
}

void StatusSocket::run() {
  while (true) {
    pollfd fds[2] = {{listenFd_, POLLIN, 0}, {wakeFd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      LP_LOG_WARN("status socket: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents) return;
    int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    // A reader that never reads must not hold the thread: the document is small and
    // fits the socket buffer, and a send that would block gives up after a second.
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    writeAll(fd, render_());
    ::close(fd);
  }
}

Result<std::string> readStatusSocket(const std::string& path) {
  LP_ASSIGN_OR_RETURN(auto addr, address(path));
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status("InternalError", std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    Status st("NotRunning", path + ": " + std::strerror(errno));
    ::close(fd);
    return st;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace lp::daemon
