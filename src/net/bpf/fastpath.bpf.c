// linkplane's BPF fast path (docs/dataplane.md, "The BPF fast path"): TCP between
// a consumer VPC's namespace and a provider VPC's, translated on both sides at once
// by tc programs, without conntrack. Three programs, one copy loaded per VPC
// namespace (lp_space, set by the loader), sharing the maps of fastpath_abi.h:
//
//   lp_workload_in  ingress of every workload's veth (the namespace's side): packets
//                   of a connection with an entry are translated and moved with
//                   bpf_redirect_peer into the other namespace (data over the
//                   link's bandwidth cap dropped); SYNs and everything else go to
//                   the namespace's stack, untouched.
//   lp_link_out     egress of the link device in the consumer's namespace: a SYN the
//                   consumer's stack (its security groups) routed to an endpoint
//                   makes the connection's two entries and is translated (past the
//                   link's connection limit, or the host's, it comes back to the
//                   client as a reset); nothing else leaves (ARP aside).
//   lp_link_in      ingress of the link device, in either namespace: only packets of
//                   connections with an entry, on the link they belong to; a SYN goes
//                   to the provider's stack (the target's groups), the rest straight
//                   to the workload's veth peer.
// linux/bpf.h first: libbpf's helper definitions use its types.
// clang-format off
#include <linux/bpf.h>
#include <linux/errno.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
// clang-format on
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <stddef.h>

#include "fastpath_abi.h"

// The VPC namespace this copy runs in.
const volatile __u32 lp_space = 0;

// Sizes are defaults; the loader sets them before loading.
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 262144);
  __type(key, struct lp_fp_conn_key);
  __type(value, struct lp_fp_conn);
} lp_conns SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, struct lp_fp_endpoint_key);
  __type(value, struct lp_fp_endpoint);
} lp_endpoints SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, struct lp_fp_link);
} lp_links SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, struct lp_fp_targets_key);
  __type(value, struct lp_fp_targets);
} lp_targets SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, struct lp_fp_host_key);
  __type(value, struct lp_fp_host);
} lp_hosts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, struct lp_fp_link_stats);
} lp_link_stats SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, struct lp_fp_link_cap);
} lp_link_caps SEC(".maps");

// Shared by every CPU (not per-CPU: a cap and a count are one budget), changed
// with atomic operations only; mmapable so user space can release a connection
// atomically too (a map update by syscall would overwrite the programs' changes).
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, struct lp_fp_link_usage);
} lp_link_usage SEC(".maps");

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

#define IP_OFF ETH_HLEN
#define TCP_OFF (ETH_HLEN + sizeof(struct iphdr))
#define IP_CSUM (IP_OFF + offsetof(struct iphdr, check))
#define TCP_CSUM (TCP_OFF + offsetof(struct tcphdr, check))
#define TCP_FLAGS_OFF 13

enum { NOT_IP, IP_OTHER, IP_TCP };

// Reads an IPv4 TCP packet's tuple, flags and payload length. IP_OTHER: IPv4 but
// not TCP, or TCP this path does not translate (IP options, fragments).
static __always_inline int parse(struct __sk_buff* skb, struct lp_fp_tuple* t, __u8* flags, __u32* payload) {
  void *data = (void*)(long)skb->data, *end = (void*)(long)skb->data_end;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP)) return NOT_IP;
  struct iphdr* ip = (void*)(eth + 1);
  if ((void*)(ip + 1) > end) return IP_OTHER;
  if (ip->ihl != 5 || ip->protocol != IPPROTO_TCP || (ip->frag_off & bpf_htons(0x3fff))) return IP_OTHER;
  struct tcphdr* tcp = (void*)(ip + 1);
  if ((void*)(tcp + 1) > end) return IP_OTHER;
  t->saddr = ip->saddr;
  t->daddr = ip->daddr;
  t->sport = tcp->source;
  t->dport = tcp->dest;
  *flags = ((__u8*)tcp)[TCP_FLAGS_OFF];
  __u32 headers = sizeof(struct iphdr) + tcp->doff * 4;
  // BIG TCP (the workload veths' GSO size is 185000 bytes) leaves tot_len 0 on a
  // packet over 64 KiB: then the skb's length says it. Otherwise tot_len, which a
  // frame padded to Ethernet's minimum does not mislead.
  __u32 total = bpf_ntohs(ip->tot_len);
  if (total == 0 && skb->len > ETH_HLEN) total = skb->len - ETH_HLEN;
  *payload = total > headers ? total - headers : 0;
  return IP_TCP;
}

