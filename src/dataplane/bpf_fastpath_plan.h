// The BPF fast path (docs/dataplane.md, "The BPF fast path"), as pure functions:
// from what the conntrack fast path plans from (the listeners of a Snapshot, target
// health) plus the VPC namespaces' workloads and the previous run's numbers, everything
// the daemon must put in place: a space per VPC namespace, a link id per endpoint
// interface, the contents of lp_endpoints / lp_links / lp_targets / lp_hosts, the
// programs to attach to which device, and the namespace setup the SYN path needs
// (routes of endpoint addresses to the link, `notrack`, sysctls). diffBpfPlans() turns
// two plans into the writes that take the kernel from one to the other, so the sink
// that applies them only executes. No I/O, no root; any thread.
//
// Values the kernel assigns (ifindex, MACs) are not known here: the plan names
// devices by (namespace, name) and the sink resolves them when it writes.
// Addresses are dotted-quad strings and ports host-order ints; the sink converts to
// fastpath_abi.h's byte orders (tests/unit/net/bpf/bpf_plan_abi_test.cc checks the
// limits agree with that header).
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/forwarder.h"
#include "dataplane/snapshot.h"
#include "dataplane/target_choice.h"

namespace lp::dataplane {

// LP_FP_MAX_TARGETS: the most targets an lp_targets value holds. An endpoint whose
// listener has more registered targets stays off the BPF path (a tier may be all of them).
inline constexpr size_t kBpfMaxTargets = 64;
// Spaces 1..kBpfMaxSpace (0 is never a space).
inline constexpr uint32_t kBpfMaxSpace = 65535;
// Consumer namespaces route endpoint addresses to their link in this table, looked
// up by a rule at kBpfRulePref; the `local` table's rule moves from 0 to
// kBpfLocalPref (after it) so an endpoint address, local for the splice listeners,
// is still routed to the link; kBpfLocalFromHostPref keeps what the namespace
// itself sends to its own addresses local. Clients' ARP for the address is then
// answered as proxy ARP: `proxy_arp` on their gateway devices (the bridges).
inline constexpr uint32_t kBpfRouteTable = 0x4c50;  // "LP"
inline constexpr uint32_t kBpfLocalFromHostPref = 100;
inline constexpr uint32_t kBpfRulePref = 150;
inline constexpr uint32_t kBpfLocalPref = 200;
// nft table of the notrack rules in every VPC namespace on the BPF path.
inline constexpr const char* kBpfTable = "lp-bpf";

// A workload interface of a VPC namespace (reconciler/host_plan.h's WorkloadPlan):
// its veth in the VPC namespace, the bridge that is its gateway.
struct BpfWorkload {
  std::string vpcNs;          // lp-<vpc-id>
  std::string ip;             // its private address
  std::string device;         // veth in vpcNs (lp-v...)
  std::string workloadNs;     // the workload's namespace; the veth's peer is its eth0
  std::string gatewayDevice;  // bridge in vpcNs holding the subnet router address
  bool operator==(const BpfWorkload&) const = default;
};

// Numbers that must not move while the kernel holds state keyed by them: the
// previous plan's, handed back to the next. Persisted by the sink.
struct BpfIds {
  std::map<std::string, uint32_t> spaces;  // VPC namespace -> space
  std::map<std::string, uint32_t> links;   // endpoint interface -> link id
  bool operator==(const BpfIds&) const = default;
};

struct BpfInputs {
  std::vector<ListenerSpec> listeners;   // Snapshot::listeners
  std::vector<BpfWorkload> workloads;    // every VPC's workloads
  std::map<std::string, Health> health;  // by TargetSpec::healthKey (absent = initial)
  BpfIds previous;                       // the last plan's ids (empty at first start)
  // The cap per endpoint per zone, as the splice path's (ForwarderOptions) and the
  // conntrack path's: [dataplane] endpoint_bandwidth_gbps; 0 = none.
  uint64_t endpointBytesPerSecond = 10'000'000'000ull / 8;
  // Open connections per endpoint interface ([dataplane] max_connections_per_interface,
  // FastPathOptions); 0 = no limit.
  uint32_t maxConnectionsPerInterface = 50'000;
};

// lp_endpoints: (space, ENI address, listener port) -> link.
struct BpfEndpointKey {
  uint32_t space = 0;
  std::string addr;
  int port = 0;
  auto operator<=>(const BpfEndpointKey&) const = default;
};

// lp_links[id]: ifindex and MAC of both devices come from the names.
struct BpfLink {
  std::string endpointId, interfaceId;  // what it carries (reported, not written)
  uint32_t consumerSpace = 0, providerSpace = 0;
  std::string nodeAddr;                    // the load balancer node in the interface's zone
  std::string consumerNs, consumerDevice;  // lp-fc* in the consumer's namespace
  std::string providerNs, providerDevice;  // lp-fp* in the provider's namespace
  bool operator==(const BpfLink&) const = default;
};

// lp_link_caps[id]: the link's bandwidth cap and connection limit (a link is one
// endpoint interface: the endpoint in one zone).
struct BpfLinkCap {
  uint64_t bytesPerSecond = 0;  // TCP payload, both ways together; 0: no cap
  uint64_t burstBytes = 0;      // bpfCapBurstBytes(bytesPerSecond)
  uint32_t maxConnections = 0;  // 0: no limit
  bool operator==(const BpfLinkCap&) const = default;
};
// The burst the BPF path's cap allows at a rate: 250 ms at the rate, at least
// 512 KiB (more than the other paths' 10 ms: the definition has the measurements).
uint64_t bpfCapBurstBytes(uint64_t bytesPerSecond);

// lp_targets: (link, listener port) -> the tier in force.
struct BpfTargetsKey {
  uint32_t link = 0;
  int port = 0;
  auto operator<=>(const BpfTargetsKey&) const = default;
};
struct BpfTarget {
  std::string addr;
  int port = 0;
  bool operator==(const BpfTarget&) const = default;
};
// chooseTarget's tiers, best first (lp_fp_targets.tier).
enum class BpfTier : uint32_t {
  kHealthyInZone = 0,
  kHealthy = 1,
  kInitialInZone = 2,
  kInitial = 3,
  kAnyInZone = 4,  // fail open
  kAny = 5,
};
struct BpfTargets {
  BpfTier tier = BpfTier::kAny;
  std::vector<BpfTarget> targets;  // in registration order; the SYN's flow hash picks one
  bool operator==(const BpfTargets&) const = default;
};

// lp_hosts: (space, workload address) -> its veth (ifindex of device), its MAC
// (workloadNs's eth0) and the gateway MAC (gatewayDevice's).
struct BpfHostKey {
  uint32_t space = 0;
  std::string addr;
  auto operator<=>(const BpfHostKey&) const = default;
};
struct BpfHost {
  std::string ns, device, workloadNs, workloadDevice, gatewayDevice;
  bool operator==(const BpfHost&) const = default;
};

enum class BpfProgram { kWorkloadIn, kLinkOut, kLinkIn };  // net/bpf's FastpathProgram
enum class BpfHook { kIngress, kEgress };
// One program on one device's clsact hook; the copy loaded for the space.
struct BpfAttachment {
  std::string ns, device;
  BpfHook hook = BpfHook::kIngress;
  BpfProgram program = BpfProgram::kWorkloadIn;
  uint32_t space = 0;
  auto operator<=>(const BpfAttachment&) const = default;
};

// A route in a consumer namespace's kBpfRouteTable: an endpoint address to its
// link's provider-side address over the pair's device.
struct BpfRoute {
  std::string ns, dst, via, device;
  auto operator<=>(const BpfRoute&) const = default;
};
// An `ip rule` of a consumer namespace; absent = the rule must not exist.
struct BpfRule {
  std::string ns;
  uint32_t pref = 0;
  std::string selector;  // "" = all, "iif lo"
  uint32_t table = 0;    // 255 = local
  auto operator<=>(const BpfRule&) const = default;
};
// Off in a consumer namespace with a link (bpf_fastpath_plan.cc says why); the
// sweep turns it back on (the kernel's default) where no link is kept.
inline constexpr std::string_view kBpfEarlyDemuxSysctl = "net/ipv4/tcp_early_demux";

// A sysctl under /proc/sys/ in a namespace, e.g. net/ipv4/conf/lp-fp.../accept_local.
struct BpfSysctl {
  std::string ns, key, value;
  auto operator<=>(const BpfSysctl&) const = default;
};

// The veth pair a (consumer, provider) namespace pair shares (fastpath_plan.h's
// pairLinkNames), with each of its links' /31 (linkAddresses) on both ends.
struct BpfPair {
  std::string consumerNs, consumerDevice, providerNs, providerDevice;
  std::set<uint32_t> linkIds;
  bool operator==(const BpfPair&) const = default;
};
using BpfPairKey = std::pair<std::string, std::string>;  // consumer namespace, provider namespace

struct BpfPlan {
  BpfIds ids;
  std::map<BpfPairKey, BpfPair> pairs;
  std::map<std::string, std::string> refused;  // endpoint -> why it stays off the BPF path
  std::map<uint32_t, std::string> programs;    // space -> its namespace: one loaded copy each
  std::map<BpfEndpointKey, uint32_t> endpoints;
  std::map<uint32_t, BpfLink> links;
  std::map<uint32_t, BpfLinkCap> caps;  // by link id: every link has one
  std::map<BpfTargetsKey, BpfTargets> targets;
  std::map<BpfHostKey, BpfHost> hosts;
  std::set<BpfAttachment> attachments;
  std::set<BpfRoute> routes;
  std::set<BpfRule> rules;
  // Namespaces whose `ip rule` of the local table at pref 0 is deleted (after
  // the rules above exist): the consumer namespaces.
  std::set<std::string> localRuleMoved;
  std::set<BpfSysctl> sysctls;
  std::map<std::string, std::string> notrack;  // namespace -> nft batch replacing table ip lp-bpf
  // Registered targets that are no workload of their VPC (no lp_hosts entry): their
  // replies would not be caught at a veth. Reported for the sink to log; the
  // endpoint stays on the path (a workload coming and going must not move it).
  std::set<BpfHostKey> unhostedTargets;
  bool operator==(const BpfPlan&) const = default;
};

BpfPlan planBpf(const BpfInputs& in);

// chooseTarget's tier over a listener's targets, numbered (currentTier() gives the
// same targets).
BpfTargets bpfTier(const std::vector<TargetSpec>& targets, const std::string& zoneId,
                   const std::map<std::string, Health>& health);

// What the sink does to go from one plan to the next, in this order: loads, pairs,
// then (setup) sysctls, rules, routes, notrack, then map writes hosts, links, caps,
// targets, endpoints (an endpoint entry last: a SYN never finds a link without its
// targets or its cap), attachments; then removals in the reverse order: endpoints
// first (no new connection takes a link being removed), targets, links, caps, hosts,
// detachments, routes, rules, notrack, unloads, pairs.
struct BpfPlanDiff {
  std::map<uint32_t, std::string> load;  // space -> namespace
  std::vector<BpfPair> putPairs;         // veth made if absent; link addresses converged to linkIds
  std::vector<BpfSysctl> setSysctls;
  std::vector<BpfRule> addRules;
  std::vector<std::string> moveLocalRule;  // after addRules: delete pref 0 `lookup local`
  std::vector<BpfRoute> addRoutes;
  std::map<std::string, std::string> writeNotrack;  // namespace -> batch
  std::vector<std::pair<BpfHostKey, BpfHost>> putHosts;
  std::vector<std::pair<uint32_t, BpfLink>> putLinks;
  // A changed cap or limit is only this write: connections stay (net/bpf's putLinkCap).
  std::vector<std::pair<uint32_t, BpfLinkCap>> putCaps;
  std::vector<std::pair<BpfTargetsKey, BpfTargets>> putTargets;
  std::vector<std::pair<BpfEndpointKey, uint32_t>> putEndpoints;
  std::vector<BpfAttachment> attach;

