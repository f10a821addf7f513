// Named network namespaces, compatible with `ip netns`: each is a bind mount of a
// namespace file at /run/netns/<name>, so `ip netns exec <name>` works on them.
// setns is per thread, so work inside a namespace runs on a short-lived dedicated
// thread (runInNamespace); a socket keeps the namespace it was made in, so
// socketInNamespace hands back a descriptor any thread may use.
//
// Free functions, any thread. Only net/ calls setns.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace lp::net {

inline constexpr const char* kNetnsDir = "/run/netns";

// Creates /run/netns/<name> holding a fresh network namespace (lo down, as the
// kernel makes it). Ok when it already exists.
Status createNamespace(const std::string& name);
// Unmounts and removes /run/netns/<name>; Ok when absent.
Status deleteNamespace(const std::string& name);
bool namespaceExists(const std::string& name);
// Names under /run/netns starting with prefix, sorted.
std::vector<std::string> listNamespaces(const std::string& prefix);
// An O_RDONLY|O_CLOEXEC descriptor of the namespace (caller closes).
Result<int> openNamespace(const std::string& name);

// Runs fn on a dedicated thread switched into the namespace; returns fn's status.
Status runInNamespace(const std::string& name, const std::function<Status()>& fn);
// A socket(domain, type | SOCK_CLOEXEC, 0) living in the namespace (caller closes).
Result<int> socketInNamespace(const std::string& name, int domain, int type);

// Hot-path variant for threads that make many sockets (data plane loops): switches
// the calling thread into the namespace nsFd, makes the socket and switches back
// to homeFd (a descriptor of the thread's own namespace, see openThreadNamespace).
// No thread is spawned. Aborts if the thread cannot return home (it would be left
// in the wrong namespace: a broken invariant).
Result<int> socketInNamespaceFd(int nsFd, int homeFd, int domain, int type);
// As socketInNamespaceFd, `count` sockets for one pair of namespace switches.
Result<std::vector<int>> socketsInNamespaceFd(int nsFd, int homeFd, int domain, int type, int count);
// An O_RDONLY|O_CLOEXEC descriptor of the calling thread's network namespace.
Result<int> openThreadNamespace();

// Writes a sysctl under /proc/sys as seen from the namespace, e.g.
// setSysctl(ns, "net/ipv4/ip_forward", "1").
Status setSysctl(const std::string& ns, const std::string& key, const std::string& value);
Result<std::string> getSysctl(const std::string& ns, const std::string& key);

}  // namespace lp::net
