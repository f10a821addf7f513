// ElbService: load balancers (Create, Describe, DeleteLoadBalancer), each with one
// requester-managed node interface per subnet. Target groups are in
// elb_target_groups.cc, targets and their health in elb_targets.cc, listeners in
// elb_listeners.cc, attributes in elb_attributes.cc, tags in elb_tags.cc.
// Stateless over a ControlContext; any thread.
#include "control/elb_service.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>

#include "control/elb_common.h"
#include "control/ip_allocation.h"
#include "model/cidr.h"
#include "model/endpoint.h"

namespace lp::control {

using namespace elb_internal;

bool isLoadBalancerArn(std::string_view arn) { return isArnOf(arn, "loadbalancer"); }

std::string nlbCanonicalHostedZoneId(std::string_view region) {
  // Route 53 zones AWS publishes for NLB DNS names, per region.
  static const std::map<std::string, std::string, std::less<>> kZones = {
      {"us-east-1", "Z26RNL4JYFTOTI"},      {"us-east-2", "ZLMOA37VPKANP"},     {"us-west-1", "Z24FKFUX50B4VW"},
      {"us-west-2", "Z18D5FSROUN65G"},      {"eu-west-1", "Z2IFOLAFXWLO4F"},    {"eu-west-2", "ZD4D7Y8KGAS4G"},
      {"eu-central-1", "Z3F0SRJ5LGBH90"},   {"ap-southeast-1", "ZKVM4W9LS7TM"}, {"ap-southeast-2", "ZCT6FZBF4DROD"},
      {"ap-northeast-1", "Z31USIVHYNEOWT"}, {"ap-south-1", "ZVDDRBQ08TROA"},    {"sa-east-1", "ZTK26PT1VY4CU"},
  };
  auto it = kZones.find(region);
  return it == kZones.end() ? "Z26RNL4JYFTOTI" : it->second;
}

Result<LoadBalancer> ElbService::createLoadBalancer(const CallContext& call, const CreateLoadBalancerInput& in) {
  if (in.name.empty()) return required("name");
  LP_RETURN_IF_ERROR(validateResourceName(in.name, "Load balancer"));
  if (startsWith(in.name, "internal-")) return validation("Load balancer name cannot start with 'internal-'");
  std::string type = in.type.empty() ? "network" : in.type;
  if (type == "application" || type == "gateway")
    return invalidConfig("Load balancers of type '{}' are not supported; only 'network'", type);
  if (type != "network")
    return validation(
        "1 validation error detected: Value '{}' at 'type' failed to satisfy constraint: Member must "
        "satisfy enum value set: [application, network, gateway]",
        type);
  std::string scheme = in.scheme.empty() ? "internal" : in.scheme;
  if (scheme != "internal" && scheme != "internet-facing")
    return validation(
        "1 validation error detected: Value '{}' at 'scheme' failed to satisfy constraint: Member must "
        "satisfy enum value set: [internet-facing, internal]",
        scheme);
  std::string ipType = in.ipAddressType.empty() ? "ipv4" : in.ipAddressType;
  if (ipType == "dualstack" || ipType == "dualstack-without-public-ipv4")
    return invalidConfig("IP address type '{}' is not supported; only 'ipv4'", ipType);
  if (ipType != "ipv4")
    return validation(
        "1 validation error detected: Value '{}' at 'ipAddressType' failed to satisfy constraint: Member "
        "must satisfy enum value set: [ipv4, dualstack, dualstack-without-public-ipv4]",
        ipType);
  if (!in.securityGroups.empty())
    return invalidConfig("Security groups are not supported for network load balancers here");
  LP_RETURN_IF_ERROR(validateElbTags(in.tags));
  if (!in.subnets.empty() && !in.subnetMappings.empty())
    return validation("You cannot specify both subnets and subnet mappings");
  std::vector<SubnetMappingInput> mappings = in.subnetMappings;
  for (const auto& s : in.subnets) mappings.push_back({s, "", ""});
  if (mappings.empty()) return validation("At least one subnet must be specified");
  for (const auto& m : mappings) {
    if (m.subnetId.empty()) return required("subnetMappings.member.subnetId");
    if (!m.allocationId.empty())
      return invalidConfig("Elastic IP addresses are not supported: load balancers here are internal");
    if (!m.privateIpv4Address.empty() && !model::Ipv4::parse(m.privateIpv4Address))
      return validation("The private IPv4 address '{}' is not valid", m.privateIpv4Address);
  }

  LoadBalancer lb;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    std::vector<model::Subnet> subnets;
    std::set<std::string> zones;
    for (const auto& m : mappings) {
      auto s = model::isWellFormed<model::SubnetId>(m.subnetId) ? t.get<model::Subnet>(m.subnetId) : std::nullopt;
      if (!s || s->ownerId != call.account)
        return err::make(err::kElbSubnetNotFound, "The subnet ID '{}' is not valid", m.subnetId);
      if (!subnets.empty() && s->vpcId != subnets.front().vpcId)
        return invalidConfig("The subnets '{}' and '{}' are in different VPCs; all subnets must belong to one VPC",
                             subnets.front().id.str(), s->id.str());
      if (!zones.insert(s->zoneId).second)
        return invalidConfig("A load balancer cannot be attached to multiple subnets in the same Availability Zone");
      subnets.push_back(std::move(*s));
    }

    auto existing = t.listIndexed<LoadBalancer>(index::kOwnerName, ownerName(call.account, in.name));
    if (!existing.empty()) {
      // Same name and settings: AWS answers with the existing load balancer.
      const LoadBalancer& e = existing.front();
      std::set<std::string> want, have;
      for (auto& s : subnets) want.insert(s.id.str());
      for (auto& n : e.nodes) have.insert(n.subnetId.str());
      if (want == have && e.scheme == scheme && e.type == type) {
        lb = e;
        return Status::Ok();
      }
      return err::make(err::kDuplicateLoadBalancerName,
                       "A load balancer with the same name '{}' exists, but with "
                       "different settings",
                       in.name);
    }
    if (t.count<LoadBalancer>(index::kOwner, call.account) >= ctx_.limits().loadBalancersPerAccount)
      return err::make(err::kTooManyLoadBalancers, "The quota for the number of load balancers has been reached");

    std::string hex = ctx_.random.hex(16);
    lb.id.v = arnPrefix(ctx_, call) + "loadbalancer/net/" + in.name + "/" + hex;
    lb.ownerId = call.account;
    lb.name = in.name;
    lb.scheme = scheme;
    lb.type = type;
    lb.state = "active";
    lb.vpcId = subnets.front().vpcId;
    lb.dnsName = fmt::format("{}-{}.elb.{}.amazonaws.com", in.name, hex, ctx_.regionName());
    lb.ipAddressType = ipType;
    lb.createdAt = nowIso(ctx_);
    lb.tags = in.tags;
    for (size_t i = 0; i < subnets.size(); ++i) {
      const auto& s = subnets[i];
      const auto& requested = mappings[i].privateIpv4Address;
      auto ip = allocatePrivateIp(t, s, requested);
      if (!ip.ok()) {
        if (ip.status().code() == err::kInsufficientFreeAddresses)
          return err::make(err::kElbInvalidSubnet, "Not enough IP space available in {}", s.id.str());
        if (!requested.empty())
          return invalidConfig("The private IPv4 address '{}' cannot be used in subnet '{}': {}", requested, s.id.str(),
                               ip.status().message());
        return ip.status();
      }
      model::NetworkInterface eni;
      eni.id = model::NetworkInterfaceId::generate(ctx_.random);
      eni.ownerId = call.account;
      eni.vpcId = s.vpcId;
      eni.subnetId = s.id;
      eni.zoneId = s.zoneId;
      eni.privateIp = *ip;
      eni.macAddress = macForInterface(eni.id.str());
      eni.description = "ELB net/" + in.name + "/" + hex;
      eni.interfaceType = "network_load_balancer";
      eni.requesterManaged = true;
      eni.requesterId = "amazon-elb";
      eni.managedBy = lb.id.str();
      eni.createdAt = lb.createdAt;
      t.put(eni);
      lb.nodes.push_back({s.id, s.zoneId, eni.id, *ip});
    }
    t.put(lb);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return lb;
}

Result<Page<LoadBalancer>> ElbService::describeLoadBalancers(const CallContext& call,
                                                             const DescribeLoadBalancersInput& in) {
  if (!in.arns.empty() && !in.names.empty())
    return validation("Load balancer names and load balancer ARNs cannot be specified at the same time");
  for (const auto& a : in.arns)
    if (!isArnOf(a, "loadbalancer")) return validation("'{}' is not a valid load balancer ARN", a);
  std::vector<LoadBalancer> lbs;
  ctx_.store.read(
      [&](const store::ReadView& r) { lbs = View(r).listIndexed<LoadBalancer>(index::kOwner, call.account); });
  auto keep = [&](const std::vector<std::string>& wanted, auto field) -> Status {
    std::vector<std::string> missing;
    for (const auto& w : wanted)
      if (std::none_of(lbs.begin(), lbs.end(), [&](const LoadBalancer& l) { return field(l) == w; }))
        missing.push_back(w);
    if (!missing.empty())
      return err::make(err::kLoadBalancerNotFound, "Load balancers '[{}]' not found", fmt::join(missing, ", "));
    std::erase_if(
        lbs, [&](const LoadBalancer& l) { return std::find(wanted.begin(), wanted.end(), field(l)) == wanted.end(); });
    return Status::Ok();
  };
  if (!in.arns.empty()) LP_RETURN_IF_ERROR(keep(in.arns, [](const LoadBalancer& l) { return l.id.str(); }));
  if (!in.names.empty()) LP_RETURN_IF_ERROR(keep(in.names, [](const LoadBalancer& l) { return l.name; }));
  return markerPage(std::move(lbs), in.page, [](const LoadBalancer& l) -> const std::string& { return l.id.str(); });
}

Status ElbService::deleteLoadBalancer(const CallContext& call, const std::string& arn) {
  if (arn.empty()) return required("loadBalancerArn");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(LoadBalancer lb, findLoadBalancer(t, call, arn));
    if (lb.deletionProtection())
      return err::make(err::kOperationNotPermitted,
                       "Load balancer '{}' cannot be deleted because deletion protection is enabled", arn);
    bool referenced = t.anyIndexed<model::ServiceConfiguration>(
        index::kLoadBalancer, arn, [&](const model::ServiceConfiguration& sc) { return sc.state != "Deleted"; });
    if (referenced)
      return err::make(err::kResourceInUse,
                       "Load balancer '{}' cannot be deleted because it is currently associated with another service",
                       arn);
    for (const auto& l : t.listIndexed<Listener>(index::kLoadBalancer, arn)) t.erase<Listener>(l.id.str());
    for (const auto& e : t.listIndexed<model::NetworkInterface>(index::kManagedBy, arn))
      t.erase<model::NetworkInterface>(e.id);
    t.erase<LoadBalancer>(arn);
    return Status::Ok();
  });
}

}  // namespace lp::control
