// Where the BPF fast path pins its maps: a bpffs (the kernel's filesystem for
// pinned BPF objects), mounted at /sys/fs/bpf by most distributions and by
// linkplane when it is not, and linkplane's directory on it.
//
// A bpffs mount is its own instance: pins live as long as the mount, which lives as
// long as its mount namespace. The daemon must mount it where it outlives the daemon
// (the host's mount namespace; not a systemd unit with PrivateMounts=yes), or a
// kill -9 takes the pins with it.
//
// Thread-safety: free functions, any thread.
#pragma once

#include <string>

#include "common/status.h"

namespace lp::net::bpf {

inline constexpr const char* kDefaultBpffs = "/sys/fs/bpf";
inline constexpr const char* kDefaultPinDir = "/sys/fs/bpf/linkplane";

// Whether path is on a bpffs (statfs magic BPF_FS_MAGIC).
bool isBpffs(const std::string& path);

// Makes mountPoint a bpffs: Ok when it is one; mounts one there when it is an empty
// directory that is not (mounting over a non-empty one would hide what it holds:
// BpfFastpath.Pin then, as when the mount fails, e.g. without CAP_SYS_ADMIN).
Status ensureBpffs(const std::string& mountPoint);

// The directory that holds dir ("/sys/fs/bpf" for "/sys/fs/bpf/linkplane").
std::string parentDirectory(const std::string& dir);

// The pin directory of the daemon whose state directory is stateDir: kDefaultPinDir
// for the packaged /var/lib/linkplane, otherwise /sys/fs/bpf/lp-<16 hex digits of a
// hash of its absolute path>. One daemon runs per state directory (its lock), so two
// daemons on one host (the end-to-end tests run several) never adopt or remove each
// other's maps.
std::string pinDirectoryFor(const std::string& stateDir);

}  // namespace lp::net::bpf
