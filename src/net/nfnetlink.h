// nfnetlink by hand: what conntrack.cc and nft_counters.cc share to talk to the
// kernel's netfilter subsystems over NETLINK_NETFILTER without a library (no
// select(), so any descriptor number is fine; see nft_runner.h).
//
// Internal to net/: a request builder, an attribute walker, one request/answer
// exchange, and a socket made inside a namespace. Free functions, any thread.
#pragma once

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "common/status.h"

namespace lp::net::nfnl {

// A request under construction: nlmsghdr, nfgenmsg, then attributes.
class Message {
 public:
  Message(uint8_t subsystem, uint8_t type, uint16_t flags, uint32_t seq, uint8_t family) {
    buf_.resize(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg)));
    auto* h = reinterpret_cast<nlmsghdr*>(buf_.data());
    h->nlmsg_type = static_cast<uint16_t>((subsystem << 8) | type);
    h->nlmsg_flags = flags;
    h->nlmsg_seq = seq;
    auto* g = reinterpret_cast<nfgenmsg*>(buf_.data() + NLMSG_HDRLEN);
    g->nfgen_family = family;
    g->version = NFNETLINK_V0;
    g->res_id = 0;
  }
  void put(uint16_t type, const void* data, size_t len) {
    size_t at = buf_.size();
    buf_.resize(at + NLA_ALIGN(NLA_HDRLEN + len));
    auto* a = reinterpret_cast<nlattr*>(buf_.data() + at);
    a->nla_type = type;
    a->nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
    if (len) std::memcpy(buf_.data() + at + NLA_HDRLEN, data, len);
  }
  void u8(uint16_t type, uint8_t v) { put(type, &v, 1); }
  void be16(uint16_t type, uint16_t v) {
    v = htons(v);
    put(type, &v, 2);
  }
  void be32(uint16_t type, uint32_t v) {
    v = htonl(v);
    put(type, &v, 4);
  }
  void str(uint16_t type, const std::string& s) { put(type, s.c_str(), s.size() + 1); }  // with its NUL
  size_t begin(uint16_t type) {
    size_t at = buf_.size();
    put(type | NLA_F_NESTED, nullptr, 0);
    return at;
  }
  void end(size_t at) { reinterpret_cast<nlattr*>(buf_.data() + at)->nla_len = static_cast<uint16_t>(buf_.size() - at); }
  const std::string& finish() {
    reinterpret_cast<nlmsghdr*>(buf_.data())->nlmsg_len = static_cast<uint32_t>(buf_.size());
    return buf_;
  }

 private:
  std::string buf_;
};

// Calls fn(type, payload, len) for each attribute in [data, data+len).
template <typename Fn>
void eachAttr(const char* data, size_t len, Fn fn) {
  while (len >= NLA_HDRLEN) {
    const auto* a = reinterpret_cast<const nlattr*>(data);
    if (a->nla_len < NLA_HDRLEN || a->nla_len > len) return;
    fn(static_cast<uint16_t>(a->nla_type & NLA_TYPE_MASK), data + NLA_HDRLEN, a->nla_len - NLA_HDRLEN);
    size_t step = NLA_ALIGN(a->nla_len);
    if (step >= len) return;
    data += step;
    len -= step;
  }
}

inline uint16_t readBe16(const char* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return ntohs(v);
}
inline uint32_t readBe32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return ntohl(v);
}
inline uint64_t readBe64(const char* p) { return uint64_t{readBe32(p)} << 32 | readBe32(p + 4); }

// A bound NETLINK_NETFILTER socket of namespace ns ("" = the caller's), with a
// receive timeout so a kernel that never answers fails the call.
Result<int> socketIn(const std::string& ns);

// Sends one request and reads answers until DONE or the ACK/error; each data
// message's payload (after the nfgenmsg) goes to onEntry. `what` names the caller
// in errors; ENOENT comes back as code "NotFound".
template <typename Fn>
Status transact(int fd, const std::string& req, const char* what, Fn onEntry) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  auto fail = [&](const char* step, int err) {
    return Status("InternalError", std::string(what) + " " + step + ": " + std::strerror(err));
  };
  if (sendto(fd, req.data(), req.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    return fail("send", errno);
  std::string buf(1 << 16, '\0');
  for (int rounds = 0; rounds < 1'000'000; ++rounds) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("recv", errno);
    size_t left = static_cast<size_t>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type == NLMSG_DONE) return Status::Ok();
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* e = reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(h));
        if (e->error == 0) return Status::Ok();
        if (e->error == -ENOENT) return Status("NotFound", std::string(what) + ": no such object");
        return Status("InternalError", std::string(what) + ": " + std::strerror(-e->error));
      }
      size_t off = NLMSG_ALIGN(sizeof(nfgenmsg));
      if (h->nlmsg_len < NLMSG_HDRLEN + off) continue;
      onEntry(static_cast<const char*>(NLMSG_DATA(h)) + off, h->nlmsg_len - NLMSG_HDRLEN - off);
    }
  }
  return Status("InternalError", std::string(what) + ": answer without end");
}

// Closes a descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace lp::net::nfnl
