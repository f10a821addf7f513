#include "reconciler/bpf_fastpath_sink.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/log.h"
#include "dataplane/fastpath_plan.h"

namespace lp::reconciler {

namespace {

using dataplane::BpfPlan;

// A plan's endpoints by what concerns them, for failures.
struct Owners {
  const BpfPlan& plan;
  std::set<std::string> ofLinks(const std::function<bool(uint32_t, const dataplane::BpfLink&)>& pick) const {
    std::set<std::string> out;
    for (const auto& [id, l] : plan.links)
      if (pick(id, l)) out.insert(l.endpointId);
    return out;
  }
  std::set<std::string> ofSpace(uint32_t space) const {
    return ofLinks([&](uint32_t, const auto& l) { return l.consumerSpace == space || l.providerSpace == space; });
  }
  std::set<std::string> ofNamespace(const std::string& ns) const {
    return ofLinks([&](uint32_t, const auto& l) { return l.consumerNs == ns || l.providerNs == ns; });
  }
  std::set<std::string> ofConsumer(const std::string& ns) const {
    return ofLinks([&](uint32_t, const auto& l) { return l.consumerNs == ns; });
  }
  std::set<std::string> ofLink(uint32_t link) const {
    return ofLinks([&](uint32_t id, const auto&) { return id == link; });
  }
  // The links whose pair device this is (an lp-fc* or lp-fp*), if it is one.
  std::set<std::string> ofDevice(const std::string& ns, const std::string& device) const {
    return ofLinks([&](uint32_t, const auto& l) {
      return (l.consumerNs == ns && l.consumerDevice == device) || (l.providerNs == ns && l.providerDevice == device);
    });
  }
};

std::string describe(const dataplane::BpfAttachment& a) {
  static const char* kProgram[] = {"lp_workload_in", "lp_link_out", "lp_link_in"};
  return fmt::format("{} on {} {} in {}", kProgram[static_cast<int>(a.program)], a.device,
                     a.hook == dataplane::BpfHook::kIngress ? "ingress" : "egress", a.ns);
}

}  // namespace

BpfExecution executeBpfDiff(const BpfPlan& before, const BpfPlan& after, const dataplane::BpfPlanDiff& d,
                            BpfExecutor& exec) {
  BpfExecution r;
  r.applied = after;
  Owners owners{after};
  auto fail = [&](const std::set<std::string>& endpoints, const std::string& what, const Status& st) {
    std::string why = what + ": " + st.toString();
    r.errors.push_back(why);
    for (const auto& e : endpoints) r.failedEndpoints.emplace(e, why);
  };
  // A put no endpoint owns alone: left out of `applied`, so the next pass tries it again.
  auto retry = [&](const std::string& what, const Status& st) {
    r.errors.push_back(what + ": " + st.toString());
    r.retry = true;
  };
  auto removal = [&](const std::string& what, const Status& st) {
    if (!st.ok()) r.errors.push_back(what + ": " + st.toString());
  };
  struct Batch {
    BpfExecutor& exec;
    explicit Batch(BpfExecutor& e) : exec(e) { exec.beginBatch(); }
    ~Batch() { exec.endBatch(); }
  } batch(exec);

  for (const auto& [space, ns] : d.load)
    if (Status st = exec.load(space, ns); !st.ok()) fail(owners.ofSpace(space), "load space " + std::to_string(space), st);
  for (const auto& p : d.putPairs)
    if (Status st = exec.putPair(p); !st.ok())
      fail(owners.ofLinks([&](uint32_t id, const auto&) { return p.linkIds.count(id) > 0; }),
           "pair " + p.consumerDevice + "/" + p.providerDevice, st);
  for (const auto& s : d.setSysctls)
    if (Status st = exec.setSysctl(s); !st.ok()) {
      // A link device's sysctl concerns its links; the others (ip_forward, proxy_arp
      // on a gateway) every link of the namespace.
      std::string device = s.key.rfind("net/ipv4/conf/", 0) == 0 ? s.key.substr(14, s.key.find('/', 14) - 14) : "";
      auto eps = owners.ofDevice(s.ns, device);
      fail(eps.empty() ? owners.ofNamespace(s.ns) : eps, s.key + " in " + s.ns, st);
      r.applied.sysctls.erase(s);
    }
  std::set<std::string> rulesFailed;  // namespaces whose pref 0 rule must stay
  for (const auto& rule : d.addRules)
    if (Status st = exec.addRule(rule); !st.ok()) {
      rulesFailed.insert(rule.ns);
      fail(owners.ofConsumer(rule.ns), fmt::format("rule pref {} in {}", rule.pref, rule.ns), st);
    }
  for (const auto& ns : d.moveLocalRule) {
    if (rulesFailed.count(ns)) {  // the namespace keeps its own addresses local
      r.applied.localRuleMoved.erase(ns);
      continue;
    }
    if (Status st = exec.moveLocalRule(ns); !st.ok()) fail(owners.ofConsumer(ns), "local rule from pref 0 in " + ns, st);
  }
  for (const auto& route : d.addRoutes)
    if (Status st = exec.addRoute(route); !st.ok())
      fail(owners.ofLinks([&](uint32_t id, const auto& l) {
             return l.consumerNs == route.ns && dataplane::linkAddresses(id).provider == route.via;
           }),
           "route " + route.dst + " in " + route.ns, st);
  for (const auto& [ns, batch] : d.writeNotrack)
    if (Status st = exec.writeNotrack(ns, batch); !st.ok()) fail(owners.ofNamespace(ns), "notrack in " + ns, st);
  for (const auto& [k, h] : d.putHosts)
    if (Status st = exec.putHost(k, h); !st.ok()) {
      retry(fmt::format("host {} (space {}) on {}", k.addr, k.space, h.device), st);
      if (auto was = before.hosts.find(k); was != before.hosts.end())
        r.applied.hosts[k] = was->second;
      else
        r.applied.hosts.erase(k);
    }
  for (const auto& [id, l] : d.putLinks)
    if (Status st = exec.putLink(id, l); !st.ok()) fail(owners.ofLink(id), "link " + std::to_string(id), st);
  for (const auto& [id, cap] : d.putCaps)
    if (Status st = exec.putCap(id, cap); !st.ok()) fail(owners.ofLink(id), "cap of link " + std::to_string(id), st);
  for (const auto& [k, t] : d.putTargets)
    if (Status st = exec.putTargets(k, t); !st.ok())
      fail(owners.ofLink(k.link), fmt::format("targets of link {} port {}", k.link, k.port), st);
  for (const auto& [k, link] : d.putEndpoints)
    if (Status st = exec.putEndpoint(k, link); !st.ok())
      fail(owners.ofLink(link), fmt::format("endpoint {}:{} (space {})", k.addr, k.port, k.space), st);
  for (const auto& a : d.attach)
    if (Status st = exec.attach(a); !st.ok()) {
      auto eps = owners.ofDevice(a.ns, a.device);
      if (!eps.empty()) {
        fail(eps, describe(a), st);
      } else {  // a workload's veth
        retry(describe(a), st);
        r.applied.attachments.erase(a);
      }
    }

  // Removals, in reverse: best effort, each logged.
  for (const auto& k : d.deleteEndpoints)
    removal(fmt::format("delete endpoint {}:{}", k.addr, k.port), exec.deleteEndpoint(k));
  for (const auto& k : d.deleteTargets) removal(fmt::format("delete targets of link {}", k.link), exec.deleteTargets(k));
  for (uint32_t id : d.deleteLinks) removal("delete link " + std::to_string(id), exec.deleteLink(id));
  std::map<uint32_t, dataplane::BpfLink> ended;
  for (uint32_t id : d.endConnections)
    if (auto it = before.links.find(id); it != before.links.end()) ended.emplace(id, it->second);
  if (!ended.empty()) exec.endConnections(ended);  // one walk of the table and one round of resets
  // After the ends: their connection slots are released by then.
  for (uint32_t id : d.deleteCaps) removal("delete cap of link " + std::to_string(id), exec.deleteCap(id));
  for (const auto& k : d.deleteHosts) removal("delete host " + k.addr, exec.deleteHost(k));
  for (const auto& a : d.detach) removal("detach " + describe(a), exec.detach(a));
  for (const auto& route : d.deleteRoutes)
    removal("delete route " + route.dst + " in " + route.ns, exec.deleteRoute(route));
  std::set<std::string> restoreFailed;
  for (const auto& ns : d.restoreLocalRule)
    if (Status st = exec.restoreLocalRule(ns); !st.ok()) {
      restoreFailed.insert(ns);
      removal("local rule back to pref 0 in " + ns, st);
    }
  for (const auto& rule : d.deleteRules) {
    // Without pref 0 back, rule 200 (or 100) is what keeps the namespace's own
    // addresses local: it stays, and the next pass tries again.
    if (restoreFailed.count(rule.ns) && rule.table == 255) {
      r.applied.rules.insert(rule);
      r.applied.localRuleMoved.insert(rule.ns);
      r.retry = true;
      continue;
    }
    removal(fmt::format("delete rule pref {} in {}", rule.pref, rule.ns), exec.deleteRule(rule));
  }
  for (const auto& ns : d.dropNotrack) removal("drop notrack in " + ns, exec.dropNotrack(ns));
  for (uint32_t space : d.unload) removal("unload space " + std::to_string(space), exec.unload(space));
  for (const auto& k : d.deletePairs) removal("delete pair of " + k.first + " and " + k.second, exec.deletePair(k));
  return r;
}

std::string bpfIdsJson(const dataplane::BpfIds& ids) {
  nlohmann::json j = {{"spaces", ids.spaces}, {"links", ids.links}};
  return j.dump(1) + "\n";
}

dataplane::BpfIds parseBpfIdsJson(const std::string& text) {
  dataplane::BpfIds ids;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return ids;
  try {
    std::map<std::string, uint32_t> spaces, links;
    if (j.contains("spaces")) spaces = j["spaces"].get<std::map<std::string, uint32_t>>();
    if (j.contains("links")) links = j["links"].get<std::map<std::string, uint32_t>>();
    for (const auto& [ns, v] : spaces)
      if (v >= 1 && v <= dataplane::kBpfMaxSpace) ids.spaces[ns] = v;
    for (const auto& [iface, v] : links)
      if (dataplane::usableLinkId(v)) ids.links[iface] = v;
  } catch (const std::exception&) {
    return {};
  }
  return ids;
}

std::string bpfIdsPath(const std::string& stateDir) { return stateDir + "/bpf-fastpath-ids.json"; }

std::vector<dataplane::BpfWorkload> bpfWorkloadsOf(const VpcPlan& plan) {
  std::vector<dataplane::BpfWorkload> out;
  for (const auto& w : plan.workloads)
    out.push_back({plan.ns, w.cidr.substr(0, w.cidr.find('/')), w.vethName, w.ns, w.bridge});
  return out;
}

BpfFastPathSink::BpfFastPathSink(std::unique_ptr<DataplaneSink> splice, std::unique_ptr<BpfExecutor> exec,
                                 BpfSinkOptions options)
    : splice_(std::move(splice)),
      exec_(std::move(exec)),
      opts_(std::move(options)),
      idsPath_(bpfIdsPath(opts_.stateDir)),
      started_(std::chrono::steady_clock::now()),
      lastSweep_(started_) {
  loadIds();
  if (auto use = exec_->tableUse()) tableRefused_ = use->refused;  // adopted maps count from before
}

BpfFastPathSink::~BpfFastPathSink() = default;

void BpfFastPathSink::loadIds() {
  std::ifstream in(idsPath_);
  if (!in) return;
  std::stringstream text;
  text << in.rdbuf();
  applied_.ids = parseBpfIdsJson(text.str());
  savedIds_ = leftBy_ = applied_.ids;
  LP_LOG_INFO("dataplane: bpf path, {} spaces and {} link ids from before", applied_.ids.spaces.size(),
              applied_.ids.links.size());
}

void BpfFastPathSink::saveIds() {
  if (applied_.ids == savedIds_ || opts_.stateDir.empty()) return;
  std::string tmp = idsPath_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << bpfIdsJson(applied_.ids);
    if (!out.flush()) {
      LP_LOG_WARN("dataplane: cannot write {}", tmp);
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, idsPath_, ec);
  if (!ec) savedIds_ = applied_.ids;
}

dataplane::UpdateResult BpfFastPathSink::apply(const dataplane::SnapshotDelta& delta) {
  auto result = splice_->apply(delta);
  for (const auto& [endpointId, listeners] : delta.endpoints) {
    auto had = listeners_.find(endpointId);
    if (had != listeners_.end() && had->second == listeners) continue;
    if (listeners.empty())
      listeners_.erase(endpointId);
    else
      listeners_[endpointId] = listeners;
    // New listeners: a failed endpoint is tried again with them.
    failedAt_.erase(endpointId);
    dirty_ = true;
  }
  if (dirty_) converge();
  return result;
}

void BpfFastPathSink::setWorkloads(const std::string& vpcNs, std::vector<dataplane::BpfWorkload> workloads) {
  auto had = workloads_.find(vpcNs);
  if (had == workloads_.end() ? workloads.empty() : had->second == workloads) return;
  if (workloads.empty())
    workloads_.erase(vpcNs);
  else
    workloads_[vpcNs] = std::move(workloads);
  dirty_ = true;
}

void BpfFastPathSink::tick() {
  std::map<std::string, dataplane::Health> now;
  for (const auto& [key, h] : splice_->health()) now[key] = h.state;
  std::set<std::string> turnedUnhealthy;
  if (now != health_) {
    for (const auto& [key, h] : now)
      if (auto was = health_.find(key); h == dataplane::Health::kUnhealthy && (was == health_.end() || was->second != h))
        turnedUnhealthy.insert(key);
    health_ = std::move(now);
    dirty_ = true;
  }
  auto t = std::chrono::steady_clock::now();
  for (auto it = failedAt_.begin(); it != failedAt_.end();)
    if (t - it->second >= opts_.retryFailedAfter) {
      it = failedAt_.erase(it);
      dirty_ = true;
    } else {
      ++it;
    }
  if (retryAt_ != std::chrono::steady_clock::time_point{} && t >= retryAt_) dirty_ = true;
  if (dirty_) converge();
  // After converge: lp_targets no longer offers them to new connections.
  if (!turnedUnhealthy.empty()) endUnhealthy(turnedUnhealthy);
  if (!applied_.links.empty() && t - lastSweep_ >= opts_.sweepEvery) {
    lastSweep_ = t;
    for (const auto& [id, n] : exec_->sweepConnections(opts_.idleTimeout, applied_.links))
      if (auto l = applied_.links.find(id); l != applied_.links.end() && n) {
        resetByUs_[l->second.interfaceId] += n;
        resetsMoved_ = true;
      }
  }
  if (lastSweep_ == t) watchTableFull();  // with each sweep, which gives slots back
  readCounters(t);
  if (!swept_ && t - started_ >= opts_.sweepAfter) {
    // By now the reconciler's first passes put in place what the plan holds; what
    // the last run left beyond it (an endpoint deleted, or moved to splice, while
    // the daemon was down) goes, in every namespace that run had a space in.
    swept_ = true;
    for (const auto& [ns, _] : leftBy_.spaces)
      if (Status st = exec_->sweep(ns, applied_); !st.ok())
        LP_LOG_WARN("dataplane: bpf path: what the last run left in {}: {}", ns, st.toString());
    dropLinksLeftBehind();
  }
  splice_->tick();
}

// An NLB ends the connections of a target that turns unhealthy, unless the
// group's connection_termination is off (TargetSpec::terminateWhenUnhealthy; the
// splice and conntrack paths keep the same rule). Only on the turn: connections
// opened to a target already unhealthy (failing open) are left alone.
void BpfFastPathSink::endUnhealthy(const std::set<std::string>& turnedUnhealthy) {
  std::set<BpfTargetEnd> ends;
  for (const auto& [endpointId, listeners] : listeners_)
    for (const auto& l : listeners) {
      auto id = applied_.ids.links.find(l.interfaceId);
      if (id == applied_.ids.links.end() || !applied_.links.count(id->second)) continue;  // not on the path
      for (const auto& t : l.targets)
        if (t.terminateWhenUnhealthy && turnedUnhealthy.count(t.healthKey)) ends.insert({id->second, t.ip, t.port});
    }
  if (ends.empty()) return;
  for (const auto& [id, n] : exec_->endTargetConnections(ends, applied_.links))
    if (auto l = applied_.links.find(id); l != applied_.links.end()) {
      resetByUs_[l->second.interfaceId] += n;
      resetsMoved_ |= n > 0;
      if (n) LP_LOG_INFO("dataplane: {} connections of {} to unhealthy targets ended", n, l->second.interfaceId);
    }
}

// SYNs the programs refused because the host's connection table is full (each is
// its endpoint's PacketsDropped too): a warning when an episode begins, a note
// when a sweep finds none since the last, as FastPathSink::watchConntrackFull.
void BpfFastPathSink::watchTableFull() {
  auto use = exec_->tableUse();
  if (!use) return;
  uint64_t fresh = use->refused > tableRefused_ ? use->refused - tableRefused_ : 0;
  if (fresh && !tableFull_)
    LP_LOG_WARN(
        "dataplane: the BPF connection table is full: {} connections refused ({} in it, at most {}); raise "
        "[dataplane] bpf_connection_table",
        fresh, use->live, use->limit);
  else if (!fresh && tableFull_)
    LP_LOG_INFO("dataplane: the BPF connection table has room again ({} connections in it, at most {})", use->live,
                use->limit);
  tableFull_ = fresh > 0;
  tableRefused_ = use->refused;
}

// Every two seconds, as the conntrack path's counters, and when linkplane reset
// connections itself; the report (and activity) moves only when a figure did.
void BpfFastPathSink::readCounters(std::chrono::steady_clock::time_point now) {
  constexpr std::chrono::seconds kCountersEvery{2};
  if (now - lastCounters_ < kCountersEvery && !resetsMoved_) return;
  lastCounters_ = now;
  resetsMoved_ = false;
  std::map<uint32_t, dataplane::BpfLinkFigures> figures;
  for (const auto& [id, l] : applied_.links)
    if (auto s = exec_->linkStats(id)) {
      // The resets the programs saw are RST segments crossing the link; those
      // linkplane sent itself (tcpResetPeers, inside each namespace) never do.
      if (auto r = resetByUs_.find(l.interfaceId); r != resetByUs_.end()) s->resets += r->second;
      figures[id] = *s;
    }
  dataplane::CountersReport r = dataplane::bpfCounters(applied_.links, figures);
  std::erase_if(resetByUs_, [&](const auto& kv) { return !r.interfaces.count(kv.first); });
  std::lock_guard lock(mu_);
  if (r.endpoints != counters_.endpoints || r.interfaces != counters_.interfaces) {
    counters_ = std::move(r);
    ++activity_;
  }
}

dataplane::CountersReport BpfFastPathSink::counters() {
  std::lock_guard lock(mu_);
  return counters_;
}

uint64_t BpfFastPathSink::activity() {
  std::lock_guard lock(mu_);
  return activity_;
}

void BpfFastPathSink::dropLinksLeftBehind() {
  // The adopted maps still hold the links of the killed run that this plan lacks
  // (an endpoint deleted, refused or failed since): their lp_endpoints and
  // lp_targets entries, whose keys the ids file does not hold, and their
  // established connections, which would go on peer to peer, needing no route.
  // They go as a delete's do: the entries naming the links first, then the links,
  // their connections with resets at both ends (the namespaces are those whose
  // spaces lp_links names), their cap state and counters zeroed for the id's next
  // holder.
  std::map<uint32_t, std::string> nsOfSpace;
  for (const auto& [ns, space] : leftBy_.spaces) nsOfSpace[space] = ns;
  std::map<uint32_t, dataplane::BpfLink> gone;
  std::set<uint32_t> ids;
  for (const auto& [_, id] : leftBy_.links) {
    if (applied_.links.count(id)) continue;
    dataplane::BpfLink was;
    if (auto spaces = exec_->linkSpaces(id)) {  // before deleteLink zeroes it
      auto c = nsOfSpace.find(spaces->first), p = nsOfSpace.find(spaces->second);
      if (c != nsOfSpace.end() && p != nsOfSpace.end()) {
        was.consumerNs = c->second;
        was.providerNs = p->second;
      }
    }
    gone.emplace(id, std::move(was));
    ids.insert(id);
  }
  if (gone.empty()) return;
  if (Status st = exec_->dropEntriesOfLinks(ids); !st.ok())
    LP_LOG_WARN("dataplane: bpf path: entries of {} links of the last run: {}", ids.size(), st.toString());
  for (uint32_t id : ids)
    if (Status st = exec_->deleteLink(id); !st.ok())
      LP_LOG_WARN("dataplane: bpf path: link {} of the last run: {}", id, st.toString());
  exec_->endConnections(gone);
  for (uint32_t id : ids)
    if (Status st = exec_->deleteCap(id); !st.ok())
      LP_LOG_WARN("dataplane: bpf path: cap of link {} of the last run: {}", id, st.toString());
  LP_LOG_INFO("dataplane: bpf path: {} links of the last run are no longer planned: their entries went, their "
              "connections ended",
              gone.size());
}

void BpfFastPathSink::converge() {
  dirty_ = false;
  retryAt_ = {};
  // A pass whose writes fail for some endpoints plans again without them; each
  // round takes at least one endpoint off, and the third gives up until the next tick.
  for (int round = 0; round < 3; ++round) {
    dataplane::BpfInputs in;
    for (const auto& [endpointId, listeners] : listeners_)
      if (!failedAt_.count(endpointId)) in.listeners.insert(in.listeners.end(), listeners.begin(), listeners.end());
    for (const auto& [_, ws] : workloads_) in.workloads.insert(in.workloads.end(), ws.begin(), ws.end());
    in.health = health_;
    in.previous = applied_.ids;
    in.endpointBytesPerSecond = opts_.endpointBytesPerSecond;
    in.maxConnectionsPerInterface = opts_.maxConnectionsPerInterface;
    BpfPlan plan = dataplane::planBpf(in);
    for (const auto& [endpointId, _] : failedAt_)
      if (listeners_.count(endpointId)) plan.refused[endpointId] = "its writes failed: " + failedWhy_[endpointId];
    for (const auto& [endpointId, why] : plan.refused)
      if (auto it = refusedLogged_.find(endpointId); it == refusedLogged_.end() || it->second != why) {
        LP_LOG_INFO("dataplane: {} stays on the splice path: {}", endpointId, why);
        refusedLogged_[endpointId] = why;
      }
    for (auto it = refusedLogged_.begin(); it != refusedLogged_.end();)
      it = plan.refused.count(it->first) ? std::next(it) : refusedLogged_.erase(it);
    for (const auto& k : plan.unhostedTargets)
      if (unhostedLogged_.insert(k).second)
        LP_LOG_WARN("dataplane: bpf path: target {} (space {}) is no workload of its VPC; its replies are not caught",
                    k.addr, k.space);

    auto diff = dataplane::diffBpfPlans(applied_, plan);
    if (diff.empty()) break;
    BpfExecution done = executeBpfDiff(applied_, plan, diff, *exec_);
    applied_ = std::move(done.applied);
    for (const auto& e : done.errors) LP_LOG_WARN("dataplane: bpf path: {}", e);
    if (done.retry) retryAt_ = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    if (done.failedEndpoints.empty()) break;
    auto t = std::chrono::steady_clock::now();
    for (const auto& [endpointId, why] : done.failedEndpoints) {
      LP_LOG_WARN("dataplane: {} goes back to the splice path: {}", endpointId, why);
      failedAt_[endpointId] = t;
      failedWhy_[endpointId] = why;
    }
  }
  for (auto it = failedWhy_.begin(); it != failedWhy_.end();)
    it = failedAt_.count(it->first) ? std::next(it) : failedWhy_.erase(it);
  saveIds();
  std::lock_guard lock(mu_);
  reportLinks_ = applied_.links;
  reportRefused_ = refusedLogged_;
  reportFailed_ = failedWhy_;
}

void BpfFastPathSink::stop() {
  // The namespaces go after this (Reconciler::teardown), but not those kept for
  // running instances; so the filters are detached here, and only then the pins
  // removed: no program is left attached over maps nothing pins.
  std::set<std::string> spaces;
  for (const auto* ids : {&applied_.ids, &leftBy_})
    for (const auto& [ns, _] : ids->spaces) spaces.insert(ns);
  bool clean = true;
  for (const auto& ns : spaces)
    if (Status st = exec_->sweep(ns, {}); !st.ok()) {
      clean = false;
      LP_LOG_WARN("dataplane: bpf path: what this run put in {} stays: {}", ns, st.toString());
    }
  if (Status st = clean ? exec_->unpin() : Status::Ok(); !st.ok()) {
    clean = false;
    LP_LOG_WARN("dataplane: bpf path: the maps' pins stay: {}", st.toString());
  }
  splice_->stop();
  // The ids file goes so a later start begins anew; kept when something stayed, so
  // the next start (on any path) sweeps it.
  applied_ = {};
  savedIds_ = {};
  std::error_code ec;
  if (clean) std::filesystem::remove(idsPath_, ec);
}

std::string BpfFastPathSink::statusJson() const {
  using nlohmann::json;
  std::map<uint32_t, dataplane::BpfLink> links;
  json j;
  {
    std::lock_guard lock(mu_);
    links = reportLinks_;
    j["refused"] = reportRefused_;
    j["failed"] = reportFailed_;
  }
  json arr = json::array();
  for (const auto& [id, l] : links) {
    json e = {{"id", id}, {"endpoint", l.endpointId}, {"interface", l.interfaceId}, {"node", l.nodeAddr}};
    if (auto s = exec_->linkStats(id)) {
      e["new_connections"] = s->newConnections;
      e["packets_to_target"] = s->fwdPackets;
      e["bytes_to_target"] = s->fwdBytes;
      e["packets_to_client"] = s->revPackets;
      e["bytes_to_client"] = s->revBytes;
      e["resets"] = s->resets;
      e["drops"] = s->drops;
    }
    arr.push_back(std::move(e));
  }
  j["links"] = std::move(arr);
  return j.dump();
}

Result<VpcResult> BpfWorkloadTap::applyVpc(const VpcPlan& plan) {
  auto r = inner_->applyVpc(plan);
  if (r.ok()) sink_.setWorkloads(plan.ns, bpfWorkloadsOf(plan));
  return r;
}

Status BpfWorkloadTap::removeVpc(const std::string& vpcId) {
  sink_.setWorkloads("lp-" + vpcId, {});
  return inner_->removeVpc(vpcId);
}

}  // namespace lp::reconciler
