#include "reconciler/fastpath_sink.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/log.h"
#include "net/conntrack.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "net/nft_counters.h"
#include "net/nft_runner.h"
#include "reconciler/filter_plan.h"

namespace lp::reconciler {

namespace {

using dataplane::FastLink;
using dataplane::TargetSpec;

constexpr std::chrono::seconds kCountersEvery{2};
constexpr std::chrono::seconds kVerifyEvery{10};
// drain() makes pending links for about this long per call, in chunks of about
// kDrainChunk links (a chunk's translations are one nft batch per namespace and
// side). Between two calls the reconciler makes a pass, and a call stops after
// the chunk under way once an API write came, so a write waits for one chunk at
// most (about 0.5 s at 10,000 endpoints: the provider's batch dominates). Chunks of 128 took up to 1.6 s when their VPC pairs were new
// (a veth each; bench/scale at 200 VPCs, load 3-7).
constexpr std::chrono::milliseconds kDrainBudget{200};
constexpr size_t kDrainChunk = 32;
constexpr std::chrono::seconds kDrainStarveMax{1};
// At scale the per-tick work is bounded, so an idle daemon stays idle (issue 14:
// under 2 % of a core with 10,000 endpoints, 20,000 links on 2,000 VPC pairs): a
// verification pass checks the pairs of at most this many links per tick (a
// whole pass then takes links/50 ticks, 400 s at 20,000 links, instead of 10 s; a
// pair's check is two link lookups and two address dumps: at 100 a tick it was
// 14 % of an idle daemon's time at that size, perf), and a counters round reads the namespaces
// whose figures moved (or that got a link) plus this many of the idle ones in
// turn, each read one nfnetlink dump of the table's counters (net/nft_counters.h:
// about a millisecond; through libnftables it was 7-15 ms), and a conntrack dump
// only when a link may have a connection open.
constexpr size_t kVerifyPerTick = 50;
constexpr size_t kIdleReadsPerRound = 10;
// Hot namespaces (figures moving, connections open) read per round at the most,
// the next ones in the next round: with traffic everywhere a round stays short
// (through libnftables, reading 100 took 0.6-0.9 s of a reconciler pass at 200
// VPCs; over nfnetlink 50 take about 50 ms), and the namespaces of 20,000 new
// links after a restart are read within 40 s.
constexpr size_t kHotReadsPerRound = 50;
// Security group counters are read in at most this many namespaces per counters
// round (one nfnetlink dump each, on the reconciler thread), the next ones in the next
// round: with many VPCs a namespace's figure is a few rounds old, the tick stays short.
constexpr size_t kSgNamespacesPerRound = 10;
// Links of endpoints nobody claimed this long after start were left by a run
// that ended while they were being removed (or the store lost them): removed.
constexpr std::chrono::seconds kSweepAfter{60};
// BIG TCP on the links, as on every other link linkplane makes (docs/dataplane.md).
constexpr uint32_t kGsoIpv4MaxBytes = 185000;

Status nft(const std::string& ns, const std::string& commands) {
  auto r = net::NftRunner::shared().run(ns, commands);
  if (!r.ok()) return Status(r.status().code(), "nft in " + ns + ": " + r.status().message());
  return Status::Ok();
}

// A link's commands; when a map key they set holds another value (see
// elementResets), those keys are deleted alone and the batch runs again.
Status nftLink(const std::string& ns, const std::string& commands) {
  Status st = nft(ns, commands);
  if (st.ok() || st.message().find("File exists") == std::string::npos) return st;
  for (const auto& reset : dataplane::elementResets(commands)) (void)nft(ns, reset);
  return nft(ns, commands);
}

// Removal commands may name things already gone: one batch first, then line by line.
void nftBestEffort(const std::string& ns, const std::string& commands) {
  if (nft(ns, commands).ok()) return;
  std::istringstream in(commands);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) (void)nft(ns, line);
}

uint32_t ipv4(const std::string& s) {
  in_addr a{};
  inet_pton(AF_INET, s.c_str(), &a);
  return ntohl(a.s_addr);
}

}  // namespace

FastPathSink::FastPathSink(std::unique_ptr<ForwarderSink> splice, FastPathOptions options)
    : splice_(std::move(splice)),
      opts_(std::move(options)),
      idsPath_(opts_.stateDir + "/fastpath-links.json"),
      started_(std::chrono::steady_clock::now()) {}

FastPathSink::~FastPathSink() = default;

// The kernel has what the fast path needs when a table with NAT chains, a
// conntrack timeout policy and object maps can be made, and a veth pair between
// two namespaces: tried once at start in two scratch namespaces.
static Status probeKernel() {
  std::string a = "lp-fpprobe-a" + std::to_string(getpid()), b = "lp-fpprobe-b" + std::to_string(getpid());
  auto run = [&]() -> Status {
    LP_RETURN_IF_ERROR(net::createNamespace(a));
    LP_RETURN_IF_ERROR(net::createNamespace(b));
    LP_ASSIGN_OR_RETURN(auto nl, net::Netlink::open(a));
    LP_RETURN_IF_ERROR(nl->ensureVeth("lp-fcprobe", b, "lp-fpprobe"));
    return nft(a, dataplane::fastTableCommands(350, 1000));
  };
  Status st = run();
  (void)net::deleteNamespace(a);
  (void)net::deleteNamespace(b);
  return st;
}

