#include "reconciler/bpf_fastpath_kernel.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "common/log.h"
#include "dataplane/bpf_sweep.h"
#include "dataplane/fastpath_plan.h"
#include "net/bpf/bpf_fastpath.h"
#include "net/bpf/bpffs.h"
#include "net/bpf/fastpath_pins.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "net/nft_runner.h"
#include "net/tcp_reset.h"

namespace lp::reconciler {

namespace {

namespace bpf = net::bpf;
using dataplane::BpfHook;
using dataplane::BpfProgram;

uint32_t addr(const std::string& s) {
  in_addr a{};
  inet_pton(AF_INET, s.c_str(), &a);
  return a.s_addr;  // network order, as the maps hold it
}

struct Device {
  uint32_t ifindex = 0;
  uint8_t mac[6] = {};
};

// One namespace's sockets, each opened on first use. Opening one means a thread
// entering the namespace: bench/bpf measures what sharing them across a diff saves.
struct NamespaceSockets {
  std::unique_ptr<net::Netlink> nl;
  int ioctlFd = -1;  // AF_INET datagram socket for the device ioctls
  NamespaceSockets() = default;
  NamespaceSockets(const NamespaceSockets&) = delete;
  NamespaceSockets& operator=(const NamespaceSockets&) = delete;
  ~NamespaceSockets() {
    if (ioctlFd >= 0) close(ioctlFd);
  }
};

// A device's ifindex and MAC inside its namespace (ioctls on a socket made there).
Result<Device> device(int sock, const std::string& ns, const std::string& name) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  Device d;
  int rc = ioctl(sock, SIOCGIFINDEX, &ifr);
  if (rc == 0) {
    d.ifindex = static_cast<uint32_t>(ifr.ifr_ifindex);
    rc = ioctl(sock, SIOCGIFHWADDR, &ifr);
  }
  if (rc != 0) return Status("NotFound", "device " + name + " in " + ns + ": " + std::strerror(errno));
  std::memcpy(d.mac, ifr.ifr_hwaddr.sa_data, 6);
  return d;
}

bpf::TcHook hookOf(BpfHook h) { return h == BpfHook::kIngress ? bpf::TcHook::kIngress : bpf::TcHook::kEgress; }
bpf::FastpathProgram programOf(BpfProgram p) {
  switch (p) {
    case BpfProgram::kWorkloadIn:
      return bpf::FastpathProgram::kWorkloadIn;
    case BpfProgram::kLinkOut:
      return bpf::FastpathProgram::kLinkOut;
    case BpfProgram::kLinkIn:
      break;
  }
  return bpf::FastpathProgram::kLinkIn;
}

Status nft(const std::string& ns, const std::string& commands) {
  auto r = net::NftRunner::shared().run(ns, commands);
  if (!r.ok()) return Status(r.status().code(), "nft in " + ns + ": " + r.status().message());
  return Status::Ok();
}

// Runs fn with a descriptor of the namespace; a namespace that is gone is Ok for
// removals (absent = done).
Status inNamespace(const std::string& ns, bool absentOk, const std::function<Status(int)>& fn) {
  if (absentOk && !net::namespaceExists(ns)) return Status::Ok();
  LP_ASSIGN_OR_RETURN(int fd, net::openNamespace(ns));
  Status st = fn(fd);
  close(fd);
  return st;
}

class KernelBpfExecutor final : public BpfExecutor {
 public:
  // pinDir: where maps_ is pinned ("" for maps no pin holds).
  KernelBpfExecutor(std::unique_ptr<bpf::FastpathMaps> maps, std::string pinDir)
      : maps_(std::move(maps)), pinDir_(std::move(pinDir)) {}
  ~KernelBpfExecutor() override { waitForSweep(); }

  void beginBatch() override { batching_ = true; }
  void endBatch() override {
    batching_ = false;
    sockets_.clear();  // a socket keeps its namespace alive: none outlives the batch
  }

  Status load(uint32_t space, const std::string& ns) override {
    LP_ASSIGN_OR_RETURN(auto p, bpf::FastpathPrograms::load(*maps_, space));
    programs_[space] = std::move(p);
    LP_LOG_DEBUG("dataplane: bpf programs loaded for space {} ({})", space, ns);
    return Status::Ok();
  }
  Status unload(uint32_t space) override {
    programs_.erase(space);  // attached copies stay until detached
    return Status::Ok();
  }

