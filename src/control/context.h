// What every control-plane operation needs: the store, time, randomness, the region
// and its accounts, and limits. Owned by the daemon; outlives every service.
//
// Thread-safety: store, clock and random are thread-safe. The settings a reload
// (SIGHUP) may change (accounts and their keys, service backends, limits) are an
// immutable snapshot: a request takes a reference to it once and reads that one
// version to its end, while a reload publishes the next one. A reader holds its own
// reference, so a snapshot is freed only after its last reader is done; readers and
// the writer never share a mutable object. The pointer itself is copied under a mutex
// held for the copy only, not std::atomic<std::shared_ptr>: libstdc++ 12's load()
// releases its lock bit with a relaxed store, which TSan reports as a race with the
// next store() (and which weakly ordered CPUs may reorder), and under contention it
// measured 3x slower than the mutex (docs/install.md, "Reload").
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/random.h"
#include "common/time.h"
#include "model/region.h"
#include "store/store.h"

namespace lp::control {

struct Limits {
  int vpcsPerAccount = 50;
  int subnetsPerVpc = 200;
  int securityGroupsPerVpc = 500;
  int rulesPerSecurityGroup = 120;
  int networkInterfacesPerAccount = 5000;
  int interfaceEndpointsPerVpc = 50;
  int loadBalancersPerAccount = 50;
  int targetGroupsPerAccount = 500;
  int targetsPerTargetGroup = 1000;
  int listenersPerLoadBalancer = 50;
  int routeTablesPerVpc = 200;
  int networkAclsPerVpc = 200;
  int networkAclEntriesPerDirection = 20;  // per ACL, inbound and outbound each, as AWS's default
  int securityGroupsPerInterface = 5;
  int instancesPerAccount = 100;  // not terminated (AWS's default vCPU quota allows about this many small ones)
  int cidrBlocksPerVpc = 5;       // IPv4, the primary included
};

// What a reload may replace while requests run. A new limit is a field of Limits
// (one line there, plus its config key); nothing here changes.
struct Settings {
  // Accounts and service backends change on reload; the name and zone ids do not
  // (they need a restart: replaceSettings keeps the running ones).
  model::RegionConfig region;
  Limits limits;
};

class ControlContext {
 public:
  ControlContext(store::Store& store, const Clock& clock, Random& random, model::RegionConfig region, Limits limits);
  ControlContext(const ControlContext&) = delete;
  ControlContext& operator=(const ControlContext&) = delete;

  store::Store& store;
  const Clock& clock;
  Random& random;
  // [dataplane] idle_timeout_seconds, what listeners report as
  // tcp.idle_timeout.seconds. Set by the daemon before it serves; fixed for the
  // process's life (a change needs a restart), so read without a lock.
  int dataplaneIdleTimeoutSeconds = 350;

  // The settings now: take it once per request and read that snapshot to the end
  // of the request (an account found in it stays valid while it is held).
  std::shared_ptr<const Settings> settings() const;
  // limits(): a copy of the limits from one snapshot; read once per operation.
  // replaceSettings(): publishes next for the requests that start from now on (the
  // running ones keep theirs); the region's name and zone ids stay as they are.
  Limits limits() const { return settings()->limits; }
  // replaceSettings(): one writer at a time (the daemon's main thread).
  void replaceSettings(Settings next);
  // The region's name and its zones as each account names them: fixed for the life
  // of the context (model::RegionConfig's functions), no snapshot needed.
  const std::string& regionName() const { return zones_.name; }
  const std::vector<std::string>& zoneIds() const { return zones_.zoneIds; }
  bool hasZoneId(std::string_view zoneId) const { return zones_.hasZoneId(zoneId); }
  std::string zoneName(std::string_view account, std::string_view zoneId) const {
    return zones_.zoneName(account, zoneId);
  }
  std::optional<std::string> zoneIdForName(std::string_view account, std::string_view zoneName) const {
    return zones_.zoneIdForName(account, zoneName);
  }
  std::vector<std::string> zoneIdsInNameOrder(std::string_view account) const {
    return zones_.zoneIdsInNameOrder(account);
  }

 private:
  const model::RegionConfig zones_;  // name and zone ids only: no accounts, no backends
  mutable std::mutex mu_;                   // guards the pointer's copy, not the settings
  std::shared_ptr<const Settings> settings_;  // never null; each immutable once published
};

// Who is calling, for one request.
struct CallContext {
  model::AccountId account;
  std::string requestId;
  bool dryRun = false;
};

}  // namespace lp::control