Result<std::unique_ptr<FastPathSink>> FastPathSink::make(std::unique_ptr<ForwarderSink> splice,
                                                         FastPathOptions options) {
  std::unique_ptr<FastPathSink> s(new FastPathSink(std::move(splice), std::move(options)));
  s->splice_->setCounterSource(s.get());
  if (s->opts_.mode != "splice") {
    Status st = probeKernel();
    if (!st.ok() && s->opts_.mode == "kernel")
      return Status("InvalidConfig", "dataplane.path = \"kernel\", but this kernel cannot carry it: " + st.toString());
    if (!st.ok()) LP_LOG_WARN("dataplane: kernel fast path unavailable, every endpoint uses splice: {}", st.toString());
    s->kernelOk_ = st.ok();
  }
  s->loadIds();
  if (!s->kernelOk_ && !s->ids_.empty()) {
    // Started on the splice path over links a kernel-path run left: their
    // connections end (as a restart of the splice path ends its own) and the
    // forwarder's listeners take the endpoints' new connections.
    auto left = s->ids_;
    NetlinkCache nls;
    for (const auto& [iface, p] : left) s->removeLink(p, iface, nls);
    s->flushIds();
  }
  if (s->opts_.inFrontOfBpf) {
    LP_LOG_INFO("dataplane: bpf path, splice for the endpoints it refuses");
  } else {
    LP_LOG_INFO("dataplane: {} path (dataplane.path = {}), {} fast-path links from before",
                s->kernelOk_ ? "kernel" : "splice", s->opts_.mode, s->ids_.size());
  }
  return s;
}

void FastPathSink::loadIds() {
  std::ifstream in(idsPath_);
  if (!in) return;
  try {
    auto j = nlohmann::json::parse(in);
    for (const auto& [iface, v] : j.items()) {
      Persisted p;
      p.id = v.at("id").get<uint32_t>();
      p.endpointId = v.value("endpointId", "");
      p.consumerNs = v.value("consumerNs", "");
      p.providerNs = v.value("providerNs", "");
      p.eniIp = v.value("eniIp", "");
      p.legacy = v.value("link", "") != "pair";
      if (dataplane::usableLinkId(p.id)) setId(iface, p);
    }
  } catch (const std::exception& e) {
    LP_LOG_WARN("dataplane: {} unreadable ({}); fast-path links are made again", idsPath_, e.what());
  }
}

void FastPathSink::flushIds() {
  if (!idsDirty_) return;
  idsDirty_ = false;
  saveIds();
}

void FastPathSink::saveIds() {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [iface, p] : ids_)
    j[iface] = {{"id", p.id},
                {"endpointId", p.endpointId},
                {"consumerNs", p.consumerNs},
                {"providerNs", p.providerNs},
                {"eniIp", p.eniIp},
                {"link", p.legacy ? "own" : "pair"}};
  std::string tmp = idsPath_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(1) << "\n";
    if (!out.flush()) {
      LP_LOG_WARN("dataplane: cannot write {}", tmp);
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, idsPath_, ec);
}

void FastPathSink::setId(const std::string& interfaceId, const Persisted& p) {
  eraseId(interfaceId);
  ids_[interfaceId] = p;
  pairIds_[{p.consumerNs, p.providerNs}].insert(p.id);
  endpointLinks_[p.endpointId].insert(interfaceId);
  usedIds_.insert(p.id);
  idsDirty_ = true;
}

void FastPathSink::eraseId(const std::string& interfaceId) {
  auto it = ids_.find(interfaceId);
  if (it == ids_.end()) return;
  auto pair = pairIds_.find({it->second.consumerNs, it->second.providerNs});
  if (pair != pairIds_.end()) {
    pair->second.erase(it->second.id);
    if (pair->second.empty()) pairIds_.erase(pair);
  }
  if (auto e = endpointLinks_.find(it->second.endpointId); e != endpointLinks_.end()) {
    e->second.erase(interfaceId);
    if (e->second.empty()) endpointLinks_.erase(e);
  }
  usedIds_.erase(it->second.id);
  ids_.erase(it);
  idsDirty_ = true;
}

uint32_t FastPathSink::allocateId(const std::string& interfaceId) {
  if (auto it = ids_.find(interfaceId); it != ids_.end()) return it->second.id;
  // The lowest free id above the last one given (then from the start), so the
  // ids of links removed a moment ago are not the first taken again.
  for (int pass = 0; pass < 2; ++pass) {
    for (uint32_t id = pass ? 1 : nextId_; id <= dataplane::kMaxLinkId; ++id) {
      if (dataplane::usableLinkId(id) && !usedIds_.count(id)) {
        usedIds_.insert(id);
        nextId_ = id + 1;
        return id;
      }
    }
  }
  return 0;
}

Status FastPathSink::ensureTable(const std::string& ns) {
  if (tables_.count(ns)) return Status::Ok();
  LP_RETURN_IF_ERROR(nft(ns, dataplane::fastTableCommands(opts_.idleTimeoutSeconds, opts_.maxConnectionsPerInterface)));
  tables_.insert(ns);
  return Status::Ok();
}

std::map<int, std::vector<TargetSpec>> FastPathSink::tierOf(const FastLink& spec) const {
  std::map<int, std::vector<TargetSpec>> out;
  for (const auto& [port, targets] : spec.targetsByPort) out[port] = dataplane::currentTier(targets, spec.zoneId, health_);
  return out;
}

Result<net::Netlink*> FastPathSink::netlinkOf(NetlinkCache& nls, const std::string& ns) {
  auto& slot = nls[ns];
  if (!slot) {
    LP_ASSIGN_OR_RETURN(slot, net::Netlink::open(ns));
  }
  return slot.get();
}

