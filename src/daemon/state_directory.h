// The daemon's state directory (/var/lib/linkplane): it holds the local CA's key, the
// SNS signing key and every account's resources, so only the daemon's user may read it.
// Free functions; called by the daemon's thread at start.
#pragma once

#include <string>

#include "common/status.h"

namespace lp::daemon {

// Makes `dir` mode 0700 when it is missing (its missing parents get the usual mode:
// /var/lib is not ours), whatever the umask. A directory that exists is used as it is
// (systemd's StateDirectoryMode= or the admin chose its mode), but one open to group or
// others returns a warning naming the mode and the fix; "" when there is nothing to say.
// An error when it cannot be made or is not a directory.
Result<std::string> prepareStateDirectory(const std::string& dir);

// Holds `dir`/linkplane.lock with an exclusive lock for as long as the returned
// descriptor is open (the kernel drops it when the process dies, kill -9 included),
// with this process's id written in it; a second call, from any process, is refused
// while it is held. Two daemons on one state directory would
// each build and tear down the same namespaces and write the same store: the second
// is refused, naming the first's pid. Close the descriptor to release.
Result<int> lockStateDirectory(const std::string& dir);

}  // namespace lp::daemon
