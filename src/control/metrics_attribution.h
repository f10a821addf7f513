// Who the traffic of an endpoint (network interface) belongs to: the dimension
// values and the two accounts (endpoint owner, service owner) its CloudWatch
// figures are published to. Read from the store; any thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "control/context.h"
#include "metrics/series_store.h"
#include "metrics/usage.h"

namespace lp::control {

// The interfaces of interfaceIds that are endpoint interfaces still in the store,
// with their attribution. Unknown ids are left out. One store read.
std::map<std::string, metrics::InterfaceInfo> endpointInterfaceInfos(const ControlContext& ctx,
                                                                     const std::vector<std::string>& interfaceIds);

// The endpoints that are `available` now, with their interface counts (what
// endpoint-zone hours are billed on). One store read.
std::vector<metrics::AvailableEndpoint> availableEndpoints(const ControlContext& ctx);

// The interfaces of the endpoints that are `available` now, with their
// attribution (EndpointsCount: the endpoints connected to each service). One store read.
std::vector<metrics::InterfaceInfo> availableEndpointInterfaces(const ControlContext& ctx);

// The VPC of an endpoint (aws:SourceVpc of a request that came through it); ""
// when the endpoint is unknown.
std::string vpcOfEndpoint(const ControlContext& ctx, const std::string& vpceId);

}  // namespace lp::control