  // The pair's veth (made when absent) and each link's /31 on both ends, up.
  Status putPair(const dataplane::BpfPair& p) override {
    CallScope scope(*this);
    LP_ASSIGN_OR_RETURN(net::Netlink * cnl, netlink(p.consumerNs));
    LP_ASSIGN_OR_RETURN(net::Netlink * pnl, netlink(p.providerNs));
    bool haveC = cnl->link(p.consumerDevice).ok(), haveP = pnl->link(p.providerDevice).ok();
    if (!haveC || !haveP) {
      // One end's namespace was made again, and the pair went with it.
      if (haveC) LP_RETURN_IF_ERROR(cnl->deleteLink(p.consumerDevice));
      if (haveP) LP_RETURN_IF_ERROR(pnl->deleteLink(p.providerDevice));
      LP_RETURN_IF_ERROR(cnl->ensureVeth(p.consumerDevice, p.providerNs, p.providerDevice));
    }
    std::set<std::string> wantC, wantP;
    for (uint32_t id : p.linkIds) {
      auto a = dataplane::linkAddresses(id);
      wantC.insert(a.consumer + "/31");
      wantP.insert(a.provider + "/31");
    }
    for (auto [nl, name, want] :
         {std::tuple{cnl, &p.consumerDevice, &wantC}, std::tuple{pnl, &p.providerDevice, &wantP}}) {
      LP_ASSIGN_OR_RETURN(auto have, nl->addresses(*name));
      for (const auto& a : have)
        if (!want->count(a)) LP_RETURN_IF_ERROR(nl->removeAddress(*name, a));
      for (const auto& a : *want) LP_RETURN_IF_ERROR(nl->addAddress(*name, a));
      LP_RETURN_IF_ERROR(nl->setUp(*name));
    }
    return Status::Ok();
  }
  Status deletePair(const dataplane::BpfPairKey& k) override {
    if (!net::namespaceExists(k.first)) return Status::Ok();
    CallScope scope(*this);
    LP_ASSIGN_OR_RETURN(net::Netlink * nl, netlink(k.first));
    auto names = dataplane::pairLinkNames(k.first, k.second);
    if (!nl->link(names.consumer).ok()) return Status::Ok();
    return nl->deleteLink(names.consumer);  // its peer goes with it
  }

  Status setSysctl(const dataplane::BpfSysctl& s) override { return net::setSysctl(s.ns, s.key, s.value); }

  static net::RuleInfo ruleOf(const dataplane::BpfRule& r) {
    net::RuleInfo info;
    info.pref = r.pref;
    info.iif = r.selector.rfind("iif ", 0) == 0 ? r.selector.substr(4) : "";
    info.table = r.table;
    return info;
  }
  Status addRule(const dataplane::BpfRule& r) override {
    CallScope scope(*this);
    LP_ASSIGN_OR_RETURN(net::Netlink * nl, netlink(r.ns));
    return nl->addRule(ruleOf(r));
  }
  Status deleteRule(const dataplane::BpfRule& r) override {
    if (!net::namespaceExists(r.ns)) return Status::Ok();
    CallScope scope(*this);
    LP_ASSIGN_OR_RETURN(net::Netlink * nl, netlink(r.ns));
    return nl->deleteRule(ruleOf(r));
  }
  Status moveLocalRule(const std::string& ns) override {
    CallScope scope(*this);
    LP_ASSIGN_OR_RETURN(net::Netlink * nl, netlink(ns));
    return nl->deleteRule({0, "", 255});
  }
  Status restoreLocalRule(const std::string& ns) override {
    if (!net::namespaceExists(ns)) return Status::Ok();
    CallScope scope(*this);
    LP_ASSIGN_OR_RETURN(net::Netlink * nl, netlink(ns));
    return nl->addRule({0, "", 255});
  }
  Status addRoute(const dataplane::BpfRoute& r) override {
    CallScope scope(*this);
    LP_ASSIGN_OR_RETURN(net::Netlink * nl, netlink(r.ns));
    return nl->replaceRoute({dataplane::kBpfRouteTable, r.dst, r.via, r.device, false});
  }
  Status deleteRoute(const dataplane::BpfRoute& r) override {
    if (!net::namespaceExists(r.ns)) return Status::Ok();
    CallScope scope(*this);
    LP_ASSIGN_OR_RETURN(net::Netlink * nl, netlink(r.ns));
    return nl->deleteRoute(dataplane::kBpfRouteTable, r.dst);
  }

