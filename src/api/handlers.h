// Registration of every operation the API serves, one function per area. Each
// lives in its own file so areas grow independently.
#pragma once

#include "api/api_service.h"

namespace lp::api {

void registerStsHandlers(Router& r, control::ControlContext& ctx);
void registerEc2VpcHandlers(Router& r, control::ControlContext& ctx);
// Subnets and DescribeAvailabilityZones.
void registerEc2SubnetHandlers(Router& r, control::ControlContext& ctx);
void registerEc2SecurityGroupHandlers(Router& r, control::ControlContext& ctx);
void registerEc2NetworkInterfaceHandlers(Router& r, control::ControlContext& ctx);
// Instances, images; instance types, volumes, instance attributes, reboot.
void registerEc2InstanceHandlers(Router& r, control::ControlContext& ctx);
void registerEc2InstanceDetailHandlers(Router& r, control::ControlContext& ctx);
// Metadata options, monitoring, ModifyVolume.
void registerEc2InstanceSettingsHandlers(Router& r, control::ControlContext& ctx);
void registerEc2TagHandlers(Router& r, control::ControlContext& ctx);
// Endpoint services, endpoints, permissions, connections.
void registerEc2EndpointHandlers(Router& r, control::ControlContext& ctx);
void registerEc2NotificationHandlers(Router& r, control::ControlContext& ctx);
// Route tables and network ACLs.
void registerEc2VpcNetworkHandlers(Router& r, control::ControlContext& ctx);
// Regions, account attributes, prefix lists.
void registerEc2AccountHandlers(Router& r, control::ControlContext& ctx);
void registerElbHandlers(Router& r, control::ControlContext& ctx);
void registerSnsHandlers(Router& r, control::ControlContext& ctx);
// CloudWatch: the PrivateLink metrics.
void registerCloudWatchHandlers(Router& r, const metrics::SeriesStore* metrics);

inline void registerAllHandlers(Router& r, control::ControlContext& ctx, const metrics::SeriesStore* metrics) {
  registerStsHandlers(r, ctx);
  registerEc2VpcHandlers(r, ctx);
  registerEc2SubnetHandlers(r, ctx);
  registerEc2SecurityGroupHandlers(r, ctx);
  registerEc2NetworkInterfaceHandlers(r, ctx);
  registerEc2InstanceHandlers(r, ctx);
  registerEc2InstanceDetailHandlers(r, ctx);
  registerEc2InstanceSettingsHandlers(r, ctx);
  registerEc2TagHandlers(r, ctx);
  registerEc2EndpointHandlers(r, ctx);
  registerEc2NotificationHandlers(r, ctx);
  registerEc2VpcNetworkHandlers(r, ctx);
  registerEc2AccountHandlers(r, ctx);
  registerElbHandlers(r, ctx);
  registerSnsHandlers(r, ctx);
  registerCloudWatchHandlers(r, metrics);
}

}  // namespace lp::api
