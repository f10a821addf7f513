#include "dataplane/bpf_sweep.h"

#include <algorithm>
#include <map>

#include "common/log.h"

namespace lp::dataplane {

namespace {

// The connection's entries as they are now (either may have gone meanwhile).
Result<std::vector<BpfConnEntry>> reread(const net::bpf::FastpathMaps& maps, const BpfConnection& c) {
  std::vector<BpfConnEntry> now;
  for (const auto& k : c.keys()) {
    LP_ASSIGN_OR_RETURN(auto v, maps.connection(k.space, k.t));
    if (v) now.push_back(BpfConnEntry{k, *v});
  }
  return now;
}

}  // namespace

Result<std::vector<BpfConnEntry>> readBpfConnections(const net::bpf::FastpathMaps& maps) {
  std::vector<BpfConnEntry> entries;
  LP_RETURN_IF_ERROR(net::bpf::visitConnections(maps, [&](const lp_fp_conn_key& k, const lp_fp_conn& v) {
    entries.push_back(BpfConnEntry{k, v});
  }));
  return entries;
}

namespace {

// Each link with a live count, its new_conns read before the count (planBpfRecount).
std::vector<BpfLinkCount> liveCounts(const net::bpf::FastpathMaps& maps, const net::bpf::LinkUsage& usage) {
  std::vector<BpfLinkCount> counts;
  for (uint32_t link = 1; link < maps.maxLinks(); ++link) {
    if (usage.live(link) == 0) continue;  // one load from the mapped array: 32,768 take microseconds
    auto s = maps.linkStats(link);
    if (!s.ok()) continue;
    counts.push_back({link, s->new_conns, usage.live(link), 0});
  }
  return counts;
}

void recount(const net::bpf::FastpathMaps& maps, net::bpf::LinkUsage& usage, std::vector<BpfLinkCount>& counts,
             const std::vector<BpfConnEntry>& entries, BpfSweepResult& out) {
  for (auto& c : counts) {
    auto s = maps.linkStats(c.link);
    c.newConnsAfter = s.ok() ? s->new_conns : c.newConnsBefore + 1;  // unread: not judged
  }
  for (const auto& r : planBpfRecount(counts, entries))
    if (usage.recount(r.link, r.seen, r.counted)) {
      LP_LOG_INFO("dataplane: bpf path: link {} counted {} live connections, the table holds {}: corrected", r.link,
                  r.seen, r.counted);
      out.recounted.push_back(r);
    }
}

}  // namespace

Result<BpfSweepResult> sweepBpfConnections(const net::bpf::FastpathMaps& maps, uint64_t nowNs, uint64_t idleNs) {
  net::bpf::LinkUsage* usage = maps.linkUsage();
  std::vector<BpfLinkCount> counts;
  if (usage) counts = liveCounts(maps, *usage);
  LP_ASSIGN_OR_RETURN(auto entries, readBpfConnections(maps));
  BpfSweepResult out;
  // Before the deletes below, which release slots themselves.
  if (usage) recount(maps, *usage, counts, entries, out);
  BpfSweepPolicy policy;
  policy.idleNs = idleNs;
  BpfSweepPlan plan = planBpfSweep(entries, nowNs, policy);
  auto apply = [&](std::vector<BpfConnection>& conns, BpfConnState state, size_t& count) -> Status {
    for (auto& c : conns) {
      LP_ASSIGN_OR_RETURN(auto now, reread(maps, c));
      auto again = pairBpfConnections(now);
      // Touched since the walk (or taken over by a new connection): judged next time.
      if (again.size() != 1 || bpfConnState(again[0], nowNs, policy) != state) continue;
      LP_ASSIGN_OR_RETURN(size_t deleted, net::bpf::deleteConnections(maps, c.keys()));
      if (deleted == 0) continue;  // another deleter (a link's end) took them, and resets them
      ++count;
      if (state == BpfConnState::kIdle) out.idleConnections.push_back(std::move(c));
    }
    return Status::Ok();
  };
  LP_RETURN_IF_ERROR(apply(plan.closed, BpfConnState::kClosed, out.closed));
  LP_RETURN_IF_ERROR(apply(plan.idle, BpfConnState::kIdle, out.idle));
  return out;
}

Result<std::vector<BpfConnection>> endBpfConnections(const net::bpf::FastpathMaps& maps, const BpfEndScope& scope) {
  return endBpfConnections(maps, std::vector<BpfEndScope>{scope});
}

Result<std::vector<BpfConnection>> endBpfConnections(const net::bpf::FastpathMaps& maps,
                                                     const std::vector<BpfEndScope>& scopes) {
  LP_ASSIGN_OR_RETURN(auto entries, readBpfConnections(maps));
  std::vector<BpfConnection> ended;
  for (const auto& c : pairBpfConnections(entries))
    if (std::any_of(scopes.begin(), scopes.end(), [&](const BpfEndScope& s) { return s.contains(c); }))
      ended.push_back(c);
  std::vector<lp_fp_conn_key> keys;
  for (const auto& c : ended)
    for (const auto& k : c.keys()) keys.push_back(k);
  LP_RETURN_IF_ERROR(net::bpf::deleteConnections(maps, keys).status());
  return ended;
}

Result<std::vector<BpfConnection>> endLinkConnections(const net::bpf::FastpathMaps& maps, uint32_t link) {
  BpfEndScope scope;
  scope.links = {link};
  return endBpfConnections(maps, scope);
}

Result<std::vector<BpfConnection>> endTargetConnections(const net::bpf::FastpathMaps& maps, uint32_t link,
                                                        uint32_t targetAddr, uint16_t targetPort) {
  BpfEndScope scope;
  scope.target = BpfEndScope::Target{link, targetAddr, targetPort};
  return endBpfConnections(maps, scope);
}

BpfResetResult resetBpfConnections(const std::vector<BpfConnection>& conns,
                                   const std::function<std::optional<BpfLinkNamespaces>(uint32_t link)>& nsOf,
                                   std::chrono::milliseconds wait) {
  BpfResetResult out;
  std::map<std::string, std::vector<net::TcpPeer>> clients, targets;  // by namespace
  for (const auto& c : conns) {
    auto ns = nsOf(c.link);
    if (!ns) {
      ++out.unknownLinks;
      continue;
    }
    clients[ns->consumer].push_back(bpfClientEnd(c));
    targets[ns->provider].push_back(bpfTargetEnd(c));
  }
  auto reset = [&](const std::map<std::string, std::vector<net::TcpPeer>>& byNs, size_t& count) {
    for (const auto& [ns, peers] : byNs) {
      auto n = net::tcpResetPeers(ns, peers, wait);
      if (n.ok())
        count += *n;
      else
        LP_LOG_WARN("dataplane: resetting {} connections in {}: {}", peers.size(), ns, n.status().toString());
    }
  };
  reset(clients, out.clients);
  reset(targets, out.targets);
  return out;
}

}  // namespace lp::dataplane
