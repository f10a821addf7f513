// The names of endpoint services and endpoints: stable hex ids made from names,
// the base DNS name of a service and the DNS entries an endpoint publishes
// (regional, zonal, private) with their Route 53 zones. Shared by the
// endpoint_*.cc files of EndpointService; not for use elsewhere.
// Pure functions (randomDnsLabel draws from the Random it is given); any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "control/context.h"
#include "model/endpoint.h"
#include "model/resources.h"

namespace lp::control::endpoint_internal {

// 17 hex digits derived from a name: stable ids for things made from config.
std::string stableHex17(std::string_view s);

std::string baseEndpointDnsName(const ControlContext& ctx, const model::ServiceConfiguration& s);

std::string randomDnsLabel(Random& r);

std::vector<model::DnsEntry> computeDnsEntries(const ControlContext& ctx, const model::VpcEndpoint& e,
                                               const model::ServiceConfiguration& s,
                                               const std::vector<model::Subnet>& subnets);

}  // namespace lp::control::endpoint_internal
