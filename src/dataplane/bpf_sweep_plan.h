// The BPF fast path's connection-table policy (docs/dataplane.md, "The BPF fast
// path", stage 3), as pure functions over lp_conns entries as the loader reads them
// (net/bpf/fastpath_abi.h): which entries are one connection, which connections are
// idle or closed and go, which a reject/delete/unhealthy target ends, and which ends
// of them must be reset. No I/O, no root; any thread. dataplane/bpf_sweep.h applies
// it to the maps.
//
// How the programs link a connection's two entries (fastpath.bpf.c, lp_link_out):
//   consumer side (LP_FP_DIR_FWD), keyed (consumer space, client -> endpoint), value
//     .to = node -> target;
//   provider side (LP_FP_DIR_REV), keyed (provider space, target -> node), value
//     .to = endpoint -> client.
// So each entry's .to reversed is the other's key tuple, and both carry the link.
// Tuples are in network order, as in the maps.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "net/bpf/fastpath_abi.h"
#include "net/tcp_reset.h"

namespace lp::dataplane {

// One lp_conns entry.
struct BpfConnEntry {
  lp_fp_conn_key key{};
  lp_fp_conn value{};
};

// A connection: its entries paired. Either may be missing (the table is an LRU
// that may evict one; lp_link_out writes the provider side first, so a walk can
// meet it alone for an instant); the tuples are known from either.
struct BpfConnection {
  uint32_t link = 0;
  std::optional<lp_fp_conn_key> consumerKey, providerKey;  // the entries present
  lp_fp_tuple client{};                                    // client -> endpoint, as the client sends
  lp_fp_tuple target{};                                    // target -> node, as the target sends
  uint8_t clientSeen = 0, targetSeen = 0;                  // LP_FP_SEEN_* of each side
  uint64_t lastSeenNs = 0;                                 // the later side's
  std::vector<lp_fp_conn_key> keys() const;
};

std::vector<BpfConnection> pairBpfConnections(const std::vector<BpfConnEntry>& entries);

// How long a closed connection's entries stay after its last packet: the last ACK
// (and, if it is lost, the peer's retransmitted FIN and the ACK again) must still be
// translated, or the FIN's sender retransmits to nobody and the stack that gets it
// answers with a reset. TCP retransmits a FIN after its RTO, 200 ms at the least,
// doubling: 10 s covers five retransmissions; it is also conntrack's timeout for
// TCP CLOSE (nf_conntrack_tcp_timeout_close), which the conntrack path lives with.
inline constexpr uint64_t kBpfClosedLingerNs = 10'000'000'000ull;

struct BpfSweepPolicy {
  uint64_t idleNs = 350'000'000'000ull;  // [dataplane] idle_timeout_seconds
  uint64_t closedLingerNs = kBpfClosedLingerNs;
};

enum class BpfConnState {
  kLive,
  kIdle,    // no packet either way for idleNs (a keepalive probe or its ACK is a packet)
  kClosed,  // FIN from both sides, or a reset from either, and closedLingerNs since the last packet
};

// nowNs and lastSeenNs are CLOCK_MONOTONIC (bpf_ktime_get_ns). An entry touched
// after nowNs was read is live.
BpfConnState bpfConnState(const BpfConnection& c, uint64_t nowNs, const BpfSweepPolicy& policy);

struct BpfSweepPlan {
  std::vector<BpfConnection> idle, closed;  // to delete; the idle ones' ends to reset
};
BpfSweepPlan planBpfSweep(const std::vector<BpfConnEntry>& entries, uint64_t nowNs, const BpfSweepPolicy& policy);

// A link's live connection count (lp_link_usage, stage 4) around a walk of the
// table: the programs raise it for each connection lp_link_out opens and lower it
// when one fails to open or closes (marking its consumer-side entry `released`); the
// daemon lowers it for each consumer-side entry not so marked that it deletes. It
// drifts up when the kernel evicts an entry (lp_conns is an LRU) or give_conn gives
// up after lost compare-and-swaps, and nothing else corrects it.
struct BpfLinkCount {
  uint32_t link = 0;
  uint64_t newConnsBefore = 0;  // the link's new_conns, read first
  uint64_t seen = 0;            // LinkUsage::live, read next, before the walk
  uint64_t newConnsAfter = 0;   // new_conns again, read after the walk
};
struct BpfRecount {
  uint32_t link = 0;
  uint64_t seen = 0, counted = 0;  // for LinkUsage::recount(link, seen, counted)
};
// The counts a walk of the table corrects, LinkUsage::recount's contract: a link
// whose new_conns did not move across the walk opened no connection meanwhile, so
// the consumer-side entries the walk found are its live connections; those whose
// count differs from that. (A connection being opened while the counts were read
// moves new_conns before the walk ends: lp_link_out counts it after its entries.)
std::vector<BpfRecount> planBpfRecount(const std::vector<BpfLinkCount>& counts,
                                       const std::vector<BpfConnEntry>& entries);

// Which connections a reject, delete or unhealthy target ends: every connection of
// the links, or one link's connections to one target (address in network order,
// port in host order).
struct BpfEndScope {
  std::set<uint32_t> links;
  struct Target {
    uint32_t link = 0;
    uint32_t addr = 0;
    uint16_t port = 0;
  };
  std::optional<Target> target;  // when set, only these (links ignored)
  bool contains(const BpfConnection& c) const;
};
std::vector<BpfConnection> planBpfEnd(const std::vector<BpfConnEntry>& entries, const BpfEndScope& scope);

// The ends to reset after a connection's entries are gone (net::tcpResetPeers, from
// inside each namespace): the client, in the consumer's namespace, as if from the
// endpoint address and port it talks to; the target, in the provider's, as if from
// the node's address and port. Host order, as net::TcpPeer.
net::TcpPeer bpfClientEnd(const BpfConnection& c);
net::TcpPeer bpfTargetEnd(const BpfConnection& c);

}  // namespace lp::dataplane
