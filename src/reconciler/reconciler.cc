#include "reconciler/reconciler.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "model/endpoint.h"
#include "reconciler/dataplane_plan.h"
#include "reconciler/host_plan.h"

namespace lp::reconciler {

namespace es = model::endpoint_state;
using std::chrono::steady_clock;

namespace {

constexpr auto kNever = steady_clock::time_point::max();

// LastError code for what the host could not build: capacity when a kernel or
// configured limit said no, internal otherwise. The message says what and where.
std::string lastErrorCode(const std::string& why) {
  for (const char* limit : {"Too many open files", "Cannot allocate memory", "No space left on device",
                            "No buffer space available", "Resource temporarily unavailable"}) {
    if (why.find(limit) != std::string::npos) return "InsufficientCapacity";
  }
  return "InternalError";
}

std::optional<model::TargetHealthRecord> healthRecord(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  try {
    return j.get<model::TargetHealthRecord>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a malformed row is written again from what is observed
  }
}

template <typename Set>
std::set<std::string> takeFront(Set& from, size_t n) {
  std::set<std::string> out;
  for (auto it = from.begin(); it != from.end() && out.size() < n;) {
    out.insert(*it);
    it = from.erase(it);
  }
  return out;
}

}  // namespace

Reconciler::Reconciler(store::Store& store, HostNetwork& host, DataplaneSink* dataplane, NameSink* names,
                       const Clock& clock, ReconcilerOptions options)
    : store_(store),
      host_(host),
      dataplane_(dataplane),
      names_(names),
      clock_(clock),
      opts_(std::move(options)),
      nameTable_(opts_.region),
      loop_({[this] { return reconcileOnce() ? std::chrono::milliseconds::zero() : untilDue(); },
             [this](std::chrono::milliseconds t) { return store_.waitForRevision(applied_, t); }}) {}

Reconciler::~Reconciler() { stop(); }

void Reconciler::start() { loop_.start(); }

void Reconciler::stop() { loop_.stop(); }

void Reconciler::teardown() {
  stop();
  // Connections first (their resets need the addresses), then the resolvers'
  // sockets (they would keep namespaces alive), then the namespaces.
  if (dataplane_) dataplane_->stop();
  if (names_) names_->publish(std::make_shared<dns::ZoneSnapshot>());
  host_.teardown();
}

std::chrono::milliseconds Reconciler::untilDue() const {
  auto now = clock_.steadyNow();
  auto due = nextDue();
  return due <= now ? std::chrono::milliseconds::zero()
                    : std::chrono::ceil<std::chrono::milliseconds>(
                          std::min<steady_clock::duration>(due - now, std::chrono::hours(1)));
}

void Reconciler::queue(const DirtyKeys& d) {
  dirtyVpcs_.insert(d.vpcs.begin(), d.vpcs.end());
  dirtyEndpoints_.insert(d.endpoints.begin(), d.endpoints.end());
  dirtyGroups_.insert(d.targetGroups.begin(), d.targetGroups.end());
}

void Reconciler::ingest() {
  if (!synced_) {
    uint64_t rev = store_.revision();  // before the read: anything newer comes again as a change
    DirtyKeys all;
    std::map<std::string, model::TargetHealthRecord> health;
    store_.read([&](const store::ReadView& v) {
      all = state_.load(v);
      v.forEach(model::TargetHealthRecord::kKind, [&](const store::Object& o) {
        if (auto h = healthRecord(o.body)) health[o.id] = *h;
        return true;
      });
    });
    healthWritten_ = std::move(health);
    applied_ = rev;
    own_.clear();
    synced_ = true;
    // What the host holds from before (a gap in the history) is converged too.
    all.vpcs.insert(vpcsOnHost_.begin(), vpcsOnHost_.end());
    for (const auto& [id, _] : listeners_) all.endpoints.insert(id);
    queue(all);
    std::set<std::string> wanted;
    for (const auto& [id, _] : state_.vpcs()) {
      wanted.insert("lp-" + id);
      for (const auto& iid : state_.interfacesIn(id)) {
        const auto* i = DesiredState::find(state_.interfaces(), iid);
        if (i && i->interfaceType == "interface" && !i->privateIp.empty()) wanted.insert("lp-" + iid);
      }
    }
    resync_ = ResyncClock{clock_.steadyNow()};
    host_.removeOrphans(wanted);
    charge(&ResyncClock::host, resync_->began);
    std::lock_guard l(statsMu_);
    stats_.resyncs++;
    return;
  }
  auto changes = store_.changesSince(applied_);
  if (changes.empty()) return;
  if (changes.front().revision > applied_ + 1) {
    LP_LOG_WARN("reconciler: fell behind the store's change history (at {}, oldest held {}): full resync", applied_,
                changes.front().revision);
    synced_ = false;
    ingest();
    return;
  }
  uint64_t ingested = 0;
  std::set<std::pair<std::string, std::string>> seen;
  store_.read([&](const store::ReadView& v) {
    for (auto it = changes.rbegin(); it != changes.rend(); ++it) {  // newest first: each object read once
      const auto& c = *it;
      if (own_.count(c.revision) || !seen.insert({c.kind, c.id}).second) continue;
      if (c.kind == model::TargetHealthRecord::kKind) {
        // The control plane drops the rows of deregistered targets.
        auto o = v.get(c.kind, c.id);
        auto h = o ? healthRecord(o->body) : std::nullopt;
        if (h) {
          healthWritten_[c.id] = *h;
        } else {
          healthWritten_.erase(c.id);
        }
        continue;
      }
      if (!DesiredState::tracks(c.kind)) continue;
      ++ingested;
      queue(state_.apply(c.kind, c.id, v.get(c.kind, c.id)));
    }
  });
  applied_ = changes.back().revision;
  own_.erase(own_.begin(), own_.upper_bound(applied_));
  std::lock_guard l(statsMu_);
  stats_.changesIngested += ingested;
}

void Reconciler::promoteDue() {
  auto now = clock_.steadyNow();
  for (auto* retries : {&vpcRetry_, &endpointRetry_}) {
    auto& dirty = retries == &vpcRetry_ ? dirtyVpcs_ : dirtyEndpoints_;
    for (auto& [key, r] : *retries) {
      if (r.due > now) continue;
      dirty.insert(key);
      r.due = kNever;  // until it fails again
    }
  }
  auto wall = clock_.now();
  for (auto it = purgeAt_.begin(); it != purgeAt_.end();) {
    if (it->second > wall) {
      ++it;
      continue;
    }
    dirtyEndpoints_.insert(it->first);
    it = purgeAt_.erase(it);
  }
  if (now >= nextDrift_) {
    // Due again in a tick with or without VPCs: a drift time left in the past made
    // nextDue() zero, and a daemon with no VPC spun through passes.
    nextDrift_ = now + opts_.tick;
    if (!state_.vpcs().empty()) {
      // A slice of VPCs per tick, so every VPC is compared with the host once per period.
      size_t n = state_.vpcs().size();
      auto ticks =
          std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(opts_.driftPeriod).count() /
                                   std::max<int64_t>(1, opts_.tick.count()));
      size_t slice = std::max<size_t>(1, (n + ticks - 1) / ticks);
      auto it = state_.vpcs().upper_bound(driftCursor_);
      for (size_t i = 0; i < slice; ++i) {
        if (it == state_.vpcs().end()) it = state_.vpcs().begin();
        dirtyVpcs_.insert(it->first);
        driftCursor_ = it->first;
        ++it;
      }
    }
  }
}

