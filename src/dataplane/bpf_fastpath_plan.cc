#include "dataplane/bpf_fastpath_plan.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>

#include "dataplane/fastpath_plan.h"

namespace lp::dataplane {

namespace {

bool isIpv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

// Why an endpoint stays off the BPF path, or "".
std::string bpfRefusal(const std::vector<ListenerSpec>& listeners) {
  if (std::string why = fastPathRefusal(listeners); !why.empty()) return why;
  for (const auto& l : listeners) {
    if (!isIpv4(l.ip) || l.port < 1 || l.port > 65535) return "endpoint address or port not IPv4/TCP";
    if (l.targets.size() > kBpfMaxTargets) return fmt::format("more than {} targets", kBpfMaxTargets);
    for (const auto& t : l.targets) {
      if (!isIpv4(t.ip) || t.port < 1 || t.port > 65535) return "target address or port not IPv4/TCP";
      if (!isIpv4(t.sourceIp)) return "no load balancer node address";
    }
  }
  return "";
}

// The lowest number in [1, max] that `taken` lacks and `ok` accepts; 0 when none.
template <typename Ok>
uint32_t lowestFree(const std::set<uint32_t>& taken, uint32_t max, Ok ok) {
  for (uint32_t n = 1; n <= max; ++n)
    if (!taken.count(n) && ok(n)) return n;
  return 0;
}

std::string notrackBatch(const std::set<std::string>& endpointPorts, bool provider) {
  std::string t = kBpfTable;
  std::string out = fmt::format("add table ip {}\n", t);
  // Before conntrack (raw, -300): the SYN crosses the stack (routing, security
  // groups) untracked; the BPF programs hold the connection's state.
  out += fmt::format("add chain ip {} pre {{ type filter hook prerouting priority raw; policy accept; }}\n", t);
  out += fmt::format("flush chain ip {} pre\n", t);
  if (!endpointPorts.empty()) {
    std::string elems;
    for (const auto& e : endpointPorts) elems += (elems.empty() ? "" : ", ") + e;
    out += fmt::format("add rule ip {} pre ip daddr . tcp dport {{ {} }} notrack\n", t, elems);
  }
  if (provider) out += fmt::format("add rule ip {} pre iifname \"lp-fp*\" notrack\n", t);
  return out;
}

}  // namespace

BpfTargets bpfTier(const std::vector<TargetSpec>& targets, const std::string& zoneId,
                   const std::map<std::string, Health>& health) {
  auto state = [&](const TargetSpec& t) {
    if (t.healthKey.empty()) return Health::kHealthy;
    auto it = health.find(t.healthKey);
    return it == health.end() ? Health::kInitial : it->second;
  };
  auto take = [&](BpfTier tier, auto&& accept) {
    BpfTargets out;
    out.tier = tier;
    for (const auto& t : targets)
      if (accept(t)) out.targets.push_back({t.ip, t.port});
    return out;
  };
  auto here = [&](const TargetSpec& t) { return t.zoneId == zoneId; };
  const std::pair<Health, BpfTier> kTiers[] = {{Health::kHealthy, BpfTier::kHealthyInZone},
                                               {Health::kInitial, BpfTier::kInitialInZone}};
  for (const auto& [h, inZone] : kTiers) {
    Health want = h;
    auto v = take(inZone, [&](const TargetSpec& t) { return state(t) == want && here(t); });
    if (!v.targets.empty()) return v;
    v = take(static_cast<BpfTier>(static_cast<uint32_t>(inZone) + 1),
             [&](const TargetSpec& t) { return state(t) == want; });
    if (!v.targets.empty()) return v;
  }
  if (auto v = take(BpfTier::kAnyInZone, here); !v.targets.empty()) return v;
  return take(BpfTier::kAny, [](const TargetSpec&) { return true; });
}

BpfPlan planBpf(const BpfInputs& in) {
  BpfPlan plan;
  std::map<std::string, std::vector<ListenerSpec>> byEndpoint;
  for (const auto& l : in.listeners) byEndpoint[l.endpointId].push_back(l);

  std::vector<FastLink> links;
  for (const auto& [endpoint, listeners] : byEndpoint) {
    if (std::string why = bpfRefusal(listeners); !why.empty()) {
      plan.refused[endpoint] = why;
      continue;
    }
    for (auto& f : fastLinks(listeners)) links.push_back(std::move(f));
  }

  // Spaces: kept while their namespace is on the path; a number freed by this plan
  // is not given out again by it (the kernel may still hold entries keyed by it
  // until the sink has applied the removal).
  std::set<std::string> namespaces;
  for (const auto& f : links) {
    namespaces.insert(f.consumerNs);
    namespaces.insert(f.providerNs);
  }
  std::set<uint32_t> takenSpaces;
  for (const auto& [_, s] : in.previous.spaces) takenSpaces.insert(s);
  for (const auto& ns : namespaces)
    if (auto it = in.previous.spaces.find(ns); it != in.previous.spaces.end()) plan.ids.spaces[ns] = it->second;
  for (const auto& ns : namespaces) {
    if (plan.ids.spaces.count(ns)) continue;
    uint32_t s = lowestFree(takenSpaces, kBpfMaxSpace, [](uint32_t) { return true; });
    if (s == 0) continue;  // no space left: its links stay off (refused below)
    takenSpaces.insert(s);
    plan.ids.spaces[ns] = s;
  }

  // Link ids, the same way; in the conntrack path's range (usableLinkId), so a
  // link keeps its /31 (linkAddresses) whichever path carries it.
  std::set<uint32_t> takenLinks;
  for (const auto& [_, id] : in.previous.links) takenLinks.insert(id);
  std::map<std::string, uint32_t> linkIds;
  for (const auto& f : links)
    if (auto it = in.previous.links.find(f.interfaceId); it != in.previous.links.end())
      linkIds[f.interfaceId] = it->second;
  for (const auto& f : links) {
    if (linkIds.count(f.interfaceId)) continue;
    uint32_t id = lowestFree(takenLinks, kMaxLinkId, usableLinkId);
    if (id != 0) takenLinks.insert(id);
    linkIds[f.interfaceId] = id;
  }
  // An endpoint goes whole or not at all.
  std::set<std::string> outOfIds;
  for (const auto& f : links)
    if (linkIds[f.interfaceId] == 0 || !plan.ids.spaces.count(f.consumerNs) || !plan.ids.spaces.count(f.providerNs))
      outOfIds.insert(f.endpointId);
  for (const auto& e : outOfIds) plan.refused[e] = "no link id or space left";

  std::map<std::string, std::set<std::string>> notrackEndpoints;  // consumer ns -> "addr . port"
  std::set<std::string> providers;
  for (const auto& f : links) {
    if (outOfIds.count(f.endpointId)) continue;
    uint32_t id = linkIds[f.interfaceId];
    plan.ids.links[f.interfaceId] = id;
    uint32_t cs = plan.ids.spaces.at(f.consumerNs), ps = plan.ids.spaces.at(f.providerNs);
    PairLinkNames names = pairLinkNames(f.consumerNs, f.providerNs);
    BpfPair& pair = plan.pairs[{f.consumerNs, f.providerNs}];
    pair = {f.consumerNs, names.consumer, f.providerNs, names.provider, pair.linkIds};
    pair.linkIds.insert(id);
    plan.links[id] = BpfLink{f.endpointId, f.interfaceId, cs, ps, f.sourceIp, f.consumerNs, names.consumer,
                             f.providerNs, names.provider};
    plan.caps[id] = BpfLinkCap{in.endpointBytesPerSecond, bpfCapBurstBytes(in.endpointBytesPerSecond),
                               in.maxConnectionsPerInterface};
    for (const auto& [port, targets] : f.targetsByPort) {
      plan.endpoints[{cs, f.eniIp, port}] = id;
      plan.targets[{id, port}] = bpfTier(targets, f.zoneId, in.health);
      notrackEndpoints[f.consumerNs].insert(fmt::format("{} . {}", f.eniIp, port));
    }
    providers.insert(f.providerNs);
    // The SYN crosses the consumer's stack toward the endpoint address, which is
    // local there (on lo, for the splice listeners and ARP): the address's route
    // to the link sits in a table looked up before the local one.
    plan.routes.insert({f.consumerNs, f.eniIp + "/32", linkAddresses(id).provider, names.consumer});
    plan.rules.insert({f.consumerNs, kBpfLocalFromHostPref, "iif lo", 255});
    plan.rules.insert({f.consumerNs, kBpfRulePref, "", kBpfRouteTable});
    plan.rules.insert({f.consumerNs, kBpfLocalPref, "", 255});
    plan.localRuleMoved.insert(f.consumerNs);
    plan.attachments.insert({f.consumerNs, names.consumer, BpfHook::kEgress, BpfProgram::kLinkOut, cs});
    plan.attachments.insert({f.consumerNs, names.consumer, BpfHook::kIngress, BpfProgram::kLinkIn, cs});
    plan.attachments.insert({f.providerNs, names.provider, BpfHook::kIngress, BpfProgram::kLinkIn, ps});
    plan.sysctls.insert({f.consumerNs, "net/ipv4/ip_forward", "1"});
    plan.sysctls.insert({f.providerNs, "net/ipv4/ip_forward", "1"});
    // The client's SYN is forwarded by the consumer's stack, where the splice
    // listeners on the endpoint address left TIME_WAIT sockets (they close first
    // under `Connection: close`). TCP early demux finds one for a SYN on the same
    // ports, and ip_forward drops a packet with a socket: the client's connect() hung
    // until that TIME_WAIT expired (60 s; issue 18, the bench's second bpf phase:
    // 5/5 such ports timed out, 5/5 after setting this 0 connected).
    plan.sysctls.insert({f.consumerNs, std::string(kBpfEarlyDemuxSysctl), "0"});
    // In the provider's namespace the SYN comes in from the link with the node's
    // address as its source, a local address there: refused as martian without it.
    plan.sysctls.insert({f.providerNs, "net/ipv4/conf/" + names.provider + "/accept_local", "1"});
  }
  // Drop the ids of refused endpoints' namespaces that no kept link uses.
  std::set<std::string> used;
  for (const auto& [_, l] : plan.links) {
    used.insert(l.consumerNs);
    used.insert(l.providerNs);
  }
  for (auto it = plan.ids.spaces.begin(); it != plan.ids.spaces.end();)
    it = used.count(it->first) ? std::next(it) : plan.ids.spaces.erase(it);
  for (const auto& [ns, space] : plan.ids.spaces) plan.programs[space] = ns;

  for (const auto& w : in.workloads) {
    auto s = plan.ids.spaces.find(w.vpcNs);
    if (s == plan.ids.spaces.end() || !isIpv4(w.ip)) continue;
    // A client's ARP for an endpoint address: once that address is routed to the
    // link the kernel answers it only as proxy ARP (arp_process looks the target up
    // with the rules, finds a unicast route out another device). Checked by hand in
    // scratch namespaces: without it the client's neighbour stays INCOMPLETE.
    if (plan.localRuleMoved.count(w.vpcNs) && !w.gatewayDevice.empty())
      plan.sysctls.insert({w.vpcNs, "net/ipv4/conf/" + w.gatewayDevice + "/proxy_arp", "1"});
    plan.hosts.emplace(BpfHostKey{s->second, w.ip}, BpfHost{w.vpcNs, w.device, w.workloadNs, "eth0", w.gatewayDevice});
    plan.attachments.insert({w.vpcNs, w.device, BpfHook::kIngress, BpfProgram::kWorkloadIn, s->second});
  }
  for (const auto& f : links) {
    auto it = plan.ids.links.find(f.interfaceId);
    if (it == plan.ids.links.end()) continue;
    uint32_t ps = plan.links.at(it->second).providerSpace;
    for (const auto& [_, targets] : f.targetsByPort)
      for (const auto& t : targets)
        if (!plan.hosts.count({ps, t.ip})) plan.unhostedTargets.insert({ps, t.ip});
  }
  for (const auto& ns : used) {
    auto eps = notrackEndpoints.find(ns);
    plan.notrack[ns] =
        notrackBatch(eps == notrackEndpoints.end() ? std::set<std::string>{} : eps->second, providers.count(ns) > 0);
  }
  return plan;
}

namespace {

// Keys of `before` absent from `after` go to del; keys new or with another value to put.
template <typename K, typename V, typename Put, typename Del>
void diffMap(const std::map<K, V>& before, const std::map<K, V>& after, Put put, Del del) {
  for (const auto& [k, v] : after)
    if (auto it = before.find(k); it == before.end() || !(it->second == v)) put(k, v);
  for (const auto& [k, _] : before)
    if (!after.count(k)) del(k);
}
template <typename T>
void diffSet(const std::set<T>& before, const std::set<T>& after, std::vector<T>& add, std::vector<T>& del) {
  for (const auto& v : after)
    if (!before.count(v)) add.push_back(v);
  for (const auto& v : before)
    if (!after.count(v)) del.push_back(v);
}

}  // namespace

BpfPlanDiff diffBpfPlans(const BpfPlan& before, const BpfPlan& after) {
  BpfPlanDiff d;
  diffMap(
      before.programs, after.programs, [&](uint32_t s, const std::string& ns) { d.load[s] = ns; },
      [&](uint32_t s) { d.unload.push_back(s); });
  // A space given to another namespace (never by planBpf within one step, but by
  // two steps applied as one): unloaded and loaded again.
  for (const auto& [s, _] : d.load)
    if (before.programs.count(s)) d.unload.push_back(s);
  diffMap(
      before.pairs, after.pairs, [&](const BpfPairKey&, const BpfPair& p) { d.putPairs.push_back(p); },
      [&](const BpfPairKey& k) { d.deletePairs.push_back(k); });
  diffSet(before.sysctls, after.sysctls, d.setSysctls, d.unneededSysctls);
  diffSet(before.rules, after.rules, d.addRules, d.deleteRules);
  diffSet(before.localRuleMoved, after.localRuleMoved, d.moveLocalRule, d.restoreLocalRule);
  diffSet(before.routes, after.routes, d.addRoutes, d.deleteRoutes);
  diffMap(
      before.notrack, after.notrack, [&](const std::string& ns, const std::string& b) { d.writeNotrack[ns] = b; },
      [&](const std::string& ns) { d.dropNotrack.push_back(ns); });
  diffMap(
      before.hosts, after.hosts, [&](const BpfHostKey& k, const BpfHost& v) { d.putHosts.emplace_back(k, v); },
      [&](const BpfHostKey& k) { d.deleteHosts.push_back(k); });
  diffMap(
      before.links, after.links, [&](uint32_t id, const BpfLink& v) { d.putLinks.emplace_back(id, v); },
      [&](uint32_t id) { d.deleteLinks.push_back(id); });
  diffMap(
      before.caps, after.caps, [&](uint32_t id, const BpfLinkCap& v) { d.putCaps.emplace_back(id, v); },
      [&](uint32_t id) { d.deleteCaps.push_back(id); });
  diffMap(
      before.targets, after.targets,
      [&](const BpfTargetsKey& k, const BpfTargets& v) { d.putTargets.emplace_back(k, v); },
      [&](const BpfTargetsKey& k) { d.deleteTargets.push_back(k); });
  diffMap(
      before.endpoints, after.endpoints,
      [&](const BpfEndpointKey& k, uint32_t id) { d.putEndpoints.emplace_back(k, id); },
      [&](const BpfEndpointKey& k) { d.deleteEndpoints.push_back(k); });
  diffSet(before.attachments, after.attachments, d.attach, d.detach);
  // A link's connections end when it goes or now means another thing (spaces,
  // devices, node); a new tier changes only where new connections go.
  for (const auto& [id, l] : before.links) {
    auto it = after.links.find(id);
    if (it == after.links.end() || !(it->second == l)) d.endConnections.push_back(id);
  }
  return d;
}

bool BpfPlanDiff::empty() const {
  return load.empty() && putPairs.empty() && setSysctls.empty() && addRules.empty() && moveLocalRule.empty() &&
         addRoutes.empty() && writeNotrack.empty() && putHosts.empty() && putLinks.empty() && putCaps.empty() &&
         putTargets.empty() && putEndpoints.empty() && attach.empty() && deleteEndpoints.empty() &&
         deleteTargets.empty() && deleteLinks.empty() && deleteCaps.empty() && deleteHosts.empty() && detach.empty() &&
         deleteRoutes.empty() && restoreLocalRule.empty() && deleteRules.empty() && dropNotrack.empty() &&
         unload.empty() && deletePairs.empty() && unneededSysctls.empty() && endConnections.empty();
}

// The BPF cap drops what is over it (a policer; the splice path's bucket delays
// instead). TCP through a veth path has a round trip of microseconds and sends its
// window at once; what the cap drops is then often a window's tail, which only a
// retransmission timeout (200 ms at least) recovers. The burst must hold the credit
// saved while the sender waits, or the rate is lost. Measured with real TCP through
// the programs (tests/unit/net/bpf/fastpath_cap_traffic_test.cc, BBR as the machine's
// default, 2-30 MB each way): at 1 MB/s, 64 KiB of burst (the conntrack path's
// 10 ms, at least 64 KiB) gave 0.15-0.4 of the cap, 256 KiB 0.4-1.0, 512 KiB
// 0.95-1.0; at 10 MB/s, 512 KiB gave 0.27-0.29, 1 MiB 0.55, 2.5 MB (250 ms) 0.98-0.99.
// So 250 ms at the rate, and at least 512 KiB (8 full-size GSO packets, which at low
// rates cost more than 250 ms each). The long-run rate is the cap's either way.
uint64_t bpfCapBurstBytes(uint64_t bytesPerSecond) { return std::max<uint64_t>(bytesPerSecond / 4, 512 * 1024); }

CountersReport bpfCounters(const std::map<uint32_t, BpfLink>& links,
                           const std::map<uint32_t, BpfLinkFigures>& figures) {
  constexpr uint64_t kEthernetHeader = 14;
  auto ipBytes = [&](uint64_t bytes, uint64_t packets) {
    uint64_t headers = packets * kEthernetHeader;
    return bytes > headers ? bytes - headers : 0;
  };
  CountersReport r;
  for (const auto& [id, link] : links) {
    auto f = figures.find(id);
    if (f == figures.end()) continue;
    TrafficCounters c;
    c.bytesIn = ipBytes(f->second.fwdBytes, f->second.fwdPackets);
    c.bytesOut = ipBytes(f->second.revBytes, f->second.revPackets);
    c.connections = f->second.newConnections;
    c.active = f->second.live;
    c.resets = f->second.resets;
    c.dropped = f->second.drops;
    r.interfaces[link.interfaceId] = c;
    r.endpoints[link.endpointId] += c;
  }
  return r;
}

}  // namespace lp::dataplane