static __always_inline int is_arp(struct __sk_buff* skb) {
  void *data = (void*)(long)skb->data, *end = (void*)(long)skb->data_end;
  struct ethhdr* eth = data;
  return (void*)(eth + 1) <= end && eth->h_proto == bpf_htons(ETH_P_ARP);
}

static __always_inline int is_new(__u8 flags) { return (flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) == TCP_SYN; }

static __always_inline void reverse(const struct lp_fp_tuple* in, struct lp_fp_tuple* out) {
  out->saddr = in->daddr;
  out->daddr = in->saddr;
  out->sport = in->dport;
  out->dport = in->sport;
}

static __always_inline struct lp_fp_link_stats* stats_of(__u32 link) {
  return bpf_map_lookup_elem(&lp_link_stats, &link);
}

static __always_inline int drop(__u32 link) {
  struct lp_fp_link_stats* s = stats_of(link);
  if (s) s->drops++;
  return TC_ACT_SHOT;
}

// Rewrites the packet's tuple from `from` (what it carries) to `to`, checksums included.
static __always_inline void rewrite(struct __sk_buff* skb, const struct lp_fp_tuple* from,
                                    const struct lp_fp_tuple* to) {
  if (from->saddr != to->saddr) {
    bpf_l4_csum_replace(skb, TCP_CSUM, from->saddr, to->saddr, BPF_F_PSEUDO_HDR | 4);
    bpf_l3_csum_replace(skb, IP_CSUM, from->saddr, to->saddr, 4);
    bpf_skb_store_bytes(skb, IP_OFF + offsetof(struct iphdr, saddr), &to->saddr, 4, 0);
  }
  if (from->daddr != to->daddr) {
    bpf_l4_csum_replace(skb, TCP_CSUM, from->daddr, to->daddr, BPF_F_PSEUDO_HDR | 4);
    bpf_l3_csum_replace(skb, IP_CSUM, from->daddr, to->daddr, 4);
    bpf_skb_store_bytes(skb, IP_OFF + offsetof(struct iphdr, daddr), &to->daddr, 4, 0);
  }
  if (from->sport != to->sport) {
    bpf_l4_csum_replace(skb, TCP_CSUM, from->sport, to->sport, 2);
    bpf_skb_store_bytes(skb, TCP_OFF + offsetof(struct tcphdr, source), &to->sport, 2, 0);
  }
  if (from->dport != to->dport) {
    bpf_l4_csum_replace(skb, TCP_CSUM, from->dport, to->dport, 2);
    bpf_skb_store_bytes(skb, TCP_OFF + offsetof(struct tcphdr, dest), &to->dport, 2, 0);
  }
}

static __always_inline void set_macs(struct __sk_buff* skb, const __u8* dst, const __u8* src) {
  bpf_skb_store_bytes(skb, 0, dst, ETH_ALEN, 0);
  bpf_skb_store_bytes(skb, ETH_ALEN, src, ETH_ALEN, 0);
}

