#include "reconciler/reconciler.h"

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "model/endpoint.h"

namespace lp::reconciler {

namespace es = model::endpoint_state;

ProvisionReport ControlOnlyProvisioner::apply(const store::ReadView& view) {
  ProvisionReport r;
  view.forEach(model::VpcEndpoint::kKind, [&](const store::Object& o) {
    r.endpointsReady[o.id] = true;
    return true;
  });
  return r;
}

Reconciler::Reconciler(store::Store& store, HostProvisioner& provisioner, const Clock& clock)
    : store_(store), provisioner_(provisioner), clock_(clock) {}

Reconciler::~Reconciler() { stop(); }

void Reconciler::start() {
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Reconciler::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void Reconciler::run() {
  uint64_t seen = 0;
  while (!stopping_) {
    seen = store_.revision();
    reconcileOnce();
    // Wake on the next change, or after a while anyway (health, purges, retries).
    store_.waitForRevision(seen, std::chrono::milliseconds(200));
  }
}

void Reconciler::reconcileOnce() {
  ProvisionReport report;
  store_.read([&](const store::ReadView& v) { report = provisioner_.apply(v); });
  if (Status st = writeStatus(report); !st.ok()) LP_LOG_WARN("reconciler: status write failed: {}", st.toString());
  if (Status st = writeTargetHealth(report); !st.ok()) {
    LP_LOG_WARN("reconciler: target health write failed: {}", st.toString());
  }
}

Status Reconciler::writeTargetHealth(const ProvisionReport& report) {
  if (!report.reportsTargetHealth) return Status::Ok();
  using model::TargetHealthRecord;
  // Rows to put (new or changed) and to erase (targets back to initial or gone).
  std::map<std::string, TargetHealthRecord> put;
  std::vector<std::string> erase;
  store_.read([&](const store::ReadView& v) {
    std::map<std::string, TargetHealthRecord> have;
    v.forEach(TargetHealthRecord::kKind, [&](const store::Object& o) {
      auto j = nlohmann::json::parse(o.body, nullptr, false);
      if (!j.is_discarded()) have[o.id] = j.get<TargetHealthRecord>();
      return true;
    });
    for (const auto& [k, rec] : report.targetHealth) {
      auto it = have.find(k);
      if (it == have.end() || !(it->second == rec)) put[k] = rec;
    }
    for (const auto& [k, _] : have) {
      if (!report.targetHealth.count(k)) erase.push_back(k);
    }
  });
  if (put.empty() && erase.empty()) return Status::Ok();
  return store_.update([&](store::WriteTxn& t) -> Status {
    for (const auto& [k, rec] : put) t.put(TargetHealthRecord::kKind, k, nlohmann::json(rec).dump());
    for (const auto& k : erase) t.erase(TargetHealthRecord::kKind, k);
    return Status::Ok();
  });
}

Status Reconciler::writeStatus(const ProvisionReport& report) {
  // Decide first under a read, write only when something changes (no empty revisions).
  bool needed = false;
  auto now = clock_.now();
  auto decide = [&](const model::VpcEndpoint& e, model::VpcEndpoint& out) -> bool {
    out = e;
    if (e.state == es::kPending) {
      if (auto f = report.endpointsFailed.find(e.id.str()); f != report.endpointsFailed.end()) {
        out.state = es::kFailed;
        out.lastErrorCode = f->second.first;
        out.lastErrorMessage = f->second.second;
      } else if (auto r = report.endpointsReady.find(e.id.str()); r != report.endpointsReady.end() && r->second) {
        out.state = es::kAvailable;
      }
    } else if (e.state == es::kDeleting) {
      // The provisioner provisions only live endpoints, so once a pass has run
      // after the delete, nothing of this one is left on the host.
      out.state = es::kDeleted;
    }
    if (out.state != e.state) out.stateChangedAt = iso8601Millis(now);
    return out.state != e.state;
  };
  auto purge = [&](const model::VpcEndpoint& e) {
    if (e.state != es::kDeleted) return false;
    auto changed = parseIso8601(e.stateChangedAt);
    return changed && now - *changed > kDeletedRetention;
  };
  store_.read([&](const store::ReadView& v) {
    v.forEach(model::VpcEndpoint::kKind, [&](const store::Object& o) {
      auto j = nlohmann::json::parse(o.body, nullptr, false);
      if (j.is_discarded()) return true;
      auto e = j.get<model::VpcEndpoint>();
      model::VpcEndpoint next;
      needed = decide(e, next) || purge(e);
      return !needed;
    });
  });
  if (!needed) return Status::Ok();
  return store_.update([&](store::WriteTxn& t) -> Status {
    t.forEach(model::VpcEndpoint::kKind, [&](const store::Object& o) {
      auto j = nlohmann::json::parse(o.body, nullptr, false);
      if (j.is_discarded()) return true;
      auto e = j.get<model::VpcEndpoint>();
      model::VpcEndpoint next;
      if (purge(e)) {
        t.erase(model::VpcEndpoint::kKind, o.id);
      } else if (decide(e, next)) {
        t.put(model::VpcEndpoint::kKind, o.id, nlohmann::json(next).dump());
      }
      return true;
    });
    return Status::Ok();
  });
}

}  // namespace lp::reconciler