  Status writeNotrack(const std::string& ns, const std::string& batch) override { return nft(ns, batch); }
  Status dropNotrack(const std::string& ns) override {
    if (!net::namespaceExists(ns)) return Status::Ok();
    // `destroy` would be Ok when absent, but needs nft >= 1.0.8: add, then delete.
    return nft(ns, fmt::format("add table ip {0}\ndelete table ip {0}\n", dataplane::kBpfTable));
  }

  Status putHost(const dataplane::BpfHostKey& k, const dataplane::BpfHost& h) override {
    CallScope scope(*this);
    LP_ASSIGN_OR_RETURN(Device veth, deviceIn(h.ns, h.device));
    LP_ASSIGN_OR_RETURN(Device workload, deviceIn(h.workloadNs, h.workloadDevice));
    LP_ASSIGN_OR_RETURN(Device gateway, deviceIn(h.ns, h.gatewayDevice));
    lp_fp_host v{};
    v.ifindex = veth.ifindex;
    std::memcpy(v.mac, workload.mac, 6);
    std::memcpy(v.gw_mac, gateway.mac, 6);
    return maps_->putHost(k.space, addr(k.addr), v);
  }
  Status deleteHost(const dataplane::BpfHostKey& k) override { return maps_->deleteHost(k.space, addr(k.addr)); }

  Status putLink(uint32_t id, const dataplane::BpfLink& l) override {
    CallScope scope(*this);
    LP_ASSIGN_OR_RETURN(Device c, deviceIn(l.consumerNs, l.consumerDevice));
    LP_ASSIGN_OR_RETURN(Device p, deviceIn(l.providerNs, l.providerDevice));
    lp_fp_link v{};
    v.consumer_space = l.consumerSpace;
    v.provider_space = l.providerSpace;
    v.node_addr = addr(l.nodeAddr);
    v.consumer_ifindex = c.ifindex;
    v.provider_ifindex = p.ifindex;
    std::memcpy(v.consumer_mac, c.mac, 6);
    std::memcpy(v.provider_mac, p.mac, 6);
    v.active = 1;
    return maps_->putLink(id, v);
  }
  Status deleteLink(uint32_t id) override { return maps_->deleteLink(id); }
  Status putCap(uint32_t id, const dataplane::BpfLinkCap& c) override {
    return bpf::putLinkCap(*maps_, id, {c.bytesPerSecond, c.burstBytes, c.maxConnections});
  }
  Status deleteCap(uint32_t id) override {
    LP_RETURN_IF_ERROR(bpf::putLinkCap(*maps_, id, {}));
    if (bpf::LinkUsage* usage = maps_->linkUsage()) usage->reset(id);
    return bpf::clearLinkStats(*maps_, id);
  }

  Status putTargets(const dataplane::BpfTargetsKey& k, const dataplane::BpfTargets& t) override {
    std::vector<lp_fp_target> targets;
    for (const auto& x : t.targets) targets.push_back({addr(x.addr), htons(static_cast<uint16_t>(x.port)), 0});
    return maps_->putTargets(k.link, static_cast<uint16_t>(k.port), static_cast<uint32_t>(t.tier), targets);
  }
  Status deleteTargets(const dataplane::BpfTargetsKey& k) override {
    return maps_->deleteTargets(k.link, static_cast<uint16_t>(k.port));
  }
  Status putEndpoint(const dataplane::BpfEndpointKey& k, uint32_t link) override {
    return maps_->putEndpoint(k.space, addr(k.addr), static_cast<uint16_t>(k.port), link);
  }
  Status deleteEndpoint(const dataplane::BpfEndpointKey& k) override {
    return maps_->deleteEndpoint(k.space, addr(k.addr), static_cast<uint16_t>(k.port));
  }

  Status attach(const dataplane::BpfAttachment& a) override {
    auto p = programs_.find(a.space);
    if (p == programs_.end()) return Status("BpfFastpath.Load", "no programs loaded for space " + std::to_string(a.space));
    int fd = p->second->fd(programOf(a.program));
    return inNamespace(a.ns, false, [&](int nsFd) { return bpf::attachTc(nsFd, a.device, hookOf(a.hook), fd); });
  }
  Status detach(const dataplane::BpfAttachment& a) override {
    return inNamespace(a.ns, true, [&](int nsFd) {
      Status st = bpf::detachTc(nsFd, a.device, hookOf(a.hook));
      // The device went with its pair or workload: nothing is attached to it.
      if (!st.ok() && bpf::bpfErrorOf(st) == bpf::BpfError::kNoDevice) return Status::Ok();
      return st;
    });
  }