// Makes (or adopts) the VPC pair's veth, the /31 of each of its link ids on both
// ends, and both namespaces' tables. Idempotent; what is in place is kept, so
// conntrack entries of live connections keep working through it. An address on
// the pair that no link id of the pair owns (left by a link removed while the
// daemon was down) goes: two ends holding one /31 would make its route ambiguous.
Status FastPathSink::ensurePair(const PairKey& pair, NetlinkCache& nls, bool* remade) {
  const auto& [consumerNs, providerNs] = pair;
  auto names = dataplane::pairLinkNames(consumerNs, providerNs);
  LP_ASSIGN_OR_RETURN(net::Netlink * cnl, netlinkOf(nls, consumerNs));
  LP_ASSIGN_OR_RETURN(net::Netlink * pnl, netlinkOf(nls, providerNs));
  auto haveC = cnl->link(names.consumer), haveP = pnl->link(names.provider);
  *remade = !haveC.ok() || !haveP.ok();
  if (*remade) {
    // One end's namespace was made again: the pair went with it, and the table too.
    if (haveC.ok()) LP_RETURN_IF_ERROR(cnl->deleteLink(names.consumer));
    if (haveP.ok()) LP_RETURN_IF_ERROR(pnl->deleteLink(names.provider));
    tables_.erase(consumerNs);
    tables_.erase(providerNs);
    LP_RETURN_IF_ERROR(cnl->ensureVeth(names.consumer, providerNs, names.provider));
    for (auto [nl, name] : {std::pair{cnl, &names.consumer}, std::pair{pnl, &names.provider}})
      if (Status st = nl->setGsoIpv4MaxSize(*name, kGsoIpv4MaxBytes); !st.ok())
        LP_LOG_DEBUG("dataplane: BIG TCP on {}: {}", *name, st.toString());
  }
  std::set<std::string> wantC, wantP;
  if (auto it = pairIds_.find(pair); it != pairIds_.end())
    for (uint32_t id : it->second) {
      auto a = dataplane::linkAddresses(id);
      wantC.insert(a.consumer + "/31");
      wantP.insert(a.provider + "/31");
    }
  // A pair made just now has no address to check.
  auto addresses = [&](net::Netlink& nl, const std::string& name, const std::set<std::string>& want,
                       bool up) -> Status {
    std::set<std::string> have;
    if (!*remade) {
      LP_ASSIGN_OR_RETURN(auto list, nl.addresses(name));
      have.insert(list.begin(), list.end());
    }
    for (const auto& a : have)
      if (!want.count(a)) LP_RETURN_IF_ERROR(nl.removeAddress(name, a));
    // A missing address is only added: the translations do not depend on it, so
    // (unlike a pair made again) it does not make the pair's links written again,
    // which for every new link on an existing pair meant a walk over every endpoint.
    for (const auto& a : want)
      if (!have.count(a)) LP_RETURN_IF_ERROR(nl.addAddress(name, a));
    return up ? Status::Ok() : nl.setUp(name);
  };
  LP_RETURN_IF_ERROR(addresses(*cnl, names.consumer, wantC, haveC.ok() && haveC->up));
  LP_RETURN_IF_ERROR(addresses(*pnl, names.provider, wantP, haveP.ok() && haveP->up));
  LP_RETURN_IF_ERROR(ensureTable(consumerNs));
  LP_RETURN_IF_ERROR(ensureTable(providerNs));
  return Status::Ok();
}

// Provider side first: the consumer's side sends to it.
void FastPathSink::translate(const std::vector<std::pair<std::string, Link*>>& links, std::set<std::string>& failed) {
  auto commands = [&](const Link& l, bool provider) {
    return provider ? dataplane::providerLinkCommands(l.spec, l.id, l.tier)
                    : dataplane::consumerLinkCommands(l.spec, l.id, opts_.endpointBytesPerSecond,
                                                      opts_.maxConnectionsPerInterface);
  };
  for (bool provider : {true, false}) {
    std::map<std::string, std::vector<std::pair<const std::string*, Link*>>> byNs;
    for (const auto& [endpointId, l] : links)
      if (!failed.count(endpointId)) byNs[provider ? l->spec.providerNs : l->spec.consumerNs].emplace_back(&endpointId, l);
    for (const auto& [ns, nsLinks] : byNs) {
      std::string batch;
      for (const auto& [endpointId, l] : nsLinks)
        if (!failed.count(*endpointId)) batch += commands(*l, provider);
      if (batch.empty() || nftLink(ns, batch).ok()) continue;
      for (const auto& [endpointId, l] : nsLinks) {  // which one: link by link
        if (failed.count(*endpointId)) continue;
        if (Status st = nftLink(ns, commands(*l, provider)); !st.ok()) {
          LP_LOG_WARN("dataplane: fast path for {} ({}) failed, splice carries it: {}", l->spec.interfaceId,
                      *endpointId, st.toString());
          failed.insert(*endpointId);
        }
      }
    }
  }
}

