// `linkplane audit`: the audit log's records (JSON lines, oldest first), for the
// host's admin; reads <state_dir>/audit/ directly, with or without a running daemon.
#pragma once

#include <string>

namespace lp::daemon {

// since/until: ISO 8601 (2026-12-05T10:00:00Z) or an age (90s, 15m, 2h, 7d); "" = no
// bound. account: 12 digits or "". Returns the process exit code.
int auditCommand(const std::string& stateDir, const std::string& account, const std::string& since,
                 const std::string& until);

}  // namespace lp::daemon