// Notes a packet of connection entry c: time, FIN/RST, the link's counters.
static __always_inline void note(struct lp_fp_conn* c, __u8 flags, __u32 len) {
  c->last_seen_ns = bpf_ktime_get_ns();
  if (flags & TCP_FIN) c->seen |= LP_FP_SEEN_FIN;
  if (flags & TCP_RST) c->seen |= LP_FP_SEEN_RST;
  struct lp_fp_link_stats* s = stats_of(c->link);
  if (!s) return;
  if (c->dir == LP_FP_DIR_FWD) {
    s->fwd_packets++;
    s->fwd_bytes += len;
  } else {
    s->rev_packets++;
    s->rev_bytes += len;
  }
  if (flags & TCP_RST) s->resets++;
}

// ---- The bandwidth cap and the connection limit (stage 4)
//
// Both are per link (endpoint interface = the endpoint in one zone, as the splice
// path's token bucket per endpoint and zone), kept in lp_link_usage with atomic
// operations instead of a bpf_spin_lock: the lock would serialise the same cache
// line anyway, forbids helper calls while held, and cannot be taken by user space,
// which must release connections. The price, stated where it is paid below.
// The connection limit has a host-wide twin at index LP_FP_HOST (fastpath_abi.h):
// lp_conns is an LRU hash, which evicts live connections' entries when full; the
// host's limit keeps the table short of that, so a SYN is refused instead.

// Whether a data packet of `payload` bytes fits the link's cap, charging it when it
// does. GCRA on one time per link (as dataplane/token_bucket.h): it passes while
// the bytes already passed are paid for no later than burst_ns from now; then its
// cost moves that time on. Every passed byte is charged, so over any interval the
// link passes at most rate x interval + burst + what the race below lets through.
// The race: the check and the charge are two steps (a read, then compare-and-swap
// or add), so packets of one link checked at the same moment on N CPUs may all pass
// on one check: at most N - 1 packets (each at most one GSO packet, 64 KiB) over the
// burst at that moment, never a lasting excess, because each is still charged.
static __always_inline int within_cap(__u32 link, __u32 payload) {
  if (payload == 0) return 1;  // ACKs, FINs, RSTs without data: never dropped, nothing to charge
  struct lp_fp_link_cap* cap = bpf_map_lookup_elem(&lp_link_caps, &link);
  if (!cap || cap->bytes_per_sec == 0) return 1;
  struct lp_fp_link_usage* u = bpf_map_lookup_elem(&lp_link_usage, &link);
  if (!u) return 1;
  __u64 rate = cap->bytes_per_sec;
  __u64 cost = ((__u64)payload * 1000000000ULL + rate - 1) / rate;
  __u64 now = bpf_ktime_get_ns();
  __u64 tat = *(volatile __u64*)&u->tat_ns;
  if (tat > now + cap->burst_ns) return 0;
  // An idle link's time is in the past: its credit starts from now (the burst is
  // the only saved-up credit). Another CPU moving it first makes this a charge.
  if (tat < now && __sync_val_compare_and_swap(&u->tat_ns, tat, now + cost) == tat) return 1;
  __sync_fetch_and_add(&u->tat_ns, cost);
  return 1;
}

#define GIVE_TRIES 8

// Gives a link's connection slot back, never below zero (user space may have
// zeroed the count meanwhile, LinkUsage::reset; an underflow would refuse every
// SYN after). After GIVE_TRIES lost compare-and-swaps the slot stays taken: the
// count is one too high until user space recounts (LinkUsage::recount).
static __always_inline void give_conn(__u32 link) {
  struct lp_fp_link_usage* u = bpf_map_lookup_elem(&lp_link_usage, &link);
  if (!u) return;
  for (int i = 0; i < GIVE_TRIES; i++) {
    __u64 v = *(volatile __u64*)&u->conns;
    if (v == 0 || __sync_val_compare_and_swap(&u->conns, v, v - 1) == v) return;
  }
}