// Ends the link's connections and removes it: translation first (no new
// connection takes it), then the conntrack entries (the next packet of a live
// connection meets the namespace's own stack, which resets it), then its
// addresses, and the pair's veth with the pair's last link.
void FastPathSink::removeLink(Persisted p, const std::string& interfaceId, NetlinkCache& nls) {
  FastLink f;
  f.interfaceId = interfaceId;
  f.eniIp = p.eniIp;
  const bool haveC = net::namespaceExists(p.consumerNs), haveP = net::namespaceExists(p.providerNs);
  if (haveC) nftBestEffort(p.consumerNs, dataplane::consumerLinkRemoval(f, p.id));
  if (haveP) nftBestEffort(p.providerNs, dataplane::providerLinkRemoval(f, p.id));
  size_t cut = cutConnections(p.id, p.consumerNs, p.providerNs, {});
  PairKey pair{p.consumerNs, p.providerNs};
  eraseId(interfaceId);  // saved by the caller, once for all it removes
  auto names = dataplane::pairLinkNames(p.consumerNs, p.providerNs);
  const bool last = !pairIds_.count(pair);
  auto addr = dataplane::linkAddresses(p.id);
  if (haveC) {
    if (auto nl = netlinkOf(nls, p.consumerNs); nl.ok()) {
      if (p.legacy) (void)(*nl)->deleteLink(dataplane::legacyConsumerLinkName(interfaceId));
      if (last)
        (void)(*nl)->deleteLink(names.consumer);  // its peer goes with it
      else
        (void)(*nl)->removeAddress(names.consumer, addr.consumer + "/31");
    }
  }
  if (haveP && !last)
    if (auto nl = netlinkOf(nls, p.providerNs); nl.ok()) (void)(*nl)->removeAddress(names.provider, addr.provider + "/31");
  LP_LOG_INFO("dataplane: fast path of {} ({}) removed, {} conntrack entries cut", interfaceId, p.endpointId, cut);
  std::lock_guard lock(mu_);
  kernel_.interfaces.erase(interfaceId);
}

// Ends connections of link id whose provider-side entry passes keep (all when
// empty): their conntrack entries go in both namespaces, then each side's peer
// (client and target) is made to reset at once (net::tcpKill). Returns how many.
size_t FastPathSink::cutConnections(uint32_t id, const std::string& consumerNs, const std::string& providerNs,
                                    const std::function<bool(const net::ConntrackEntry&)>& keep) {
  uint32_t mark = dataplane::linkMark(id);
  std::vector<net::ConntrackEntry> provider, consumer;
  if (net::namespaceExists(providerNs)) {
    if (auto e = net::conntrackDump(providerNs, mark, 0xffffffff); e.ok()) {
      for (auto& x : *e)
        if (!keep || keep(x)) provider.push_back(x);
    } else {
      LP_LOG_WARN("dataplane: conntrack in {}: {}", providerNs, e.status().toString());
    }
  }
  if (net::namespaceExists(consumerNs)) {
    if (auto e = net::conntrackDump(consumerNs, mark, 0xffffffff); e.ok()) {
      // The consumer's entry of a connection: its reply comes from the provider
      // side's original destination, to the port the provider side saw.
      std::set<uint16_t> ports;
      for (const auto& x : provider) ports.insert(x.original.sport);
      for (auto& x : *e)
        if (!keep || ports.count(x.reply.dport)) consumer.push_back(x);
    } else {
      LP_LOG_WARN("dataplane: conntrack in {}: {}", consumerNs, e.status().toString());
    }
  }
  for (const auto& x : provider) (void)net::conntrackDelete(providerNs, x.original);
  for (const auto& x : consumer) (void)net::conntrackDelete(consumerNs, x.original);
  for (const auto& x : consumer)
    if (x.open()) (void)net::tcpKill(consumerNs, x.original.dst, x.original.dport, x.original.src, x.original.sport);
  for (const auto& x : provider)
    if (x.open()) (void)net::tcpKill(providerNs, x.reply.dst, x.reply.dport, x.reply.src, x.reply.sport);
  return std::max(provider.size(), consumer.size());
}