void Reconciler::scheduleRetry(std::map<std::string, Retry>& retries, const std::string& key, const std::string& why) {
  auto& r = retries[key];
  r.attempts++;
  r.lastError = why;
  {
    std::lock_guard l(statsMu_);
    stats_.errors++;
  }
  auto delay = opts_.retryFirst * (1 << std::min(r.attempts - 1, 16));
  r.due = clock_.steadyNow() + std::min<std::chrono::milliseconds>(delay, opts_.retryMax);
}

steady_clock::time_point Reconciler::nextDue() const {
  if (!dirtyVpcs_.empty() || !dirtyEndpoints_.empty() || !dirtyGroups_.empty()) return clock_.steadyNow();
  auto due = std::min(nextTick_, nextDrift_);
  for (const auto* retries : {&vpcRetry_, &endpointRetry_}) {
    for (const auto& [_, r] : *retries) due = std::min(due, r.due);
  }
  if (!purgeAt_.empty()) {
    auto wall = clock_.now();
    auto first = purgeAt_.begin()->second;
    for (const auto& [_, t] : purgeAt_) first = std::min(first, t);
    due = std::min(due, clock_.steadyNow() + std::chrono::duration_cast<steady_clock::duration>(
                                                 std::max(first - wall, std::chrono::system_clock::duration::zero())));
  }
  return due;
}

