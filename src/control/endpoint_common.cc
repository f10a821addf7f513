#include "control/endpoint_common.h"

#include <algorithm>

namespace lp::control::endpoint_internal {

Status checkIpv4Only(std::string_view param, const std::string& value) {
  if (value.empty() || value == "ipv4") return Status::Ok();
  if (value == "dualstack" || value == "ipv6" || value == "service-defined")
    return err::make(err::kInvalidParameter, "{} '{}' is not supported: endpoints here are IPv4 only.", param, value);
  return err::badValue(std::string(param), value);
}

Status checkServiceIdFormat(const std::string& id) {
  if (!model::isWellFormed<model::ServiceId>(id))
    return err::make(err::kServiceIdMalformed, "Invalid Id: '{}' (expecting 'vpce-svc-...')", id);
  return Status::Ok();
}

Result<ServiceConfiguration> findOwnedService(const View& v, const CallContext& call, const std::string& id) {
  if (id.empty()) return err::missing("ServiceId");
  LP_RETURN_IF_ERROR(checkServiceIdFormat(id));
  auto s = v.get<ServiceConfiguration>(id);
  if (!s || s->ownerId != call.account)
    return err::make(err::kServiceIdNotFound, "The VpcEndpointService Id '{}' does not exist", id);
  return std::move(*s);
}

void setState(ControlContext& ctx, VpcEndpoint& e, std::string_view state, std::string_view action,
              const CallContext& call) {
  e.changeState(state, nowIso(ctx), action, call.account);
}

std::vector<std::string> zoneNamesFor(const ControlContext& ctx, const std::string& account, const Strings& zoneIds) {
  Strings names;
  for (const auto& z : zoneIds) names.push_back(ctx.zoneName(account, z));
  std::sort(names.begin(), names.end());
  return names;
}

UnsuccessfulItem failure(const std::string& id, std::string_view code, std::string message) {
  return UnsuccessfulItem{id, std::string(code), std::move(message)};
}

}  // namespace lp::control::endpoint_internal