dataplane::UpdateResult FastPathSink::apply(const dataplane::SnapshotDelta& delta) {
  // linksVersion_ moves only when byEndpoint_ or endpointInterfaces_ change: the
  // reconciler's drift slices hand the same endpoints over again every tick.
  for (const auto& [endpointId, listeners] : delta.endpoints) {
    std::set<std::pair<std::string, std::string>> ifaces;
    for (const auto& l : listeners)
      if (!l.ns.empty()) ifaces.insert({l.interfaceId, l.ns});
    std::vector<std::pair<std::string, std::string>> now(ifaces.begin(), ifaces.end());
    auto had = endpointInterfaces_.find(endpointId);
    if (had == endpointInterfaces_.end() ? now.empty() : had->second == now) continue;
    ++linksVersion_;
    if (now.empty())
      endpointInterfaces_.erase(endpointId);
    else
      endpointInterfaces_[endpointId] = std::move(now);
  }
  if (kernelOk_) {
    // Every endpoint's links and ids, recorded in one write of the links file
    // before any link is made (so a crash leaves nothing unrecorded); the links
    // are made by drain(). One write per link rewrote the whole file each time:
    // quadratic.
    NetlinkCache nls;
    for (const auto& [endpointId, listeners] : delta.endpoints) {
      std::string why = dataplane::fastPathRefusal(listeners);
      std::vector<Link> next;
      if (why.empty()) {
        for (auto& f : dataplane::fastLinks(listeners)) {
          Link l;
          l.spec = std::move(f);
          l.id = allocateId(l.spec.interfaceId);
          if (l.id == 0) {
            why = "no free link id";
            break;
          }
          next.push_back(std::move(l));
        }
        if (!why.empty())  // the ids just taken for it go back
          for (const auto& l : next)
            if (!ids_.count(l.spec.interfaceId)) usedIds_.erase(l.id);
      }
      // Interfaces no longer on the fast path (or the whole endpoint) lose their
      // links now: their connections end before this returns.
      std::set<std::string> keep;
      if (why.empty())
        for (const auto& l : next) keep.insert(l.spec.interfaceId);
      std::vector<std::string> drop;
      if (auto had = endpointLinks_.find(endpointId); had != endpointLinks_.end())
        for (const auto& iface : had->second)
          if (!keep.count(iface)) drop.push_back(iface);
      for (const auto& iface : drop) removeLink(ids_.at(iface), iface, nls);
      pending_.erase(endpointId);
      if (!why.empty()) {
        if (byEndpoint_.erase(endpointId)) ++linksVersion_;
        if (!listeners.empty() && why != "not forwarding")
          LP_LOG_DEBUG("dataplane: {} goes through splice: {}", endpointId, why);
        continue;
      }
      if (auto live = byEndpoint_.find(endpointId); live != byEndpoint_.end()) {
        if (std::erase_if(live->second, [&](const Link& l) { return !keep.count(l.spec.interfaceId); })) ++linksVersion_;
        if (live->second.empty()) byEndpoint_.erase(live);
      }
      for (const auto& l : next) {
        Persisted p{l.id, endpointId, l.spec.consumerNs, l.spec.providerNs, l.spec.eniIp};
        auto it = ids_.find(l.spec.interfaceId);
        if (it != ids_.end() && it->second == p) continue;
        if (it != ids_.end() && it->second.legacy && net::namespaceExists(it->second.consumerNs)) {
          // Its own veth, from a run before the shared links: gone before the file
          // says the link is on the pair (else a crash in between would leave two
          // devices holding its /31).
          if (auto nl = netlinkOf(nls, it->second.consumerNs); nl.ok())
            (void)(*nl)->deleteLink(dataplane::legacyConsumerLinkName(l.spec.interfaceId));
        }
        setId(l.spec.interfaceId, p);
      }
      // The same links as in place (the same specs and ids): nothing to make. A
      // drift slice hands every endpoint over again, and writing its translations
      // again meant an nft batch in the provider's namespace, which reads that
      // namespace's whole table first, every tick (most of an idle daemon's time
      // at 10,000 endpoints). Devices are checked by verifyLinks; a pair made again
      // gets its links' translations written again there.
      if (auto live = byEndpoint_.find(endpointId); live != byEndpoint_.end() && live->second.size() == next.size() &&
                                                     std::equal(next.begin(), next.end(), live->second.begin(),
                                                                [](const Link& a, const Link& b) {
                                                                  return a.id == b.id && a.spec == b.spec;
                                                                }))
        continue;
      pending_[endpointId] = std::move(next);
    }
    flushIds();
  }
  return splice_->apply(delta);
}

bool FastPathSink::drain(const std::function<bool()>& newWork) {
  if (pending_.empty()) return false;
  using Clock = std::chrono::steady_clock;
  const auto from = Clock::now();
  // A write waiting goes first (its endpoint is available through the forwarder
  // meanwhile), unless links have waited kDrainStarveMax already: under a steady
  // stream of creates they are still made, a chunk at a time.
  if (newWork && newWork() && from - lastDrained_ < kDrainStarveMax) return true;
  lastDrained_ = from;
  NetlinkCache nls;
  size_t endpoints = 0, links = 0;
  while (!pending_.empty() && Clock::now() - from < kDrainBudget) {
    std::vector<std::pair<std::string, std::vector<Link>>> toMake;
    size_t n = 0;
    for (auto it = pending_.begin(); it != pending_.end() && n < kDrainChunk;) {
      n += it->second.size();
      toMake.emplace_back(it->first, std::move(it->second));
      it = pending_.erase(it);
    }
    endpoints += toMake.size();
    links += n;
    makeLinks(toMake, nls);
    if (newWork && newWork()) break;
  }
  if (auto took = Clock::now() - from; took > std::chrono::milliseconds(500))
    LP_LOG_INFO("dataplane: fast path links of {} endpoints ({} links) made in {} ms, {} endpoints left", endpoints,
                links, std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), pending_.size());
  return !pending_.empty();
}

void FastPathSink::makeLinks(std::vector<std::pair<std::string, std::vector<Link>>>& toMake, NetlinkCache& nls) {
  // The VPC pairs' devices and addresses, then the translations in one nft batch
  // per namespace and side (each batch reads the namespace's table first, so a
  // batch per link made a pass over N new links cost N times a table that grows
  // with N: 64 ms per endpoint at 250 endpoints in one provider VPC).
  std::set<std::string> failed;  // endpoints whose links could not all be made
  std::set<std::string> named;
  std::map<PairKey, std::vector<std::string>> pairs;  // -> endpoints with links on it
  for (auto& [endpointId, next] : toMake) {
    named.insert(endpointId);
    for (auto& l : next) {
      pairs[{l.spec.consumerNs, l.spec.providerNs}].push_back(endpointId);
      l.tier = tierOf(l.spec);
    }
  }
  std::set<PairKey> remade;
  for (const auto& [pair, endpoints] : pairs) {
    bool again = false;
    if (Status st = ensurePair(pair, nls, &again); !st.ok()) {
      LP_LOG_WARN("dataplane: fast path between {} and {} failed, splice carries {} endpoints: {}", pair.first,
                  pair.second, endpoints.size(), st.toString());
      failed.insert(endpoints.begin(), endpoints.end());
    } else if (again) {
      remade.insert(pair);
    }
  }
  std::vector<std::pair<std::string, Link*>> links;
  for (auto& [endpointId, next] : toMake)
    for (auto& l : next) links.emplace_back(endpointId, &l);
  // A pair made again (a namespace was made again) lost the translations of the
  // links already on it, of endpoints not made here.
  if (!remade.empty())
    for (auto& [endpointId, live] : byEndpoint_)
      if (!named.count(endpointId))
        for (auto& l : live)
          if (remade.count({l.spec.consumerNs, l.spec.providerNs})) links.emplace_back(endpointId, &l);
  translate(links, failed);
  for (auto& [endpointId, next] : toMake) {
    if (failed.count(endpointId)) {
      for (const auto& l : next)
        if (ids_.count(l.spec.interfaceId)) removeLink(ids_.at(l.spec.interfaceId), l.spec.interfaceId, nls);
      byEndpoint_.erase(endpointId);
      continue;
    }
    for (const auto& l : next) hot_.insert(l.spec.consumerNs);  // its figures are read at the next round
    byEndpoint_[endpointId] = std::move(next);
  }
  ++linksVersion_;
  flushIds();
}

