// Helpers the endpoint_*.cc files of EndpointService share: parameter checks,
// the caller's endpoint service by id, an endpoint's state change made by an
// API call, one failed item of a batch, zone names. Not for use elsewhere.
// Pure over their arguments (a View or Txn the caller holds); any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "control/common.h"
#include "control/endpoint_service.h"

namespace lp::control::endpoint_internal {

using model::ServiceConfiguration;
using model::VpcEndpoint;
namespace es = model::endpoint_state;

using Strings = std::vector<std::string>;

Status checkIpv4Only(std::string_view param, const std::string& value);

Status checkServiceIdFormat(const std::string& id);

Result<model::ServiceConfiguration> findOwnedService(const View& v, const CallContext& call, const std::string& id);

// A change made by an API call: the lifecycle timeline names the action and the
// calling account.
void setState(ControlContext& ctx, model::VpcEndpoint& e, std::string_view state, std::string_view action,
              const CallContext& call);

std::vector<std::string> zoneNamesFor(const ControlContext& ctx, const std::string& account, const Strings& zoneIds);

// Common shape of the batch operations: per-id outcomes inside one transaction.
UnsuccessfulItem failure(const std::string& id, std::string_view code, std::string message);

}  // namespace lp::control::endpoint_internal