// The host's count (fastpath_abi.h, LP_FP_HOST) is of consumer-side entries in
// lp_conns, whether their connection is open or closed and not yet swept: a slot
// taken with the entry, given back when it goes (deleteConnections in user space;
// a new SYN replacing it takes its slot over), not when the connection closes. One
// atomic add, which cannot lose a race as a compare-and-swap can (every CPU's SYNs
// share it); compared as signed, so a count that went below zero lets more in.
static __always_inline void add_host_slots(__s64 n) {
  __u32 host = LP_FP_HOST;
  struct lp_fp_link_usage* u = bpf_map_lookup_elem(&lp_link_usage, &host);
  if (u) __sync_fetch_and_add(&u->conns, (__u64)n);
}

// Whether `live` (a count just taken) is past the limit of lp_link_caps[index].
static __always_inline int over_limit(__u32 index, __u64 live) {
  struct lp_fp_link_cap* cap = bpf_map_lookup_elem(&lp_link_caps, &index);
  return cap && cap->max_conns && (__s64)live > (__s64)cap->max_conns;
}

enum { TAKEN, OVER_LINK, OVER_HOST };

// Takes what a new connection needs: a host slot when it adds a consumer-side
// entry to lp_conns (not when its entry replaces one), and a link slot. TAKEN, or
// which limit is reached. Each is taken first and given back when over, so
// concurrent SYNs never take a count past its limit; the price: SYNs racing for
// the last slot may both be refused.
static __always_inline int take_conn(__u32 link, int host_slot, int link_slot) {
  __u32 host = LP_FP_HOST;
  struct lp_fp_link_usage* h = bpf_map_lookup_elem(&lp_link_usage, &host);
  struct lp_fp_link_usage* u = bpf_map_lookup_elem(&lp_link_usage, &link);
  if (!h || !u) return OVER_LINK;
  if (host_slot && over_limit(LP_FP_HOST, __sync_fetch_and_add(&h->conns, 1) + 1)) {
    add_host_slots(-1);
    return OVER_HOST;
  }
  if (link_slot && over_limit(link, __sync_fetch_and_add(&u->conns, 1) + 1)) {
    give_conn(link);
    if (host_slot) add_host_slots(-1);
    return OVER_LINK;
  }
  return TAKEN;
}

// Gives back what take_conn took, for a connection whose entries were not made.
static __always_inline void untake_conn(__u32 link, int host_slot, int link_slot) {
  if (link_slot) give_conn(link);
  if (host_slot) add_host_slots(-1);
}

// Gives a connection's slot back as soon as it closes (a reset either way, or a FIN
// each way), not when the sweeper deletes its entries after the linger (10 s, for
// the last ACK): the limit and ActiveConnections count open connections. Measured
// without it: a curl's finished connection stayed "1 active" for 10-15 s, and
// short connections at N/s held N x 12 slots of max_connections_per_interface.
// The consumer-side entry's `released` makes it once; the peer entry is the one
// keyed by the reverse of this entry's translated tuple in the other space.
static __always_inline void release_if_closed(struct lp_fp_conn* c, const struct lp_fp_link* l, __u8 flags) {
  struct lp_fp_conn_key pk = {.space = c->dir == LP_FP_DIR_FWD ? l->provider_space : l->consumer_space};
  reverse(&c->to, &pk.t);
  struct lp_fp_conn* p = bpf_map_lookup_elem(&lp_conns, &pk);
  int peer_fin = 0;
  if (p && p->link == c->link) {  // else the ports were taken over by another connection
    peer_fin = (p->seen & LP_FP_SEEN_FIN) != 0;
    if (c->dir != LP_FP_DIR_FWD && p->dir == LP_FP_DIR_FWD && ((flags & TCP_RST) || peer_fin)) {
      if (__sync_fetch_and_or(&p->released, 1) == 0) give_conn(p->link);
      return;
    }
  }
  if (c->dir == LP_FP_DIR_FWD && ((flags & TCP_RST) || peer_fin))
    if (__sync_fetch_and_or(&c->released, 1) == 0) give_conn(c->link);
}