void FastPathSink::refreshHealth() {
  std::map<std::string, dataplane::Health> now;
  for (const auto& [key, r] : splice_->health()) now[key] = r.state;
  if (now == health_) return;
  std::set<std::string> turnedUnhealthy;
  for (const auto& [key, h] : now) {
    auto was = health_.find(key);
    if (h == dataplane::Health::kUnhealthy && (was == health_.end() || was->second != h)) turnedUnhealthy.insert(key);
  }
  health_ = std::move(now);
  // Links whose targets changed, rewritten in one batch per provider namespace:
  // each nft run there reads the namespace's table first (one chain per link), so
  // a run per link made a target of 5,000 endpoints turning unhealthy hold the
  // reconciler for minutes at 10,000 endpoints (bench/scale with its targets down).
  std::map<std::string, std::vector<std::pair<Link*, decltype(Link::tier)>>> retier;
  for (auto& [endpointId, links] : byEndpoint_)
    for (auto& l : links)
      if (auto tier = tierOf(l.spec); tier != l.tier) retier[l.spec.providerNs].emplace_back(&l, std::move(tier));
  for (auto& [ns, changes] : retier) {
    std::string batch;
    for (const auto& [l, tier] : changes) batch += dataplane::providerLinkCommands(l->spec, l->id, tier);
    bool all = nftLink(ns, batch).ok();
    for (auto& [l, tier] : changes) {  // the batch failed: link by link, to know which
      Status st = all ? Status::Ok() : nftLink(ns, dataplane::providerLinkCommands(l->spec, l->id, tier));
      if (st.ok()) {
        l->tier = std::move(tier);
      } else {
        LP_LOG_WARN("dataplane: targets of {}: {}", l->spec.interfaceId, st.toString());
      }
    }
  }
  if (turnedUnhealthy.empty()) return;
  for (auto& [endpointId, links] : byEndpoint_) {
    for (auto& l : links) {
      // An NLB ends the connections of a target that turns unhealthy (unless the
      // group's connection_termination is off).
      std::set<std::pair<uint32_t, uint16_t>> cut;
      for (const auto& [port, targets] : l.spec.targetsByPort)
        for (const auto& t : targets)
          if (t.terminateWhenUnhealthy && turnedUnhealthy.count(t.healthKey))
            cut.insert({ipv4(t.ip), static_cast<uint16_t>(t.port)});
      if (cut.empty()) continue;
      size_t n = cutConnections(l.id, l.spec.consumerNs, l.spec.providerNs, [&](const net::ConntrackEntry& e) {
        return cut.count({e.reply.src, e.reply.sport}) > 0;
      });
      if (n) LP_LOG_INFO("dataplane: {} connections of {} to unhealthy targets ended", n, l.spec.interfaceId);
    }
  }
}

namespace {
uint64_t figure(const std::map<std::string, uint64_t>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}
}  // namespace

// The report is built again only when a figure read this round moved or the
// links changed: building it over every interface each round (20,000 at 10,000
// endpoints, string-keyed maps) was 57 % of an idle daemon's time (perf).
void FastPathSink::readCounters() {
  bool changed = reportedVersion_ != linksVersion_;
  if (kernelOk_) readLinkCounters(changed);
  addSecurityGroupDrops(changed);
  if (!changed) return;
  reportedVersion_ = linksVersion_;
  dataplane::CountersReport r;
  if (kernelOk_)
    for (const auto& [endpointId, links] : byEndpoint_)
      for (const auto& l : links)
        if (auto it = linkFigures_.find(l.spec.interfaceId); it != linkFigures_.end()) {
          r.interfaces[l.spec.interfaceId] = it->second;
          r.endpoints[endpointId] += it->second;
        }
  for (const auto& [ns, ifaces] : sgNs_) {
    auto d = sgDrops_.find(ns);
    if (d == sgDrops_.end()) continue;
    for (const auto& [iface, endpointId] : ifaces) {
      uint64_t total = figure(d->second.before, iface) + figure(d->second.last, iface);
      if (total == 0) continue;
      r.interfaces[iface].dropped += total;
      r.endpoints[endpointId].dropped += total;
    }
  }
  std::lock_guard lock(mu_);
  if (r.endpoints != kernel_.endpoints || r.interfaces != kernel_.interfaces) {
    kernel_ = std::move(r);
    ++kernelActivity_;
  }
}

