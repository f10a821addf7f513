// The BPF fast path's loader (docs/dataplane.md, "The BPF fast path"): the object
// compiled from fastpath.bpf.c and embedded in the binary, opened from memory with
// libbpf; its shared maps (FastpathMaps), one loaded copy of its programs per VPC
// namespace (FastpathPrograms), and their attachment to a device's clsact hooks
// inside a namespace given by descriptor.
//
// Used by the daemon with [dataplane] path = "bpf" (reconciler/bpf_fastpath_kernel.h);
// fastpath_sink still drives the conntrack path otherwise.
//
// Errors: BpfError, carried in Status codes "BpfFastpath.<name>" (bpfErrorCode).
// Thread-safety: FastpathMaps' calls are single map syscalls and may come from any
// thread (the kernel serialises each); a FastpathPrograms is owned by one thread.
// The free functions run on any thread (attach/detach spawn a short-lived thread
// that enters the namespace).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "net/bpf/fastpath_abi.h"

struct bpf_object;

namespace lp::net::bpf {

class LinkUsage;

enum class BpfError {
  kLoad,          // libbpf could not open or load the object (verifier, kernel too old)
  kMap,           // a map syscall failed
  kFull,          // a map has no room for the entry
  kPin,           // pinning or unpinning under bpffs failed
  kNotPinned,     // no pinned map to adopt
  kIncompatible,  // a pinned map's layout is not this build's
  kNamespace,     // entering the namespace failed
  kNoDevice,      // no such device in the namespace
  kAttach,        // tc attach, detach or query failed
  kInvalid,       // a caller's argument is out of range
};

// "BpfFastpath.Load", ...
const char* bpfErrorCode(BpfError e);
Status bpfError(BpfError e, const std::string& message);
// The BpfError of a status made by bpfError, if it is one.
std::optional<BpfError> bpfErrorOf(const Status& s);

// Map sizes, set before the maps are made.
struct FastpathLimits {
  uint32_t connections = 262144;  // entries of lp_conns: two per connection
  // Link ids 1..links-1: every id the plan gives out (dataplane::kMaxLinkId, 32767;
  // tests/unit/net/bpf/bpf_plan_abi_test.cc).
  uint32_t links = 32768;
  uint32_t endpoints = 65536;
  uint32_t targetSets = 65536;
  uint32_t hosts = 65536;
};

// The maps every loaded copy shares (fastpath_abi.h says what each holds). Owns
// their descriptors; the maps live while a descriptor, a pin or a loaded program
// holds them.
class FastpathMaps {
 public:
  static constexpr const char* kNames[] = {"lp_conns", "lp_endpoints",  "lp_links",     "lp_targets",
                                           "lp_hosts", "lp_link_stats", "lp_link_caps", "lp_link_usage"};
  enum Map { kConns, kEndpoints, kLinks, kTargets, kHosts, kLinkStats, kLinkCaps, kLinkUsage, kCount };

  // Makes a fresh set of maps.
  static Result<std::unique_ptr<FastpathMaps>> create(const FastpathLimits& limits);
  // Opens maps pinned by pin() under dir (a restart adopting what is in place);
  // kNotPinned when none is, kIncompatible when their layout is not this build's.
  static Result<std::unique_ptr<FastpathMaps>> openPinned(const std::string& dir);
  // Removes the pins under dir and dir itself; Ok when absent.
  static Status unpin(const std::string& dir);

  ~FastpathMaps();
  FastpathMaps(const FastpathMaps&) = delete;
  FastpathMaps& operator=(const FastpathMaps&) = delete;

  // Pins every map as dir/<name> (dir is made; it must be on a bpffs).
  Status pin(const std::string& dir) const;
  int fd(Map m) const { return fds_[m]; }
  uint32_t maxLinks() const { return maxLinks_; }
  // lp_conns' entries (what it was made with, or found with when adopted).
  uint32_t connectionEntries() const { return connectionEntries_; }
  // lp_link_usage mapped into this process once, shared by every caller (stage 4,
  // below); null when it cannot be mapped.
  LinkUsage* linkUsage() const;

  // Addresses in network order (as in_addr.s_addr), ports in host order.
  Status putEndpoint(uint32_t space, uint32_t addr, uint16_t port, uint32_t link);
  Status deleteEndpoint(uint32_t space, uint32_t addr, uint16_t port);
  Status putLink(uint32_t link, const lp_fp_link& value);
  Status deleteLink(uint32_t link);
  // The targets new connections to the link's listener port go to (at most
  // LP_FP_MAX_TARGETS; empty refuses new connections).
  Status putTargets(uint32_t link, uint16_t port, uint32_t tier, const std::vector<lp_fp_target>& targets);
  Status deleteTargets(uint32_t link, uint16_t port);
  Status putHost(uint32_t space, uint32_t addr, const lp_fp_host& host);
  Status deleteHost(uint32_t space, uint32_t addr);

