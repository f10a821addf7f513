// Runs a command inside a named network namespace, as `ip netns exec` does: the
// calling process joins the namespace and, in a private mount namespace, sees
// /etc/netns/<ns>/resolv.conf as /etc/resolv.conf (and linkplane's CA bundle for
// the namespace as /etc/ssl/certs/ca-certificates.crt), then becomes the command.
// Call from a single-threaded process (the CLI), never from the daemon.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace lp::net {

// Where linkplane keeps its own files for a namespace (the CA bundle, a running
// instance's id): /run/linkplane/netns/<ns> for the real /etc/netns, beside a
// test's directory otherwise. Not in /etc/netns/<ns>/: `ip netns exec` binds every
// entry there over /etc/<entry> and prints an error for each one /etc lacks
// ("Bind /etc/netns/lp-eni-.../ca-certificates.crt -> /etc/ca-certificates.crt
// failed"), on every command a user or a test runs in a workload.
std::string namespaceFilesRoot(const std::string& etcNetns = "/etc/netns");
inline std::string namespaceFilesDir(const std::string& ns, const std::string& etcNetns = "/etc/netns") {
  return namespaceFilesRoot(etcNetns) + "/" + ns;
}

// Returns only if the command could not be started: an error before anything
// changed (no such namespace), or 127 after printing why.
Result<int> execInNamespace(const std::string& ns, const std::vector<std::string>& argv,
                            const std::string& etcNetns = "/etc/netns");

}  // namespace lp::net
