#include "reconciler/net_host_provisioner.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/log.h"
#include "net/exec.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "net/nftables.h"

namespace lp::reconciler {

namespace {

// BIG TCP: TCP in our namespaces builds (and splices) packets of up to 185000 bytes
// instead of 64 KiB, so the bridges, the security-group rules, conntrack and both TCP
// stacks run about a third as often per byte. The size is the one the kernel's BIG TCP
// work settled on. See docs/dataplane.md for what it bought.
constexpr uint32_t kGsoIpv4MaxBytes = 185000;

// Descriptors a new VPC namespace is expected to take (applyVpc).
constexpr long kDescriptorsPerVpc = 10;

bool ours(const std::string& link) { return link.rfind("lp-br-", 0) == 0 || link.rfind("lp-v", 0) == 0; }

// Makes link's IPv4 addresses exactly want, leaving alone those keep() names.
template <typename Keep>
Status converge(net::Netlink& nl, const std::string& link, const std::set<std::string>& want, Keep keep) {
  LP_ASSIGN_OR_RETURN(auto have, nl.addresses(link));
  for (const auto& a : want) {
    if (std::find(have.begin(), have.end(), a) == have.end()) LP_RETURN_IF_ERROR(nl.addAddress(link, a));
  }
  for (const auto& a : have) {
    if (!want.count(a) && !keep(a)) LP_RETURN_IF_ERROR(nl.removeAddress(link, a));
  }
  return Status::Ok();
}

}  // namespace

NetHostProvisioner::NetHostProvisioner(std::string stateDir, std::string etcNetns, DescriptorUseFn descriptors)
    : ledgerPath_(stateDir + "/netns-owned"),
      caBundle_(stateDir + "/ca-bundle.crt"),
      etcNetns_(std::move(etcNetns)),
      descriptors_(std::move(descriptors)) {
  loadLedger();
}

NetHostProvisioner::~NetHostProvisioner() = default;

void NetHostProvisioner::loadLedger() {
  std::ifstream in(ledgerPath_);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("lp-", 0) == 0) owned_.insert(line);
  }
}

void NetHostProvisioner::saveLedger() {
  std::string tmp = ledgerPath_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& n : owned_) out << n << "\n";
    out.flush();
  }
  std::error_code ec;
  std::filesystem::rename(tmp, ledgerPath_, ec);
  if (ec) LP_LOG_WARN("net: cannot write {}: {}", ledgerPath_, ec.message());
}

// The error keeps the kernel's reason (a descriptor limit reads "Too many open
// files"), which decides the endpoint's LastError code.
Result<net::Netlink*> NetHostProvisioner::netlink(const std::string& ns) {
  auto it = netlinks_.find(ns);
  if (it != netlinks_.end()) return it->second.get();
  auto nl = net::Netlink::open(ns);
  if (!nl) {
    LP_LOG_WARN("net: netlink in {}: {}", ns, nl.status().toString());
    return Status(nl.status().code(), "netlink in " + ns + ": " + nl.status().message());
  }
  return (netlinks_[ns] = std::move(*nl)).get();
}

// A veth end keeps its size for life: set once per link this process has seen (a
// link made again, or in a namespace made again, is set again). Best effort: it is
// speed, not reachability.
void NetHostProvisioner::tuneLink(const std::string& ns, const std::string& link) {
  if (!tuned_[ns].insert(link).second) return;
  auto nl = netlink(ns);
  if (!nl.ok()) return;
  if (Status st = (*nl)->setGsoIpv4MaxSize(link, kGsoIpv4MaxBytes); !st.ok()) {
    LP_LOG_DEBUG("net: {} in {}: {}", link, ns, st.toString());
  }
}

// What this process knows of a namespace (made again or removed): its netlink
// socket, which would keep it alive, the ruleset applied and the links tuned.
void NetHostProvisioner::forgetNamespace(const std::string& ns) {
  netlinks_.erase(ns);
  nftApplied_.erase(ns);
  routingApplied_.erase(ns);
  forwarding_.erase(ns);
  tuned_.erase(ns);
  routed_.erase(ns);
}