void Reconciler::charge(std::chrono::steady_clock::duration ResyncClock::*phase,
                        std::chrono::steady_clock::time_point from) {
  if (resync_) (*resync_).*phase += clock_.steadyNow() - from;
}

void Reconciler::publishNames(bool force) {
  if (!names_ || (!namesDirty_ && !force)) return;
  auto from = clock_.steadyNow();
  names_->publish(nameTable_.snapshot(static_cast<uint32_t>(std::max<uint64_t>(applied_, 1))));
  namesDirty_ = false;
  charge(&ResyncClock::names, from);
}

void Reconciler::applyVpcs(const std::set<std::string>& vpcs, std::set<std::string>& failedVpcs) {
  bool newNamespace = false;
  for (const auto& id : vpcs) {
    auto plan = planVpc(state_, id);
    if (!plan) {
      if (Status st = host_.removeVpc(id); !st.ok()) {
        LP_LOG_WARN("reconciler: removing vpc {}: {}", id, st.toString());
        failedVpcs.insert(id);
        scheduleRetry(vpcRetry_, id, st.message());
        continue;
      }
      vpcsOnHost_.erase(id);
      readyIn_.erase(id);
      vpcRetry_.erase(id);
      continue;
    }
    auto r = host_.applyVpc(*plan);
    {
      std::lock_guard l(statsMu_);
      stats_.vpcsApplied++;
    }
    if (!r.ok()) {
      LP_LOG_WARN("reconciler: vpc {} (namespace {}): {}", id, plan->ns, r.status().toString());
      failedVpcs.insert(id);
      // The endpoint's LastError says where: the namespace, when the host's own
      // message does not name it (a sysctl's "open /proc/sys/...: Too many open files").
      std::string why = r.status().message();
      if (why.find(plan->ns) == std::string::npos) why = "namespace " + plan->ns + ": " + why;
      scheduleRetry(vpcRetry_, id, why);
      continue;
    }
    vpcRetry_.erase(id);
    readyIn_[id] = std::move(r->readyInterfaces);
    bool wasOnHost = !vpcsOnHost_.insert(id).second;
    if (r->namespaceMade) {
      newNamespace = true;
      // Listening sockets live in a namespace: a namespace made again (deleted
      // behind our back) needs its endpoints' listeners made again too.
      if (wasOnHost) {
        for (const auto& e : state_.endpointsIn(id)) dirtyEndpoints_.insert(e);
      }
    }
    // Endpoints waiting for this VPC's interfaces are decided again.
    for (const auto& e : state_.endpointsIn(id)) {
      const auto* ep = DesiredState::find(state_.endpoints(), e);
      if (ep && ep->state == es::kPending) dirtyEndpoints_.insert(e);
    }
  }
  // A resolver published before its namespace existed opens its sockets now
  // rather than at the DNS server's next retry.
  if (newNamespace) publishNames(true);
}

