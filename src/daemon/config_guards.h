// The config's [throttle] and [audit] tables (what guards tenants from each other),
// read over the defaults in Config. Part of loadConfig().
#pragma once

#include <toml++/toml.h>

#include <string>

#include "daemon/config.h"

namespace lp::daemon {

Status readGuardSections(const toml::table& t, const std::string& path, Config& c);

}  // namespace lp::daemon