// Every workload port of a bridge is isolated (the bridge forwards nothing between
// two of them) and the bridge answers ARP for the whole subnet with its own address
// (proxy_arp_pvlan), at once (proxy_delay 0, not the default 0.8 s). So a packet
// between two workloads of one subnet is routed by the VPC namespace, where
// conntrack and the security-group and ACL chains see it, and nothing depends on
// br_netfilter. Done once per link this process has seen, like tuneLink.
Status NetHostProvisioner::routeSubnet(const std::string& ns, const std::string& bridge) {
  if (routed_[ns].count(bridge)) return Status::Ok();
  for (const auto& [key, value] : {std::pair{"net/ipv4/conf/" + bridge + "/proxy_arp", "1"},
                                   {"net/ipv4/conf/" + bridge + "/proxy_arp_pvlan", "1"},
                                   {"net/ipv4/conf/" + bridge + "/send_redirects", "0"},
                                   {"net/ipv4/neigh/" + bridge + "/proxy_delay", "0"}}) {
    LP_RETURN_IF_ERROR(net::setSysctl(ns, key, value));
  }
  routed_[ns].insert(bridge);
  return Status::Ok();
}

// Makes the namespace's rules in [kRoutePrefMin, kRoutePrefMax] and their tables
// exactly the plan; rules at other preferences (the fast path's, the kernel's) are
// never touched. A table is filled before its rule is added and emptied before its
// last rule goes, so a subnet moving between tables always has one, and a crash
// between two steps leaves nothing the next start does not converge.
Status NetHostProvisioner::applyRouting(net::Netlink& nl, const std::string& ns, const RoutingPlan& plan) {
  if (auto it = routingApplied_.find(ns); it != routingApplied_.end() && it->second == plan) return Status::Ok();
  std::set<uint32_t> wantTables;
  for (const auto& t : plan.tables) {
    wantTables.insert(t.table);
    LP_ASSIGN_OR_RETURN(auto have, nl.routes(t.table));
    for (const auto& r : t.routes) {
      if (std::find(have.begin(), have.end(), r) == have.end()) LP_RETURN_IF_ERROR(nl.replaceRoute(r));
    }
    for (const auto& r : have) {
      bool wanted = std::any_of(t.routes.begin(), t.routes.end(), [&](const auto& w) { return w.dst == r.dst; });
      if (!wanted) LP_RETURN_IF_ERROR(nl.deleteRoute(t.table, r.dst));
    }
  }
  for (const auto& r : plan.rules) LP_RETURN_IF_ERROR(nl.addRule(r));
  auto rules = nl.rules();
  if (!rules.ok() && plan.rules.empty()) {
    // Nothing wanted, and nothing this process could have added: a kernel without
    // policy routing must not keep the VPC (and its endpoints) from being provisioned.
    LP_LOG_WARN("net: rules in {}: {} (no route table of this VPC needs one)", ns, rules.status().toString());
    routingApplied_[ns] = plan;
    return Status::Ok();
  }
  if (!rules.ok()) return rules.status();
  for (const auto& r : *rules) {
    if (r.pref < kRoutePrefMin || r.pref > kRoutePrefMax) continue;
    if (std::binary_search(plan.rules.begin(), plan.rules.end(), r)) continue;
    if (!wantTables.count(r.table)) {
      LP_ASSIGN_OR_RETURN(auto stale, nl.routes(r.table));
      for (const auto& route : stale) LP_RETURN_IF_ERROR(nl.deleteRoute(r.table, route.dst));
    }
    LP_RETURN_IF_ERROR(nl.deleteRule(r));
  }
  routingApplied_[ns] = plan;
  return Status::Ok();
}

Status NetHostProvisioner::removeNamespace(const std::string& ns) {
  forgetNamespace(ns);
  LP_RETURN_IF_ERROR(net::deleteNamespace(ns));
  std::error_code ec;
  std::filesystem::remove_all(etcNetns_ + "/" + ns, ec);
  std::filesystem::remove_all(net::namespaceFilesDir(ns, etcNetns_), ec);
  owned_.erase(ns);
  saveLedger();
  return Status::Ok();
}

