#include "dataplane/fastpath_plan.h"

#include <fmt/format.h>

#include <set>

namespace lp::dataplane {

namespace {

std::string tail(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(s.size() - n); }

std::string hexMark(uint32_t id) { return fmt::format("0x{:08x}", linkMark(id)); }

// Replaces a map element's value: add (so it exists), delete, add again. One
// batch, so the element is never missing in between.
std::string setElement(const std::string& map, const std::string& key, const std::string& value) {
  std::string e = fmt::format("{} : {}", key, value);
  return fmt::format(
      "add element ip {0} {1} {{ {2} }}\n"
      "delete element ip {0} {1} {{ {3} }}\n"
      "add element ip {0} {1} {{ {2} }}\n",
      kFastTable, map, e, key);
}

}  // namespace

std::vector<std::string> elementResets(const std::string& commands) {
  // setElement()'s three lines: add k : v, delete k, add k : v.
  std::vector<std::string> lines;
  for (size_t at = 0; at < commands.size();) {
    size_t end = commands.find('\n', at);
    if (end == std::string::npos) end = commands.size();
    lines.push_back(commands.substr(at, end - at));
    at = end + 1;
  }
  std::vector<std::string> out;
  for (size_t i = 1; i + 1 < lines.size(); ++i)
    if (lines[i].rfind("delete element ", 0) == 0 && lines[i - 1].rfind("add element ", 0) == 0 &&
        lines[i + 1] == lines[i - 1])
      out.push_back(lines[i] + "\n");
  return out;
}

std::string fastPathRefusal(const std::vector<ListenerSpec>& listeners) {
  if (listeners.empty()) return "no listeners";
  for (const auto& l : listeners) {
    if (!l.forwarding) return "not forwarding";
    if (l.ns.empty()) return "listener in the host namespace";
    if (l.targets.empty()) return "no targets";
    // Measured (test_dataplane.py, network ACLs): the conntrack path's answers meet
    // the ACL chains already translated, the BPF path's later packets not at all.
    if (l.statelessAcls)
      return "a network ACL of its VPC or its service's filters packets (stateless: each one must meet it, which "
             "only the splice path's sockets do)";
    for (const auto& t : l.targets) {
      if (t.proxyProtocolV2) return "PROXY protocol v2";
      if (t.ns.empty()) return "target in the host namespace (AWS service backend)";
      if (t.ns == l.ns) return "target in the consumer's own VPC";
      if (t.ns != listeners.front().targets.front().ns) return "targets in several VPCs";
    }
  }
  return "";
}

bool usableLinkId(uint32_t id) {
  if (id < 1 || id > kMaxLinkId) return false;
  return ((2 * id) >> 8) != 169;
}

LinkAddresses linkAddresses(uint32_t id) {
  uint32_t a = 2 * id;  // consumer side even, provider side odd: a /31 per link
  return {fmt::format("169.254.{}.{}", a >> 8, a & 255), fmt::format("169.254.{}.{}", (a + 1) >> 8, (a + 1) & 255)};
}

PairLinkNames pairLinkNames(const std::string& consumerNs, const std::string& providerNs) {
  return {"lp-fc" + tail(providerNs, 10), "lp-fp" + tail(consumerNs, 10)};
}
std::string legacyConsumerLinkName(const std::string& interfaceId) { return "lp-fc" + tail(interfaceId, 10); }

std::vector<FastLink> fastLinks(const std::vector<ListenerSpec>& listeners) {
  std::map<std::string, FastLink> byInterface;
  for (const auto& l : listeners) {
    FastLink& f = byInterface[l.interfaceId];
    f.endpointId = l.endpointId;
    f.interfaceId = l.interfaceId;
    f.zoneId = l.zoneId;
    f.consumerNs = l.ns;
    f.eniIp = l.ip;
    if (!l.targets.empty()) {
      f.providerNs = l.targets.front().ns;
      if (f.sourceIp.empty()) f.sourceIp = l.targets.front().sourceIp;
    }
    f.targetsByPort[l.port] = l.targets;
  }
  std::vector<FastLink> out;
  for (auto& [_, f] : byInterface) out.push_back(std::move(f));
  return out;
}

std::vector<TargetSpec> currentTier(const std::vector<TargetSpec>& targets, const std::string& zoneId,
                                    const std::map<std::string, Health>& health) {
  auto state = [&](const TargetSpec& t) {
    if (t.healthKey.empty()) return Health::kHealthy;
    auto it = health.find(t.healthKey);
    return it == health.end() ? Health::kInitial : it->second;
  };
  auto take = [&](auto&& accept) {
    std::vector<TargetSpec> out;
    for (const auto& t : targets)
      if (accept(t)) out.push_back(t);
    return out;
  };
  auto here = [&](const TargetSpec& t) { return t.zoneId == zoneId; };
  for (Health h : {Health::kHealthy, Health::kInitial}) {
    if (auto v = take([&](const TargetSpec& t) { return state(t) == h && here(t); }); !v.empty()) return v;
    if (auto v = take([&](const TargetSpec& t) { return state(t) == h; }); !v.empty()) return v;
  }
  if (auto v = take(here); !v.empty()) return v;
  return targets;
}

std::string connectionSetName(uint32_t maxConnections) { return fmt::format("conns-{}", maxConnections); }

std::string fastTableCommands(int idleTimeoutSeconds, uint32_t maxConnections) {
  std::string t = kFastTable;
  std::string out = fmt::format("add table ip {}\n", t);
  // PrivateLink drops a flow after 350 s without packets; TCP keepalive refreshes it.
  out += fmt::format(
      "add ct timeout ip {} idle {{ protocol tcp; l3proto ip; policy = {{ established: {} }}; }}\n", t,
      idleTimeoutSeconds);
  for (const char* m : {"c-in", "c-out", "c-new", "c-rst", "c-drop"})
    out += fmt::format("add map ip {} {} {{ type mark : counter; }}\n", t, m);
  out += fmt::format("add map ip {} bw {{ type mark : limit; }}\n", t);
  // Open connections per link, counted by the kernel (nf_conncount) in one
  // element per endpoint interface address. Named by the limit: the limit lives in each element,
  // so a new limit gets a new set (the old counts go with the old one).
  if (maxConnections > 0)
    out += fmt::format("add set ip {} {} {{ type ipv4_addr; flags dynamic; size {}; }}\n", t,
                       connectionSetName(maxConnections), kMaxLinkId + 1);
  out += fmt::format("add map ip {} src-of {{ type mark : ipv4_addr; }}\n", t);
  out += fmt::format("add map ip {} eps {{ type ipv4_addr : verdict; }}\n", t);
  // Provider side: a link's chain by its provider-side address (links are shared
  // by the interfaces of a VPC pair, so the address names the interface).
  out += fmt::format("add map ip {} plinks {{ type ipv4_addr : verdict; }}\n", t);
  out += fmt::format("add map ip {} lim {{ type ipv4_addr : verdict; }}\n", t);
  out += fmt::format("add chain ip {} fp-pre {{ type nat hook prerouting priority dstnat; policy accept; }}\n", t);
  out += fmt::format("add chain ip {} fp-post {{ type nat hook postrouting priority srcnat; policy accept; }}\n", t);
  out += fmt::format("add chain ip {} fp-fwd {{ type filter hook forward priority 10; policy accept; }}\n", t);
  out += fmt::format("add chain ip {} fp-in {{ type filter hook input priority 10; policy accept; }}\n", t);
  // The connection limit, between the security groups (-150) and the translation
  // (-100): a reset sent from here comes from the address the client used, with
  // nothing to translate back (from forward, after DNAT, the reset was sent from
  // the link address and the client never saw it).
  out += fmt::format("add chain ip {} fp-lim {{ type filter hook prerouting priority -110; policy accept; }}\n", t);
  // The base chains' rules are the same for every link: rewritten whole (flush
  // touches rules only; maps, counters and conntrack stay).
  for (const char* c : {"fp-pre", "fp-post", "fp-fwd", "fp-in", "fp-lim"})
    out += fmt::format("flush chain ip {} {}\n", t, c);
  std::string fast = fmt::format("ct mark & 0x{:08x} == 0x{:08x}", kFastMarkMask, kFastMarkBase);
  std::string notFast = fmt::format("ct mark & 0x{:08x} != 0x{:08x}", kFastMarkMask, kFastMarkBase);
  // Consumer side: a SYN to an endpoint interface address. Only a SYN: a packet of
  // a connection whose entry is gone (idle timeout, reject) must not be picked up
  // mid-stream; it reaches the namespace's own stack, which answers with a reset.
  out += fmt::format("add rule ip {} fp-pre tcp flags & (syn|ack) == syn ip daddr vmap @eps\n", t);
  // Provider side: what comes in from a link goes to the chain of the interface
  // whose address it is sent to.
  out += fmt::format("add rule ip {} fp-pre iifname \"lp-fp*\" ip daddr vmap @plinks\n", t);
  // Tables written before the links were shared have a map by interface name: gone
  // (its rule was flushed above, in this same batch).
  out += fmt::format("add map ip {0} links {{ type ifname : verdict; }}\ndelete map ip {0} links\n", t);
  out += fmt::format("add rule ip {} fp-post {} snat ip to ct mark map @src-of\n", t, fast);
  // Links are one-way: nothing opens a connection from the provider side, nothing
  // but translated connections comes in from a link.
  out += fmt::format("add rule ip {} fp-fwd iifname \"lp-fc*\" ct state new drop\n", t);
  out += fmt::format("add rule ip {} fp-fwd oifname \"lp-fp*\" ct state new drop\n", t);
  out += fmt::format("add rule ip {} fp-fwd iifname \"lp-fp*\" {} drop\n", t, notFast);
  out += fmt::format("add rule ip {} fp-fwd {} accept\n", t, notFast);
  // Consumer side (the maps are empty in a provider namespace): cap, counters.
  out += fmt::format("add rule ip {} fp-fwd limit name ct mark map @bw counter name ct mark map @c-drop drop\n", t);
  out += fmt::format("add rule ip {} fp-fwd ct state new counter name ct mark map @c-new\n", t);
  out += fmt::format("add rule ip {} fp-fwd tcp flags rst counter name ct mark map @c-rst\n", t);
  out += fmt::format("add rule ip {} fp-fwd ct direction original counter name ct mark map @c-in\n", t);
  out += fmt::format("add rule ip {} fp-fwd ct direction reply counter name ct mark map @c-out\n", t);
  // A new connection to an endpoint interface's address meets its link's limit.
  if (maxConnections > 0)
    out += fmt::format("add rule ip {} fp-lim tcp flags & (syn|ack) == syn ct state new ip daddr vmap @lim\n", t);
  out += fmt::format("add rule ip {} fp-in iifname \"lp-fc*\" drop\n", t);
  out += fmt::format("add rule ip {} fp-in iifname \"lp-fp*\" drop\n", t);
  return out;
}

uint64_t capBurstBytes(uint64_t bytesPerSecond) { return std::max<uint64_t>(bytesPerSecond / 100, 65536); }

LinkCounterNames linkCounterNames(uint32_t id) {
  return {fmt::format("in-{}", id),  fmt::format("out-{}", id),  fmt::format("new-{}", id),
          fmt::format("rst-{}", id), fmt::format("drop-{}", id), fmt::format("full-{}", id)};
}

std::string consumerLinkCommands(const FastLink& link, uint32_t id, uint64_t bytesPerSecond,
                                 uint32_t maxConnections) {
  std::string t = kFastTable;
  std::string mark = hexMark(id);
  auto names = linkCounterNames(id);
  auto addr = linkAddresses(id);
  std::string out;
  std::vector<std::pair<const char*, std::string>> counters = {
      {"c-in", names.in}, {"c-out", names.out}, {"c-new", names.fresh}, {"c-rst", names.resets}, {"c-drop", names.dropped}};
  for (const auto& [map, name] : counters) {
    out += fmt::format("add counter ip {} {}\n", t, name);
    out += fmt::format("add element ip {} {} {{ {} : \"{}\" }}\n", t, map, mark, name);
  }
  // The cap's object is made anew (an existing object keeps its old rate on
  // `add`): made if absent, unlinked and deleted, then made with today's rate.
  std::string limit = fmt::format("bw-{}", id);
  out += fmt::format("add limit ip {} {} {{ rate over 1 bytes/second; }}\n", t, limit);
  out += fmt::format("add element ip {} bw {{ {} : \"{}\" }}\n", t, mark, limit);
  out += fmt::format("delete element ip {} bw {{ {} }}\n", t, mark);
  out += fmt::format("delete limit ip {} {}\n", t, limit);
  if (bytesPerSecond > 0) {
    uint64_t burst = capBurstBytes(bytesPerSecond);
    out += fmt::format("add limit ip {} {} {{ rate over {} bytes/second burst {} bytes; }}\n", t, limit, bytesPerSecond,
                       burst);
    out += fmt::format("add element ip {} bw {{ {} : \"{}\" }}\n", t, mark, limit);
  }
  out += setElement("src-of", mark, addr.consumer);
  std::string chain = fmt::format("c-{}", id);
  out += fmt::format("add chain ip {} {}\nflush chain ip {} {}\n", t, chain, t, chain);
  std::string ports;
  for (const auto& [port, _] : link.targetsByPort) ports += (ports.empty() ? "" : ", ") + std::to_string(port);
  out += fmt::format("add rule ip {} {} tcp dport {{ {} }} ct mark set {} ct timeout set \"idle\" dnat to {}\n", t, chain,
                     ports, mark, addr.provider);
  // Over the connection limit: the client gets a reset at once (refused clearly,
  // not a SYN timeout), counted; the connection is not opened. The kernel counts
  // the open connections to the address (nf_conncount) in the element of a set
  // that outlives this chain's rewrites and the daemon.
  out += fmt::format("add counter ip {} {}\n", t, names.refused);
  std::string lim = fmt::format("l-{}", id);
  out += fmt::format("add chain ip {} {}\nflush chain ip {} {}\n", t, lim, t, lim);
  if (maxConnections > 0)
    out += fmt::format(
        "add rule ip {} {} add @{} {{ ip daddr ct count over {} }} counter name \"{}\" reject with tcp reset\n", t,
        lim, connectionSetName(maxConnections), maxConnections, names.refused);
  out += setElement("lim", link.eniIp, "jump " + lim);
  out += setElement("eps", link.eniIp, "jump " + chain);
  return out;
}

std::string consumerLinkRemoval(const FastLink& link, uint32_t id) {
  std::string t = kFastTable;
  std::string mark = hexMark(id);
  auto names = linkCounterNames(id);
  std::string out = fmt::format("delete element ip {} eps {{ {} }}\n", t, link.eniIp);
  out += fmt::format("delete element ip {} lim {{ {} }}\n", t, link.eniIp);
  out += fmt::format("delete chain ip {} l-{}\n", t, id);
  for (const char* map : {"c-in", "c-out", "c-new", "c-rst", "c-drop", "src-of"})
    out += fmt::format("delete element ip {} {} {{ {} }}\n", t, map, mark);
  out += fmt::format("delete element ip {} bw {{ {} }}\n", t, mark);
  out += fmt::format("delete chain ip {} c-{}\n", t, id);
  for (const auto& n : {names.in, names.out, names.fresh, names.resets, names.dropped, names.refused})
    out += fmt::format("delete counter ip {} {}\n", t, n);
  out += fmt::format("delete limit ip {} bw-{}\n", t, id);
  return out;
}

std::string providerLinkCommands(const FastLink& link, uint32_t id,
                                 const std::map<int, std::vector<TargetSpec>>& tierByPort) {
  std::string t = kFastTable;
  std::string mark = hexMark(id);
  auto addr = linkAddresses(id);
  std::string chain = fmt::format("p-{}", id);
  std::string out = fmt::format("add chain ip {} {}\nflush chain ip {} {}\n", t, chain, t, chain);
  for (const auto& [port, tier] : tierByPort) {
    if (tier.empty()) continue;
    std::string elems;
    for (size_t i = 0; i < tier.size(); ++i)
      elems += fmt::format("{}{} : {} . {}", i ? ", " : "", i, tier[i].ip, tier[i].port);
    out += fmt::format(
        "add rule ip {} {} ip daddr {} tcp dport {} ct mark set {} ct timeout set \"idle\" "
        "dnat ip to jhash ip saddr . tcp sport mod {} map {{ {} }}\n",
        t, chain, addr.provider, port, mark, tier.size(), elems);
  }
  out += setElement("src-of", mark, link.sourceIp);
  out += setElement("plinks", addr.provider, "jump " + chain);
  return out;
}

std::string providerLinkRemoval(const FastLink& link, uint32_t id) {
  std::string t = kFastTable;
  std::string out = fmt::format("delete element ip {} plinks {{ {} }}\n", t, linkAddresses(id).provider);
  out += fmt::format("delete element ip {} src-of {{ {} }}\n", t, hexMark(id));
  out += fmt::format("delete chain ip {} p-{}\n", t, id);
  return out;
}

}  // namespace lp::dataplane