  void endConnections(const std::map<uint32_t, dataplane::BpfLink>& was) override {
    dataplane::BpfEndScope scope;
    for (const auto& [id, _] : was) scope.links.insert(id);
    auto ended = dataplane::endBpfConnections(*maps_, scope);
    if (!ended.ok()) {
      LP_LOG_WARN("dataplane: bpf path: ending the connections of {} links: {}", was.size(), ended.status().toString());
      return;
    }
    if (ended->empty()) return;
    auto r = reset(*ended, namespacesOf(was));
    LP_LOG_INFO("dataplane: bpf path: {} connections of {} links ended ({} clients and {} targets reset)",
                ended->size(), was.size(), r.clients, r.targets);
  }

  std::map<uint32_t, uint64_t> endTargetConnections(const std::set<BpfTargetEnd>& ends,
                                                    const std::map<uint32_t, dataplane::BpfLink>& links) override {
    std::vector<dataplane::BpfEndScope> scopes;
    for (const auto& e : ends) {
      dataplane::BpfEndScope s;
      s.target = dataplane::BpfEndScope::Target{e.link, addr(e.addr), static_cast<uint16_t>(e.port)};
      scopes.push_back(s);
    }
    auto ended = dataplane::endBpfConnections(*maps_, scopes);
    if (!ended.ok()) {
      LP_LOG_WARN("dataplane: bpf path: ending the connections of {} unhealthy targets: {}", ends.size(),
                  ended.status().toString());
      return {};
    }
    auto r = reset(*ended, namespacesOf(links));
    if (!ended->empty())
      LP_LOG_INFO("dataplane: bpf path: {} connections to unhealthy targets ended ({} clients and {} targets reset)",
                  ended->size(), r.clients, r.targets);
    return byLink(*ended);
  }

