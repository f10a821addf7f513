#include "net/tcp_reset.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <tuple>

#include "net/netns.h"
#include "net/nfnetlink.h"

namespace lp::net {

namespace {

uint16_t checksum(const void* data, size_t len, uint32_t sum = 0) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (; len > 1; p += 2, len -= 2) sum += static_cast<uint32_t>(p[0] << 8 | p[1]);
  if (len) sum += static_cast<uint32_t>(p[0] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

uint32_t be32At(const uint8_t* p) { return static_cast<uint32_t>(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
uint16_t be16At(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// Batches of SYNs in flight at once: their ACKs (~70 bytes each, ~1 KiB of
// receive buffer with the kernel's overhead) fit the buffer asked for below.
constexpr size_t kBatch = 1024;
constexpr int kReceiveBuffer = 4 << 20;

}  // namespace

std::array<uint8_t, 40> tcpSegmentPacket(const TcpSegment& seg) {
  std::array<uint8_t, 40> pkt{};
  pkt[0] = 0x45;
  pkt[3] = pkt.size();
  pkt[8] = 64;  // TTL
  pkt[9] = IPPROTO_TCP;
  uint32_t s = htonl(seg.src), d = htonl(seg.dst);
  std::memcpy(&pkt[12], &s, 4);
  std::memcpy(&pkt[16], &d, 4);
  uint16_t ipSum = htons(checksum(pkt.data(), 20));
  std::memcpy(&pkt[10], &ipSum, 2);
  uint8_t* tcp = pkt.data() + 20;
  uint16_t sp = htons(seg.sport), dp = htons(seg.dport);
  std::memcpy(tcp, &sp, 2);
  std::memcpy(tcp + 2, &dp, 2);
  uint32_t seq = htonl(seg.seq), ack = htonl(seg.ack);
  std::memcpy(tcp + 4, &seq, 4);
  std::memcpy(tcp + 8, &ack, 4);
  tcp[12] = 5 << 4;  // header length 20
  tcp[13] = seg.flags;
  tcp[14] = 0xff;      // window
  uint8_t pseudo[12];  // source, destination, zero, protocol, TCP length
  std::memcpy(pseudo, &s, 4);
  std::memcpy(pseudo + 4, &d, 4);
  pseudo[8] = 0;
  pseudo[9] = IPPROTO_TCP;
  pseudo[10] = 0;
  pseudo[11] = 20;
  uint32_t partial = 0;
  for (size_t i = 0; i < sizeof pseudo; i += 2) partial += static_cast<uint32_t>(pseudo[i] << 8 | pseudo[i + 1]);
  uint16_t sum = htons(checksum(tcp, 20, partial));
  std::memcpy(tcp + 16, &sum, 2);
  return pkt;
}

Status sendTcpSegment(int rawFd, const TcpSegment& seg) {
  auto pkt = tcpSegmentPacket(seg);
  uint32_t d = htonl(seg.dst);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = d;
  if (sendto(rawFd, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0)
    return Status("InternalError", std::string("tcp segment: ") + std::strerror(errno));
  return Status::Ok();
}

Result<size_t> tcpResetPeers(const std::string& ns, const std::vector<TcpPeer>& peers, std::chrono::milliseconds wait) {
  if (peers.empty()) return size_t{0};
  int raw = -1, cap = -1;
  auto make = [&]() -> Status {
    raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);  // IPPROTO_RAW: we write the IP header
    if (raw < 0) return Status("InternalError", std::string("raw socket: ") + std::strerror(errno));
    // Every IPv4 packet of the namespace, each device, before its tc hooks (the
    // fast path's programs may drop the ACK read here).
    cap = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_IP));
    if (cap < 0) return Status("InternalError", std::string("packet socket: ") + std::strerror(errno));
    return Status::Ok();
  };
  Status made = ns.empty() ? make() : runInNamespace(ns, make);
  nfnl::Fd rawGuard(raw), capGuard(cap);
  if (!made.ok()) return made;
  // Only TCP reaches the socket (SOCK_DGRAM: offsets from the IP header).
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 0xffff),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  if (setsockopt(cap, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
    return Status("InternalError", std::string("packet socket filter: ") + std::strerror(errno));
  int size = kReceiveBuffer;
  if (setsockopt(cap, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    (void)setsockopt(cap, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);

  // (peer, peer port, local, local port) as the peer's ACK carries them.
  using Key = std::tuple<uint32_t, uint16_t, uint32_t, uint16_t>;
  size_t reset = 0;
  for (size_t from = 0; from < peers.size(); from += kBatch) {
    std::map<Key, const TcpPeer*> pending;
    for (size_t i = from; i < std::min(peers.size(), from + kBatch); ++i)
      pending.emplace(Key{peers[i].peer, peers[i].peerPort, peers[i].local, peers[i].localPort}, &peers[i]);
    auto probe = [&]() -> Status {
      for (const auto& [key, p] : pending)
        LP_RETURN_IF_ERROR(sendTcpSegment(
            raw, TcpSegment{p->local, p->peer, p->localPort, p->peerPort, 0x4c500000u ^ p->peerPort, 0, TH_SYN}));
      return Status::Ok();
    };
    LP_RETURN_IF_ERROR(probe());
    auto start = std::chrono::steady_clock::now();
    auto deadline = start + wait;
    bool probedAgain = false;  // once more half-way: a lost SYN, or an ACK the peer rate-limited
    while (!pending.empty()) {
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      if (!probedAgain && now >= start + wait / 2) {
        probedAgain = true;
        LP_RETURN_IF_ERROR(probe());
      }
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>((probedAgain ? deadline : start + wait / 2) - now);
      pollfd pfd{cap, POLLIN, 0};
      int r = poll(&pfd, 1, static_cast<int>(std::max<int64_t>(1, left.count())));
      if (r < 0 && errno != EINTR) return Status("InternalError", std::string("poll: ") + std::strerror(errno));
      for (;;) {
        uint8_t buf[128];
        sockaddr_ll from{};
        socklen_t fromLen = sizeof from;
        ssize_t n = recvfrom(cap, buf, sizeof buf, MSG_TRUNC, reinterpret_cast<sockaddr*>(&from), &fromLen);
        if (n < 0) break;  // EAGAIN: drained
        if (from.sll_pkttype == PACKET_OUTGOING || n < 20) continue;
        size_t ihl = static_cast<size_t>(buf[0] & 0x0f) * 4;
        if ((buf[0] >> 4) != 4 || ihl < 20 || static_cast<size_t>(n) < ihl + 20 || ihl + 20 > sizeof buf) continue;
        const uint8_t* tcp = buf + ihl;
        uint8_t flags = tcp[13];
        if (!(flags & TH_ACK) || (flags & (TH_SYN | TH_RST))) continue;
        auto it = pending.find(Key{be32At(buf + 12), be16At(tcp), be32At(buf + 16), be16At(tcp + 2)});
        if (it == pending.end()) continue;
        const TcpPeer* p = it->second;
        // The ACK's acknowledgement number is the peer's next expected sequence:
        // a reset there is accepted (RFC 5961 3.2), anywhere else it is challenged.
        LP_RETURN_IF_ERROR(
            sendTcpSegment(raw, TcpSegment{p->local, p->peer, p->localPort, p->peerPort, be32At(tcp + 8), 0, TH_RST}));
        pending.erase(it);
        ++reset;
      }
    }
  }
  return reset;
}

}  // namespace lp::net
