// The config's [throttle], [audit] and [console] tables (what guards tenants from
// each other and the console's sign-in from guessing),
// read over the defaults in Config. Part of loadConfig().
#pragma once

#include <toml++/toml.h>

#include <string>

#include "daemon/config.h"

namespace lp::daemon {

Status readGuardSections(const toml::table& t, const std::string& path, Config& c);

}  // namespace lp::daemon
