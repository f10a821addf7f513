// EndpointService, consumer side: interface endpoints (Create, Describe, Modify,
// DeleteVpcEndpoints) and the discovery of services (DescribeVpcEndpointServices).
// The provider side is in endpoint_service_configurations.cc,
// endpoint_service_permissions.cc and endpoint_connections.cc; the AWS catalog in
// endpoint_aws_catalog.cc. Stateless over a ControlContext; any thread.
#include "control/endpoint_service.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "control/connection_events.h"
#include "control/endpoint_common.h"
#include "control/endpoint_dns_names.h"
#include "control/ip_allocation.h"
#include "control/network_interface_service.h"

namespace lp::control {

using model::NetworkInterface;
using model::SecurityGroup;
using model::Subnet;
using model::Vpc;
using namespace endpoint_internal;

namespace {

// Whether account may discover and connect to s.
bool allowedFor(const ServiceConfiguration& s, const std::string& account) {
  if (s.isAwsService() || s.ownerId == account) return true;
  std::string root = "arn:aws:iam::" + account + ":root";
  return std::any_of(s.allowedPrincipals.begin(), s.allowedPrincipals.end(),
                     [&](const model::AllowedPrincipal& p) { return p.principal == "*" || p.principal == root; });
}

bool isLive(const VpcEndpoint& e) { return e.state != es::kDeleted && e.state != es::kDeleting; }

Status checkPolicyDocument(const std::string& doc) {
  if (doc.size() > 20480) return err::make(err::kInvalidPolicyDocument, "The policy document is too large.");
  auto j = nlohmann::json::parse(doc, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return err::make(err::kInvalidPolicyDocument, "The policy document is not a valid JSON object.");
  return Status::Ok();
}

Result<VpcEndpoint> findOwnedEndpoint(const View& v, const CallContext& call, const std::string& id) {
  if (id.empty()) return err::missing("VpcEndpointId");
  return findOwned<VpcEndpoint>(v, call, id, err::kEndpointIdMalformed, err::kEndpointIdNotFound, "VpcEndpoint Id");
}

// The caller's subnets for an endpoint: in its VPC, at most one per zone (counting
// the zones it already has), only zones the service supports.
Result<std::vector<Subnet>> resolveEndpointSubnets(const View& v, const CallContext& call, const model::VpcId& vpcId,
                                                   const Strings& ids, std::set<std::string> zonesTaken,
                                                   const ServiceConfiguration& svc) {
  std::vector<Subnet> out;
  for (const auto& id : ids) {
    LP_ASSIGN_OR_RETURN(Subnet s,
                        findOwned<Subnet>(v, call, id, err::kSubnetMalformed, err::kSubnetNotFound, "subnet ID"));
    if (s.vpcId != vpcId)
      return err::make(err::kInvalidParameter, "The subnet ID '{}' does not belong to the VPC '{}'.", id, vpcId.str());
    if (!zonesTaken.insert(s.zoneId).second)
      return err::make(err::kDuplicateSubnetsInSameZone,
                       "Found another VPC endpoint subnet in the availability zone of {}. VPC endpoint subnets "
                       "should be in different availability zones supported by the VPC endpoint service.",
                       id);
    if (std::find(svc.zoneIds.begin(), svc.zoneIds.end(), s.zoneId) == svc.zoneIds.end())
      return err::make(err::kInvalidParameter,
                       "The VPC endpoint service {} does not support the availability zone of the subnet: {}.",
                       svc.serviceName, id);
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<model::SecurityGroupId>> resolveEndpointGroups(const View& v, const CallContext& call,
                                                                  const model::VpcId& vpcId, const Strings& ids) {
  std::vector<model::SecurityGroupId> out;
  for (const auto& id : ids) {
    if (!model::isWellFormed<model::SecurityGroupId>(id))
      return err::make(err::kGroupIdMalformed, "Invalid id: \"{}\" (expecting \"sg-...\")", id);
    auto g = v.get<SecurityGroup>(id);
    if (!g || g->ownerId != call.account)
      return err::make(err::kGroupNotFound, "The security group '{}' does not exist", id);
    if (g->vpcId != vpcId)
      return err::make(err::kInvalidParameter, "The security group '{}' does not belong to the VPC '{}'.", id,
                       vpcId.str());
    if (std::find(out.begin(), out.end(), g->id) == out.end()) out.push_back(g->id);
  }
  return out;
}

// Private DNS needs a name to publish, both VPC DNS attributes, and no other
// endpoint in the VPC already holding that name.
Status checkPrivateDns(const View& v, const Vpc& vpc, const ServiceConfiguration& svc,
                       const model::VpcEndpointId& self) {
  if (!svc.hasUsablePrivateDnsName())
    return err::make(err::kInvalidParameter,
                     "Private DNS can't be enabled because the service {} does not provide a private DNS name.",
                     svc.serviceName);
  if (!vpc.enableDnsSupport || !vpc.enableDnsHostnames)
    return err::make(err::kInvalidParameter,
                     "Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set "
                     "to true for {}",
                     vpc.id.str());
  bool conflict = v.anyIndexed<VpcEndpoint>(index::kVpc, vpc.id.str(), [&](const VpcEndpoint& o) {
    if (o.id == self || !o.privateDnsEnabled || !isLive(o)) return false;
    return std::any_of(o.dnsEntries.begin(), o.dnsEntries.end(),
                       [&](const model::DnsEntry& d) { return d.dnsName == svc.privateDnsName; });
  });
  if (conflict)
    return err::make(err::kInvalidParameter,
                     "private-dns-enabled cannot be set because there is already a conflicting DNS domain for {} in "
                     "the VPC {}",
                     svc.privateDnsName, vpc.id.str());
  return Status::Ok();
}

NetworkInterface makeEndpointInterface(ControlContext& ctx, const VpcEndpoint& e, const Subnet& s,
                                       const std::string& ip) {
  NetworkInterface eni;
  eni.id = model::NetworkInterfaceId::generate(ctx.random);
  eni.ownerId = e.ownerId;
  eni.vpcId = s.vpcId;
  eni.subnetId = s.id;
  eni.zoneId = s.zoneId;
  eni.privateIp = ip;
  eni.macAddress = macForInterface(eni.id.str());
  eni.description = "VPC Endpoint Interface " + e.id.str();
  eni.groupIds = e.groupIds;
  eni.interfaceType = "vpc_endpoint";
  eni.requesterManaged = true;
  eni.requesterId = "amazon-vpce";
  eni.status = "in-use";
  eni.managedBy = e.id.str();
  eni.createdAt = nowIso(ctx);
  return eni;
}

// Adds one endpoint interface per subnet to e (addresses allocated in t).
Status addEndpointInterfaces(Txn& t, ControlContext& ctx, VpcEndpoint& e, const std::vector<Subnet>& subnets) {
  for (const auto& s : subnets) {
    LP_ASSIGN_OR_RETURN(std::string ip, allocatePrivateIp(t, s, ""));
    NetworkInterface eni = makeEndpointInterface(ctx, e, s, ip);
    t.put(eni);
    e.subnetIds.push_back(s.id);
    e.networkInterfaceIds.push_back(eni.id);
  }
  return Status::Ok();
}

std::vector<Subnet> subnetsOf(const View& v, const VpcEndpoint& e) {
  std::vector<Subnet> out;
  for (const auto& id : e.subnetIds)
    if (auto s = v.get<Subnet>(id)) out.push_back(std::move(*s));
  return out;
}

VpcEndpointInfo renderEndpoint(const View& v, VpcEndpoint e) {
  VpcEndpointInfo info;
  for (const auto& g : e.groupIds) {
    auto sg = v.get<SecurityGroup>(g);
    info.groups.emplace_back(g.str(), sg ? sg->name : "");
  }
  info.endpoint = std::move(e);
  return info;
}

struct ServiceRow {
  ServiceDetailInfo info;
  model::Tags tags;
};

const FilterSpec<ServiceRow>& serviceDetailFilters() {
  static const FilterSpec<ServiceRow> spec = [] {
    FilterSpec<ServiceRow> s;
    s.add("service-name", [](const ServiceRow& r) { return Strings{r.info.service.serviceName}; })
        .add("service-type", [](const ServiceRow&) { return Strings{"Interface"}; })
        .add("owner", [](const ServiceRow& r) { return Strings{r.info.service.ownerId}; })
        .add("service-region", [](const ServiceRow&) { return Strings{}; })
        .add("supported-ip-address-types", [](const ServiceRow&) { return Strings{"ipv4"}; });
    return s;
  }();
  return spec;
}

const FilterSpec<VpcEndpoint>& endpointFilters() {
  static const FilterSpec<VpcEndpoint> spec = [] {
    FilterSpec<VpcEndpoint> s;
    s.add("vpc-endpoint-id", [](const VpcEndpoint& e) { return Strings{e.id.str()}; })
        .add("vpc-id", [](const VpcEndpoint& e) { return Strings{e.vpcId.str()}; })
        .add("service-name", [](const VpcEndpoint& e) { return Strings{e.serviceName}; })
        .add("vpc-endpoint-state", [](const VpcEndpoint& e) { return Strings{e.state}; })
        .add("vpc-endpoint-type", [](const VpcEndpoint& e) { return Strings{e.type}; })
        .add("ip-address-type", [](const VpcEndpoint&) { return Strings{"ipv4"}; })
        .add("service-region", [](const VpcEndpoint&) { return Strings{}; });
    return s;
  }();
  return spec;
}

}  // namespace

const std::string& defaultEndpointPolicy() {
  static const std::string kPolicy =
      "{\n  \"Statement\": [\n    {\n      \"Action\": \"*\", \n      \"Effect\": \"Allow\", \n      "
      "\"Principal\": \"*\", \n      \"Resource\": \"*\"\n    }\n  ]\n}";
  return kPolicy;
}

Result<VpcEndpointInfo> EndpointService::createVpcEndpoint(const CallContext& call, const CreateVpcEndpointInput& in) {
  if (in.vpcId.empty()) return err::missing("VpcId");
  if (in.serviceName.empty()) return err::missing("ServiceName");
  std::string type = in.vpcEndpointType.empty() ? "Gateway" : in.vpcEndpointType;
  if (type != "Interface") {
    if (type == "Gateway" || type == "GatewayLoadBalancer" || type == "Resource" || type == "ServiceNetwork")
      return err::make(err::kInvalidVpcEndpointType,
                       "The VPC endpoint type '{}' is not supported here: only Interface endpoints (pass "
                       "--vpc-endpoint-type Interface).",
                       type);
    return err::badValue("VpcEndpointType", type);
  }
  if (!in.routeTableIds.empty())
    return err::make(err::kInvalidParameter, "Route tables can only be specified for Gateway endpoints.");
  LP_RETURN_IF_ERROR(checkIpv4Only("IpAddressType", in.ipAddressType));
  LP_RETURN_IF_ERROR(checkIpv4Only("DnsOptions.DnsRecordIpType", in.dnsRecordIpType));
  if (!in.policyDocument.empty()) LP_RETURN_IF_ERROR(checkPolicyDocument(in.policyDocument));
  if (in.clientToken.size() > 64) return err::badValue("ClientToken", in.clientToken);
  LP_ASSIGN_OR_RETURN(auto tags, tagsFromSpecs(in.tagSpecs, "vpc-endpoint"));

  VpcEndpointInfo out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Vpc vpc, findOwned<Vpc>(t, call, in.vpcId, err::kVpcMalformed, err::kVpcNotFound, "vpc ID"));
    // Services of other regions, unknown ones and ones this account may not use
    // all look the same: the name does not exist for this caller.
    auto svcs = t.listIndexed<ServiceConfiguration>(index::kServiceName, in.serviceName);
    if (svcs.empty() || !allowedFor(svcs.front(), call.account) || svcs.front().state != "Available")
      return err::make(err::kInvalidServiceName, "The Vpc Endpoint Service '{}' does not exist", in.serviceName);
    const ServiceConfiguration& svc = svcs.front();
    LP_ASSIGN_OR_RETURN(auto subnets, resolveEndpointSubnets(t, call, vpc.id, in.subnetIds, {}, svc));
    LP_ASSIGN_OR_RETURN(auto groups, resolveEndpointGroups(t, call, vpc.id, in.securityGroupIds));
    if (groups.empty()) groups.push_back(vpc.defaultSecurityGroupId);
    LP_RETURN_IF_ERROR(checkGroupsPerInterface(ctx_.limits(), groups.size()));
    bool privateDns = in.privateDnsEnabled.value_or(svc.hasUsablePrivateDnsName());

    if (!in.clientToken.empty()) {
      auto prior = t.listIndexed<VpcEndpoint>(index::kOwnerToken, ownerToken(call.account, in.clientToken));
      if (!prior.empty()) {
        const VpcEndpoint& e = prior.front();
        std::vector<model::SubnetId> wantSubnets;
        for (const auto& s : subnets) wantSubnets.push_back(s.id);
        bool same = e.vpcId == vpc.id && e.serviceId == svc.id && e.subnetIds == wantSubnets && e.groupIds == groups &&
                    e.privateDnsEnabled == privateDns;
        if (!same)
          return err::make(err::kIdempotentParameterMismatch,
                           "The client token '{}' was already used with different parameters.", in.clientToken);
        if (call.dryRun) return err::dryRun();
        out = renderEndpoint(t, e);
        return Status::Ok();
      }
    }
    if (privateDns) LP_RETURN_IF_ERROR(checkPrivateDns(t, vpc, svc, model::VpcEndpointId()));
    const int limit = ctx_.limits().interfaceEndpointsPerVpc;
    if (t.count<VpcEndpoint>(index::kVpcQuota, vpc.id.str()) >= limit)
      return err::make(err::kVpcEndpointLimitExceeded,
                       "The maximum number of VPC endpoints ({}) has been reached for VPC {}.", limit,
                       vpc.id.str());

    VpcEndpoint e;
    e.id = model::VpcEndpointId::generate(ctx_.random);
    e.ownerId = call.account;
    e.type = "Interface";
    e.vpcId = vpc.id;
    e.serviceId = svc.id;
    e.serviceName = svc.serviceName;
    e.policyDocument = in.policyDocument.empty() ? defaultEndpointPolicy() : in.policyDocument;
    e.groupIds = groups;
    e.privateDnsEnabled = privateDns;
    e.dnsLabel = randomDnsLabel(ctx_.random);
    e.clientToken = in.clientToken;
    e.createdAt = nowIso(ctx_);
    e.tags = tags;
    setState(ctx_, e, svc.acceptanceRequired ? es::kPendingAcceptance : es::kPending, "CreateVpcEndpoint", call);
    LP_RETURN_IF_ERROR(addEndpointInterfaces(t, ctx_, e, subnets));
    if (call.dryRun) return err::dryRun();
    e.dnsEntries = computeDnsEntries(ctx_, e, svc, subnets);
    t.put(e);
    recordConnectionEvent(t, ctx_, e, connection_event::kConnect);
    if (!svc.acceptanceRequired) recordConnectionEvent(t, ctx_, e, connection_event::kAccept);
    out = renderEndpoint(t, std::move(e));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<Page<VpcEndpointInfo>> EndpointService::describeVpcEndpoints(const CallContext& call, const DescribeInput& in) {
  LP_RETURN_IF_ERROR(endpointFilters().validate(in.filters));
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 1, 1000, /*capInsteadOfError=*/true));
  for (const auto& id : in.ids)
    if (!model::isWellFormed<model::VpcEndpointId>(id))
      return err::make(err::kEndpointIdMalformed, "Invalid Id: '{}' (expecting 'vpce-...')", id);
  if (call.dryRun) return err::dryRun();
  Result<Page<VpcEndpointInfo>> out = Page<VpcEndpointInfo>{};
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    for (const auto& id : in.ids) {
      auto e = v.get<VpcEndpoint>(id);
      if (!e || e->ownerId != call.account) {
        out = err::make(err::kEndpointIdNotFound, "The VpcEndpoint Id '{}' does not exist", id);
        return;
      }
    }
    auto page = paginateInOrder<VpcEndpoint>(
        in.page, [](const VpcEndpoint& e) -> const std::string& { return e.id.str(); },
        [&](std::string_view from, const std::function<bool(VpcEndpoint)>& take) {
          v.forEachOwned<VpcEndpoint>(call.account, in.ids, from, [&](const VpcEndpoint& e) {
            return !endpointFilters().matches(e, in.filters) || take(e);
          });
        });
    if (!page.ok()) {
      out = page.status();
      return;
    }
    Page<VpcEndpointInfo> rendered;
    rendered.nextToken = page->nextToken;
    for (auto& e : page->items) rendered.items.push_back(renderEndpoint(v, std::move(e)));
    out = std::move(rendered);
  });
  return out;
}

