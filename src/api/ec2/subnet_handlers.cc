// EC2 subnets and availability zones.
#include "api/handlers.h"

namespace lp::api {

void registerEc2SubnetHandlers(Router& r, control::ControlContext& ctx) {}

}  // namespace lp::api
