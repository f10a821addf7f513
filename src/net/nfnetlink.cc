#include "net/nfnetlink.h"

#include <sys/time.h>

#include "net/netns.h"

namespace lp::net::nfnl {

// NETLINK_NETFILTER needs the protocol argument, which socketInNamespace does not
// take, so the namespace is entered with runInNamespace.
Result<int> socketIn(const std::string& ns) {
  int fd = -1;
  int err = 0;
  auto make = [&]() -> Status {
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    err = errno;
    if (fd < 0) return Status("InternalError", std::string("netlink socket: ") + std::strerror(err));
    return Status::Ok();
  };
  Status st = ns.empty() ? make() : runInNamespace(ns, make);
  if (!st.ok()) return st;
  // Bounded: a kernel that never answers fails the call instead of hanging it.
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int rcvbuf = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    err = errno;
    close(fd);
    return Status("InternalError", std::string("netlink bind: ") + std::strerror(err));
  }
  return fd;
}

}  // namespace lp::net::nfnl
