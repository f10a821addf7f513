// Settings Terraform's aws_instance changes in place: the instance metadata
// options (ModifyInstanceMetadataOptions) and detailed monitoring
// (Monitor/UnmonitorInstances). Both are recorded and described; no metadata
// service and no CloudWatch instance metrics exist here (docs/instances.md).
#include "control/instance_service.h"

namespace lp::control {

using model::Instance;
using model::InstanceState;

namespace {

Status checkEnum(std::string_view param, const std::string& value, std::string_view a, std::string_view b) {
  if (value.empty() || value == a || value == b) return Status::Ok();
  return err::make(err::kInvalidParameterValue, "Value ({}) for parameter {} is invalid. Valid values: {}, {}.", value,
                   param, a, b);
}

// Shutting-down and terminated instances take no new settings, as on AWS.
Status needLive(const Instance& i) {
  auto s = i.stateValue();
  if (s == InstanceState::kShuttingDown || s == InstanceState::kTerminated)
    return err::make(err::kIncorrectInstanceState, "The instance '{}' is not in a state from which it can be modified.",
                     i.id.str());
  return Status::Ok();
}

}  // namespace

Status applyMetadataOptions(Instance& i, const MetadataOptionsChange& c) {
  LP_RETURN_IF_ERROR(checkEnum("HttpTokens", c.httpTokens, "optional", "required"));
  LP_RETURN_IF_ERROR(checkEnum("HttpEndpoint", c.httpEndpoint, "enabled", "disabled"));
  LP_RETURN_IF_ERROR(checkEnum("HttpProtocolIpv6", c.httpProtocolIpv6, "enabled", "disabled"));
  LP_RETURN_IF_ERROR(checkEnum("InstanceMetadataTags", c.instanceMetadataTags, "enabled", "disabled"));
  if (c.hopLimit && (*c.hopLimit < 1 || *c.hopLimit > 64))
    return err::make(err::kInvalidParameterValue,
                     "Value ({}) for parameter HttpPutResponseHopLimit is invalid. The hop limit must be from 1 to 64.",
                     *c.hopLimit);
  if (!c.httpTokens.empty()) i.metadataHttpTokens = c.httpTokens;
  if (!c.httpEndpoint.empty()) i.metadataHttpEndpoint = c.httpEndpoint;
  if (!c.httpProtocolIpv6.empty()) i.metadataHttpProtocolIpv6 = c.httpProtocolIpv6;
  if (!c.instanceMetadataTags.empty()) i.metadataTags = c.instanceMetadataTags;
  if (c.hopLimit) i.metadataHopLimit = static_cast<int>(*c.hopLimit);
  return Status::Ok();
}

Result<Instance> InstanceService::modifyInstanceMetadataOptions(const CallContext& call, const std::string& id,
                                                                const MetadataOptionsChange& change) {
  if (id.empty()) return err::missing("InstanceId");
  LP_RETURN_IF_ERROR(checkInstanceIds({id}));
  {
    Instance probe;  // values first: AWS refuses a bad value whatever the instance
    LP_RETURN_IF_ERROR(applyMetadataOptions(probe, change));
  }
  Instance out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(
        Instance i, findOwned<Instance>(t, call, id, err::kInstanceMalformed, err::kInstanceNotFound, "instance ID"));
    LP_RETURN_IF_ERROR(needLive(i));
    LP_RETURN_IF_ERROR(applyMetadataOptions(i, change));
    if (call.dryRun) return err::dryRun();
    t.put(i);
    out = std::move(i);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<MonitoringChange>> InstanceService::setMonitoring(const CallContext& call,
                                                                     const std::vector<std::string>& ids,
                                                                     bool enabled) {
  if (ids.empty()) return err::missing("InstanceId");
  LP_RETURN_IF_ERROR(checkInstanceIds(ids));
  std::vector<MonitoringChange> out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    std::vector<Instance> found;
    for (const auto& id : ids) {
      LP_ASSIGN_OR_RETURN(Instance i, findOwned<Instance>(t, call, id, err::kInstanceMalformed,
                                                          err::kInstanceNotFound, "instance ID"));
      LP_RETURN_IF_ERROR(needLive(i));
      found.push_back(std::move(i));
    }
    if (call.dryRun) return err::dryRun();
    for (auto& i : found) {
      i.monitoringEnabled = enabled;
      t.put(i);
      out.push_back({i.id.str(), enabled ? "pending" : "disabling"});
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace lp::control