  // lp_links[link] as the maps hold it (all zeros: no link).
  Result<lp_fp_link> link(uint32_t link) const;
  // Deletes every lp_endpoints entry naming one of the links and every lp_targets
  // entry keyed by one: for links whose keys nobody kept (an adopted map's, whose
  // endpoint went while no daemon ran). Returns how many entries went.
  Result<size_t> deleteEntriesOfLinks(const std::set<uint32_t>& links);

  // The connection-table entry keyed by a packet's tuple in a space (network order).
  Result<std::optional<lp_fp_conn>> connection(uint32_t space, const lp_fp_tuple& t) const;
  // Every entry (a walk of the table; for tests and the sweeper to come).
  Result<size_t> connectionCount() const;
  // A link's counters, summed over CPUs.
  Result<lp_fp_link_stats> linkStats(uint32_t link) const;

 private:
  FastpathMaps() = default;
  int fds_[kCount] = {-1, -1, -1, -1, -1, -1, -1, -1};
  uint32_t maxLinks_ = 0;
  uint32_t connectionEntries_ = 0;
  mutable std::once_flag usageOnce_;
  mutable std::unique_ptr<LinkUsage> usage_;
};

enum class FastpathProgram { kWorkloadIn, kLinkOut, kLinkIn };
const char* programName(FastpathProgram p);

// One loaded copy of the programs for one VPC namespace ("space"), over shared maps.
// Programs stay in the kernel while attached, after this object is gone.
class FastpathPrograms {
 public:
  static Result<std::unique_ptr<FastpathPrograms>> load(const FastpathMaps& maps, uint32_t space);
  ~FastpathPrograms();
  FastpathPrograms(const FastpathPrograms&) = delete;
  FastpathPrograms& operator=(const FastpathPrograms&) = delete;

  int fd(FastpathProgram p) const;
  uint32_t space() const { return space_; }

 private:
  FastpathPrograms() = default;
  bpf_object* obj_ = nullptr;
  uint32_t space_ = 0;
};

enum class TcHook { kIngress, kEgress };

// Attaches progFd to device's clsact hook inside the namespace nsFd (-1: the
// caller's), making the clsact qdisc if needed; replaces linkplane's filter there.
Status attachTc(int nsFd, const std::string& device, TcHook hook, int progFd);
// Removes linkplane's filter from the hook; Ok when there is none (or no clsact).
Status detachTc(int nsFd, const std::string& device, TcHook hook);
// Removes the device's clsact qdisc and with it every filter on both hooks: for
// devices only linkplane attaches to (its link and workload veths). Ok when absent.
Status removeClsact(int nsFd, const std::string& device);
// The id of the program linkplane attached to the hook; 0 when none.
Result<uint32_t> attachedProgramId(int nsFd, const std::string& device, TcHook hook);
// The kernel's id of a program descriptor.
Result<uint32_t> programId(int progFd);

// ---- Stage 3: the connection table walked and pruned (docs/dataplane.md, "The BPF
// fast path"). The policy (what is idle, closed, which connections a link's end
// takes) is dataplane/bpf_sweep_plan.h, applied by dataplane/bpf_sweep.h; these are
// only the map calls. Any thread, as FastpathMaps' calls.

// Calls fn with every lp_conns entry, read in batches (BPF_MAP_LOOKUP_BATCH). The
// programs keep adding and touching entries meanwhile: one walk is not a snapshot.
Status visitConnections(const FastpathMaps& maps,
                        const std::function<void(const lp_fp_conn_key&, const lp_fp_conn&)>& fn);
// Deletes these entries; those already gone are not errors. Returns how many went.
// Each consumer-side entry deleted frees its link's connection slot (stage 4:
// LinkUsage::release) unless the programs freed it when the connection closed
// (lp_fp_conn.released), exactly once: the entry is read and deleted in one call.
// (A FIN or RST the programs see between that read and their own release gives
// the slot back twice; the count stops at zero, and a recount corrects it.)
Result<size_t> deleteConnections(const FastpathMaps& maps, const std::vector<lp_fp_conn_key>& keys);

// ---- The bandwidth cap and the connection limit (stage 4)
//
// Per link: lp_link_caps (what the daemon allows: FastpathMaps syscalls) and
// lp_link_usage (the programs' running state, changed only atomically: LinkUsage,
// through the map's memory). The contract with the code that deletes connection
// entries (the sweeper, a link's removal):
// - the live count is the number of consumer-side (LP_FP_DIR_FWD) entries
//   lp_link_out made for the link whose connection has not closed: the programs
//   give a slot back when they see it close (a reset, or a FIN each way) and mark
//   the entry `released`; whoever deletes an entry not released calls
//   LinkUsage::release(link) once for it: deleteConnections (stage 3, so the sweep
//   and a link's or a target's end) does;
// - a freed link id's cap state and counters are zeroed (LinkUsage::reset,
//   clearLinkStats), so its next holder starts from zero;
// - entries the kernel evicts (lp_conns is an LRU hash) are released by nobody: a
//   walk of the table may correct the count with LinkUsage::recount; the host's
//   limit (below) keeps the table short of evicting;
// - the host's count (index LP_FP_HOST) is of consumer-side entries in the table,
//   closed connections' included (released or not): whoever deletes one calls
//   LinkUsage::releaseHost once for it, as deleteConnections does.

struct LinkCap {
  uint64_t bytesPerSecond = 0;  // TCP payload, both ways together; 0: no cap
  uint64_t burstBytes = 0;      // how far ahead of the rate a link may run
  uint32_t maxConnections = 0;  // live connections; 0: no limit
};

// Writes a link's cap and limit (zeros: none); the programs use it from the next packet.
Status putLinkCap(const FastpathMaps& maps, uint32_t link, const LinkCap& cap);
// Zeroes a link's counters on every CPU: for a link id no link holds (not atomic
// against the programs: only when nothing can reach the link).
Status clearLinkStats(const FastpathMaps& maps, uint32_t link);

// lp_link_usage mapped into this process: atomic reads and changes of a link's
// live connection count and cap state, safe against the programs on every CPU.
// Owns the mapping (the map lives on while it is mapped). Thread-safe.
class LinkUsage {
 public:
  // kIncompatible when the map cannot be mapped (made by another build, without
  // BPF_F_MMAPABLE).
  static Result<std::unique_ptr<LinkUsage>> open(const FastpathMaps& maps);
  ~LinkUsage();
  LinkUsage(const LinkUsage&) = delete;
  LinkUsage& operator=(const LinkUsage&) = delete;

