// Ending TCP connections that a namespace carries but holds no socket for (the
// kernel fast paths translate them in the network): raw TCP segments sent from
// inside the namespace. net::tcpKill (conntrack.h) relies on the namespace's stack
// to answer the peer; tcpResetPeers does not.
//
// Free functions, any thread: each call makes its sockets inside the namespace
// (net::runInNamespace) and closes them.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace lp::net {

// One TCP segment of 20-byte header, no options, no payload; host byte order.
struct TcpSegment {
  uint32_t src = 0, dst = 0;
  uint16_t sport = 0, dport = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;  // TH_SYN, TH_RST, ...
};
// seg as an IPv4 packet (TTL 64, id 0) with a valid TCP checksum, and a valid IP
// header checksum too (a raw socket's kernel would fill it; a BPF test run does not).
std::array<uint8_t, 40> tcpSegmentPacket(const TcpSegment& seg);
// Sends seg on a raw IPPROTO_RAW socket.
Status sendTcpSegment(int rawFd, const TcpSegment& seg);

// A peer holding a connection with local:localPort, which the namespace it is
// reached from has no socket for. Host byte order.
struct TcpPeer {
  uint32_t local = 0;
  uint16_t localPort = 0;
  uint32_t peer = 0;
  uint16_t peerPort = 0;
  bool operator==(const TcpPeer&) const = default;
};

// Resets each peer from inside namespace ns ("" = the caller's): a SYN from
// local:localPort makes the peer answer with a challenge ACK carrying its exact
// receive sequence (RFC 5961; what tcpKill relies on too), read here on a packet
// socket as it enters ns, and answered with a reset at that sequence, which the
// peer accepts. Unlike tcpKill it does not need ns's stack to receive that ACK
// (the BPF path routes an endpoint's address to its link, whose program drops it).
// Peers whose ACK does not come within `wait` (gone, or not holding the connection)
// are not reset. Returns how many were.
Result<size_t> tcpResetPeers(const std::string& ns, const std::vector<TcpPeer>& peers,
                             std::chrono::milliseconds wait = std::chrono::milliseconds(500));

}  // namespace lp::net
