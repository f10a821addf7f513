// FastPathSink: the data plane as the reconciler drives it, with the kernel fast
// path in front of the splice forwarder. Endpoints whose target groups do not
// want PROXY protocol get a link per endpoint interface (a /31 on the veth pair
// that the consumer's and the provider's VPC namespaces share) and nftables
// translation on both sides (dataplane/fastpath_plan.h); no user-space process is on a packet's path,
// and the connections live in the kernel's conntrack tables, so they outlive the
// daemon (kill -9) and a restart adopts what is in place instead of rebuilding it.
// Every delta still goes to the forwarder too: its listeners make the endpoint
// `available`, check target health, and carry what the kernel path cannot
// (PROXY v2, AWS service backends, an endpoint into its own VPC, a kernel without
// NAT).
//
// Each tick: new target health becomes new translation maps (within a second),
// connections to targets that turned unhealthy are deleted from conntrack, and
// every two seconds the kernel's counters are read and merged with the
// forwarder's for the counters file and the CloudWatch sampler. Dropped packets
// are counted here for both paths: the fast path's cap and connection limit, and
// what every endpoint interface's security groups refuse (table inet lp-sg, one
// named counter per interface; reconciler/filter_plan.h). When a consumer VPC's
// conntrack table is full the kernel drops new connections before any rule sees
// them: that is read from the namespace's conntrack statistics and logged.
//
// Owned by the daemon; apply/tick/stop on the reconciler thread; counters() and
// activity() from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "dataplane/fastpath_plan.h"
#include "net/conntrack.h"
#include "net/netlink.h"
#include "reconciler/forwarder_sink.h"

namespace lp::reconciler {

struct FastPathOptions {
  // "auto": kernel where possible; "kernel": the same, but make() fails when the
  // kernel lacks what it needs; "splice": never the kernel.
  std::string mode = "auto";
  int idleTimeoutSeconds = 350;
  uint64_t endpointBytesPerSecond = 10'000'000'000ull / 8;  // per endpoint per zone; 0 = none
  // Open connections per endpoint interface on the fast path; a new one past it is
  // refused with a reset and counted as dropped. 0 = no limit.
  uint32_t maxConnectionsPerInterface = 50'000;
  std::string stateDir;                                    // fastpath-links.json: link ids, kept across restarts
  // Set when the BPF fast path runs in front of this sink (mode is then "splice"):
  // the start-up log names the path that carries connections, not this sink's mode.
  bool inFrontOfBpf = false;
};

class FastPathSink final : public DataplaneSink, public dataplane::CounterSource {
 public:
  static Result<std::unique_ptr<FastPathSink>> make(std::unique_ptr<ForwarderSink> splice, FastPathOptions options);
  ~FastPathSink() override;

  // Removes links at once (their connections end before it returns) and hands
  // every endpoint to the forwarder, whose listeners make it available; the links
  // to make are left to drain(), so a pass over many endpoints is not held up by
  // making their veths and translations (new connections take the forwarder
  // until the endpoint's link is in place).
  dataplane::UpdateResult apply(const dataplane::SnapshotDelta& delta) override;
  std::map<std::string, dataplane::HealthResult> health() override { return splice_->health(); }
  void tick() override;
  // Makes the links of pending endpoints, for about kDrainBudget or until
  // newWork() (asked after each chunk); true while some are left.
  bool drain(const std::function<bool()>& newWork) override;
  void stop() override;

  dataplane::CountersReport counters() override;
  uint64_t activity() override;
  // Counters of another path to add to the forwarder's and the kernel's (the BPF
  // fast path's links, reconciler/bpf_fastpath_sink.h); it must outlive this sink's use.
  void setExtraCounters(dataplane::CounterSource* extra) { extra_ = extra; }

  ForwarderSink& splice() { return *splice_; }
  // Whether the kernel path is in use at all (mode and kernel).
  bool kernelEnabled() const { return kernelOk_; }

 private:
  struct Link {
    dataplane::FastLink spec;
    uint32_t id = 0;
    std::map<int, std::vector<dataplane::TargetSpec>> tier;  // as applied
  };
  struct Persisted {
    uint32_t id = 0;
    std::string endpointId, consumerNs, providerNs, eniIp;
    bool legacy = false;  // made by a run before the shared links: a veth of its own
    bool operator==(const Persisted&) const = default;
  };
  using PairKey = std::pair<std::string, std::string>;  // consumer namespace, provider namespace

