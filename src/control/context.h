// What every control-plane operation needs: the store, time, randomness, the region
// and its accounts, and limits. Owned by the daemon; outlives every service.
// Thread-safety: immutable after construction except through Store (thread-safe).
#pragma once

#include <string>

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

struct ControlContext {
  store::Store& store;
  const Clock& clock;
  Random& random;
  const model::RegionConfig& region;
  Limits limits;
};

// Who is calling, for one request.
struct CallContext {
  model::AccountId account;
  std::string requestId;
  bool dryRun = false;
};

}  // namespace lp::control