_Static_assert((LP_FP_MAX_TARGETS & (LP_FP_MAX_TARGETS - 1)) == 0, "the target index is masked");

#define TCP_RST_ACK_WORD 0x5014  // data offset 5, RST|ACK
#define TCP_MAX_OPTION_WORDS 10  // 40 bytes of options

// Turns the SYN leaving on the link into the reset the endpoint's address would
// send and moves it out of the client's veth (lp_hosts): the client's connect()
// fails at once (ECONNREFUSED), as with the conntrack path's `reject with tcp
// reset`, instead of retrying its SYN for two minutes. The checksums are updated
// for what changes (swapping addresses and ports changes no sum), so they hold
// whether the stack left them complete or partial (offloaded). Dropped instead
// when the client has no host entry or the SYN carries data.
static __always_inline int refuse(struct __sk_buff* skb, const struct lp_fp_tuple* t, __u32 link) {
  struct lp_fp_link_stats* s = stats_of(link);
  if (s) {
    s->drops++;
    s->refused++;
  }
  struct lp_fp_host_key hk = {.space = lp_space, .addr = t->saddr};
  struct lp_fp_host* h = bpf_map_lookup_elem(&lp_hosts, &hk);
  if (!h) return TC_ACT_SHOT;
  __u32 out = h->ifindex;
  __u8 dst[ETH_ALEN], src[ETH_ALEN];
  __builtin_memcpy(dst, h->mac, ETH_ALEN);
  __builtin_memcpy(src, h->gw_mac, ETH_ALEN);

  void *data = (void*)(long)skb->data, *end = (void*)(long)skb->data_end;
  struct iphdr* ip = data + ETH_HLEN;
  struct tcphdr* tcp = (void*)(ip + 1);
  if ((void*)(tcp + 1) > end) return TC_ACT_SHOT;
  __u32 doff = tcp->doff * 4;
  __u32 total = bpf_ntohs(ip->tot_len);
  if (doff < sizeof(struct tcphdr) || total != sizeof(struct iphdr) + doff) return TC_ACT_SHOT;
  __u32 seq = tcp->seq, old_ack = tcp->ack_seq;
  __u16 old_word = ((__u16*)tcp)[6], old_window = tcp->window, old_urg = tcp->urg_ptr;
  __u32 ack = bpf_htonl(bpf_ntohl(seq) + 1);
  __u16 word = bpf_htons(TCP_RST_ACK_WORD);

  // The options go: their words leave the sum.
  for (int i = 0; i < TCP_MAX_OPTION_WORDS; i++) {
    if (sizeof(struct tcphdr) + 4 * i >= doff) break;
    __u32 w;
    if (bpf_skb_load_bytes(skb, TCP_OFF + sizeof(struct tcphdr) + 4 * i, &w, 4) != 0) return TC_ACT_SHOT;
    bpf_l4_csum_replace(skb, TCP_CSUM, w, 0, 4);
  }
  bpf_l4_csum_replace(skb, TCP_CSUM, bpf_htons(doff), bpf_htons(sizeof(struct tcphdr)), BPF_F_PSEUDO_HDR | 2);
  bpf_l4_csum_replace(skb, TCP_CSUM, seq, 0, 4);
  bpf_l4_csum_replace(skb, TCP_CSUM, old_ack, ack, 4);
  bpf_l4_csum_replace(skb, TCP_CSUM, old_word, word, 2);
  bpf_l4_csum_replace(skb, TCP_CSUM, old_window, 0, 2);
  bpf_l4_csum_replace(skb, TCP_CSUM, old_urg, 0, 2);
  __u16 new_total = bpf_htons(sizeof(struct iphdr) + sizeof(struct tcphdr));
  bpf_l3_csum_replace(skb, IP_CSUM, bpf_htons(total), new_total, 2);

  __u16 check;
  if (bpf_skb_load_bytes(skb, TCP_CSUM, &check, 2) != 0) return TC_ACT_SHOT;
  __u32 addrs[2] = {t->daddr, t->saddr};
  __u16 hdr[10] = {t->dport, t->sport};  // ports; seq 0
  __builtin_memcpy(&hdr[4], &ack, 4);
  hdr[6] = word;
  hdr[8] = check;  // window and urgent pointer 0
  bpf_skb_store_bytes(skb, IP_OFF + offsetof(struct iphdr, tot_len), &new_total, 2, 0);
  bpf_skb_store_bytes(skb, IP_OFF + offsetof(struct iphdr, saddr), addrs, 8, 0);
  bpf_skb_store_bytes(skb, TCP_OFF, hdr, sizeof hdr, 0);
  if (bpf_skb_change_tail(skb, TCP_OFF + sizeof(struct tcphdr), 0) != 0) return TC_ACT_SHOT;
  set_macs(skb, dst, src);
  return bpf_redirect(out, 0);
}