void Reconciler::decide(const std::string& id, const std::set<std::string>& failedVpcs,
                        const std::map<std::string, std::pair<std::string, std::string>>& planFailed,
                        std::vector<StatusWrite>& writes) {
  auto it = state_.endpoints().find(id);
  if (it == state_.endpoints().end()) {
    endpointRetry_.erase(id);
    purgeAt_.erase(id);
    return;
  }
  const auto& e = it->second.value;
  const std::string vpc = e.vpcId.str();
  auto wall = clock_.now();
  model::VpcEndpoint next = e;
  if (e.state == es::kPending || e.state == es::kAvailable) {
    auto pf = planFailed.find(id);
    std::string why;
    if (pf == planFailed.end()) {
      // The VPC's own failure first: without its namespace the listeners fail too,
      // and "no network namespace" would hide the reason (a descriptor limit, say).
      // A VPC waiting for its own retry counts as failed too: its interfaces are
      // not in place because of it, and its error says why (CI, stop 25: an
      // endpoint retried between two VPC retries failed as an InternalError).
      if (failedVpcs.count(vpc) || !vpcsOnHost_.count(vpc) || vpcRetry_.count(vpc)) {
        auto vr = vpcRetry_.find(vpc);
        why = "vpc " + vpc + ": " + (vr == vpcRetry_.end() ? std::string("not provisioned") : vr->second.lastError);
      } else if (auto le = listenerErrors_.find(id); le != listenerErrors_.end()) {
        why = "listener: " + le->second;
      } else {
        const auto& ready = readyIn_[vpc];
        for (const auto& i : e.networkInterfaceIds) {
          if (!ready.count(i.str())) why = "network interface " + i.str() + " is not in place";
        }
      }
    }
    if (e.state == es::kPending) {
      if (pf != planFailed.end()) {
        next.state = std::string(es::kFailed);
        next.lastErrorCode = pf->second.first;
        next.lastErrorMessage = pf->second.second;
      } else if (why.empty()) {
        next.state = std::string(es::kAvailable);
      } else if (endpointRetry_[id].attempts + 1 >= opts_.attemptsBeforeFailed) {
        LP_LOG_WARN("reconciler: endpoint {} failed: {}", id, why);
        next.state = std::string(es::kFailed);
        next.lastErrorCode = lastErrorCode(why);
        next.lastErrorMessage = "The endpoint could not be provisioned on this host: " + why;
      } else {
        scheduleRetry(endpointRetry_, id, why);
      }
    } else if (!why.empty()) {
      // An endpoint in service stays available and keeps being retried.
      LP_LOG_WARN("reconciler: endpoint {} is not fully in place: {}", id, why);
      scheduleRetry(endpointRetry_, id, why);
    } else {
      endpointRetry_.erase(id);
    }
  } else if (e.state == es::kDeleting) {
    // Its listeners went in this pass; its interfaces' addresses with its VPC's.
    if (failedVpcs.count(vpc)) {
      scheduleRetry(endpointRetry_, id, "vpc " + vpc + " not converged");
    } else {
      next.state = std::string(es::kDeleted);
    }
  } else if (e.state == es::kDeleted) {
    auto changed = parseIso8601(e.stateChangedAt);
    auto at = changed ? *changed + kDeletedRetention : wall;
    if (at <= wall) {
      writes.push_back({id, it->second.revision, std::nullopt});
      return;
    }
    purgeAt_[id] = at;
  }
  if (next.state != e.state) {
    endpointRetry_.erase(id);
    // The change joins the endpoint's lifecycle timeline in the same conditional write.
    std::string state = next.state;
    next.changeState(state, iso8601Millis(wall), model::kReconcilerCause, "",
                     state == es::kFailed ? next.lastErrorMessage : std::string());
    writes.push_back({id, it->second.revision, std::move(next)});
  }
}

