// Registration of every operation the API serves, one function per area. Each
// lives in its own file so areas grow independently.
#pragma once

#include "api/api_service.h"

namespace lp::api {

void registerStsHandlers(Router& r, control::ControlContext& ctx);
void registerEc2VpcHandlers(Router& r, control::ControlContext& ctx);

}  // namespace lp::api