  // The link's live connections (out of range: 0).
  uint64_t live(uint32_t link) const;
  // One connection of the link is gone (its consumer-side entry deleted): its slot
  // is free. Never below zero; false when the count was already zero.
  bool release(uint32_t link);
  // The link's count and cap state back to zero (its entries are all gone).
  void reset(uint32_t link);
  // Sets the count to `counted` if it is still `seen`. For a walk of lp_conns
  // that found `counted` consumer-side entries of the link, with `seen` read
  // before the walk and the link's new_conns unchanged across it: then only
  // entries the kernel evicted make the two differ. False when the count moved.
  // recount(LP_FP_HOST, ...) does the same for the host's count (every
  // consumer-side entry the walk found).
  bool recount(uint32_t link, uint64_t seen, uint64_t counted);
  // One consumer-side entry left the table: the host's slot it held is free.
  void releaseHost();
  // The host's count (consumer-side entries in the table; never below zero).
  uint64_t hostLive() const;
  // Sets the host's count to `entries`; returns how far it moved.
  int64_t setHost(uint64_t entries);

 private:
  LinkUsage() = default;
  lp_fp_link_usage* slot(uint32_t link) const;
  void* base_ = nullptr;
  size_t bytes_ = 0;
  uint32_t links_ = 0;
};

// ---- The host-wide connection limit
//
// lp_conns is an LRU hash: full, it evicts the least recently used entries, which
// are live connections' (the sweeper removes closed and idle ones), so their next
// packets find no entry and are dropped. The programs refuse a SYN past a host-wide
// limit instead (a reset, counted as its link's drop and refusal, and in
// lp_link_stats[LP_FP_HOST].refused), a limit set short of the table's size. It
// counts connections in the table, not open ones as a link's limit does: a closed
// connection's entries fill the table until the sweeper removes them. Its room:
// - two entries per connection (one per side);
// - the kernel's LRU keeps free entries on per-CPU lists, refilled from the shared
//   list kLruFreeTarget at a time, and evicts once the shared list cannot refill
//   one (kernel/bpf/bpf_lru_list.c, LOCAL_FREE_TARGET): up to that many per CPU can
//   be free yet out of reach. Measured on this 2-CPU host, filling a 1024- and a
//   4096-entry table from both CPUs with deletions between: the first eviction came
//   with 64 to 151 entries still free (1 CPU: 64 to 76), never more than 128 per CPU;
// - and 1/64 of the table for entries no slot counts: the old reverse entry of a
//   closed connection whose ports a new one took before the sweep, until swept.
constexpr uint32_t kLruFreeTarget = 128;

// The live connections a table of `entries` serves on a host with `cpus` possible
// CPUs; 0 when it is too small for any.
uint32_t connectionLimitFor(uint32_t entries, uint32_t cpus);

// Sets the host's count to the consumer-side entries a walk of lp_conns finds
// (maps adopted from a build that did not keep it); returns how far it moved. SYNs
// meanwhile may leave it off by as many.
Result<int64_t> syncHostCount(const FastpathMaps& maps);

// Writes the host's limit for maps.connectionEntries() on this host's CPUs;
// returns it. kInvalid when the table leaves no room.
Result<uint32_t> putHostConnectionLimit(const FastpathMaps& maps);

struct HostConnections {
  uint64_t live = 0;     // connections in the table (consumer-side entries), host-wide
  uint32_t limit = 0;    // 0: none written
  uint64_t refused = 0;  // SYNs refused for the host's limit since the maps were made
};
Result<HostConnections> hostConnections(const FastpathMaps& maps);

}  // namespace lp::net::bpf
