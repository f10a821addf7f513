// EC2 network interfaces.
#include "api/handlers.h"

namespace lp::api {

void registerEc2NetworkInterfaceHandlers(Router& r, control::ControlContext& ctx) {}

}  // namespace lp::api
