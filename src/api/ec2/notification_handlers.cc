// EC2 VPC endpoint connection notifications.
#include "api/handlers.h"

namespace lp::api {

void registerEc2NotificationHandlers(Router& r, control::ControlContext& ctx) {}

}  // namespace lp::api
