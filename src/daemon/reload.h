// What a SIGHUP can change in a running daemon: the difference between the config it
// runs with and the file as it reads now, split into what is applied live and what
// waits for a restart. Pure; the daemon applies and logs the result.
#pragma once

#include <string>
#include <vector>

#include "daemon/config.h"

namespace lp::daemon {

struct ConfigChanges {
  std::vector<std::string> applied;       // "log_level: info -> debug"
  std::vector<std::string> needsRestart;  // "listen: 127.0.0.1:4566 -> 0.0.0.0:4566"
  // The config to run with from now on: the running one with the live keys taken
  // from the file (what needs a restart keeps its running value).
  Config next;
};

// Live: log_level. Everything else is reported as needing a restart.
ConfigChanges diffConfig(const Config& running, const Config& file);

}  // namespace lp::daemon