Status EndpointService::modifyVpcEndpoint(const CallContext& call, const ModifyVpcEndpointInput& in) {
  if (!in.addRouteTableIds.empty() || !in.removeRouteTableIds.empty())
    return err::make(err::kInvalidParameter, "Route tables can only be modified for Gateway endpoints.");
  LP_RETURN_IF_ERROR(checkIpv4Only("IpAddressType", in.ipAddressType));
  if (in.resetPolicy && in.policyDocument)
    return err::make(err::kInvalidParameterCombination, "ResetPolicy cannot be combined with PolicyDocument.");
  if (in.policyDocument) LP_RETURN_IF_ERROR(checkPolicyDocument(*in.policyDocument));
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(VpcEndpoint e, findOwnedEndpoint(t, call, in.vpcEndpointId));
    if (!isLive(e) || e.state == es::kRejected)
      return err::make(err::kIncorrectState, "The VPC endpoint {} is in state {} and cannot be modified.", e.id.str(),
                       e.state);
    auto svc = t.get<ServiceConfiguration>(e.serviceId);
    if (!svc) return err::make(err::kInternalError, "The endpoint's service is missing.");
    LP_ASSIGN_OR_RETURN(Vpc vpc,
                        findOwned<Vpc>(t, call, e.vpcId.str(), err::kVpcMalformed, err::kVpcNotFound, "vpc ID"));

    // Subnets: removals first, so a zone freed by a removal can be added back.
    for (const auto& id : in.removeSubnetIds) {
      if (!model::isWellFormed<model::SubnetId>(id)) return err::make(err::kSubnetMalformed, "Invalid id: \"{}\"", id);
      auto it = std::find(e.subnetIds.begin(), e.subnetIds.end(), model::SubnetId(id));
      if (it == e.subnetIds.end())
        return err::make(err::kInvalidParameter, "The subnet {} is not part of the VPC endpoint {}.", id, e.id.str());
      e.subnetIds.erase(it);
      for (auto i = e.networkInterfaceIds.begin(); i != e.networkInterfaceIds.end(); ++i) {
        auto eni = t.get<NetworkInterface>(*i);
        if (eni && eni->subnetId.str() == id) {
          t.erase<NetworkInterface>(*i);
          e.networkInterfaceIds.erase(i);
          break;
        }
      }
    }
    std::set<std::string> zones;
    for (const auto& s : subnetsOf(t, e)) zones.insert(s.zoneId);
    for (const auto& id : in.addSubnetIds)
      if (std::find(e.subnetIds.begin(), e.subnetIds.end(), model::SubnetId(id)) != e.subnetIds.end())
        return err::make(err::kDuplicateSubnetsInSameZone, "The subnet {} is already part of the VPC endpoint {}.", id,
                         e.id.str());
    LP_ASSIGN_OR_RETURN(auto added, resolveEndpointSubnets(t, call, e.vpcId, in.addSubnetIds, zones, *svc));

    // Security groups.
    LP_ASSIGN_OR_RETURN(auto addGroups, resolveEndpointGroups(t, call, e.vpcId, in.addSecurityGroupIds));
    for (const auto& id : in.removeSecurityGroupIds) {
      if (!model::isWellFormed<model::SecurityGroupId>(id))
        return err::make(err::kGroupIdMalformed, "Invalid id: \"{}\" (expecting \"sg-...\")", id);
      auto it = std::find(e.groupIds.begin(), e.groupIds.end(), model::SecurityGroupId(id));
      if (it == e.groupIds.end())
        return err::make(err::kInvalidParameter, "The security group {} is not associated with the VPC endpoint {}.",
                         id, e.id.str());
      e.groupIds.erase(it);
    }
    for (const auto& g : addGroups)
      if (std::find(e.groupIds.begin(), e.groupIds.end(), g) == e.groupIds.end()) e.groupIds.push_back(g);
    if (e.groupIds.empty())
      return err::make(err::kInvalidParameter, "An interface endpoint must keep at least one security group.");
    LP_RETURN_IF_ERROR(checkGroupsPerInterface(ctx_.limits(), e.groupIds.size()));

    if (in.privateDnsEnabled) {
      if (*in.privateDnsEnabled && !e.privateDnsEnabled) LP_RETURN_IF_ERROR(checkPrivateDns(t, vpc, *svc, e.id));
      e.privateDnsEnabled = *in.privateDnsEnabled;
    }
    if (in.resetPolicy) e.policyDocument = defaultEndpointPolicy();
    if (in.policyDocument) e.policyDocument = *in.policyDocument;
    LP_RETURN_IF_ERROR(addEndpointInterfaces(t, ctx_, e, added));
    if (call.dryRun) return err::dryRun();

    // Every interface carries the endpoint's current groups.
    for (const auto& id : e.networkInterfaceIds) {
      auto eni = t.get<NetworkInterface>(id);
      if (eni && eni->groupIds != e.groupIds) {
        eni->groupIds = e.groupIds;
        t.put(*eni);
      }
    }
    e.dnsEntries = computeDnsEntries(ctx_, e, *svc, subnetsOf(t, e));
    t.put(e);
    return Status::Ok();
  });
}

