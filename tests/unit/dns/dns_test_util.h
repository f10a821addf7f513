// Helpers for the DNS tests: queries built with ldns, sent over real sockets.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dns/ldns_wrap.h"

namespace lp::dns::testing {

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;

inline std::vector<uint8_t> wire(const ldns_pkt* p) {
  uint8_t* buf = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&buf, p, &size) != LDNS_STATUS_OK) return {};
  std::vector<uint8_t> out(buf, buf + size);
  free(buf);
  return out;
}

// A query for name/type; udpSize > 0 adds an EDNS0 OPT record advertising it.
inline std::vector<uint8_t> query(const std::string& name, ldns_rr_type type, uint16_t udpSize = 0,
                                  uint16_t id = 4242) {
  Pkt q(ldns_pkt_query_new(ldns_dname_new_frm_str(name.c_str()), type, LDNS_RR_CLASS_IN, LDNS_RD));
  ldns_pkt_set_id(q.get(), id);
  if (udpSize) ldns_pkt_set_edns_udp_size(q.get(), udpSize);
  return wire(q.get());
}

inline Pkt parse(const std::vector<uint8_t>& bytes) {
  ldns_pkt* p = nullptr;
  if (bytes.empty() || ldns_wire2pkt(&p, bytes.data(), bytes.size()) != LDNS_STATUS_OK) return nullptr;
  return Pkt(p);
}

// The A addresses in the answer section, in order.
inline std::vector<std::string> answers(const ldns_pkt* p) {
  std::vector<std::string> out;
  const ldns_rr_list* an = ldns_pkt_answer(p);
  for (size_t i = 0; an && i < ldns_rr_list_rr_count(an); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(an, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_A) continue;
    char* s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    out.push_back(s);
    free(s);
  }
  return out;
}

inline std::string ownerOf(const ldns_rr* rr) {
  char* s = ldns_rdf2str(ldns_rr_owner(rr));
  std::string out(s);
  free(s);
  return out;
}

inline sockaddr_in addr(const std::string& ip, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &sa.sin_addr);
  return sa;
}

// Sends one datagram from fd (or a fresh socket) and waits up to timeoutMs for one back.
inline std::optional<std::vector<uint8_t>> udpExchange(const std::vector<uint8_t>& q, const std::string& ip,
                                                       uint16_t port, int timeoutMs = 2000, int fd = -1) {
  bool own = fd < 0;
  if (own) fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa = addr(ip, port);
  sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  pollfd p{fd, POLLIN, 0};
  std::optional<std::vector<uint8_t>> out;
  if (poll(&p, 1, timeoutMs) == 1) {
    std::vector<uint8_t> buf(65536);
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n >= 0) {
      buf.resize(static_cast<size_t>(n));
      out = std::move(buf);
    }
  }
  if (own) close(fd);
  return out;
}

inline bool readFull(int fd, uint8_t* p, size_t n, int timeoutMs) {
  while (n > 0) {
    pollfd pf{fd, POLLIN, 0};
    if (poll(&pf, 1, timeoutMs) != 1) return false;
    ssize_t r = recv(fd, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// Writes the queries length-prefixed on one TCP connection (one write: pipelined)
// and reads as many answers.
inline std::vector<std::vector<uint8_t>> tcpExchange(const std::vector<std::vector<uint8_t>>& qs, const std::string& ip,
                                                     uint16_t port, int timeoutMs = 2000) {
  std::vector<std::vector<uint8_t>> out;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa = addr(ip, port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return out;
  }
  std::vector<uint8_t> all;
  for (const auto& q : qs) {
    all.push_back(static_cast<uint8_t>(q.size() >> 8));
    all.push_back(static_cast<uint8_t>(q.size() & 0xff));
    all.insert(all.end(), q.begin(), q.end());
  }
  (void)!send(fd, all.data(), all.size(), MSG_NOSIGNAL);
  for (size_t i = 0; i < qs.size(); ++i) {
    uint8_t len[2];
    if (!readFull(fd, len, 2, timeoutMs)) break;
    std::vector<uint8_t> msg((len[0] << 8) | len[1]);
    if (!readFull(fd, msg.data(), msg.size(), timeoutMs)) break;
    out.push_back(std::move(msg));
  }
  close(fd);
  return out;
}

}  // namespace lp::dns::testing
