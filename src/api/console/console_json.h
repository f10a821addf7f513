// The console's JSON answers (its own routes, not the API's): no caching, and a
// message that quotes what the client sent is written even if that is not UTF-8.
#pragma once

#include <nlohmann/json.hpp>

#include "api/api_service.h"

namespace lp::api::console {

HttpResponse consoleJson(int status, const nlohmann::json& body);

}  // namespace lp::api::console
