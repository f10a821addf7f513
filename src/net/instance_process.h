// The OS side of instances: processes started detached inside a workload
// namespace, found again by the namespace they live in, signalled and reaped.
// A process that the daemon starts here is in its own session with default signal
// dispositions and no descriptor of the daemon's, so it outlives the daemon: an
// instance's programs keep running across a daemon restart. Any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace lp::net {

// Starts argv (argv[0] a path) in a new session, stdin /dev/null, stdout and stderr
// appended to outputPath, environment env, every other descriptor closed. Returns
// its pid; the caller reaps it (reapIfExited) while it is this process's child.
Result<int> spawnDetached(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                          const std::string& outputPath);

// The exit status of a child that has exited (and is now reaped), or nullopt while it
// runs. A signal death is 128 + the signal, as a shell reports it.
std::optional<int> reapIfExited(int pid);

// Pids of every process whose network namespace is the named one (/run/netns/<ns>),
// this process excluded; empty when the namespace does not exist.
std::vector<int> processesInNamespace(const std::string& ns);

// The interface id of a running instance, from the marker its supervisor writes
// in linkplane's files of the namespace (namespaceFilesDir(lp-<eni-id>)/instance), for
// `linkplane exec --instance`; nullopt when it is not running on this host.
std::optional<std::string> findInstanceInterface(const std::string& instanceId,
                                                 const std::string& etcNetns = "/etc/netns");

// Sends sig to each pid (a process gone meanwhile is not an error).
void signalAll(const std::vector<int>& pids, int sig);

}  // namespace lp::net
