// `linkplane demo`: starts a throw-away daemon (this same binary, `serve` on a
// loopback port chosen by the kernel, state in a temp directory) and runs the
// narrated walkthrough (scripts/demo.sh, embedded at build time) against it with
// the AWS CLI. Stops the daemon and removes the temp directory whatever happens.
// Runs on main's thread only.
#pragma once

#include <string>

namespace lp::daemon {

// Returns the process exit code: 0 when every step of the walkthrough succeeded.
// The daemon runs with the built-in default config (dataplane off when not root).
// keep: after the walkthrough, print the console's address and the accounts' keys
// and leave the daemon serving until SIGINT/SIGTERM, then clean up as usual.
int runDemo(bool keep = false);

}  // namespace lp::daemon
