// CreateRoute, ReplaceRoute and DeleteRoute on route tables: what Terraform's
// aws_route and aws_route_table's inline routes make. A route's target is a network
// interface or an instance (its primary interface) of the route table's VPC; the
// gateways of other kinds do not exist here and are answered as AWS answers an id
// that does not exist. The reconciler installs them in the VPC's namespace
// (reconciler/route_plan.h, docs/vpc-routes.md).
#include <algorithm>
#include <functional>

#include "control/vpc_network_service.h"
#include "model/cidr.h"
#include "model/instance.h"
#include "model/route_state.h"

namespace lp::control {

using model::Instance;
using model::NetworkInterface;
using model::Route;
using model::RouteTable;

namespace {

// AWS's default quota of routes per route table (not adjustable here).
constexpr int kRoutesPerTable = 50;

struct NamedTarget {
  std::string_view param;
  const std::string* value;
};

std::vector<NamedTarget> givenTargets(const RouteInput& in) {
  std::vector<NamedTarget> all = {
      {"gatewayId", &in.gatewayId},
      {"natGatewayId", &in.natGatewayId},
      {"networkInterfaceId", &in.networkInterfaceId},
      {"instanceId", &in.instanceId},
      {"vpcPeeringConnectionId", &in.vpcPeeringConnectionId},
      {"transitGatewayId", &in.transitGatewayId},
      {"egressOnlyInternetGatewayId", &in.egressOnlyInternetGatewayId},
      {"localGatewayId", &in.localGatewayId},
      {"carrierGatewayId", &in.carrierGatewayId},
      {"vpcEndpointId", &in.vpcEndpointId},
      {"coreNetworkArn", &in.coreNetworkArn},
      {"odbNetworkArn", &in.odbNetworkArn},
  };
  std::erase_if(all, [](const NamedTarget& t) { return t.value->empty(); });
  return all;
}

// The route a request makes, its target checked against the caller's resources.
Result<Route> resolveTarget(const View& v, const CallContext& call, const RouteTable& rt, const RouteInput& in,
                            const std::string& destination) {
  Route r;
  r.destinationCidrBlock = destination;
  r.origin = "CreateRoute";
  r.gatewayId.clear();
  if (!in.instanceId.empty()) {
    LP_ASSIGN_OR_RETURN(Instance i, findOwned<Instance>(v, call, in.instanceId, err::kInstanceMalformed,
                                                        err::kInstanceNotFound, "instance ID"));
    if (i.stateValue() == model::InstanceState::kTerminated)
      return err::make(err::kInstanceNotFound, "The instance ID '{}' does not exist", in.instanceId);
    if (i.vpcId != rt.vpcId)
      return err::make(err::kInvalidParameterValue, "route table {} and instance {} belong to different networks",
                       rt.id.str(), in.instanceId);
    r.instanceId = i.id;
    r.instanceOwnerId = i.ownerId;
    r.networkInterfaceId = i.networkInterfaceId;
  } else {
    LP_ASSIGN_OR_RETURN(NetworkInterface n,
                        findOwned<NetworkInterface>(v, call, in.networkInterfaceId, err::kEniMalformed,
                                                    err::kEniNotFound, "network interface ID"));
    if (n.vpcId != rt.vpcId)
      return err::make(err::kInvalidParameterValue,
                       "route table {} and network interface {} belong to different networks", rt.id.str(),
                       in.networkInterfaceId);
    r.networkInterfaceId = n.id;
    // An instance's primary interface: AWS describes the instance too.
    if (!n.managedBy.empty() && model::isWellFormed<model::InstanceId>(n.managedBy)) {
      if (auto i = v.get<Instance>(n.managedBy)) {
        r.instanceId = i->id;
        r.instanceOwnerId = i->ownerId;
      }
    }
  }
  r.state = routeState(v, r);
  return r;
}

// The VPC CIDR blocks the table's local routes cover.
bool isLocalDestination(const RouteTable& rt, const std::string& destination) {
  return std::any_of(rt.routes.begin(), rt.routes.end(),
                     [&](const Route& r) { return r.isLocal() && r.destinationCidrBlock == destination; });
}

using RouteChange = std::function<Status(Txn&, RouteTable&, const std::string& destination)>;

}  // namespace

Result<std::string> routeDestination(const RouteInput& in) {
  int given =
      !in.destinationCidrBlock.empty() + !in.destinationIpv6CidrBlock.empty() + !in.destinationPrefixListId.empty();
  if (given == 0)
    return err::make(err::kMissingParameter,
                     "The request must contain the parameter destinationCidrBlock or destinationIpv6CidrBlock or "
                     "destinationPrefixListId");
  if (given > 1)
    return err::make(err::kInvalidParameterCombination,
                     "Only one of destinationCidrBlock, destinationIpv6CidrBlock or destinationPrefixListId may be "
                     "given");
  if (!in.destinationIpv6CidrBlock.empty())
    return err::make(err::kInvalidParameterValue,
                     "Value ({}) for parameter destinationIpv6CidrBlock is invalid. This VPC has no IPv6 CIDR block "
                     "(VPCs here are IPv4-only).",
                     in.destinationIpv6CidrBlock);
  if (!in.destinationPrefixListId.empty()) {
    if (!model::isWellFormedId("pl-", in.destinationPrefixListId))
      return err::make(err::kPrefixListMalformed, "Invalid id: \"{}\" (expecting \"pl-...\")",
                       in.destinationPrefixListId);
    return err::make(err::kPrefixListNotFound, "The prefix list ID '{}' does not exist", in.destinationPrefixListId);
  }
  auto c = model::Cidr::parse(in.destinationCidrBlock);
  if (!c)
    return err::make(err::kInvalidParameterValue,
                     "Value ({}) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.",
                     in.destinationCidrBlock);
  return c->toString();
}

Status checkRouteTarget(const RouteInput& in, bool replace) {
  auto targets = givenTargets(in);
  bool local = replace && in.localTarget.value_or(false);
  if (in.localTarget && !replace)
    return err::make(err::kUnknownParameter, "The parameter LocalTarget is not recognized");
  if (targets.empty() && !local)
    return err::make(err::kMissingParameter,
                     "The request must contain exactly one of gatewayId, natGatewayId, networkInterfaceId, "
                     "vpcPeeringConnectionId, instanceId, transitGatewayId, egressOnlyInternetGatewayId, "
                     "localGatewayId, carrierGatewayId, vpcEndpointId or coreNetworkArn");
  if (targets.size() + (local ? 1 : 0) > 1) {
    std::string names;
    for (const auto& t : targets) names += (names.empty() ? "" : ", ") + std::string(t.param);
    if (local) names += ", localTarget";
    return err::make(err::kInvalidParameterCombination, "More than one target given: {}. A route has one target.",
                     names);
  }
  if (local) return Status::Ok();
  const auto& t = targets.front();
  const std::string& id = *t.value;
  if (t.param == "networkInterfaceId" || t.param == "instanceId") return Status::Ok();
  if (t.param == "gatewayId") {
    if (id == "local")
      return err::make(err::kInvalidParameterValue,
                       "The local target is only for ReplaceRoute (LocalTarget) on a route within the VPC's CIDR.");
    return err::make(err::kGatewayNotFound, "The gateway ID '{}' does not exist", id);
  }
  if (t.param == "natGatewayId")
    return err::make(err::kNatGatewayNotFound, "The nat gateway ID '{}' does not exist", id);
  if (t.param == "vpcPeeringConnectionId")
    return err::make(err::kVpcPeeringConnectionNotFound, "The vpcPeeringConnection ID '{}' does not exist", id);
  if (t.param == "transitGatewayId")
    return err::make(err::kTransitGatewayNotFound, "Transit Gateway {} was deleted or does not exist.", id);
  if (t.param == "egressOnlyInternetGatewayId")
    return err::make(err::kEgressOnlyGatewayNotFound, "The egress only internet gateway ID '{}' does not exist", id);
  if (t.param == "localGatewayId")
    return err::make(err::kLocalGatewayNotFound, "The local gateway ID '{}' does not exist", id);
  if (t.param == "carrierGatewayId")
    return err::make(err::kCarrierGatewayNotFound, "The carrier gateway ID '{}' does not exist", id);
  if (t.param == "vpcEndpointId")
    // Only Gateway Load Balancer endpoints are route targets; this cloud has interface endpoints only.
    return err::make(err::kInvalidParameterValue,
                     "Route target {} is not a Gateway Load Balancer endpoint; only those can be route targets.", id);
  return err::make(err::kInvalidParameterValue,
                   "Value ({}) for parameter {} is invalid: there is no such network here.", id, t.param);
}

std::string routeState(const View& v, const Route& r) {
  if (r.isLocal()) return "active";
  auto n = v.get<NetworkInterface>(r.networkInterfaceId);
  auto i = r.instanceId.empty() ? std::nullopt : v.get<Instance>(r.instanceId);
  return model::routeCarriesTraffic(r, n ? &*n : nullptr, i ? &*i : nullptr) ? "active" : "blackhole";
}

namespace {

Status changeRoutes(ControlContext& ctx, const CallContext& call, const RouteInput& in, const RouteChange& change) {
  if (in.routeTableId.empty()) return err::missing("RouteTableId");
  if (!model::isWellFormed<model::RouteTableId>(in.routeTableId))
    return err::make(err::kRouteTableMalformed, "Invalid id: \"{}\"", in.routeTableId);
  LP_ASSIGN_OR_RETURN(std::string destination, routeDestination(in));
  return ctx.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    auto rt = t.get<RouteTable>(in.routeTableId);
    if (!rt || rt->ownerId != call.account)
      return err::make(err::kRouteTableNotFound, "The routeTable ID '{}' does not exist", in.routeTableId);
    LP_RETURN_IF_ERROR(change(t, *rt, destination));
    if (call.dryRun) return err::dryRun();
    t.put(*rt);
    return Status::Ok();
  });
}

}  // namespace

