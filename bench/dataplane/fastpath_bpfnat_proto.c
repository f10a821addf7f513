// Prototype, not product code: the cost of translating an endpoint's packets in tc
// programs instead of conntrack, for ONE client and ONE target fixed at compile time
// (no state, no port clash handling, no security groups, counters or timeouts).
// Four programs move a packet with bpf_redirect_peer, so neither VPC namespace's
// stack sees it: fastpath_variants.py VARIANTS=bpfnat measures it.
//   cv, client's veth ingress: ENI:PORT from CLIENT -> TARGET:TPORT from NODE, to the link
//   pv, link ingress:          to TARGET -> the target's veth peer
//   pv, target's veth ingress: TARGET:TPORT to NODE -> ENI:PORT to CLIENT, to the link
//   cv, link ingress:          from ENI:PORT -> the client's veth peer
// With SYN_BY_STACK a SYN is left to the namespaces' stacks (their security groups see
// it, untracked): the consumer routes it to the link, whose egress program translates it,
// and the provider routes it to the target; every other packet goes as above.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <stddef.h>

#define SEC(n) __attribute__((section(n), used))
static long (*bpf_redirect_peer)(__u32 ifindex, __u64 flags) = (void *)BPF_FUNC_redirect_peer;
static long (*bpf_skb_store_bytes)(struct __sk_buff *, __u32, const void *, __u32, __u64) = (void *)BPF_FUNC_skb_store_bytes;
static long (*bpf_l3_csum_replace)(struct __sk_buff *, __u32, __u64, __u64, __u64) = (void *)BPF_FUNC_l3_csum_replace;
static long (*bpf_l4_csum_replace)(struct __sk_buff *, __u32, __u64, __u64, __u64) = (void *)BPF_FUNC_l4_csum_replace;

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

static __always_inline void set_addr(struct __sk_buff *skb, __u32 off, __u32 from, __u32 to) {
  bpf_l4_csum_replace(skb, TCP_CSUM, from, to, BPF_F_PSEUDO_HDR | 4);
  bpf_l3_csum_replace(skb, IP_CSUM, from, to, 4);
  bpf_skb_store_bytes(skb, off, &to, 4, 0);
}

static __always_inline void set_port(struct __sk_buff *skb, __u32 off, __u16 from, __u16 to) {
  bpf_l4_csum_replace(skb, TCP_CSUM, from, to, 2);
  bpf_skb_store_bytes(skb, off, &to, 2, 0);
}

static __always_inline void set_macs(struct __sk_buff *skb, const unsigned char *dst, const unsigned char *src) {
  bpf_skb_store_bytes(skb, 0, dst, 6, 0);
  bpf_skb_store_bytes(skb, 6, src, 6, 0);
}

static __always_inline int syn_by_stack(struct tcphdr *tcp) {
#ifdef SYN_BY_STACK
  return tcp->syn && !tcp->ack;
#else
  return 0;
#endif
}

static __always_inline void translate_out(struct __sk_buff *skb) {
  set_addr(skb, IP_OFF + offsetof(struct iphdr, daddr), ENI, TARGET_IP);
  set_addr(skb, IP_OFF + offsetof(struct iphdr, saddr), CLIENT_IP, NODE_IP);
  set_port(skb, TCP_OFF + offsetof(struct tcphdr, dest), __builtin_bswap16(PORT), __builtin_bswap16(TPORT));
}

// cv, the link's egress: a SYN the consumer's stack let through and routed here.
SEC("tc/cegress") int cegress(struct __sk_buff *skb) {
  struct iphdr *ip; struct tcphdr *tcp;
  if (!parse(skb, &ip, &tcp)) return TC_ACT_OK;
  if (ip->daddr != ENI || tcp->dest != __builtin_bswap16(PORT) || ip->saddr != CLIENT_IP) return TC_ACT_SHOT;
  translate_out(skb);
  return TC_ACT_OK;
}

SEC("tc/cfwd") int cfwd(struct __sk_buff *skb) {
  struct iphdr *ip; struct tcphdr *tcp;
  if (!parse(skb, &ip, &tcp)) return TC_ACT_OK;
  if (ip->daddr != ENI || tcp->dest != __builtin_bswap16(PORT) || ip->saddr != CLIENT_IP) return TC_ACT_OK;
  if (syn_by_stack(tcp)) return TC_ACT_OK;
  translate_out(skb);
  set_macs(skb, fp_mac, fc_mac);
  return bpf_redirect_peer(LPFC_IFINDEX, 0);
}

SEC("tc/pfwd") int pfwd(struct __sk_buff *skb) {
  struct iphdr *ip; struct tcphdr *tcp;
  if (!parse(skb, &ip, &tcp)) return TC_ACT_OK;
  if (ip->daddr != TARGET_IP || ip->saddr != NODE_IP) return TC_ACT_SHOT;
  if (syn_by_stack(tcp)) return TC_ACT_OK;
  set_macs(skb, target_mac, pgw_mac);
  return bpf_redirect_peer(TARGET_IFINDEX, 0);
}

SEC("tc/prev") int prev(struct __sk_buff *skb) {
  struct iphdr *ip; struct tcphdr *tcp;
  if (!parse(skb, &ip, &tcp)) return TC_ACT_OK;
  if (ip->saddr != TARGET_IP || tcp->source != __builtin_bswap16(TPORT) || ip->daddr != NODE_IP) return TC_ACT_OK;
  set_addr(skb, IP_OFF + offsetof(struct iphdr, saddr), TARGET_IP, ENI);
  set_addr(skb, IP_OFF + offsetof(struct iphdr, daddr), NODE_IP, CLIENT_IP);
  set_port(skb, TCP_OFF + offsetof(struct tcphdr, source), __builtin_bswap16(TPORT), __builtin_bswap16(PORT));
  set_macs(skb, fc_mac, fp_mac);
  return bpf_redirect_peer(LPFP_IFINDEX, 0);
}

SEC("tc/crev") int crev(struct __sk_buff *skb) {
  struct iphdr *ip; struct tcphdr *tcp;
  if (!parse(skb, &ip, &tcp)) return TC_ACT_OK;
  if (ip->saddr != ENI || tcp->source != __builtin_bswap16(PORT) || ip->daddr != CLIENT_IP) return TC_ACT_SHOT;
  set_macs(skb, client_mac, gw_mac);
  return bpf_redirect_peer(CLIENT_IFINDEX, 0);
}

char _license[] SEC("license") = "GPL";
