// EC2 CreateTags, DeleteTags, DescribeTags.
#include "api/handlers.h"

namespace lp::api {

void registerEc2TagHandlers(Router& r, control::ControlContext& ctx) {}

}  // namespace lp::api
