// EC2 endpoint services, interface endpoints, permissions and connections.
#include "api/handlers.h"

namespace lp::api {

void registerEc2EndpointHandlers(Router& r, control::ControlContext& ctx) {}

}  // namespace lp::api
