// The service manager's readiness protocol (sd_notify(3)), written out rather than
// linked from libsystemd: one datagram of "KEY=VALUE\n..." lines to the unix socket
// named by $NOTIFY_SOCKET ('@' = abstract namespace). Without $NOTIFY_SOCKET (not
// started by systemd with Type=notify) it does nothing. Any thread.
#pragma once

#include <string_view>

#include "common/status.h"

namespace lp::daemon {

// Sends `state` (e.g. "READY=1\nSTATUS=serving") to $NOTIFY_SOCKET if set.
Status sdNotify(std::string_view state);

}  // namespace lp::daemon
