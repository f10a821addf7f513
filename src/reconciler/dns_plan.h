// The DNS side of the reconciler.
//
// planDns: the names the VPC resolvers answer for at one store view, as a
// dns::ZoneSnapshot. Pure (no I/O), any thread. Rules (seed "Private DNS" and
// "Accessing a Service Through an Interface Endpoint"):
//  - only `available` endpoints have names;
//  - endpoint-specific names (the endpoint's DnsEntries under
//    <region>.vpce.amazonaws.com) are visible from every VPC and from the host:
//    the regional name -> every interface of the endpoint, each zonal name -> the
//    interface in that zone;
//  - with PrivateDnsEnabled (and the VPC's enableDnsSupport and
//    enableDnsHostnames), the service's private DNS name -> every interface of the
//    endpoint, visible inside the endpoint's VPC only, as a zone of its own there;
//  - every VPC with enableDnsSupport gets a resolver at its CIDR base+2, port 53,
//    in namespace lp-<vpc-id>.
//
// DnsPublisher: a HostProvisioner decorator. On every reconciler pass it
// publishes the snapshot for the view to the DNS server (when it changed), then
// lets the wrapped provisioner converge the host, so names follow the store
// without waiting for the host (a change wakes the reconciler at once). Owned by
// the daemon; reconciler thread only.
#pragma once

#include <memory>
#include <string>

#include "dns/dns_server.h"
#include "dns/zone_snapshot.h"
#include "reconciler/host_provisioner.h"
#include "store/store.h"

namespace lp::reconciler {

dns::ZoneSnapshot planDns(const store::ReadView& view, const std::string& region);

// "<region>.vpce.amazonaws.com": the zone of every endpoint-specific name.
std::string vpceZone(const std::string& region);

class DnsPublisher final : public HostProvisioner {
 public:
  // vpcResolvers=false publishes names for the host listener only (no namespaces
  // exist when the daemon runs without the data plane).
  DnsPublisher(std::unique_ptr<HostProvisioner> inner, dns::DnsServer& server, std::string region, bool vpcResolvers);
  ProvisionReport apply(const store::ReadView& view) override;
  // Closes every resolver socket (they would keep namespaces alive), then tears
  // the host down.
  void teardown() override;

 private:
  std::unique_ptr<HostProvisioner> inner_;
  dns::DnsServer& server_;
  std::string region_;
  bool vpcResolvers_;
  std::shared_ptr<const dns::ZoneSnapshot> last_;
};

}  // namespace lp::reconciler