void Reconciler::writeStatus(std::vector<StatusWrite>& writes) {
  if (writes.empty()) return;
  std::vector<const StatusWrite*> done;
  uint64_t conflicts = 0;
  uint64_t rev = 0;
  Status st = store_.update([&](store::WriteTxn& t) -> Status {
    done.clear();
    conflicts = 0;
    for (const auto& w : writes) {
      auto o = t.get(model::VpcEndpoint::kKind, w.id);
      if (!o || o->revision != w.observed) {
        ++conflicts;  // changed since: that change decides, as it comes in
        continue;
      }
      if (w.next) {
        t.put(model::VpcEndpoint::kKind, w.id, nlohmann::json(*w.next).dump());
      } else {
        t.erase(model::VpcEndpoint::kKind, w.id);
      }
      done.push_back(&w);
    }
    rev = t.revision();
    return Status::Ok();
  });
  if (!st.ok()) {
    LP_LOG_WARN("reconciler: status write failed: {}", st.toString());
    for (const auto& w : writes) scheduleRetry(endpointRetry_, w.id, st.message());
    // What was taken as written ahead (available) is read back from the store.
    synced_ = false;
    return;
  }
  if (!done.empty()) own_.insert(rev);
  for (const auto* w : done) {
    if (w->next) {
      DirtyKeys d = state_.putEndpoint(*w->next, rev);
      // An available one was planned ahead from this very value: only its revision
      // is new. A failed or deleted one loses its listeners and names next pass.
      if (w->next->state != es::kAvailable) queue(d);
    } else {
      state_.eraseEndpoint(w->id);
      purgeAt_.erase(w->id);
    }
  }
  std::lock_guard l(statsMu_);
  stats_.statusWrites += done.empty() ? 0 : 1;
  stats_.statusConflicts += conflicts;
}

void Reconciler::writeTargetHealth() {
  if (!dataplane_) return;
  std::map<std::string, model::TargetHealthRecord> want;
  for (const auto& [key, h] : dataplane_->health()) {
    if (h.state == dataplane::Health::kHealthy) {
      want[key] = {"healthy", "", ""};
    } else if (h.state == dataplane::Health::kUnhealthy) {
      want[key] = {"unhealthy", h.reason, h.description};
    }
  }
  if (want == healthWritten_) return;
  uint64_t rev = 0;
  Status st = store_.update([&](store::WriteTxn& t) -> Status {
    for (const auto& [k, rec] : want) {
      auto was = healthWritten_.find(k);
      if (was == healthWritten_.end() || !(was->second == rec)) {
        t.put(model::TargetHealthRecord::kKind, k, nlohmann::json(rec).dump());
      }
    }
    for (const auto& [k, _] : healthWritten_) {
      if (!want.count(k)) t.erase(model::TargetHealthRecord::kKind, k);
    }
    rev = t.revision();
    return Status::Ok();
  });
  if (!st.ok()) {
    LP_LOG_WARN("reconciler: target health write failed: {}", st.toString());
    return;
  }
  own_.insert(rev);
  healthWritten_ = std::move(want);
}

void Reconciler::applyListeners(dataplane::SnapshotDelta delta) {
  auto from = clock_.steadyNow();
  auto result = delta.empty() ? dataplane::UpdateResult{} : dataplane_->apply(delta);
  charge(&ResyncClock::listeners, from);
  for (auto& [id, listeners] : delta.endpoints) {
    if (auto err = result.listenerErrors.find(id); err != result.listenerErrors.end()) {
      LP_LOG_WARN("reconciler: endpoint {}: {}", id, err->second);
      listenerErrors_[id] = err->second;
    } else {
      listenerErrors_.erase(id);
    }
    if (listeners.empty()) {
      listeners_.erase(id);
    } else {
      listeners_[id] = std::move(listeners);
    }
  }
}

