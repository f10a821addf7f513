// NetHostProvisioner: the network model of DESIGN.md made real on this host.
// Every VPC is a namespace lp-<vpc-id> (ip_forward on, no default route, no link
// out); every subnet with workloads a bridge in it holding the subnet router
// address; every workload interface its own namespace lp-<eni-id> with a veth into
// its subnet's bridge, its address, a default route via the router and a
// resolv.conf naming the VPC resolver; every endpoint or load balancer node
// interface a /32 on the VPC namespace's lo, beside the VPC resolver's address
// (BridgePlan says why); security groups and network ACLs nftables tables lp-sg in
// the VPC namespace (filter_plan.h), with every workload port isolated so that all
// traffic, inside a subnet too, is routed through them (routeSubnet); route tables
// with routes of their own as policy routing rules and tables in the VPC namespace,
// and ip_forward in the workloads those routes send to (route_plan.h, applyRouting).
//
// Per VPC: applyVpc() compares the host with one VPC's plan and fixes the
// difference (idempotent), so a change costs what that VPC holds, not what the
// host holds. Namespaces it makes are first written to a ledger in the state
// directory, so after a crash the next start removes the ones no longer wanted
// without touching lp- namespaces of anyone else on the host.
//
// Owned by the daemon; called on the reconciler thread only.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/descriptors.h"
#include "reconciler/host_plan.h"
#include "reconciler/host_provisioner.h"

namespace lp::net {
class Netlink;
}

namespace lp::reconciler {

// What applyPlan reports (tests): endpoint id -> all its interfaces in place.
struct ProvisionReport {
  std::map<std::string, bool> endpointsReady;
};

// The ephemeral ports of every VPC namespace (net.ipv4.ip_local_port_range): below
// the ranges clients pick theirs from, which the kernel fast path keeps on the way to a
// target (net_host_provisioner.cc says why).
inline constexpr const char* kVpcLocalPortRange = "10000 32767";

class NetHostProvisioner final : public HostNetwork {
 public:
  // stateDir holds the ledger of namespaces made; etcNetns is where resolv.conf
  // files go ("/etc/netns", as `ip netns exec` reads them).
  // descriptors: what a new VPC namespace is checked against (tests inject counts).
  explicit NetHostProvisioner(std::string stateDir, std::string etcNetns = "/etc/netns",
                              DescriptorUseFn descriptors = descriptorUse);
  ~NetHostProvisioner() override;

  Result<VpcResult> applyVpc(const VpcPlan& plan) override;
  Status removeVpc(const std::string& vpcId) override;
  void removeOrphans(const std::set<std::string>& wantedNamespaces) override;
  void teardown() override;
  // Namespaces teardown() leaves in place (and in the ledger): running instances'
  // and their VPCs', so their programs keep running across a clean stop.
  void keepOnTeardown(std::set<std::string> namespaces) { keep_ = std::move(namespaces); }

  // Converges on a whole plan at once (tests): orphans, then every VPC.
  ProvisionReport applyPlan(const HostPlan& plan);

 private:
  Status ensureWorkload(const VpcPlan& vpc, const WorkloadPlan& w);
  Status removeNamespace(const std::string& ns);
  void forgetNamespace(const std::string& ns);
  Result<net::Netlink*> netlink(const std::string& ns);
  void tuneLink(const std::string& ns, const std::string& link);
  Status routeSubnet(const std::string& ns, const std::string& bridge);
  Status applyRouting(net::Netlink& nl, const std::string& ns, const RoutingPlan& plan);
  void loadLedger();
  void saveLedger();

  std::string ledgerPath_;
  std::string caBundle_;  // copied beside each workload's resolv.conf
  std::string etcNetns_;
  DescriptorUseFn descriptors_;
  std::set<std::string> owned_;  // namespaces this host's daemon made
  std::set<std::string> keep_;   // left in place by teardown()
  std::map<std::string, std::unique_ptr<net::Netlink>> netlinks_;
  std::map<std::string, std::string> nftApplied_;       // ns -> last ruleset applied
  std::map<std::string, RoutingPlan> routingApplied_;   // VPC ns -> last routing converged on
  std::map<std::string, bool> forwarding_;              // workload ns -> its ip_forward as set
  std::map<std::string, std::set<std::string>> tuned_;  // ns -> links given their GSO size
  // ns -> bridges given proxy ARP, ports isolated ("" = the namespace's redirects off)
  std::map<std::string, std::set<std::string>> routed_;
  std::map<std::string, std::set<std::string>> workloadsOf_;  // VPC ns -> its workload namespaces
};

}  // namespace lp::reconciler
