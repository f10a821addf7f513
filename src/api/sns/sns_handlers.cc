// SNS topics, subscriptions and Publish.
#include "api/handlers.h"

namespace lp::api {

void registerSnsHandlers(Router& r, control::ControlContext& ctx) {}

}  // namespace lp::api
