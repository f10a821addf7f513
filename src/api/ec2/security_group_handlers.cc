// EC2 security groups and their rules.
#include "api/handlers.h"

namespace lp::api {

void registerEc2SecurityGroupHandlers(Router& r, control::ControlContext& ctx) {}

}  // namespace lp::api
