// The BPF fast path across daemon restarts (docs/dataplane.md, "The BPF fast path",
// stage 5): its maps pinned under a bpffs directory outlive the daemon, as the tc
// filters outlive it and hold the programs; a start adopts them, so connections
// established on the fast path survive kill -9 and the restart after it.
//
// What the sink calls:
// - at start, adoptOrCreate(dir, limits) before anything else of the BPF path, then
//   loads a FastpathPrograms per space over the maps it returns, writes the whole plan
//   (every put is an upsert) and attaches every program with attachTc, which replaces
//   linkplane's filter in place (same handle and priority: no packet of an established
//   connection is dropped, FastpathRestartTest). It must not clear lp_conns.
// - at a clean stop, detaches (detachTc / removeClsact) and only then teardown(dir):
//   dying between the two leaves pins a restart adopts, never attached programs over
//   maps no pin holds.
//
// Thread-safety: free functions, one caller at a time per directory.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "net/bpf/bpf_fastpath.h"

namespace lp::net::bpf {

struct FastpathPins {
  std::unique_ptr<FastpathMaps> maps;
  bool adopted = false;  // the maps a previous run pinned, with their connections
  // When not adopted: what was pinned and was discarded (another build's layout,
  // other sizes, an incomplete set), logged as a warning; "" when nothing was pinned.
  // The connections of the discarded maps are cut: once the sink's attachTc replaces
  // the old programs, their packets find no entry and are dropped.
  std::string discarded;
  // The host-wide connection limit written for the table in place (bpf_fastpath.h).
  uint32_t connectionLimit = 0;
};

// Unless dir is on a bpffs already (in one, or one mounted on it), mounts a bpffs
// on dir's parent when that is an empty directory that is not one (ensureBpffs).
// Adopts the maps pinned under dir when they have this build's layout (types,
// sizes, BTF key and value fields) and limits' sizes (the kernel cannot resize a
// map), lp_conns' aside: a connection table of another size is adopted with its
// connections, and serves until a clean stop (logged); otherwise removes
// linkplane's pins under dir (names "lp_*"), makes fresh maps and pins them there.
// Then writes the host-wide connection limit for the table in place
// (putHostConnectionLimit). Errors: BpfFastpath.Pin (no bpffs, pins unreadable),
// .Load / .Map (creating the maps), .Invalid (limits.connections leaves no room
// for connections on this host's CPUs, checked before anything is touched).
Result<FastpathPins> adoptOrCreate(const std::string& dir, const FastpathLimits& limits);

// Removes linkplane's pins under dir (names "lp_*"), and dir when nothing else is in
// it (a clean stop); Ok when absent; a bpffs mounted on dir stays mounted. Refuses
// a dir that is not on a bpffs, so a misconfigured path never deletes files.
Status teardown(const std::string& dir);

}  // namespace lp::net::bpf
