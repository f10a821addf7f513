// Prototype, not product code (fastpath_variants.py VARIANTS=peer*): carry an endpoint's
// packets across the consumer VPC namespace with bpf_redirect_peer (no bridge, no IP
// stack, no netfilter there); translation is left to conntrack in the provider namespace.
// One client, addresses and interfaces fixed at compile time.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>

#define SEC(n) __attribute__((section(n), used))
static long (*bpf_redirect_peer)(__u32 ifindex, __u64 flags) = (void *)BPF_FUNC_redirect_peer;

static const unsigned char fp_mac[6] = {FP_MAC};
static const unsigned char fc_mac[6] = {FC_MAC};
static const unsigned char client_mac[6] = {CLIENT_MAC};
static const unsigned char gw_mac[6] = {GW_MAC};

static __always_inline int parse(struct __sk_buff *skb, struct ethhdr **eth, struct iphdr **ip, struct tcphdr **tcp) {
  void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
  *eth = data;
  if ((void *)(*eth + 1) > end || (*eth)->h_proto != __builtin_bswap16(ETH_P_IP)) return 0;
  *ip = (void *)(*eth + 1);
  if ((void *)(*ip + 1) > end || (*ip)->ihl != 5 || (*ip)->protocol != IPPROTO_TCP) return 0;
  *tcp = (void *)(*ip + 1);
  if ((void *)(*tcp + 1) > end) return 0;
  return 1;
}

// On the consumer VPC side of the client's veth: to ENI:PORT -> the link's peer.
SEC("tc/fwd") int fwd(struct __sk_buff *skb) {
  struct ethhdr *eth; struct iphdr *ip; struct tcphdr *tcp;
  if (!parse(skb, &eth, &ip, &tcp)) return TC_ACT_OK;
  if (ip->daddr != ENI || tcp->dest != __builtin_bswap16(PORT)) return TC_ACT_OK;
#ifdef SYN_BY_STACK
  if (tcp->syn && !tcp->ack) return TC_ACT_OK;
#endif
  __builtin_memcpy(eth->h_dest, fp_mac, 6);
  __builtin_memcpy(eth->h_source, fc_mac, 6);
  return bpf_redirect_peer(LPFC_IFINDEX, 0);
}

// On the consumer end of the link: from ENI:PORT to the client -> the client's veth peer.
SEC("tc/rev") int rev(struct __sk_buff *skb) {
  struct ethhdr *eth; struct iphdr *ip; struct tcphdr *tcp;
  if (!parse(skb, &eth, &ip, &tcp)) return TC_ACT_OK;
  if (ip->saddr != ENI || tcp->source != __builtin_bswap16(PORT) || ip->daddr != CLIENT_IP) return TC_ACT_SHOT;
  __builtin_memcpy(eth->h_dest, client_mac, 6);
  __builtin_memcpy(eth->h_source, gw_mac, 6);
  return bpf_redirect_peer(CLIENT_IFINDEX, 0);
}

char _license[] SEC("license") = "GPL";
