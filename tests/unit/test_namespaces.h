// Network namespaces made by unit tests: named lp-t<tag>-<pid>, so parallel and
// repeated runs never collide. TearDown removes them, but a test binary that
// crashes never runs TearDown; the next test to ask for a namespace removes those
// left by processes that are gone. Not thread-safe (call from a fixture's SetUp).
#ifndef LINKPLANE_TESTS_UNIT_TEST_NAMESPACES_H_
#define LINKPLANE_TESTS_UNIT_TEST_NAMESPACES_H_

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "net/netns.h"

namespace lp::testenv {

// True when pid is a live process (ours or anyone's).
inline bool processAlive(long pid) { return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM; }

// Removes lp-t*-<pid> namespaces whose pid is no longer alive.
inline void removeNamespacesOfDeadTests() {
  for (const auto& name : net::listNamespaces("lp-t")) {
    auto dash = name.rfind('-');
    if (dash == std::string::npos || dash + 1 == name.size()) continue;
    std::string digits = name.substr(dash + 1);
    if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) continue;
    long pid = std::stol(digits);
    if (pid > 0 && !processAlive(pid)) (void)net::deleteNamespace(name);
  }
}

// The name for this process's namespace with the given tag (letters only, e.g. "fwc").
inline std::string testNamespace(const std::string& tag) {
  removeNamespacesOfDeadTests();
  return "lp-t" + tag + "-" + std::to_string(getpid());
}

// stdout of a shell command (an operator's look at the kernel, e.g. `ip route get`).
inline std::string commandOutput(const std::string& cmd) {
  std::string out;
  if (FILE* f = popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    pclose(f);
  }
  return out;
}

}  // namespace lp::testenv

#endif  // LINKPLANE_TESTS_UNIT_TEST_NAMESPACES_H_