  FastPathSink(std::unique_ptr<ForwarderSink> splice, FastPathOptions options);
  using NetlinkCache = std::map<std::string, std::unique_ptr<net::Netlink>>;  // by namespace, for one pass
  static Result<net::Netlink*> netlinkOf(NetlinkCache& nls, const std::string& ns);
  // Makes the links of these endpoints: the VPC pairs' devices and addresses, then
  // the translations; an endpoint whose links cannot all be made goes through the
  // forwarder (its links are removed).
  void makeLinks(std::vector<std::pair<std::string, std::vector<Link>>>& toMake, NetlinkCache& nls);
  // The pair's veth and the /31 of each of its link ids (pairIds_) on both ends;
  // addresses of other ids go. *remade: the veth was made (again), so the links
  // already on the pair need their translations written again.
  Status ensurePair(const PairKey& pair, NetlinkCache& nls, bool* remade);
  // Both sides' translations of links, in one nft batch per namespace and side;
  // the endpoints whose links could not be written are added to failed.
  void translate(const std::vector<std::pair<std::string, Link*>>& links, std::set<std::string>& failed);
  void removeLink(Persisted p, const std::string& interfaceId, NetlinkCache& nls);
  void setId(const std::string& interfaceId, const Persisted& p);
  void eraseId(const std::string& interfaceId);
  size_t cutConnections(uint32_t id, const std::string& consumerNs, const std::string& providerNs,
                        const std::function<bool(const net::ConntrackEntry&)>& keep);
  Status ensureTable(const std::string& ns);
  std::map<int, std::vector<dataplane::TargetSpec>> tierOf(const dataplane::FastLink& spec) const;
  // The interface's id, or a free one (added to usedIds_); 0 when none is left.
  uint32_t allocateId(const std::string& interfaceId);
  void loadIds();
  void saveIds();
  void flushIds();  // saveIds() if ids_ changed since
  void refreshHealth();
  void readCounters();
  // Read a round's namespaces into linkFigures_ / sgDrops_; changed is set when a figure moved.
  void readLinkCounters(bool& changed);
  void addSecurityGroupDrops(bool& changed);
  void watchConntrackFull(const std::string& ns);
  void verifyLinks(std::chrono::steady_clock::time_point now);

  std::unique_ptr<ForwarderSink> splice_;
  FastPathOptions opts_;
  bool kernelOk_ = false;
  std::string idsPath_;

  // Reconciler thread only.
  std::map<std::string, std::vector<Link>> byEndpoint_;  // endpoint -> its links on the fast path
  std::map<std::string, std::vector<Link>> pending_;     // endpoint -> links to make (drain())
  std::map<std::string, Persisted> ids_;                 // interface -> link id (fastpath-links.json)
  std::map<PairKey, std::set<uint32_t>> pairIds_;        // the ids of ids_ by VPC pair (setId/eraseId)
  std::map<std::string, std::set<std::string>> endpointLinks_;  // endpoint -> its interfaces in ids_
  std::set<uint32_t> usedIds_;                           // the ids of ids_, and those apply() is giving out
  std::set<std::string> tables_;                         // namespaces whose table this process has written
  std::map<std::string, dataplane::Health> health_;
  // Every endpoint's interfaces (either path): endpoint -> (interface, consumer namespace).
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> endpointInterfaces_;
  // Security group drop counters of one namespace: the lp-sg table they were read
  // from (a new handle = the table was made again, its counters from zero), and
  // per interface the last value read and what earlier tables counted.
  struct SgDrops {
    uint64_t tableHandle = 0;
    std::map<std::string, uint64_t> last, before;
  };
  std::map<std::string, SgDrops> sgDrops_;        // by namespace
  size_t sgCursor_ = 0;                            // where the next round's reads start
  std::map<std::string, dataplane::TrafficCounters> linkFigures_;  // by interface: the links' last figures
  // byEndpoint_ and endpointInterfaces_ change only with this version (apply,
  // makeLinks, stop); the indexes below are built again when it moved.
  uint64_t linksVersion_ = 0, reportedVersion_ = ~uint64_t{0};
  uint64_t linkNsVersion_ = ~uint64_t{0}, sgNsVersion_ = ~uint64_t{0};
  std::map<std::string, std::vector<const Link*>> linkNs_;  // consumer namespace -> its links (in byEndpoint_)
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> sgNs_;  // ns -> (interface, endpoint)
  std::map<std::string, uint64_t> conntrackFull_;  // by namespace: the kernel's drop count last seen
  std::chrono::steady_clock::time_point started_, lastCounters_{}, lastVerify_{};
  std::chrono::steady_clock::time_point lastDrained_{};  // when drain() last made links
  bool swept_ = false;
  bool idsDirty_ = false;
  uint32_t nextId_ = 1;
  PairKey verifyCursor_;            // the pair the verification pass is at (empty: between passes)
  std::set<std::string> hot_;       // consumer namespaces read every counters round
  std::string idleCursor_;          // the last idle namespace read
  std::string hotCursor_;           // the last hot namespace read

  dataplane::CounterSource* extra_ = nullptr;  // set before the sampler starts

  std::mutex mu_;
  dataplane::CountersReport kernel_;  // guarded by mu_
  uint64_t kernelActivity_ = 0;       // guarded by mu_
};

}  // namespace lp::reconciler