  // The sweep runs on a thread of its own: with 100,000 entries the walk and the
  // judgement alone took 0.2-0.4 s on the shared 2-core machine (bench/bpf/sweep_bench),
  // and the resets of each namespace wait up to 500 ms for peers that do not answer.
  // The caller only starts it (when the last one has finished) and collects what
  // the last one reset. Safe beside the reconciler's own ends: every entry is
  // deleted with one lookup-and-delete, so exactly one deleter gets it (and
  // releases its slot), and the sweep reads a connection again before deleting it.
  std::map<uint32_t, uint64_t> sweepConnections(std::chrono::nanoseconds idle,
                                                const std::map<uint32_t, dataplane::BpfLink>& links) override {
    std::map<uint32_t, uint64_t> done;
    if (sweeper_.valid()) {
      if (sweeper_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return {};  // still at it
      done = sweeper_.get();
    }
    sweeper_ = std::async(std::launch::async, [this, idle, ns = namespacesOf(links)] { return sweepOnce(idle, ns); });
    return done;
  }

  Status sweep(const std::string& ns, const dataplane::BpfPlan& keep) override {
    if (!net::namespaceExists(ns)) return Status::Ok();
    CallScope scope(*this);
    LP_ASSIGN_OR_RETURN(net::Netlink * nl, netlink(ns));
    LP_ASSIGN_OR_RETURN(auto routes, nl->routes(dataplane::kBpfRouteTable));
    for (const auto& r : routes) {
      bool kept = std::any_of(keep.routes.begin(), keep.routes.end(),
                              [&](const dataplane::BpfRoute& k) { return k.ns == ns && k.dst == r.dst; });
      if (!kept) LP_RETURN_IF_ERROR(nl->deleteRoute(dataplane::kBpfRouteTable, r.dst));
    }
    if (!keep.localRuleMoved.count(ns)) {
      // pref 0 first, then what stood in for it.
      LP_RETURN_IF_ERROR(nl->addRule({0, "", 255}));
      for (const auto& rule : keep.rules)
        if (rule.ns == ns) return Status("Invalid", "rules kept in " + ns + " without the local rule moved");
      for (const auto& rule : {net::RuleInfo{dataplane::kBpfLocalFromHostPref, "lo", 255},
                               net::RuleInfo{dataplane::kBpfRulePref, "", dataplane::kBpfRouteTable},
                               net::RuleInfo{dataplane::kBpfLocalPref, "", 255}})
        LP_RETURN_IF_ERROR(nl->deleteRule(rule));
    }
    if (!keep.notrack.count(ns)) LP_RETURN_IF_ERROR(dropNotrack(ns));
    bool demuxOff = std::any_of(keep.sysctls.begin(), keep.sysctls.end(),
                                [&](const auto& k) { return k.ns == ns && k.key == dataplane::kBpfEarlyDemuxSysctl; });
    if (!demuxOff) LP_RETURN_IF_ERROR(net::setSysctl(ns, std::string(dataplane::kBpfEarlyDemuxSysctl), "1"));
    LP_ASSIGN_OR_RETURN(auto links, nl->links());
    for (const auto& l : links) {
      bool pairEnd = l.name.rfind("lp-fc", 0) == 0 || l.name.rfind("lp-fp", 0) == 0;
      if (pairEnd) {
        bool kept = std::any_of(keep.pairs.begin(), keep.pairs.end(), [&](const auto& kv) {
          const auto& p = kv.second;
          return (p.consumerNs == ns && p.consumerDevice == l.name) || (p.providerNs == ns && p.providerDevice == l.name);
        });
        if (!kept) LP_RETURN_IF_ERROR(nl->deleteLink(l.name));  // its peer goes with it
      } else if (l.kind == "veth") {
        dataplane::BpfAttachment a{ns, l.name, BpfHook::kIngress, BpfProgram::kWorkloadIn, 0};
        bool kept = std::any_of(keep.attachments.begin(), keep.attachments.end(),
                                [&](const auto& k) { return k.ns == ns && k.device == l.name; });
        if (!kept) LP_RETURN_IF_ERROR(detach(a));
      } else if (l.kind == "bridge") {
        std::string key = "net/ipv4/conf/" + l.name + "/proxy_arp";
        bool kept = std::any_of(keep.sysctls.begin(), keep.sysctls.end(),
                                [&](const auto& k) { return k.ns == ns && k.key == key; });
        if (!kept) LP_RETURN_IF_ERROR(net::setSysctl(ns, key, "0"));
      }
    }
    return Status::Ok();
  }

  std::optional<std::pair<uint32_t, uint32_t>> linkSpaces(uint32_t id) const override {
    auto l = maps_->link(id);
    if (!l.ok() || !l->active) return std::nullopt;
    return std::pair{l->consumer_space, l->provider_space};
  }
  Status dropEntriesOfLinks(const std::set<uint32_t>& links) override {
    return maps_->deleteEntriesOfLinks(links).status();
  }

  Status unpin() override {
    waitForSweep();
    return pinDir_.empty() ? Status::Ok() : bpf::teardown(pinDir_);
  }

  std::optional<BpfLinkStats> linkStats(uint32_t id) const override {
    auto s = maps_->linkStats(id);
    if (!s.ok()) return std::nullopt;
    bpf::LinkUsage* usage = maps_->linkUsage();
    return BpfLinkStats{s->fwd_packets, s->fwd_bytes, s->rev_packets, s->rev_bytes, s->new_conns,
                        s->resets,      s->drops,     usage ? usage->live(id) : 0};
  }
  std::optional<BpfTableUse> tableUse() const override {
    auto h = bpf::hostConnections(*maps_);
    if (!h.ok()) return std::nullopt;
    return BpfTableUse{h->live, h->limit, h->refused};
  }

 private:
  // A call outside a batch is a batch of its own: its sockets close when it returns.
  class CallScope {
   public:
    explicit CallScope(KernelBpfExecutor& e) : e_(e), own_(!e.batching_) {
      if (own_) e_.beginBatch();
    }
    ~CallScope() {
      if (own_) e_.endBatch();
    }
    CallScope(const CallScope&) = delete;
    CallScope& operator=(const CallScope&) = delete;

   private:
    KernelBpfExecutor& e_;
    bool own_;
  };

  // The namespace's netlink socket, opened at its first use in the batch.
  Result<net::Netlink*> netlink(const std::string& ns) {
    NamespaceSockets& s = sockets_[ns];
    if (!s.nl) {
      LP_ASSIGN_OR_RETURN(s.nl, net::Netlink::open(ns));
    }
    return s.nl.get();
  }
  Result<Device> deviceIn(const std::string& ns, const std::string& name) {
    NamespaceSockets& s = sockets_[ns];
    if (s.ioctlFd < 0) {
      LP_ASSIGN_OR_RETURN(s.ioctlFd, net::socketInNamespace(ns, AF_INET, SOCK_DGRAM));
    }
    return device(s.ioctlFd, ns, name);
  }

  using LinkNamespaces = std::map<uint32_t, dataplane::BpfLinkNamespaces>;
  static LinkNamespaces namespacesOf(const std::map<uint32_t, dataplane::BpfLink>& links) {
    LinkNamespaces out;
    for (const auto& [id, l] : links)
      if (!l.consumerNs.empty()) out[id] = {l.consumerNs, l.providerNs};  // not known: no reset
    return out;
  }
  // Both ends of connections whose entries went, from inside the namespaces of
  // their links (as they were when the connections were made).
  static dataplane::BpfResetResult reset(const std::vector<dataplane::BpfConnection>& conns,
                                         const LinkNamespaces& links) {
    if (conns.empty()) return {};
    return dataplane::resetBpfConnections(conns, [&](uint32_t link) -> std::optional<dataplane::BpfLinkNamespaces> {
      auto it = links.find(link);
      if (it == links.end()) return std::nullopt;
      return it->second;
    });
  }

  // One sweep (on the sweeper's thread): the idle and closed connections' entries
  // go, the idle ones' ends are reset; returns those reset, by link.
  std::map<uint32_t, uint64_t> sweepOnce(std::chrono::nanoseconds idle, const LinkNamespaces& links) const {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);  // bpf_ktime_get_ns's clock
    uint64_t nowNs = static_cast<uint64_t>(now.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(now.tv_nsec);
    auto swept = dataplane::sweepBpfConnections(*maps_, nowNs, static_cast<uint64_t>(idle.count()));
    if (!swept.ok()) {
      LP_LOG_WARN("dataplane: bpf path: sweeping the connection table: {}", swept.status().toString());
      return {};
    }
    if (swept->idle == 0 && swept->closed == 0) return {};
    auto r = reset(swept->idleConnections, links);
    LP_LOG_INFO("dataplane: bpf path: swept {} idle connections ({} clients and {} targets reset) and {} closed ones",
                swept->idle, r.clients, r.targets, swept->closed);
    return byLink(swept->idleConnections);
  }
  void waitForSweep() {
    if (sweeper_.valid()) sweeper_.wait();
  }
  static std::map<uint32_t, uint64_t> byLink(const std::vector<dataplane::BpfConnection>& conns) {
    std::map<uint32_t, uint64_t> n;
    for (const auto& c : conns) ++n[c.link];
    return n;
  }

  std::unique_ptr<bpf::FastpathMaps> maps_;  // set once; linkStats reads it from any thread
  const std::string pinDir_;
  std::map<uint32_t, std::unique_ptr<bpf::FastpathPrograms>> programs_;  // by space
  bool batching_ = false;
  std::map<std::string, NamespaceSockets> sockets_;  // by namespace, for the batch (or the call)
  // The connection sweep under way or finished and not collected (sweepConnections);
  // it reads maps_, which it is destroyed before.
  std::future<std::map<uint32_t, uint64_t>> sweeper_;
};

// Ethernet + IPv4 + TCP SYN (no options, no payload) with valid checksums; addresses
// in network order.
std::vector<uint8_t> synPacket(uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport) {
  net::TcpSegment syn;
  syn.src = ntohl(saddr);
  syn.dst = ntohl(daddr);
  syn.sport = sport;
  syn.dport = dport;
  syn.seq = 1;
  syn.flags = 0x02;  // SYN
  auto ip = net::tcpSegmentPacket(syn);
  std::vector<uint8_t> b(14, 0);
  b[12] = 0x08;  // IPv4
  b.insert(b.end(), ip.begin(), ip.end());
  return b;
}

}  // namespace

namespace {

// Maps of a few entries each, for what needs them only to exist.
bpf::FastpathLimits smallLimits() {
  bpf::FastpathLimits small;
  small.connections = 64;
  small.links = 8;
  small.endpoints = 8;
  small.targetSets = 8;
  small.hosts = 8;
  return small;
}

}  // namespace

Status probeBpfFastpath() {
  LP_ASSIGN_OR_RETURN(auto maps, bpf::FastpathMaps::create(smallLimits()));
  LP_ASSIGN_OR_RETURN(auto consumer, bpf::FastpathPrograms::load(*maps, 1));
  LP_ASSIGN_OR_RETURN(auto provider, bpf::FastpathPrograms::load(*maps, 2));
  (void)provider;  // the provider side's copy must load too
  const uint32_t kLink = 1;
  lp_fp_link l{};
  l.consumer_space = 1;
  l.provider_space = 2;
  l.node_addr = addr("10.0.2.200");
  l.consumer_ifindex = l.provider_ifindex = 1;
  l.active = 1;
  LP_RETURN_IF_ERROR(maps->putLink(kLink, l));
  LP_RETURN_IF_ERROR(maps->putEndpoint(1, addr("10.0.1.100"), 80, kLink));
  LP_RETURN_IF_ERROR(maps->putTargets(kLink, 80, 0, {lp_fp_target{addr("10.0.2.10"), htons(8080), 0}}));
  std::vector<uint8_t> in = synPacket(addr("10.0.1.5"), 40000, addr("10.0.1.100"), 80), out(in.size() + 256);
  __sk_buff ctx{};
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.data(), .data_out = out.data(),
              .data_size_in = static_cast<uint32_t>(in.size()), .data_size_out = static_cast<uint32_t>(out.size()),
              .ctx_in = &ctx, .ctx_size_in = sizeof ctx, .repeat = 1);
  if (bpf_prog_test_run_opts(consumer->fd(bpf::FastpathProgram::kLinkOut), &opts) != 0)
    return Status("BpfFastpath.Probe", std::string("BPF_PROG_TEST_RUN: ") + std::strerror(errno));
  uint32_t saddr = 0, daddr = 0;
  if (opts.data_size_out >= 34) {
    std::memcpy(&saddr, out.data() + 26, 4);
    std::memcpy(&daddr, out.data() + 30, 4);
  }
  if (opts.retval != TC_ACT_OK || saddr != addr("10.0.2.200") || daddr != addr("10.0.2.10"))
    return Status("BpfFastpath.Probe",
                  fmt::format("a test SYN came out of lp_link_out untranslated (verdict {}, {} bytes)", opts.retval,
                              opts.data_size_out));
  return Status::Ok();
}