Result<VpcResult> NetHostProvisioner::applyVpc(const VpcPlan& vpc) {
  VpcResult result;
  if (!net::namespaceExists(vpc.ns)) {
    // A VPC holds about ten descriptors (its netlink socket, namespace file, two
    // resolver sockets, a listener per port and data-plane loop). Past the reserve a
    // new one is refused, and retried, rather than leaving the API none to accept with.
    if (auto use = descriptors_();
        use.limit > 0 && use.open + kDescriptorsPerVpc > use.limit - descriptorReserve(use.limit)) {
      return Status("InsufficientCapacity",
                    fmt::format("Too many open files: namespace {} not made, {} of {} descriptors in use and {} kept "
                                "for the API and connections (raise the open-file limit: README, Running at scale)",
                                vpc.ns, use.open, use.limit, descriptorReserve(use.limit)));
    }
    owned_.insert(vpc.ns);
    saveLedger();  // before creating: a crash right after still knows it is ours
    forgetNamespace(vpc.ns);
    LP_RETURN_IF_ERROR(net::createNamespace(vpc.ns));
    result.namespaceMade = true;
  }
  LP_ASSIGN_OR_RETURN(net::Netlink * nl, netlink(vpc.ns));
  LP_RETURN_IF_ERROR(nl->setUp("lo"));
  auto fwd = net::getSysctl(vpc.ns, "net/ipv4/ip_forward");
  if (!fwd || *fwd != "1") LP_RETURN_IF_ERROR(net::setSysctl(vpc.ns, "net/ipv4/ip_forward", "1"));
  // Same-subnet traffic is routed back out of the bridge it came in by (routeSubnet):
  // no ICMP redirect may tell a workload to go around the router.
  if (!routed_[vpc.ns].count("")) {
    for (const char* k : {"net/ipv4/conf/all/send_redirects", "net/ipv4/conf/default/send_redirects"}) {
      LP_RETURN_IF_ERROR(net::setSysctl(vpc.ns, k, "0"));
    }
    // The namespace's own connections to targets (health checks, the splice path) leave
    // from a load balancer node address, as the kernel fast path's translated ones do,
    // which keep the client's port. They take their ports below the ranges clients pick
    // from (Linux 32768-60999, others 49152-65535), else each one that took a port a
    // client was about to use made the fast path move that client elsewhere: the target
    // then met a SYN whose sequence and timestamp belonged to another connection on a
    // pair it held in TIME_WAIT, answered with an ACK, and the client waited 1 s for its
    // SYN's retry (docs/dataplane.md, "New connections per second").
    LP_RETURN_IF_ERROR(net::setSysctl(vpc.ns, "net/ipv4/ip_local_port_range", kVpcLocalPortRange));
    routed_[vpc.ns].insert("");
  }

  // The resolver, endpoint and load balancer node addresses live on lo (its own
  // 127.0.0.1/8 stays). Added before unwanted bridges go below, so an address that
  // a bridge held (a host provisioned before this layout) never disappears.
  std::set<std::string> wantLo(vpc.hostAddresses.begin(), vpc.hostAddresses.end());
  if (!vpc.resolverCidr.empty()) wantLo.insert(vpc.resolverCidr);
  LP_RETURN_IF_ERROR(converge(*nl, "lo", wantLo, [](const std::string& a) { return a.rfind("127.", 0) == 0; }));

  std::set<std::string> wantedLinks;
  for (const auto& b : vpc.bridges) {
    wantedLinks.insert(b.name);
    LP_RETURN_IF_ERROR(nl->ensureBridge(b.name));
    LP_RETURN_IF_ERROR(routeSubnet(vpc.ns, b.name));
    LP_RETURN_IF_ERROR(converge(*nl, b.name, {b.routerCidr}, [](const std::string&) { return false; }));
  }
  // Workloads that left the VPC (their interface deleted) lose their namespace.
  auto& workloads = workloadsOf_[vpc.ns];
  std::set<std::string> wantedWorkloads;
  for (const auto& w : vpc.workloads) wantedWorkloads.insert(w.ns);
  for (auto it = workloads.begin(); it != workloads.end();) {
    if (wantedWorkloads.count(*it)) {
      ++it;
      continue;
    }
    if (Status st = removeNamespace(*it); !st.ok()) LP_LOG_WARN("net: remove {}: {}", *it, st.toString());
    it = workloads.erase(it);
  }
  std::set<std::string> failed;
  for (const auto& w : vpc.workloads) {
    workloads.insert(w.ns);
    wantedLinks.insert(w.vethName);
    if (Status st = ensureWorkload(vpc, w); !st.ok()) {
      LP_LOG_WARN("net: workload {}: {}", w.interfaceId, st.toString());
      failed.insert(w.interfaceId);
    }
  }
  LP_ASSIGN_OR_RETURN(auto links, nl->links());
  // A bridge's GSO size may only grow once it has a port (a port-less bridge caps
  // it at 64 KiB) and falls back when its last port goes, so it is checked each pass.
  if (auto sizes = nl->gsoIpv4MaxSizes(); sizes.ok()) {
    for (const auto& l : links) {
      auto it = sizes->find(l.index);
      if (l.kind == "bridge" && wantedLinks.count(l.name) && it != sizes->end() && it->second != 0 &&
          it->second < kGsoIpv4MaxBytes) {
        (void)nl->setGsoIpv4MaxSize(l.name, kGsoIpv4MaxBytes);
      }
    }
  }
  for (const auto& l : links) {
    if (ours(l.name) && !wantedLinks.count(l.name)) {
      LP_RETURN_IF_ERROR(nl->deleteLink(l.name));
      tuned_[vpc.ns].erase(l.name);
      routed_[vpc.ns].erase(l.name);
    }
  }
  auto& applied = nftApplied_[vpc.ns];
  if (applied != vpc.nftRuleset) {
    LP_RETURN_IF_ERROR(net::nftRunJson(vpc.ns, vpc.nftRuleset));
    applied = vpc.nftRuleset;
  }
  // After the filter: a route target's ingress rules and destination check are in
  // place before the first packet is routed to it.
  LP_RETURN_IF_ERROR(applyRouting(*nl, vpc.ns, vpc.routing));
  // Endpoint and LB node addresses are in place: lo holds them (above).
  for (const auto& id : vpc.interfaceIds) {
    if (!failed.count(id)) result.readyInterfaces.insert(id);
  }
  return result;
}