Status VpcNetworkService::createRoute(const CallContext& call, const RouteInput& in) {
  LP_RETURN_IF_ERROR(checkRouteTarget(in, /*replace=*/false));
  return changeRoutes(ctx_, call, in, [&](Txn& t, RouteTable& rt, const std::string& destination) -> Status {
    LP_ASSIGN_OR_RETURN(Route r, resolveTarget(t, call, rt, in, destination));
    if (std::any_of(rt.routes.begin(), rt.routes.end(),
                    [&](const Route& x) { return x.destinationCidrBlock == destination; }))
      return err::make(err::kRouteAlreadyExists, "The route identified by {} already exists.", destination);
    if (static_cast<int>(rt.routes.size()) >= kRoutesPerTable)
      return err::make(err::kRouteLimitExceeded, "The maximum number of routes has been reached.");
    rt.routes.push_back(std::move(r));
    return Status::Ok();
  });
}

Status VpcNetworkService::replaceRoute(const CallContext& call, const RouteInput& in) {
  LP_RETURN_IF_ERROR(checkRouteTarget(in, /*replace=*/true));
  return changeRoutes(ctx_, call, in, [&](Txn& t, RouteTable& rt, const std::string& destination) -> Status {
    auto it = std::find_if(rt.routes.begin(), rt.routes.end(),
                           [&](const Route& x) { return x.destinationCidrBlock == destination; });
    if (it == rt.routes.end())
      return err::make(err::kRouteNotFound,
                       "There is no route defined for '{}' in the route table. Use CreateRoute "
                       "instead.",
                       destination);
    if (it->isLocal()) {
      if (in.localTarget.value_or(false)) return Status::Ok();  // already local
      return err::make(err::kInvalidParameterValue, "cannot replace local route {} in route table {}", destination,
                       rt.id.str());
    }
    if (in.localTarget.value_or(false))
      // Only a route that once was the local one of a VPC block may go back to local.
      return err::make(err::kInvalidParameterValue,
                       "Route {} is not within a CIDR block of the VPC; it cannot target local.", destination);
    LP_ASSIGN_OR_RETURN(Route r, resolveTarget(t, call, rt, in, destination));
    *it = std::move(r);
    return Status::Ok();
  });
}

Status VpcNetworkService::deleteRoute(const CallContext& call, const RouteInput& in) {
  return changeRoutes(ctx_, call, in, [&](Txn&, RouteTable& rt, const std::string& destination) -> Status {
    auto it = std::find_if(rt.routes.begin(), rt.routes.end(),
                           [&](const Route& x) { return x.destinationCidrBlock == destination; });
    if (it == rt.routes.end())
      return err::make(err::kRouteNotFound, "no route with destination-cidr-block {} in route table {}", destination,
                       rt.id.str());
    if (it->isLocal() || isLocalDestination(rt, destination))
      return err::make(err::kInvalidParameterValue, "cannot remove local route {} in route table {}", destination,
                       rt.id.str());
    rt.routes.erase(it);
    return Status::Ok();
  });
}

}  // namespace lp::control
