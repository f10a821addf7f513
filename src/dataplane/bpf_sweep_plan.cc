#include "dataplane/bpf_sweep_plan.h"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <tuple>

namespace lp::dataplane {

namespace {

lp_fp_tuple reversed(const lp_fp_tuple& t) { return lp_fp_tuple{t.daddr, t.saddr, t.dport, t.sport}; }

bool same(const lp_fp_tuple& a, const lp_fp_tuple& b) {
  return a.saddr == b.saddr && a.daddr == b.daddr && a.sport == b.sport && a.dport == b.dport;
}

// (link, provider-side key tuple): a link has one provider space, so this names
// one provider-side entry.
using RevIndex = std::tuple<uint32_t, uint32_t, uint32_t, uint16_t, uint16_t>;
RevIndex revIndex(uint32_t link, const lp_fp_tuple& t) { return {link, t.saddr, t.daddr, t.sport, t.dport}; }

BpfConnection fromConsumer(const BpfConnEntry& e) {
  BpfConnection c;
  c.link = e.value.link;
  c.consumerKey = e.key;
  c.client = e.key.t;
  c.target = reversed(e.value.to);
  c.clientSeen = e.value.seen;
  c.lastSeenNs = e.value.last_seen_ns;
  return c;
}

BpfConnection fromProvider(const BpfConnEntry& e) {
  BpfConnection c;
  c.link = e.value.link;
  c.providerKey = e.key;
  c.client = reversed(e.value.to);
  c.target = e.key.t;
  c.targetSeen = e.value.seen;
  c.lastSeenNs = e.value.last_seen_ns;
  return c;
}

}  // namespace

std::vector<lp_fp_conn_key> BpfConnection::keys() const {
  std::vector<lp_fp_conn_key> k;
  if (consumerKey) k.push_back(*consumerKey);
  if (providerKey) k.push_back(*providerKey);
  return k;
}

std::vector<BpfConnection> pairBpfConnections(const std::vector<BpfConnEntry>& entries) {
  std::map<RevIndex, size_t> providers;  // -> index in entries
  for (size_t i = 0; i < entries.size(); ++i)
    if (entries[i].value.dir == LP_FP_DIR_REV) providers.emplace(revIndex(entries[i].value.link, entries[i].key.t), i);
  std::vector<bool> paired(entries.size(), false);
  std::vector<BpfConnection> out;
  for (size_t i = 0; i < entries.size(); ++i) {
    const BpfConnEntry& e = entries[i];
    if (e.value.dir != LP_FP_DIR_FWD) continue;
    BpfConnection c = fromConsumer(e);
    auto p = providers.find(revIndex(c.link, c.target));
    // The provider side names this client back; otherwise it was taken over by a
    // later connection (lp_link_out reuses a node port toward the same target).
    if (p != providers.end() && !paired[p->second] && same(entries[p->second].value.to, reversed(e.key.t))) {
      const BpfConnEntry& r = entries[p->second];
      paired[p->second] = true;
      c.providerKey = r.key;
      c.targetSeen = r.value.seen;
      c.lastSeenNs = std::max<uint64_t>(c.lastSeenNs, r.value.last_seen_ns);
    }
    out.push_back(c);
  }
  for (size_t i = 0; i < entries.size(); ++i)
    if (entries[i].value.dir == LP_FP_DIR_REV && !paired[i]) out.push_back(fromProvider(entries[i]));
  // Entries of another direction (none today) are left alone: not ours to judge.
  return out;
}

BpfConnState bpfConnState(const BpfConnection& c, uint64_t nowNs, const BpfSweepPolicy& policy) {
  if (c.lastSeenNs >= nowNs) return BpfConnState::kLive;
  uint64_t quiet = nowNs - c.lastSeenNs;
  bool reset = ((c.clientSeen | c.targetSeen) & LP_FP_SEEN_RST) != 0;
  bool finBoth = (c.clientSeen & LP_FP_SEEN_FIN) && (c.targetSeen & LP_FP_SEEN_FIN);
  if ((reset || finBoth) && quiet >= policy.closedLingerNs) return BpfConnState::kClosed;
  if (quiet >= policy.idleNs) return BpfConnState::kIdle;
  return BpfConnState::kLive;
}

std::vector<BpfRecount> planBpfRecount(const std::vector<BpfLinkCount>& counts,
                                       const std::vector<BpfConnEntry>& entries) {
  std::map<uint32_t, uint64_t> found;
  for (const auto& e : entries)
    if (e.value.dir == LP_FP_DIR_FWD && !(e.value.released & 1)) ++found[e.value.link];  // released: closed, not counted
  std::vector<BpfRecount> out;
  for (const auto& c : counts) {
    if (c.newConnsAfter != c.newConnsBefore) continue;  // judged at the next walk
    auto it = found.find(c.link);
    uint64_t counted = it == found.end() ? 0 : it->second;
    if (counted != c.seen) out.push_back({c.link, c.seen, counted});
  }
  return out;
}

BpfSweepPlan planBpfSweep(const std::vector<BpfConnEntry>& entries, uint64_t nowNs, const BpfSweepPolicy& policy) {
  BpfSweepPlan plan;
  for (auto& c : pairBpfConnections(entries)) {
    switch (bpfConnState(c, nowNs, policy)) {
      case BpfConnState::kIdle:
        plan.idle.push_back(std::move(c));
        break;
      case BpfConnState::kClosed:
        plan.closed.push_back(std::move(c));
        break;
      case BpfConnState::kLive:
        break;
    }
  }
  return plan;
}

bool BpfEndScope::contains(const BpfConnection& c) const {
  if (target) return c.link == target->link && c.target.saddr == target->addr && c.target.sport == htons(target->port);
  return links.count(c.link) > 0;
}

std::vector<BpfConnection> planBpfEnd(const std::vector<BpfConnEntry>& entries, const BpfEndScope& scope) {
  std::vector<BpfConnection> out;
  for (auto& c : pairBpfConnections(entries))
    if (scope.contains(c)) out.push_back(std::move(c));
  return out;
}

net::TcpPeer bpfClientEnd(const BpfConnection& c) {
  return net::TcpPeer{ntohl(c.client.daddr), ntohs(c.client.dport), ntohl(c.client.saddr), ntohs(c.client.sport)};
}

net::TcpPeer bpfTargetEnd(const BpfConnection& c) {
  return net::TcpPeer{ntohl(c.target.daddr), ntohs(c.target.dport), ntohl(c.target.saddr), ntohs(c.target.sport)};
}

}  // namespace lp::dataplane