// A namespace whose counters cannot be read this round keeps the figures of the
// last one: cumulative figures must never go back (the metrics would count them twice).
void FastPathSink::readLinkCounters(bool& changed) {
  if (linkNsVersion_ != linksVersion_) {
    linkNsVersion_ = linksVersion_;
    linkNs_.clear();
    std::set<std::string> live;
    for (const auto& [_, links] : byEndpoint_)
      for (const auto& l : links) {
        linkNs_[l.spec.consumerNs].push_back(&l);
        live.insert(l.spec.interfaceId);
      }
    std::erase_if(linkFigures_, [&](const auto& kv) { return !live.count(kv.first); });
  }
  const auto& byNs = linkNs_;
  // This round: the hot namespaces, and the next idle ones in turn (kIdleReadsPerRound).
  // The hot ones from where the last round stopped (kHotReadsPerRound); those left
  // over stay hot for the next.
  std::set<std::string> read, hot;
  std::vector<std::string> hotList;
  for (const auto& ns : hot_)
    if (byNs.count(ns)) hotList.push_back(ns);
  size_t first = std::upper_bound(hotList.begin(), hotList.end(), hotCursor_) - hotList.begin();
  for (size_t k = 0; k < hotList.size(); ++k) {
    const std::string& ns = hotList[(first + k) % hotList.size()];
    if (k < kHotReadsPerRound) {
      read.insert(ns);
      hotCursor_ = ns;
    } else {
      hot.insert(ns);
    }
  }
  size_t idle = 0;
  auto from = byNs.upper_bound(idleCursor_);
  for (size_t seen = 0; seen < byNs.size() && idle < kIdleReadsPerRound; ++seen, ++from) {
    if (from == byNs.end()) from = byNs.begin();
    if (read.insert(from->first).second) ++idle;
    idleCursor_ = from->first;
  }
  for (const auto& ns : read) {
    const std::vector<const Link*>& links = byNs.at(ns);
    auto got = net::nftCounters(ns, NFPROTO_IPV4, dataplane::kFastTable);
    if (!got.ok()) {
      LP_LOG_WARN("dataplane: counters in {}: {}", ns, got.status().toString());
      hot.insert(ns);  // tried again next round
      continue;
    }
    auto counter = [&](const std::string& name) {
      auto it = got->counters.find(name);
      return it == got->counters.end() ? net::NftCounter{} : it->second;
    };
    std::vector<dataplane::TrafficCounters> now(links.size());
    // The open connections come from a conntrack dump, which walks the host's whole
    // conntrack table (it is shared by every namespace): half of an idle daemon's
    // time at 1,000 endpoints. Skipped unless a link may have one open: it has
    // had a connection, and it had one open last time or has had a new one since.
    bool moved = false;
    for (size_t i = 0; i < links.size(); ++i) {
      auto names = dataplane::linkCounterNames(links[i]->id);
      dataplane::TrafficCounters& t = now[i];
      t.bytesIn = counter(names.in).bytes;
      t.bytesOut = counter(names.out).bytes;
      t.connections = counter(names.fresh).packets;
      t.resets = counter(names.resets).packets;
      t.dropped = counter(names.dropped).packets + counter(names.refused).packets;
      if (t.connections == 0) continue;
      auto was = linkFigures_.find(links[i]->spec.interfaceId);
      if (was == linkFigures_.end() || was->second.active > 0 || was->second.connections != t.connections)
        moved = true;
    }
    std::map<uint32_t, uint64_t> open;
    if (moved)
      if (auto entries = net::conntrackDump(ns, dataplane::kFastMarkBase, dataplane::kFastMarkMask); entries.ok())
        for (const auto& e : *entries)
          if (e.open()) ++open[e.mark];
    for (size_t i = 0; i < links.size(); ++i) {
      const Link* l = links[i];
      dataplane::TrafficCounters& t = now[i];
      t.active = open[dataplane::linkMark(l->id)];
      auto was = linkFigures_.find(l->spec.interfaceId);
      // Hot while its figures move or a connection is open (bytes may move on it).
      // A link never read counts as all zeros: a new link with no traffic yet is
      // read once, not twice, and changes nothing (after a build-out of 20,000
      // links, reading each twice kept 800 namespaces hot for minutes).
      bool same = (was == linkFigures_.end() ? dataplane::TrafficCounters{} : was->second) == t;
      if (t.active > 0 || !same) hot.insert(ns);
      if (!same) {
        linkFigures_[l->spec.interfaceId] = t;
        changed = true;
      }
    }
    watchConntrackFull(ns);
  }
  hot_ = std::move(hot);
}

// Reads each consumer namespace's security group drop counters (one per endpoint
// interface) into r. The lp-sg table is made anew whenever the VPC's rules
// change, and its counters with it: a new table handle means what the old table
// counted is kept as a base (the packets dropped between the last read and the
// change are lost). The handle is read before and after the counters; a round in
// which it changed is skipped.
void FastPathSink::addSecurityGroupDrops(bool& changed) {
  if (sgNsVersion_ != linksVersion_) {
    sgNsVersion_ = linksVersion_;
    sgNs_.clear();
    for (const auto& [endpointId, ifaces] : endpointInterfaces_)
      for (const auto& [iface, ns] : ifaces) sgNs_[ns].push_back({iface, endpointId});
    std::erase_if(sgDrops_, [&](const auto& kv) { return !sgNs_.count(kv.first); });
  }
  const auto& byNs = sgNs_;
  size_t index = 0, reads = 0;
  if (sgCursor_ >= byNs.size()) sgCursor_ = 0;
  for (const auto& nsIfaces : byNs) {
    const std::string& ns = nsIfaces.first;
    const auto& ifaces = nsIfaces.second;
    // A round that cannot read a namespace's counters keeps the totals of the last
    // one (cumulative figures must never go back: the metrics would count them twice).
    bool turn = index++ >= sgCursor_ && reads < kSgNamespacesPerRound;
    if (!turn) continue;
    SgDrops& d = sgDrops_[ns];
    ++reads;
    // Fails while there is no lp-sg table yet, or when it was made anew while
    // read (next round).
    auto got = net::nftCounters(ns, NFPROTO_INET, kSgTable);
    if (!got.ok()) continue;
    uint64_t handle = got->tableHandle;
    std::map<std::string, uint64_t> packets;
    for (const auto& [name, c] : got->counters) packets[name] = c.packets;
    bool remade = d.tableHandle != 0 && d.tableHandle != handle;
    d.tableHandle = handle;
    // Zeros are not kept: a namespace read for the first time is no change, and
    // the first sweep through 1,000 namespaces does not rebuild the report each round.
    std::map<std::string, uint64_t> last, before;
    for (const auto& [iface, endpointId] : ifaces) {
      uint64_t now = figure(packets, sgDropCounter(iface));
      uint64_t was = figure(d.last, iface);
      uint64_t base = figure(d.before, iface);
      if (remade || now < was) base += was;
      if (now) last[iface] = now;
      if (base) before[iface] = base;
    }
    if (last != d.last || before != d.before) changed = true;
    d.last = std::move(last);
    d.before = std::move(before);
    if (!kernelOk_) watchConntrackFull(ns);
  }
  sgCursor_ = sgCursor_ + reads >= byNs.size() ? 0 : sgCursor_ + reads;
}

