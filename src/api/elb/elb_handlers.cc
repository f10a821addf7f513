// ELBv2 (network load balancers, target groups, listeners).
#include "api/handlers.h"

namespace lp::api {

void registerElbHandlers(Router& r, control::ControlContext& ctx) {}

}  // namespace lp::api