Status NetHostProvisioner::removeVpc(const std::string& vpcId) {
  std::string ns = "lp-" + vpcId;
  Status first;
  for (const auto& w : workloadsOf_[ns]) {
    if (Status st = removeNamespace(w); !st.ok() && first.ok()) first = st;
  }
  workloadsOf_.erase(ns);
  if (owned_.count(ns)) {
    if (Status st = removeNamespace(ns); !st.ok() && first.ok()) first = st;
  }
  return first;
}

void NetHostProvisioner::removeOrphans(const std::set<std::string>& wanted) {
  // Only namespaces in the ledger, never anyone else's lp- ones.
  std::vector<std::string> orphans;
  for (const auto& ns : owned_) {
    if (!wanted.count(ns)) orphans.push_back(ns);
  }
  for (const auto& ns : orphans) {
    if (Status st = removeNamespace(ns); !st.ok()) LP_LOG_WARN("net: remove {}: {}", ns, st.toString());
  }
}

Status NetHostProvisioner::ensureWorkload(const VpcPlan& vpc, const WorkloadPlan& w) {
  if (!net::namespaceExists(w.ns)) {
    owned_.insert(w.ns);
    saveLedger();
    forgetNamespace(w.ns);
    LP_RETURN_IF_ERROR(net::createNamespace(w.ns));
  }
  LP_ASSIGN_OR_RETURN(net::Netlink * vnl, netlink(vpc.ns));
  LP_ASSIGN_OR_RETURN(net::Netlink * wnl, netlink(w.ns));
  // A veth whose peer is gone (workload namespace recreated) is useless: redo it.
  if (vnl->link(w.vethName).ok() && !wnl->link("eth0").ok()) {
    LP_RETURN_IF_ERROR(vnl->deleteLink(w.vethName));
    tuned_[vpc.ns].erase(w.vethName);
    routed_[vpc.ns].erase(w.vethName);
    tuned_[w.ns].erase("eth0");
  }
  LP_RETURN_IF_ERROR(vnl->ensureVeth(w.vethName, w.ns, "eth0"));
  tuneLink(vpc.ns, w.vethName);
  tuneLink(w.ns, "eth0");
  LP_RETURN_IF_ERROR(vnl->setMaster(w.vethName, w.bridge));
  if (!routed_[vpc.ns].count(w.vethName)) {
    LP_RETURN_IF_ERROR(vnl->setBridgePortIsolated(w.vethName));
    routed_[vpc.ns].insert(w.vethName);
  }
  LP_RETURN_IF_ERROR(vnl->setUp(w.vethName));
  LP_RETURN_IF_ERROR(wnl->setUp("lo"));
  LP_RETURN_IF_ERROR(converge(*wnl, "eth0", {w.cidr}, [](const std::string&) { return false; }));
  LP_RETURN_IF_ERROR(wnl->setUp("eth0"));
  LP_ASSIGN_OR_RETURN(auto gw, wnl->defaultRouteGateway());
  if (gw != w.gateway) LP_RETURN_IF_ERROR(wnl->setDefaultRoute(w.gateway));
  // A route target with its source/destination check off forwards what the route
  // sends it; any other workload does not (route_plan.h). Read once per namespace
  // this process has seen, so one left forwarding before a restart is turned off.
  if (auto known = forwarding_.find(w.ns); known == forwarding_.end() || known->second != w.forwarding) {
    std::string want = w.forwarding ? "1" : "0";
    auto have = net::getSysctl(w.ns, "net/ipv4/ip_forward");
    if (!have.ok() || *have != want) LP_RETURN_IF_ERROR(net::setSysctl(w.ns, "net/ipv4/ip_forward", want));
    forwarding_[w.ns] = w.forwarding;
  }

  std::string dir = etcNetns_ + "/" + w.ns;
  std::string want = "nameserver " + w.resolver + "\n";
  std::string path = dir + "/resolv.conf";
  std::ifstream in(path);
  std::string have_((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (have_ != want) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::ofstream out(path, std::ios::trunc);
    out << want;
    if (!out.flush()) return Status("InternalError", "cannot write " + path);
  }
  // The daemon's CA bundle (system CAs + its local CA), for `linkplane exec`; where
  // releases before 2026-12-05 put it, `ip netns exec` complained on every call.
  std::error_code ec;
  std::filesystem::remove(dir + "/ca-certificates.crt", ec);
  if (std::filesystem::exists(caBundle_, ec)) {
    std::string files = net::namespaceFilesDir(w.ns, etcNetns_);
    std::filesystem::create_directories(files, ec);
    std::filesystem::copy_file(caBundle_, files + "/ca-certificates.crt",
                               std::filesystem::copy_options::update_existing, ec);
    if (ec) return Status("InternalError", "cannot copy " + caBundle_ + " to " + files + ": " + ec.message());
  }
  return Status::Ok();
}

ProvisionReport NetHostProvisioner::applyPlan(const HostPlan& plan) {
  std::set<std::string> wanted;
  for (const auto& v : plan.vpcs) {
    wanted.insert(v.ns);
    for (const auto& w : v.workloads) wanted.insert(w.ns);
  }
  removeOrphans(wanted);
  std::set<std::string> ready;
  for (const auto& v : plan.vpcs) {
    auto r = applyVpc(v);
    if (!r.ok()) {
      LP_LOG_WARN("net: vpc {}: {}", v.vpcId, r.status().toString());
      continue;
    }
    ready.insert(r->readyInterfaces.begin(), r->readyInterfaces.end());
  }
  ProvisionReport r;
  for (const auto& [id, need] : plan.endpointInterfaces) {
    r.endpointsReady[id] = std::all_of(need.begin(), need.end(), [&](const auto& i) { return ready.count(i) > 0; });
  }
  return r;
}

void NetHostProvisioner::teardown() {
  std::vector<std::string> all(owned_.begin(), owned_.end());
  for (const auto& ns : all) {
    if (keep_.count(ns)) continue;
    if (Status st = removeNamespace(ns); !st.ok()) LP_LOG_WARN("net: remove {}: {}", ns, st.toString());
  }
  netlinks_.clear();
  tuned_.clear();
  routed_.clear();
  workloadsOf_.clear();
}

}  // namespace lp::reconciler
