// The kernel fast path, as pure functions: which endpoints it can carry, the link
// each endpoint interface gets between the consumer's and the provider's VPC
// namespace (a /31 on the veth pair those two namespaces share), and the nftables
// commands that translate addresses on both sides. No I/O here; reconciler/fastpath_sink.h applies what this plans,
// and tests/unit checks it without root.
//
// A connection on the fast path (docs/dataplane.md, "The kernel fast path"):
//   consumer namespace: SYN to ENI-ip:port --dnat--> L1:port, out the link with
//     source --snat--> L0 (the consumer's own address is never seen across);
//   provider namespace: in from the link to L1:port --dnat--> target (flow hash
//     over the targets of the best tier), out with source --snat--> the load
//     balancer node in the interface's zone.
// L0/L1 are the link's two addresses in 169.254.0.0/16 (a /31 per link id, on the
// two ends of the VPC pair's veth), which no VPC may use, so
// both VPCs may hold the same addresses. Conntrack carries the replies; nothing
// else crosses a link (new connections from the provider side are dropped).
//
// Every nft object is in table `ip lp-fast` of the VPC namespace. Hooks, all
// distinct from the security groups' table `inet lp-sg` (filter, priority 0):
//   fp-pre   nat prerouting  dstnat (-100)  the translation of new connections
//   fp-post  nat postrouting srcnat (100)   the source translation
//   fp-fwd   filter forward  10             after the security groups: caps,
//                                           counters, one-way links
//   fp-in    filter input    10             nothing from a link reaches the namespace
//   fp-lim   filter prerouting -110         connection limit per endpoint interface
// Security groups see the original destination through `ct original ip daddr`.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dataplane/snapshot.h"
#include "dataplane/target_choice.h"

namespace lp::dataplane {

inline constexpr const char* kFastTable = "lp-fast";
// Connection marks of fast-path connections: kFastMarkBase | link id. The upper
// half names linkplane; nothing else in a VPC namespace sets conntrack marks.
inline constexpr uint32_t kFastMarkBase = 0x4c500000;
inline constexpr uint32_t kFastMarkMask = 0xffff0000;
inline constexpr uint32_t kMaxLinkId = 32767;

// "" when the endpoint's listeners can all go through the kernel; else why not
// (the splice forwarder carries them).
std::string fastPathRefusal(const std::vector<ListenerSpec>& listeners);

// The two addresses of link id (1..kMaxLinkId): consumer side, provider side.
struct LinkAddresses {
  std::string consumer, provider;
};
LinkAddresses linkAddresses(uint32_t id);
// Whether id may be used (in range, and not in 169.254.169.0/24, which tools
// treat as the instance metadata range).
bool usableLinkId(uint32_t id);
inline uint32_t linkMark(uint32_t id) { return kFastMarkBase | id; }

// The link between a consumer and a provider VPC: one veth pair per pair of
// namespaces, shared by every endpoint interface of that consumer VPC whose
// service is in that provider VPC. Each interface keeps its own /31 (its link
// id's addresses) on the two ends, so each side still tells them apart by
// address. A pair per interface was 20,000 veth pairs at 10,000 endpoints, and
// only 15-20 endpoints a second became available (docs/scale.md).
struct PairLinkNames {
  std::string consumer;  // "lp-fc" + the provider namespace's last 10 chars, in the consumer VPC
  std::string provider;  // "lp-fp" + the consumer namespace's last 10 chars, in the provider VPC
};
PairLinkNames pairLinkNames(const std::string& consumerNs, const std::string& providerNs);
// The veth of one interface as runs before the shared links made it (in the
// consumer VPC; its peer went with it): removed when such a run's links are adopted.
std::string legacyConsumerLinkName(const std::string& interfaceId);

// One endpoint interface on the fast path: its listeners grouped.
struct FastLink {
  std::string endpointId, interfaceId, zoneId;
  std::string consumerNs, providerNs;
  std::string eniIp;
  std::string sourceIp;                                // load balancer node address to translate to
  std::map<int, std::vector<TargetSpec>> targetsByPort;  // listener port -> targets
  bool operator==(const FastLink&) const = default;
};
// The links of one endpoint's listeners (one per interface); only call when
// fastPathRefusal() is "".
std::vector<FastLink> fastLinks(const std::vector<ListenerSpec>& listeners);

// The targets new connections may go to now, as chooseTarget tiers them: healthy
// in the zone, healthy anywhere, initial in the zone, initial anywhere, anything
// in the zone, anything. health: by TargetSpec::healthKey (absent = initial;
// "" keys are healthy).
std::vector<TargetSpec> currentTier(const std::vector<TargetSpec>& targets, const std::string& zoneId,
                                    const std::map<std::string, Health>& health);

// nft commands (text syntax, one batch each; apply atomically).
// The table, its maps and base chains; idempotent (existing objects, counters
// and elements are kept: a restarted daemon adopts what is in place).
// maxConnections: open connections per link (endpoint interface) past which a
// new one is refused with a reset (0 = no limit).
std::string fastTableCommands(int idleTimeoutSeconds, uint32_t maxConnections);
// The set that counts each link's open connections under that limit.
std::string connectionSetName(uint32_t maxConnections);
// Consumer side of one link: counters, cap (bytesPerSecond 0 = none), connection
// limit (as in fastTableCommands; 0 = none), source translation and the
// translation of ENI-ip:ports to L1.
std::string consumerLinkCommands(const FastLink& link, uint32_t id, uint64_t bytesPerSecond, uint32_t maxConnections);
std::string consumerLinkRemoval(const FastLink& link, uint32_t id);
// Provider side: the link's chain translates L1:port to the tier's targets by flow
// hash (a port with no target has no rule: the SYN meets a closed port and is
// reset), and sources to the node address.
std::string providerLinkCommands(const FastLink& link, uint32_t id,
                                 const std::map<int, std::vector<TargetSpec>>& tierByPort);
std::string providerLinkRemoval(const FastLink& link, uint32_t id);
// The map elements the commands above give a new value (`eps`, `lim`, `plinks`, `src-of`),
// as one `delete element` command each. The kernel refuses `add element` of a key
// that holds another value (EEXIST, "File exists"), and nft 1.0.6 has no
// `destroy`, so a batch that meets such a key (an endpoint address, interface
// name or link id left by an endpoint that was deleted, or by a run that crashed
// while removing it) is retried after these are run alone, errors ignored.
std::vector<std::string> elementResets(const std::string& commands);

// The burst of a link's cap: 10 ms at the rate, as the splice path's token bucket,
// and at least 64 KiB (one full-size GSO packet).
uint64_t capBurstBytes(uint64_t bytesPerSecond);

// Counter object names of link id in the consumer namespace.
struct LinkCounterNames {
  std::string in, out, fresh, resets;
  std::string dropped;  // packets over the bandwidth cap
  std::string refused;  // SYNs refused (reset) over the connection limit
};
LinkCounterNames linkCounterNames(uint32_t id);

}  // namespace lp::dataplane
