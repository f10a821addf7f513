#pragma once
// Whether a user's route carries traffic, the one rule that both DescribeRouteTables
// (control/route_service.cc, "active" or "blackhole") and the route plan
// (reconciler/route_plan.cc, a route via the target or a blackhole route) follow.

#include "model/instance.h"
#include "model/network.h"
#include "model/resources.h"

namespace lp::model {

// n: the route's network interface (nullptr when it is gone); i: the route's instance
// (nullptr when the route names none, or it is gone). Only a workload's interface
// ("interface") has a namespace to forward in: a route to an endpoint's or a load
// balancer's interface is a blackhole, as is one to a deleted interface or to an
// instance that is not pending or running.
inline bool routeCarriesTraffic(const Route& r, const NetworkInterface* n, const Instance* i) {
  if (r.isLocal()) return true;
  if (!n || n->interfaceType != "interface") return false;
  return r.instanceId.empty() || (i && canTakeTraffic(i->stateValue()));
}

}  // namespace lp::model