  std::vector<BpfEndpointKey> deleteEndpoints;
  std::vector<BpfTargetsKey> deleteTargets;
  std::vector<uint32_t> deleteLinks;
  // Written as zeros (no cap, no limit); the freed id's counters are zeroed too
  // (net/bpf's clearLinkStats), so its next link starts from zero.
  std::vector<uint32_t> deleteCaps;
  std::vector<BpfHostKey> deleteHosts;
  std::vector<BpfAttachment> detach;
  std::vector<BpfRoute> deleteRoutes;
  std::vector<std::string> restoreLocalRule;  // before deleteRules: pref 0 `lookup local` again
  std::vector<BpfRule> deleteRules;
  std::vector<std::string> dropNotrack;  // namespaces whose table ip lp-bpf goes
  std::vector<uint32_t> unload;          // spaces
  std::vector<BpfPairKey> deletePairs;
  // Sysctls no longer needed (their device may be gone with its pair): left to the sink.
  std::vector<BpfSysctl> unneededSysctls;
  // Links removed, or whose value changed: their lp_conns entries must go and their
  // connections be reset (stage 3, tcpKill as today); once they are gone, the
  // link's live count and cap state are zeroed (net/bpf's LinkUsage::reset).
  std::vector<uint32_t> endConnections;

  bool empty() const;
};

BpfPlanDiff diffBpfPlans(const BpfPlan& before, const BpfPlan& after);

// One link's figures as the kernel keeps them: lp_link_stats summed over CPUs, and
// its live connection count (lp_link_usage).
struct BpfLinkFigures {
  uint64_t fwdPackets = 0, fwdBytes = 0;  // consumer -> provider, Ethernet frames
  uint64_t revPackets = 0, revBytes = 0;  // provider -> consumer
  uint64_t newConnections = 0, resets = 0;
  uint64_t drops = 0;  // every packet refused on the link: over the cap, over the limit, no entry
  uint64_t live = 0;
};
// The counters the metrics sampler reads (CountersReport, as the forwarder and the
// conntrack path report them) from the links' figures: per interface, and per
// endpoint the sum of its interfaces. Bytes are IP bytes, as the conntrack path's
// nft counters count them (the frames' 14-byte Ethernet headers taken off); active
// is the live count (connections whose entries the sweeper has not removed yet).
// Links of `links` without figures are left out.
CountersReport bpfCounters(const std::map<uint32_t, BpfLink>& links, const std::map<uint32_t, BpfLinkFigures>& figures);

}  // namespace lp::dataplane
