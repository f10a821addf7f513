// Runs a command inside a named network namespace, as `ip netns exec` does: a
// child process joins the namespace and, in a private mount namespace, sees
// /etc/netns/<ns>/resolv.conf as /etc/resolv.conf. Call from a single-threaded
// process (the CLI), never from the daemon.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace lp::net {

// Returns the command's exit code (128+signal when killed).
Result<int> execInNamespace(const std::string& ns, const std::vector<std::string>& argv,
                            const std::string& etcNetns = "/etc/netns");

}  // namespace lp::net
