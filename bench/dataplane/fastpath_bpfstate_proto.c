// Prototype, not product code (fastpath_variants.py VARIANTS=bpfstate): the cost of a
// conntrack-free translation that keeps per-connection state in BPF maps. As
// fastpath_bpfnat_proto.c with SYN_BY_STACK (each SYN crosses both VPC namespaces'
// stacks and their security groups, untracked), but the link's egress program makes a
// connection entry for it (two LRU hash maps, one per direction; the client's port kept
// unless the target already has that node port from another client), and every other
// packet is translated from those entries and moved with bpf_redirect_peer. One target
// and one client interface fixed at compile time; no timeouts, counters or cap.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <stddef.h>

#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
static void *(*bpf_map_lookup_elem)(void *, const void *) = (void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_map_update_elem)(void *, const void *, const void *, __u64) = (void *)BPF_FUNC_map_update_elem;
static long (*bpf_redirect_peer)(__u32 ifindex, __u64 flags) = (void *)BPF_FUNC_redirect_peer;
static long (*bpf_skb_store_bytes)(struct __sk_buff *, __u32, const void *, __u32, __u64) = (void *)BPF_FUNC_skb_store_bytes;
static long (*bpf_l3_csum_replace)(struct __sk_buff *, __u32, __u64, __u64, __u64) = (void *)BPF_FUNC_l3_csum_replace;
static long (*bpf_l4_csum_replace)(struct __sk_buff *, __u32, __u64, __u64, __u64) = (void *)BPF_FUNC_l4_csum_replace;

struct tuple {
  __u32 saddr, daddr;
  __u16 sport, dport;
};

// Pinned by name (tc's libbpf: /sys/fs/bpf/tc/globals), so the programs of both
// namespaces share them.
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 262144);
  __type(key, struct tuple);
  __type(value, struct tuple);
  __uint(pinning, 1);
} lpfv_out SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 262144);
  __type(key, struct tuple);
  __type(value, struct tuple);
  __uint(pinning, 1);
} lpfv_back SEC(".maps");

static const unsigned char fp_mac[6] = {FP_MAC}, fc_mac[6] = {FC_MAC};
static const unsigned char client_mac[6] = {CLIENT_MAC}, gw_mac[6] = {GW_MAC};
static const unsigned char target_mac[6] = {TARGET_MAC}, pgw_mac[6] = {PGW_MAC};

#define IP_OFF ETH_HLEN
#define TCP_OFF (ETH_HLEN + sizeof(struct iphdr))
#define IP_CSUM (IP_OFF + offsetof(struct iphdr, check))
#define TCP_CSUM (TCP_OFF + offsetof(struct tcphdr, check))

static __always_inline int parse(struct __sk_buff *skb, struct iphdr **ip, struct tcphdr **tcp) {
  void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end || eth->h_proto != __builtin_bswap16(ETH_P_IP)) return 0;
  *ip = (void *)(eth + 1);
  if ((void *)(*ip + 1) > end || (*ip)->ihl != 5 || (*ip)->protocol != IPPROTO_TCP) return 0;
  *tcp = (void *)(*ip + 1);
  if ((void *)(*tcp + 1) > end) return 0;
  return 1;
}

static __always_inline void key_of(struct iphdr *ip, struct tcphdr *tcp, struct tuple *k) {
  k->saddr = ip->saddr;
  k->daddr = ip->daddr;
  k->sport = tcp->source;
  k->dport = tcp->dest;
}