void sweepBpfLeftovers(const std::string& stateDir) {
  std::string pinDir = bpf::pinDirectoryFor(stateDir);
  std::string path = bpfIdsPath(stateDir);
  std::ifstream in(path);
  bool clean = true;
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    auto ids = parseBpfIdsJson(text.str());
    // The sweep needs no maps of its own: small unpinned ones, gone with it.
    auto maps = bpf::FastpathMaps::create(smallLimits());
    std::unique_ptr<KernelBpfExecutor> exec;
    if (maps.ok()) exec = std::make_unique<KernelBpfExecutor>(std::move(maps).value(), "");
    clean = exec != nullptr;
    for (const auto& [ns, _] : ids.spaces) {
      Status st = exec ? exec->sweep(ns, {}) : maps.status();
      if (!st.ok()) {
        clean = false;
        LP_LOG_WARN("dataplane: what the BPF path left in {} stays: {}", ns, st.toString());
      }
    }
    LP_LOG_INFO("dataplane: removed what the BPF path left in {} namespaces", ids.spaces.size());
  }
  if (!clean) return;  // the ids file and the pins stay: the next start tries again
  std::error_code ec;
  std::filesystem::remove(path, ec);
  // No filter holds the programs any more: the pinned maps would only hold memory.
  if (Status st = bpf::teardown(pinDir); !st.ok())
    LP_LOG_WARN("dataplane: the BPF path's pins under {} stay: {}", pinDir, st.toString());
}

Result<std::unique_ptr<BpfExecutor>> makeKernelBpfExecutor(const std::string& stateDir, uint32_t connectionEntries) {
  // The maps a run killed before its clean stop pinned, with the connections its
  // filters still carry: the sink writes the whole plan over them (upserts, lp_conns
  // untouched) and replaces the filters in place, so those connections go on.
  std::string pinDir = bpf::pinDirectoryFor(stateDir);
  bpf::FastpathLimits limits;
  limits.connections = connectionEntries;
  LP_ASSIGN_OR_RETURN(auto pins, bpf::adoptOrCreate(pinDir, limits));
  if (!pins.adopted) LP_LOG_INFO("dataplane: bpf path maps made and pinned under {}", pinDir);
  return std::unique_ptr<BpfExecutor>(new KernelBpfExecutor(std::move(pins.maps), pinDir));
}

}  // namespace lp::reconciler
