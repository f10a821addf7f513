// The BPF fast path's BpfExecutor on the real kernel (net/bpf's loader, netlink,
// nftables, sysctls), and the start-up probe. Built only when the BPF fast path is
// (LP_HAVE_BPF, from CMake's LP_BPF_BUILT).
//
// Maps: pinned under pinDirectoryFor(state dir) (net/bpf/bpffs.h), adopted by the
// next start after a kill -9 (net/bpf/fastpath_pins.h), unpinned at a clean stop.
#pragma once

#include <cstdint>
#include <memory>

#include "common/status.h"
#include "net/bpf/bpf_fastpath.h"
#include "reconciler/bpf_fastpath_sink.h"

namespace lp::reconciler {

// Loads the object, fills scratch maps with one link, and runs a crafted SYN to
// its endpoint through lp_link_out with BPF_PROG_TEST_RUN: Ok when it comes out
// translated to the target from the node address; otherwise why not (verifier,
// missing BTF, no CAP_BPF, ...). No namespace, no device; the maps go with it.
Status probeBpfFastpath();

// Adopts the maps pinned under pinDirectoryFor(stateDir) when they have this
// build's layout and sizes (adoptOrCreate), or makes and pins fresh ones, with a
// connection table of connectionEntries ([dataplane] bpf_connection_table); unpin()
// removes the pins. Errors: no bpffs, the maps cannot be made, or the table is too
// small for this host's CPUs.
Result<std::unique_ptr<BpfExecutor>> makeKernelBpfExecutor(
    const std::string& stateDir, uint32_t connectionEntries = net::bpf::FastpathLimits{}.connections);

// A start on another path after a "bpf" run: sweeps every namespace named in the
// state directory's BPF ids file (BpfExecutor::sweep with nothing to keep), so the
// endpoints' SYNs reach the local listeners and the conntrack path again, then
// removes the file and the maps' pins. When a sweep fails both stay, for the next
// start to try again.
void sweepBpfLeftovers(const std::string& stateDir);

}  // namespace lp::reconciler
