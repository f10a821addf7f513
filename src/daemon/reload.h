// What a SIGHUP can change in a running daemon: the difference between the config it
// runs with and the file as it reads now, split into what is applied live and what
// waits for a restart. Pure; the daemon applies and logs the result.
//
// Live: log_level, [[accounts]] (added, removed, keys and secrets changed),
// [limits], [aws_service_backends] (https:// ones too: the TLS relay takes the new
// upstream and reads ca_file again on every reload). Everything else needs a restart.
#pragma once

#include <string>
#include <vector>

#include "daemon/config.h"

namespace lp::daemon {

struct ConfigChanges {
  std::vector<std::string> applied;       // "log_level: info -> debug", "accounts: added 3333... (carol, key AKC)"
  std::vector<std::string> needsRestart;  // "listen: 127.0.0.1:4566 -> 0.0.0.0:4566"
  bool accountsChanged = false;  // an account or one of its keys was added, removed or changed
  bool backendsChanged = false;  // [aws_service_backends]
  // The config to run with from now on: the running one with the live keys taken
  // from the file (what needs a restart keeps its running value).
  Config next;
};

// Secrets are compared, never printed. A limit is named by its line in reload.cc's
// table (a limit without one is still applied, just not named in the log).
ConfigChanges diffConfig(const Config& running, const Config& file);

}  // namespace lp::daemon