Result<std::vector<UnsuccessfulItem>> EndpointService::deleteVpcEndpoints(const CallContext& call,
                                                                          const std::vector<std::string>& ids) {
  if (ids.empty()) return err::missing("VpcEndpointId");
  std::vector<UnsuccessfulItem> failed;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    failed.clear();
    std::vector<VpcEndpoint> toDelete;
    for (const auto& id : ids) {
      auto e = model::isWellFormed<model::VpcEndpointId>(id) ? t.get<VpcEndpoint>(id) : std::nullopt;
      if (!e || e->ownerId != call.account || e->state == es::kDeleted) {
        failed.push_back(
            failure(id, err::kEndpointNotFound, fmt::format("The VpcEndpoint Id '{}' does not exist", id)));
        continue;
      }
      if (e->state != es::kDeleting) toDelete.push_back(std::move(*e));
    }
    if (call.dryRun) return err::dryRun();
    for (auto& e : toDelete) {
      for (const auto& eni : e.networkInterfaceIds) t.erase<NetworkInterface>(eni);
      e.networkInterfaceIds.clear();
      setState(ctx_, e, es::kDeleting, "DeleteVpcEndpoints", call);
      t.put(e);
      recordConnectionEvent(t, ctx_, e, connection_event::kDelete);
      // The endpoint's own notifications end with it, after announcing its deletion.
      for (const auto& n : t.listIndexed<model::ConnectionNotification>(index::kEndpoint, e.id.str()))
        t.erase<model::ConnectionNotification>(n.id);
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return failed;
}

Result<Page<ServiceDetailInfo>> EndpointService::describeVpcEndpointServices(const CallContext& call,
                                                                             const std::vector<std::string>& names,
                                                                             const Filters& filters,
                                                                             const PageRequest& page) {
  LP_RETURN_IF_ERROR(serviceDetailFilters().validate(filters));
  LP_RETURN_IF_ERROR(validateMaxResults(page, 1, 1000, /*capInsteadOfError=*/true));
  if (call.dryRun) return err::dryRun();
  std::vector<ServiceRow> rows;
  ctx_.store.read([&](const store::ReadView& r) {
    for (auto& s : View(r).listWhere<ServiceConfiguration>(
             [&](const ServiceConfiguration& s) { return s.state == "Available" && allowedFor(s, call.account); })) {
      ServiceRow row;
      row.tags = s.tags;
      row.info.zoneNames = zoneNamesFor(ctx_, call.account, s.zoneIds);
      row.info.baseEndpointDnsName = baseEndpointDnsName(ctx_, s);
      row.info.service = std::move(s);
      rows.push_back(std::move(row));
    }
  });
  for (const auto& n : names)
    if (std::none_of(rows.begin(), rows.end(), [&](const ServiceRow& r) { return r.info.service.serviceName == n; }))
      return err::make(err::kInvalidServiceName, "The Vpc Endpoint Service '{}' does not exist", n);
  std::erase_if(rows, [&](const ServiceRow& r) {
    if (!names.empty() && std::find(names.begin(), names.end(), r.info.service.serviceName) == names.end()) return true;
    return !serviceDetailFilters().matches(r, filters);
  });
  std::sort(rows.begin(), rows.end(), [](const ServiceRow& a, const ServiceRow& b) {
    return a.info.service.serviceName < b.info.service.serviceName;
  });
  LP_ASSIGN_OR_RETURN(auto p, paginate(std::move(rows), page, [](const ServiceRow& r) -> const std::string& {
                        return r.info.service.serviceName;
                      }));
  Page<ServiceDetailInfo> out;
  out.nextToken = p.nextToken;
  for (auto& r : p.items) out.items.push_back(std::move(r.info));
  return out;
}

}  // namespace lp::control