// A full conntrack table drops new connections before any rule can count them
// per interface: the namespace's own count, logged when it grows.
void FastPathSink::watchConntrackFull(const std::string& ns) {
  auto drops = net::conntrackTableFullDrops(ns);
  if (!drops.ok()) return;
  uint64_t& seen = conntrackFull_[ns];
  if (*drops > seen)
    LP_LOG_WARN(
        "dataplane: the conntrack table is full in {}: {} new packets dropped (nf_conntrack_max, now {} in all); "
        "raise net.netfilter.nf_conntrack_max",
        ns, *drops - seen, *drops);
  seen = *drops;
}

// A slice of the VPC pairs per tick, round-robin (see kVerifyPerTick); a new
// pass starts at most every kVerifyEvery. A pair found made again (one of its
// namespaces was) gets its links' translations written again.
void FastPathSink::verifyLinks(std::chrono::steady_clock::time_point now) {
  if (verifyCursor_.first.empty() && now - lastVerify_ < kVerifyEvery) return;
  NetlinkCache nls;
  size_t checked = 0;
  std::set<PairKey> remade;
  auto it = pairIds_.upper_bound(verifyCursor_);
  for (; it != pairIds_.end() && checked < kVerifyPerTick; ++it) {
    bool again = false;
    if (Status st = ensurePair(it->first, nls, &again); !st.ok())
      LP_LOG_WARN("dataplane: fast path between {} and {}: {}", it->first.first, it->first.second, st.toString());
    else if (again)
      remade.insert(it->first);
    checked += it->second.size();
    verifyCursor_ = it->first;
  }
  if (it == pairIds_.end()) {  // the pass is over
    verifyCursor_ = {};
    lastVerify_ = now;
  }
  if (remade.empty()) return;
  std::vector<std::pair<std::string, Link*>> links;
  for (auto& [endpointId, live] : byEndpoint_)
    for (auto& l : live)
      if (remade.count({l.spec.consumerNs, l.spec.providerNs})) {
        l.tier = tierOf(l.spec);
        links.emplace_back(endpointId, &l);
      }
  std::set<std::string> failed;
  translate(links, failed);
  for (const auto& endpointId : failed) LP_LOG_WARN("dataplane: fast path of {} not restored", endpointId);
}

void FastPathSink::tick() {
  auto now = std::chrono::steady_clock::now();
  if (now - lastCounters_ >= kCountersEvery) {
    lastCounters_ = now;
    readCounters();
  }
  if (kernelOk_) {
    refreshHealth();
    verifyLinks(now);
    if (!swept_ && now - started_ >= kSweepAfter) {
      swept_ = true;
      std::set<std::string> live;
      for (const auto& [_, links] : byEndpoint_)
        for (const auto& l : links) live.insert(l.spec.interfaceId);
      for (const auto& [_, links] : pending_)
        for (const auto& l : links) live.insert(l.spec.interfaceId);
      std::vector<std::string> orphans;
      for (const auto& [iface, _] : ids_)
        if (!live.count(iface)) orphans.push_back(iface);
      NetlinkCache nls;
      for (const auto& iface : orphans) removeLink(ids_.at(iface), iface, nls);
      flushIds();
    }
  }
  splice_->tick();
}

void FastPathSink::stop() {
  // A clean stop removes the namespaces (Reconciler::teardown), and with them the
  // links, tables and conntrack; the links file goes so a later start begins from
  // nothing.
  splice_->stop();
  ids_.clear();
  pairIds_.clear();
  endpointLinks_.clear();
  usedIds_.clear();
  byEndpoint_.clear();
  pending_.clear();
  ++linksVersion_;
  std::error_code ec;
  std::filesystem::remove(idsPath_, ec);
}

dataplane::CountersReport FastPathSink::counters() {
  dataplane::CountersReport r = splice_->forwarder().counters();
  // The BPF path's and the conntrack path's figures live in the kernel (kept).
  auto add = [&](const dataplane::CountersReport& x) {
    for (const auto& [id, c] : x.endpoints) r.endpoints[id] += c;
    for (const auto& [id, c] : x.interfaces) {
      r.interfaces[id] += c;
      r.kept[id] += c;
    }
  };
  if (extra_) add(extra_->counters());
  std::lock_guard lock(mu_);
  add(kernel_);
  return r;
}

uint64_t FastPathSink::activity() {
  uint64_t a = splice_->forwarder().activity() + (extra_ ? extra_->activity() : 0);
  std::lock_guard lock(mu_);
  return a + kernelActivity_;
}

}  // namespace lp::reconciler