bool Reconciler::reconcileOnce() {
  auto started = std::chrono::steady_clock::now();
  // Where a slow pass's time went, for its warning: (phase, when it ended).
  std::vector<std::pair<const char*, std::chrono::steady_clock::time_point>> phases;
  auto phase = [&](const char* name) { phases.emplace_back(name, std::chrono::steady_clock::now()); };
  ingest();
  promoteDue();

  // This pass's keys. An endpoint waits while its VPC is still queued: its
  // listeners need the VPC's addresses, and a deleted one's addresses must be gone
  // before it is reported deleted.
  //
  // VPCs with a load balancer first: every endpoint of their services forwards
  // through them (nodes, targets). After a restart of 1,000 VPCs taken in id
  // order, a provider's VPC late in that order held every endpoint back
  // (bench/scale: its targets up 76 s after the start, restart to forwarding 90 s).
  std::set<std::string> vpcs;
  if (dirtyVpcs_.size() > opts_.vpcsPerPass)
    for (const auto& [_, lb] : state_.loadBalancers()) {
      if (vpcs.size() >= opts_.vpcsPerPass) break;
      if (auto it = dirtyVpcs_.find(lb.value.vpcId.str()); it != dirtyVpcs_.end()) {
        vpcs.insert(*it);
        dirtyVpcs_.erase(it);
      }
    }
  for (auto& id : takeFront(dirtyVpcs_, opts_.vpcsPerPass - vpcs.size())) vpcs.insert(id);
  std::set<std::string> groups;
  groups.swap(dirtyGroups_);
  std::set<std::string> endpoints;
  for (auto it = dirtyEndpoints_.begin(); it != dirtyEndpoints_.end() && endpoints.size() < opts_.endpointsPerPass;) {
    const auto* e = DesiredState::find(state_.endpoints(), *it);
    if (e && dirtyVpcs_.count(e->vpcId.str())) {
      ++it;
      continue;
    }
    endpoints.insert(*it);
    it = dirtyEndpoints_.erase(it);
  }

  std::map<std::string, std::vector<dataplane::ListenerSpec>> planned;
  std::map<std::string, std::pair<std::string, std::string>> planFailed;
  for (const auto& id : endpoints) {
    if (dataplane_) {
      auto ep = planEndpointDataplane(state_, id);
      planned[id] = std::move(ep.listeners);
      if (ep.failed) planFailed[id] = *ep.failed;
    }
    if (names_) namesDirty_ |= nameTable_.setEndpoint(id, planEndpointNames(state_, id, opts_.region));
  }
  if (names_) {
    for (const auto& id : vpcs) {
      namesDirty_ |= nameTable_.setResolver(id, opts_.vpcResolvers ? planResolver(state_, id) : std::nullopt);
    }
  }
  // Names first: a removal (private DNS off, reject, delete) must not wait for the
  // host. Names only ever appear for endpoints already available.
  publishNames(false);
  phase("plan");

  // Data plane, first step: listeners that stay or go, so connections being cut
  // are reset while their addresses still exist (an RST needs its source address).
  if (dataplane_) {
    dataplane::SnapshotDelta cut;
    for (const auto& id : endpoints) {
      auto had = listeners_.find(id);
      if (had == listeners_.end()) continue;
      std::set<std::string> oldKeys;
      for (const auto& l : had->second) oldKeys.insert(dataplane::listenerKey(l));
      std::vector<dataplane::ListenerSpec> keep;
      for (const auto& l : planned[id]) {
        if (oldKeys.count(dataplane::listenerKey(l))) keep.push_back(l);
      }
      if (keep != had->second) cut.endpoints[id] = std::move(keep);
    }
    if (!cut.empty()) (void)dataplane_->apply(cut);
  }

  phase("cut");
  std::set<std::string> failedVpcs;
  auto hostFrom = clock_.steadyNow();
  applyVpcs(vpcs, failedVpcs);
  charge(&ResyncClock::host, hostFrom);
  phase("host");

  // Data plane, second step: every listener and health check of this pass's keys.
  if (dataplane_) {
    dataplane::SnapshotDelta delta;
    for (const auto& id : endpoints) delta.endpoints[id] = std::move(planned[id]);
    for (const auto& tg : groups) delta.healthChecks[tg] = planHealthChecks(state_, tg);
    applyListeners(std::move(delta));
  }
  phase("listeners");

  std::vector<StatusWrite> writes;
  for (const auto& id : endpoints) decide(id, failedVpcs, planFailed, writes);
  // An endpoint about to be available forwards and has its names before anyone can
  // read "available": a client that sees the state may connect at once.
  std::vector<std::string> ahead;
  for (const auto& w : writes) {
    if (w.next && w.next->state == es::kAvailable) {
      state_.overrideEndpoint(*w.next);
      ahead.push_back(w.id);
    }
  }
  if (!ahead.empty()) {
    dataplane::SnapshotDelta delta;
    for (const auto& id : ahead) {
      if (dataplane_) delta.endpoints[id] = planEndpointDataplane(state_, id).listeners;
      if (names_) namesDirty_ |= nameTable_.setEndpoint(id, planEndpointNames(state_, id, opts_.region));
    }
    if (dataplane_) applyListeners(std::move(delta));
    publishNames(false);
  }
  phase("available");
  auto statusFrom = clock_.steadyNow();
  writeStatus(writes);
  charge(&ResyncClock::status, statusFrom);
  phase("status");

  auto now = clock_.steadyNow();
  if (now >= nextTick_ || !groups.empty()) {
    writeTargetHealth();
    if (dataplane_) dataplane_->tick();
    nextTick_ = now + opts_.tick;
  }
  phase("tick");

  // The kernel fast path's links, in slices between passes: an endpoint is
  // available once the forwarder listens, and a write by anyone else (newer than
  // this pass's own) goes first: drain() makes no chunk while one waits (unless
  // links have waited a second) and stops after the chunk under way when one comes.
  const uint64_t seen = std::max(applied_, own_.empty() ? 0 : *own_.rbegin());
  bool backlog = dataplane_ && dataplane_->drain([&] { return store_.revision() > seen; });
  phase("drain");
  bool more = !dirtyVpcs_.empty() || !dirtyEndpoints_.empty() || !dirtyGroups_.empty() || !writes.empty() || backlog;
  if (auto took = std::chrono::steady_clock::now() - started; took > std::chrono::seconds(1)) {
    std::string where;
    auto from = started;
    for (const auto& [name, at] : phases) {
      where += fmt::format("{}{} {}", where.empty() ? "" : ", ", name,
                           std::chrono::duration_cast<std::chrono::milliseconds>(at - from).count());
      from = at;
    }
    LP_LOG_WARN("reconciler: pass took {} ms: {} vpcs, {} endpoints, {} target groups, {} status writes ({} ms)",
                std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), vpcs.size(), endpoints.size(),
                groups.size(), writes.size(), where);
  }
  std::lock_guard l(statsMu_);
  if (resync_ && !more) {
    using std::chrono::duration_cast, std::chrono::milliseconds;
    stats_.resyncTook = duration_cast<milliseconds>(clock_.steadyNow() - resync_->began);
    stats_.resyncHost = duration_cast<milliseconds>(resync_->host);
    stats_.resyncListeners = duration_cast<milliseconds>(resync_->listeners);
    stats_.resyncNames = duration_cast<milliseconds>(resync_->names);
    stats_.resyncStatus = duration_cast<milliseconds>(resync_->status);
    LP_LOG_INFO(
        "reconciler: converged {} vpcs and {} endpoints in {} ms (host network {} ms, listeners {} ms, "
        "names {} ms, status writes {} ms)",
        state_.vpcs().size(), state_.endpoints().size(), stats_.resyncTook.count(), stats_.resyncHost.count(),
        stats_.resyncListeners.count(), stats_.resyncNames.count(), stats_.resyncStatus.count());
    resync_.reset();
  }
  stats_.passes++;
  stats_.endpointsPlanned += endpoints.size();
  queuedCount_ =
      dirtyVpcs_.size() + dirtyEndpoints_.size() + dirtyGroups_.size() + vpcRetry_.size() + endpointRetry_.size();
  return more;
}

void Reconciler::reconcileUntilIdle(int maxPasses) {
  for (int i = 0; i < maxPasses && reconcileOnce(); ++i) {
  }
}

ReconcilerStats Reconciler::stats() const {
  std::lock_guard l(statsMu_);
  return stats_;
}

size_t Reconciler::queued() const {
  std::lock_guard l(statsMu_);
  return queuedCount_;
}

}  // namespace lp::reconciler
