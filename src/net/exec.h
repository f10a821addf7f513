// Runs a command inside a named network namespace, as `ip netns exec` does: the
// calling process joins the namespace and, in a private mount namespace, sees
// /etc/netns/<ns>/resolv.conf as /etc/resolv.conf (and ca-certificates.crt as
// /etc/ssl/certs/ca-certificates.crt), then becomes the command.
// Call from a single-threaded process (the CLI), never from the daemon.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace lp::net {

// Returns only if the command could not be started: an error before anything
// changed (no such namespace), or 127 after printing why.
Result<int> execInNamespace(const std::string& ns, const std::vector<std::string>& argv,
                            const std::string& etcNetns = "/etc/netns");

}  // namespace lp::net
