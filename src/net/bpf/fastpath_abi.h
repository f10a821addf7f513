// The BPF fast path's map layouts, shared by fastpath.bpf.c (compiled for the BPF
// target) and the loader (bpf_fastpath.h, C++): keys and values as the kernel
// stores them. Addresses and ports in network byte order, everything else in host
// order. Plain C so both compilers read the same bytes; every padding is explicit.
//
// "Space": a number the daemon gives each VPC namespace; every key that holds VPC
// addresses carries one, so consumer and provider VPCs may use the same addresses.
// A link is one endpoint interface between a consumer space and a provider space.
#ifndef LINKPLANE_NET_BPF_FASTPATH_ABI_H_
#define LINKPLANE_NET_BPF_FASTPATH_ABI_H_

#include <linux/types.h>

#define LP_FP_MAX_TARGETS 64

// Which side of a connection a connection-table entry is keyed by.
#define LP_FP_DIR_FWD 1  // the client's packets, in the consumer's space
#define LP_FP_DIR_REV 2  // the target's packets, in the provider's space

// lp_fp_conn.seen: what this side has sent.
#define LP_FP_SEEN_FIN 1
#define LP_FP_SEEN_RST 2

struct lp_fp_tuple {
  __u32 saddr, daddr;
  __u16 sport, dport;
};

// lp_conns (LRU hash): one entry per direction of a connection, keyed by the tuple
// a packet of that side carries before translation.
struct lp_fp_conn_key {
  __u32 space;
  struct lp_fp_tuple t;
};

struct lp_fp_conn {
  struct lp_fp_tuple to;  // the tuple after translation
  __u32 link;
  __u32 ifindex;  // the device this side's packets must arrive on; 0: any
  __u8 dir;       // LP_FP_DIR_*
  __u8 seen;      // LP_FP_SEEN_* bits
  __u16 pad;
  // Consumer-side (LP_FP_DIR_FWD) entries: 1 once the connection's slot went back
  // (lp_fp_link_usage.conns) because it closed; the sweeper's deletion and a SYN
  // that replaces the entry then give nothing back. Was padding (0): maps pinned by
  // an older daemon read the same. 64 bits: BPF's atomic fetch-or takes no less.
  __u64 released;
  __u64 last_seen_ns;  // CLOCK_MONOTONIC (bpf_ktime_get_ns) of the last packet
};

// lp_endpoints (hash): an endpoint interface's address and listener port in the
// consumer's space -> its link.
struct lp_fp_endpoint_key {
  __u32 space;
  __u32 addr;
  __u16 port;
  __u16 pad;
};

struct lp_fp_endpoint {
  __u32 link;
};

// lp_links (array, index = link id; 0 is never a link): the pair of namespaces and
// the veth between them.
struct lp_fp_link {
  __u32 consumer_space, provider_space;
  __u32 node_addr;         // the load balancer node in the endpoint's zone (provider side)
  __u32 consumer_ifindex;  // the link's device in the consumer's namespace (lp-fc*)
  __u32 provider_ifindex;  // its peer in the provider's namespace (lp-fp*)
  __u8 consumer_mac[6];
  __u8 provider_mac[6];
  __u32 active;  // 0: a free slot
};

// lp_targets (hash): the targets a link's listener sends new connections to: the
// tier in force, written by the daemon; the SYN's flow hash picks one.
struct lp_fp_targets_key {
  __u32 link;
  __u16 port;  // the listener port
  __u16 pad;
};

struct lp_fp_target {
  __u32 addr;
  __u16 port;
  __u16 pad;
};

struct lp_fp_targets {
  __u32 count;
  __u32 tier;  // which of chooseTarget's tiers these are (reported, not used here)
  struct lp_fp_target t[LP_FP_MAX_TARGETS];
};

// lp_hosts (hash): a workload's veth in a space, for bpf_redirect_peer: the device
// on the namespace's side, the workload's MAC and the gateway's (the device's).
struct lp_fp_host_key {
  __u32 space;
  __u32 addr;
};

struct lp_fp_host {
  __u32 ifindex;
  __u8 mac[6];
  __u8 gw_mac[6];
};

// Index 0 of lp_link_stats, lp_link_caps and lp_link_usage is no link's: it holds
// the host-wide connection limit (LP_FP_HOST): caps[0].max_conns, the limit the
// loader derives from lp_conns' size (connectionLimitFor in bpf_fastpath.h);
// usage[0].conns, the consumer-side entries in lp_conns (connections open, or
// closed and not swept yet: they still fill the table); stats[0].refused, the
// SYNs refused for it (each also its link's drop and refusal).
#define LP_FP_HOST 0

// lp_link_stats (per-CPU array, index = link id; 0 counts what no link owns).
struct lp_fp_link_stats {
  __u64 fwd_packets, fwd_bytes;  // consumer -> provider
  __u64 rev_packets, rev_bytes;  // provider -> consumer
  __u64 new_conns;
  __u64 resets;    // RST segments seen, either way
  __u64 drops;     // packets refused on the link (over_cap and refused included)
  __u64 over_cap;  // of drops: data packets over the link's bandwidth cap
  __u64 refused;   // of drops: SYNs refused (answered with a reset) over the connection limit
};

// lp_link_caps (array, index = link id): what the daemon allows a link; zeros (a
// link never given a cap): no cap, no limit.
struct lp_fp_link_cap {
  __u64 bytes_per_sec;  // TCP payload bytes per second, both ways together; 0: no cap
  __u64 burst_ns;       // how far ahead of the rate the link may run (the burst, as time at the rate)
  __u32 max_conns;      // live connections (lp_fp_link_usage.conns); 0: no limit
  __u32 pad;
};

// lp_link_usage (array, BPF_F_MMAPABLE, index = link id): the cap's and the limit's
// running state, changed only with atomic operations, by the programs and by the
// loader through the map's memory (LinkUsage in bpf_fastpath.h).
struct lp_fp_link_usage {
  // GCRA: the time (bpf_ktime_get_ns) at which the bytes passed so far are paid
  // for at the cap's rate; a data packet passes while tat_ns <= now + burst_ns.
  __u64 tat_ns;
  // Live connections: consumer-side (LP_FP_DIR_FWD) entries lp_link_out made for
  // this link that user space has not released yet (LinkUsage::release). At
  // LP_FP_HOST: consumer-side entries in lp_conns, compared as signed, so a count
  // that ever went below zero lets more through, never fewer.
  __u64 conns;
};

// The flow hash that picks a new connection's target: index = hash % count, over
// the client's address and port as the packet carries them (network order).
static inline __u32 lp_fp_flow_hash(__u32 saddr, __u16 sport) {
  __u32 h = saddr ^ (((__u32)sport << 16) | sport);
  h ^= h >> 16;
  h *= 0x7feb352dU;
  h ^= h >> 15;
  h *= 0x846ca68bU;
  h ^= h >> 16;
  return h;
}

#endif  // LINKPLANE_NET_BPF_FASTPATH_ABI_H_
