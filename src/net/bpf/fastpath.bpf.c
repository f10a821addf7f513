// linkplane's BPF fast path (docs/dataplane.md, "The BPF fast path"): TCP between
// a consumer VPC's namespace and a provider VPC's, translated on both sides at once
// by tc programs, without conntrack. Three programs, one copy loaded per VPC
// namespace (lp_space, set by the loader), sharing the maps of fastpath_abi.h:
//
//   lp_workload_in  ingress of every workload's veth (the namespace's side): packets
//                   of a connection with an entry are translated and moved with
//                   bpf_redirect_peer into the other namespace; SYNs and everything
//                   else go to the namespace's stack, untouched.
//   lp_link_out     egress of the link device in the consumer's namespace: a SYN the
//                   consumer's stack (its security groups) routed to an endpoint
//                   makes the connection's two entries and is translated; nothing
//                   else leaves (ARP aside).
//   lp_link_in      ingress of the link device, in either namespace: only packets of
//                   connections with an entry, on the link they belong to; a SYN goes
//                   to the provider's stack (the target's groups), the rest straight
//                   to the workload's veth peer.
// linux/bpf.h first: libbpf's helper definitions use its types.
// clang-format off
#include <linux/bpf.h>
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

// Reads an IPv4 TCP packet's tuple and flags. IP_OTHER: IPv4 but not TCP, or TCP
// this path does not translate (IP options, fragments).
static __always_inline int parse(struct __sk_buff* skb, struct lp_fp_tuple* t, __u8* flags) {
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

SEC("tc")
int lp_workload_in(struct __sk_buff* skb) {
  struct lp_fp_tuple t;
  __u8 flags = 0;
  if (parse(skb, &t, &flags) != IP_TCP) return TC_ACT_OK;
  if ((flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) return TC_ACT_OK;  // new: through the stack
  struct lp_fp_conn_key k = {.space = lp_space, .t = t};
  struct lp_fp_conn* c = bpf_map_lookup_elem(&lp_conns, &k);
  if (!c) return TC_ACT_OK;
  if (c->ifindex && c->ifindex != skb->ifindex) return TC_ACT_OK;  // not from this side's workload
  __u32 id = c->link;
  struct lp_fp_link* l = bpf_map_lookup_elem(&lp_links, &id);
  if (!l || !l->active) return TC_ACT_OK;
  note(c, flags, skb->len);
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
  int kind = parse(skb, &t, &flags);
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
  int made = 0;
  if (have && have->dir == LP_FP_DIR_FWD && have->link == link) {  // a retransmitted SYN
    out = have->to;
    struct lp_fp_conn_key rk = {.space = l->provider_space};
    reverse(&out, &rk.t);
    if (bpf_map_lookup_elem(&lp_conns, &rk)) {
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
    struct lp_fp_target target = ts->t[i];
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
    if (!made) return drop(link);
    // The client's later packets come in on its veth, where lp_workload_in takes
    // them: its lp_hosts entry names it. ingress_ifindex is that veth only when it
    // is no bridge port; a bridged client's packets reach the stack as the
    // bridge's (linkplane's workloads are bridge ports: every ACK then went to the
    // stack, out to the link and was dropped there).
    struct lp_fp_host_key ck = {.space = lp_space, .addr = t.saddr};
    struct lp_fp_host* client_host = bpf_map_lookup_elem(&lp_hosts, &ck);
    __u32 client_dev = skb->ingress_ifindex;
    // Keeps the load here: clang otherwise moves it into one branch as a load
    // through an offset ctx pointer, which the verifier refuses.
    asm volatile("" : "+r"(client_dev));
    if (client_host) client_dev = client_host->ifindex;
    struct lp_fp_conn fv = {.to = out,
                            .link = link,
                            .ifindex = client_dev,
                            .dir = LP_FP_DIR_FWD,
                            .last_seen_ns = now};
    if (bpf_map_update_elem(&lp_conns, &fk, &fv, BPF_ANY) != 0) {
      bpf_map_delete_elem(&lp_conns, &rk);
      return drop(link);
    }
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
  int kind = parse(skb, &t, &flags);
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