SEC("tc")
int lp_workload_in(struct __sk_buff* skb) {
  struct lp_fp_tuple t;
  __u8 flags = 0;
  __u32 payload = 0;
  if (parse(skb, &t, &flags, &payload) != IP_TCP) return TC_ACT_OK;
  if ((flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) return TC_ACT_OK;  // new: through the stack
  struct lp_fp_conn_key k = {.space = lp_space, .t = t};
  struct lp_fp_conn* c = bpf_map_lookup_elem(&lp_conns, &k);
  if (!c) return TC_ACT_OK;
  if (c->ifindex && c->ifindex != skb->ifindex) return TC_ACT_OK;  // not from this side's workload
  __u32 id = c->link;
  struct lp_fp_link* l = bpf_map_lookup_elem(&lp_links, &id);
  if (!l || !l->active) return TC_ACT_OK;
  if (!within_cap(id, payload)) {
    struct lp_fp_link_stats* s = stats_of(id);
    if (s) {
      s->drops++;
      s->over_cap++;
    }
    return TC_ACT_SHOT;
  }
  note(c, flags, skb->len);
  if (flags & (TCP_FIN | TCP_RST)) release_if_closed(c, l, flags);
  struct lp_fp_tuple to = c->to;
  __u32 out;
  __u8 dst[ETH_ALEN], src[ETH_ALEN];
  if (c->dir == LP_FP_DIR_FWD) {
    out = l->consumer_ifindex;
    __builtin_memcpy(dst, l->provider_mac, ETH_ALEN);
    __builtin_memcpy(src, l->consumer_mac, ETH_ALEN);
  } else {
    out = l->provider_ifindex;
    __builtin_memcpy(dst, l->consumer_mac, ETH_ALEN);
    __builtin_memcpy(src, l->provider_mac, ETH_ALEN);
  }
  rewrite(skb, &t, &to);
  set_macs(skb, dst, src);
  return bpf_redirect_peer(out, 0);
}

SEC("tc")
int lp_link_out(struct __sk_buff* skb) {
  struct lp_fp_tuple t;
  __u8 flags = 0;
  __u32 payload = 0;
  int kind = parse(skb, &t, &flags, &payload);
  if (kind == NOT_IP && is_arp(skb)) return TC_ACT_OK;
  if (kind != IP_TCP) return drop(0);
  struct lp_fp_endpoint_key ek = {.space = lp_space, .addr = t.daddr, .port = t.dport};
  struct lp_fp_endpoint* ep = bpf_map_lookup_elem(&lp_endpoints, &ek);
  if (!ep) return drop(0);
  __u32 link = ep->link;
  if (!is_new(flags)) return drop(link);  // everything after the SYN goes peer to peer
  struct lp_fp_link* l = bpf_map_lookup_elem(&lp_links, &link);
  if (!l || !l->active || l->consumer_space != lp_space) return drop(link);
  struct lp_fp_link_stats* s = stats_of(link);
  __u64 now = bpf_ktime_get_ns();

  struct lp_fp_conn_key fk = {.space = lp_space, .t = t};
  struct lp_fp_tuple out;
  struct lp_fp_conn* have = bpf_map_lookup_elem(&lp_conns, &fk);
  // The link of a consumer-side entry this tuple already has (0: none); a new
  // entry replaces it.
  __u32 replaced = have && have->dir == LP_FP_DIR_FWD ? have->link : 0;
  // Whether that entry still holds its link's slot (a closed one gave it back).
  int replaced_held = replaced && !have->released;
  int made = 0;
  // A retransmitted SYN keeps its translation. A SYN on a tuple whose connection
  // has closed (FIN or RST seen, not yet swept) is a new connection on the same
  // ports: it gets fresh entries below, else it would inherit the closed flags and
  // the sweeper would end it 10 s after it next went quiet.
  if (have && have->dir == LP_FP_DIR_FWD && have->link == link && !have->seen) {
    out = have->to;
    struct lp_fp_conn_key rk = {.space = l->provider_space};
    reverse(&out, &rk.t);
    struct lp_fp_conn* rev = bpf_map_lookup_elem(&lp_conns, &rk);
    if (rev && !rev->seen) {
      have->last_seen_ns = now;
      made = 1;
    }
  }
  if (!made) {
    struct lp_fp_targets_key tk = {.link = link, .port = t.dport};
    struct lp_fp_targets* ts = bpf_map_lookup_elem(&lp_targets, &tk);
    if (!ts) return drop(link);
    __u32 n = ts->count;
    if (n == 0 || n > LP_FP_MAX_TARGETS) return drop(link);
    __u32 i = lp_fp_flow_hash(t.saddr, t.sport) % n;
    asm volatile("" : "+r"(i));  // keeps the bound check clang would prove redundant; the verifier cannot
    if (i >= LP_FP_MAX_TARGETS) return drop(link);
    // And a mask the verifier sees on the register that indexes: with one more
    // live variable here clang checked a spilled copy and indexed with another.
    asm volatile("" : "+r"(i));
    i &= LP_FP_MAX_TARGETS - 1;
    struct lp_fp_target target = ts->t[i];
    // The connection limit counts consumer-side entries: a new one takes a slot;
    // one replacing an entry of this link that still holds one (whose reverse entry
    // was gone) keeps it. The SYN's own data (TCP Fast Open, rare) is not charged
    // to the cap.
    int fresh = replaced != link || !replaced_held;
    // A host slot is a consumer-side entry in lp_conns: one replacing an entry
    // keeps that entry's.
    int grows = !replaced;
    int taken = take_conn(link, grows, fresh);
    if (taken != TAKEN) {
      // The host's limit (lp_conns' size, less room that keeps the LRU from
      // evicting live entries): counted there too, for the daemon's log.
      struct lp_fp_link_stats* hs = taken == OVER_HOST ? stats_of(LP_FP_HOST) : 0;
      if (hs) hs->refused++;
      return refuse(skb, &t, link);
    }
    out.saddr = l->node_addr;
    out.daddr = target.addr;
    out.sport = t.sport;
    out.dport = target.port;

    struct lp_fp_conn rv = {.link = link, .dir = LP_FP_DIR_REV, .last_seen_ns = now};
    reverse(&t, &rv.to);
    struct lp_fp_host_key hk = {.space = l->provider_space, .addr = target.addr};
    struct lp_fp_host* target_host = bpf_map_lookup_elem(&lp_hosts, &hk);
    if (target_host) rv.ifindex = target_host->ifindex;
    struct lp_fp_conn_key rk = {.space = l->provider_space};
    // The node's port toward this target is the client's unless another connection
    // holds it; then the next few candidates.
    for (int tries = 0; tries < 8; tries++) {
      reverse(&out, &rk.t);
      if (bpf_map_update_elem(&lp_conns, &rk, &rv, BPF_NOEXIST) == 0) {
        made = 1;
        break;
      }
      struct lp_fp_conn* other = bpf_map_lookup_elem(&lp_conns, &rk);
      if (other && other->link == link && other->to.daddr == rv.to.daddr && other->to.dport == rv.to.dport) {
        // this client's own earlier connection on the same ports: taken over
        if (bpf_map_update_elem(&lp_conns, &rk, &rv, BPF_ANY) == 0) made = 1;
        break;
      }
      out.sport = bpf_htons(32768 + ((bpf_ntohs(out.sport) + 7919) % 28232));
    }
    if (!made) {
      untake_conn(link, grows, fresh);
      return drop(link);
    }
    // The device the client's later packets arrive on (lp_workload_in): its veth
    // from lp_hosts. The SYN's ingress_ifindex is that only without a bridge; the
    // daemon's workload veths are bridge ports, and then it is the bridge.
    __u32 from = skb->ingress_ifindex;
    asm volatile("" : "+r"(from));  // read here: a load merged from ctx or a map value fails the verifier
    struct lp_fp_host_key ck = {.space = lp_space, .addr = t.saddr};
    struct lp_fp_host* client = bpf_map_lookup_elem(&lp_hosts, &ck);
    if (client) from = client->ifindex;
    struct lp_fp_conn fv = {.to = out, .link = link, .ifindex = from, .dir = LP_FP_DIR_FWD, .last_seen_ns = now};
    long err = bpf_map_update_elem(&lp_conns, &fk, &fv, replaced ? BPF_ANY : BPF_NOEXIST);
    if (err != 0) {
      untake_conn(link, grows, fresh);
      // EEXIST: the same SYN on another CPU made this connection's entries meanwhile
      // (the reverse one taken over above is the same); they are that CPU's.
      if (err != -EEXIST) bpf_map_delete_elem(&lp_conns, &rk);
      return drop(link);
    }
    if (replaced_held && fresh) give_conn(replaced);  // that link's entry is gone
    if (s) s->new_conns++;
  }
  if (s) {
    s->fwd_packets++;
    s->fwd_bytes += skb->len;
  }
  rewrite(skb, &t, &out);
  return TC_ACT_OK;
}

SEC("tc")
int lp_link_in(struct __sk_buff* skb) {
  struct lp_fp_tuple t;
  __u8 flags = 0;
  __u32 payload = 0;
  int kind = parse(skb, &t, &flags, &payload);
  if (kind == NOT_IP && is_arp(skb)) return TC_ACT_OK;
  if (kind != IP_TCP) return drop(0);
  struct lp_fp_conn_key k = {.space = lp_space};
  reverse(&t, &k.t);
  struct lp_fp_conn* c = bpf_map_lookup_elem(&lp_conns, &k);
  if (!c) return drop(0);
  __u32 id = c->link;
  struct lp_fp_link* l = bpf_map_lookup_elem(&lp_links, &id);
  if (!l || !l->active) return drop(id);
  __u32 dev = c->dir == LP_FP_DIR_FWD ? l->consumer_ifindex : l->provider_ifindex;
  if (dev != skb->ifindex) return drop(id);
  if (c->dir == LP_FP_DIR_REV && (flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) return TC_ACT_OK;
  struct lp_fp_host_key hk = {.space = lp_space, .addr = t.daddr};
  struct lp_fp_host* h = bpf_map_lookup_elem(&lp_hosts, &hk);
  if (!h) return TC_ACT_OK;  // the namespace's stack routes it
  __u32 to = h->ifindex;
  __u8 dst[ETH_ALEN], src[ETH_ALEN];
  __builtin_memcpy(dst, h->mac, ETH_ALEN);
  __builtin_memcpy(src, h->gw_mac, ETH_ALEN);
  set_macs(skb, dst, src);
  return bpf_redirect_peer(to, 0);
}

char _license[] SEC("license") = "GPL";
