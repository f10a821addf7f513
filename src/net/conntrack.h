// Conntrack: the kernel's connection tracking table of one network namespace,
// through ctnetlink (NETLINK_NETFILTER) by hand: a dump filtered by connection
// mark, the deletion of one entry, and the deletion of every entry with a mark.
//
// The data plane's kernel fast path (reconciler/fastpath_sink.h) keeps every
// connection's state here and nowhere else; deleting an entry is how it ends a
// connection (the next packet finds no translation and is answered with a reset
// by the namespace's own TCP stack).
//
// Free functions, any thread: each call makes its own netlink socket inside the
// namespace (net::socketInNamespace) and closes it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace lp::net {

// One direction of a connection; addresses and ports in host byte order.
struct ConntrackTuple {
  uint32_t src = 0, dst = 0;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;  // IPPROTO_TCP, ...
  bool operator==(const ConntrackTuple&) const = default;
};

struct ConntrackEntry {
  ConntrackTuple original, reply;
  uint32_t mark = 0;
  // TCP: the kernel's state (TCP_CONNTRACK_*: 3 established ... 7 time wait); 0 otherwise.
  uint8_t tcpState = 0;
  // Whether the entry counts as an open connection: TCP from established until
  // the last ACK (not SYN_SENT, TIME_WAIT or CLOSE).
  bool open() const { return tcpState >= 3 && tcpState <= 6; }
};

// IPv4 entries of namespace ns ("" = the caller's) whose mark & mask == mark & mask.
Result<std::vector<ConntrackEntry>> conntrackDump(const std::string& ns, uint32_t mark, uint32_t mask);
// Deletes the entry with this original tuple; Ok when there is none.
Status conntrackDelete(const std::string& ns, const ConntrackTuple& original);
// Deletes every IPv4 entry whose mark & mask == mark & mask; returns how many went.
Result<size_t> conntrackDeleteMarked(const std::string& ns, uint32_t mark, uint32_t mask);

// The kernel's count of packets namespace ns dropped because its conntrack table
// was full (nf_conntrack_max reached and no unassured entry to evict: the
// `drop` column of /proc/net/stat/nf_conntrack, summed over CPUs). Such a packet
// is dropped in conntrack itself, before any nftables rule sees it.
Result<uint64_t> conntrackTableFullDrops(const std::string& ns);
// Sums the `drop` column of /proc/net/stat/nf_conntrack text (for tests).
uint64_t parseConntrackStatDrops(const std::string& text);

// Makes the TCP connection that `peer` (dst:dport) holds with src:sport end at
// once, from inside namespace ns, which has src but no socket for the connection
// (the kernel fast path: conntrack translated it, and its entry is deleted). A
// SYN goes from src:sport to the peer; the peer's stack answers a SYN on an
// established connection with a challenge ACK carrying its exact sequence
// numbers (RFC 5961); that ACK reaches ns's own stack, which has no such
// connection and answers with a reset the peer accepts. Without this a peer that
// is only reading would wait until it next sends (or for ever).
Status tcpKill(const std::string& ns, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport);

}  // namespace lp::net