// Rewrites the packet's tuple from `from` (what it carries) to `to`, checksums included.
static __always_inline void rewrite(struct __sk_buff *skb, const struct tuple *from, const struct tuple *to) {
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

static __always_inline void set_macs(struct __sk_buff *skb, const unsigned char *dst, const unsigned char *src) {
  bpf_skb_store_bytes(skb, 0, dst, 6, 0);
  bpf_skb_store_bytes(skb, 6, src, 6, 0);
}

// cv, the link's egress: a SYN the consumer's stack (its security groups) let through.
SEC("tc/cegress") int cegress(struct __sk_buff *skb) {
  struct iphdr *ip; struct tcphdr *tcp;
  if (!parse(skb, &ip, &tcp)) return TC_ACT_OK;
  if (ip->daddr != ENI || tcp->dest != __builtin_bswap16(PORT) || !tcp->syn || tcp->ack) return TC_ACT_SHOT;
  struct tuple k, out, back, mine;
  key_of(ip, tcp, &k);
  struct tuple *have = bpf_map_lookup_elem(&lpfv_out, &k);
  if (have) {  // a retransmitted SYN
    out = *have;
  } else {
    out.saddr = NODE_IP;
    out.daddr = TARGET_IP;
    out.sport = k.sport;
    out.dport = __builtin_bswap16(TPORT);
    mine.saddr = ENI;
    mine.daddr = k.saddr;
    mine.sport = k.dport;
    mine.dport = k.sport;
    for (int i = 0; i < 8; i++) {  // the node's port toward this target is taken: move
      back.saddr = out.daddr;
      back.daddr = out.saddr;
      back.sport = out.dport;
      back.dport = out.sport;
      struct tuple *other = bpf_map_lookup_elem(&lpfv_back, &back);
      if (!other || (other->daddr == mine.daddr && other->dport == mine.dport)) break;
      out.sport = __builtin_bswap16(32768 + ((__builtin_bswap16(out.sport) + 7919) % 28232));
    }
    back.saddr = out.daddr;
    back.daddr = out.saddr;
    back.sport = out.dport;
    back.dport = out.sport;
    bpf_map_update_elem(&lpfv_out, &k, &out, BPF_ANY);
    bpf_map_update_elem(&lpfv_back, &back, &mine, BPF_ANY);
  }
  rewrite(skb, &k, &out);
  return TC_ACT_OK;
}

// cv, the client's veth ingress: packets of connections with an entry.
SEC("tc/cfwd") int cfwd(struct __sk_buff *skb) {
  struct iphdr *ip; struct tcphdr *tcp;
  if (!parse(skb, &ip, &tcp)) return TC_ACT_OK;
  if (ip->daddr != ENI || tcp->dest != __builtin_bswap16(PORT)) return TC_ACT_OK;
  if (tcp->syn && !tcp->ack) return TC_ACT_OK;
  struct tuple k;
  key_of(ip, tcp, &k);
  struct tuple *out = bpf_map_lookup_elem(&lpfv_out, &k);
  if (!out) return TC_ACT_OK;  // the stack answers it (a reset from the address's owner)
  struct tuple to = *out;
  rewrite(skb, &k, &to);
  set_macs(skb, fp_mac, fc_mac);
  return bpf_redirect_peer(LPFC_IFINDEX, 0);
}

// pv, the link's ingress: a SYN to its stack (the target's groups), the rest to the target.
SEC("tc/pfwd") int pfwd(struct __sk_buff *skb) {
  struct iphdr *ip; struct tcphdr *tcp;
  if (!parse(skb, &ip, &tcp)) return TC_ACT_OK;
  if (ip->daddr != TARGET_IP || ip->saddr != NODE_IP) return TC_ACT_SHOT;
  if (tcp->syn && !tcp->ack) return TC_ACT_OK;
  set_macs(skb, target_mac, pgw_mac);
  return bpf_redirect_peer(TARGET_IFINDEX, 0);
}

// pv, the target's veth ingress: replies of connections with an entry, back to the link.
SEC("tc/prev") int prev(struct __sk_buff *skb) {
  struct iphdr *ip; struct tcphdr *tcp;
  if (!parse(skb, &ip, &tcp)) return TC_ACT_OK;
  struct tuple k;
  key_of(ip, tcp, &k);
  struct tuple *back = bpf_map_lookup_elem(&lpfv_back, &k);
  if (!back) return TC_ACT_OK;
  struct tuple to = *back;
  rewrite(skb, &k, &to);
  set_macs(skb, fc_mac, fp_mac);
  return bpf_redirect_peer(LPFP_IFINDEX, 0);
}

// cv, the link's ingress: only an endpoint's replies, to the client's veth peer.
SEC("tc/crev") int crev(struct __sk_buff *skb) {
  struct iphdr *ip; struct tcphdr *tcp;
  if (!parse(skb, &ip, &tcp)) return TC_ACT_OK;
  if (ip->saddr != ENI || tcp->source != __builtin_bswap16(PORT) || ip->daddr != CLIENT_IP) return TC_ACT_SHOT;
  set_macs(skb, client_mac, gw_mac);
  return bpf_redirect_peer(CLIENT_IFINDEX, 0);
}

char _license[] SEC("license") = "GPL";
