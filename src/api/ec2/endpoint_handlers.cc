// EC2 endpoint services, interface endpoints, permissions and connections.
#include "api/ec2/codec.h"
#include "api/handlers.h"
#include "control/endpoint_service.h"

namespace lp::api {

namespace {

using control::EndpointService;

void writeDnsEntries(XmlWriter& x, const std::vector<model::DnsEntry>& entries) {
  if (entries.empty()) return x.empty("dnsEntrySet");
  auto s = x.scope("dnsEntrySet");
  for (const auto& d : entries) {
    auto i = x.scope("item");
    x.leaf("dnsName", d.dnsName);
    x.leaf("hostedZoneId", d.hostedZoneId);
  }
}

void writeServiceType(XmlWriter& x) {
  auto s = x.scope("serviceType");
  auto i = x.scope("item");
  x.leaf("serviceType", "Interface");
}

void writeEndpoint(XmlWriter& x, const control::VpcEndpointInfo& info) {
  const auto& e = info.endpoint;
  x.leaf("vpcEndpointId", e.id.str());
  x.leaf("vpcEndpointType", e.type);
  x.leaf("vpcId", e.vpcId.str());
  x.leaf("serviceName", e.serviceName);
  x.leaf("state", e.state);
  x.leaf("policyDocument", e.policyDocument);
  x.empty("routeTableIdSet");
  {
    std::vector<std::string> subnets;
    for (const auto& s : e.subnetIds) subnets.push_back(s.str());
    x.stringItems("subnetIdSet", subnets);
  }
  if (info.groups.empty()) {
    x.empty("groupSet");
  } else {
    auto g = x.scope("groupSet");
    for (const auto& [id, name] : info.groups) {
      auto i = x.scope("item");
      x.leaf("groupId", id);
      x.leaf("groupName", name);
    }
  }
  x.leaf("ipAddressType", "ipv4");
  {
    auto d = x.scope("dnsOptions");
    x.leaf("dnsRecordIpType", "ipv4");
  }
  x.leaf("privateDnsEnabled", e.privateDnsEnabled);
  x.leaf("requesterManaged", false);
  {
    std::vector<std::string> enis;
    for (const auto& n : e.networkInterfaceIds) enis.push_back(n.str());
    x.stringItems("networkInterfaceIdSet", enis);
  }
  writeDnsEntries(x, e.dnsEntries);
  x.leaf("creationTimestamp", e.createdAt);
  ec2::writeTags(x, e.tags);
  x.leaf("ownerId", e.ownerId);
  if (!e.lastErrorCode.empty()) {
    auto l = x.scope("lastError");
    x.leaf("message", e.lastErrorMessage);
    x.leaf("code", e.lastErrorCode);
  }
}

// "_" + the service id without "vpce-svc-". Appended, not `"_" + str.substr(...)`:
// GCC 12 at -O3 inlines that operator+ into an insert at offset 0 and reports a
// -Wrestrict overlap that cannot happen (GCC PR 105651), which failed Release builds.
std::string verificationRecordName(const std::string& serviceId) {
  constexpr std::string_view kPrefix = "vpce-svc-";
  std::string name = "_";
  name.append(std::string_view(serviceId).substr(std::min(kPrefix.size(), serviceId.size())));
  return name;
}

void writeServiceConfiguration(XmlWriter& x, const control::ServiceConfigurationInfo& info) {
  const auto& s = info.service;
  writeServiceType(x);
  x.leaf("serviceId", s.id.str());
  x.leaf("serviceName", s.serviceName);
  x.leaf("serviceState", s.state);
  x.stringItems("availabilityZoneIdSet", s.zoneIds);
  x.stringItems("availabilityZoneSet", info.zoneNames);
  x.leaf("acceptanceRequired", s.acceptanceRequired);
  x.leaf("managesVpcEndpoints", s.managesVpcEndpoints);
  x.stringItems("networkLoadBalancerArnSet", s.networkLoadBalancerArns);
  x.empty("gatewayLoadBalancerArnSet");
  x.stringItems("supportedIpAddressTypeSet", {"ipv4"});
  x.stringItems("baseEndpointDnsNameSet", {info.baseEndpointDnsName});
  if (!s.privateDnsName.empty()) {
    x.leaf("privateDnsName", s.privateDnsName);
    auto c = x.scope("privateDnsNameConfiguration");
    x.leaf("state", s.privateDnsNameState);
    x.leaf("type", "TXT");
    x.leaf("value", s.privateDnsVerificationValue);
    x.leaf("name", verificationRecordName(s.id.str()));
  }
  ec2::writeTags(x, s.tags);
}

void writeServiceDetail(XmlWriter& x, const control::ServiceDetailInfo& info) {
  const auto& s = info.service;
  x.leaf("serviceName", s.serviceName);
  x.leaf("serviceId", s.id.str());
  writeServiceType(x);
  x.stringItems("availabilityZoneIdSet", s.zoneIds);
  x.stringItems("availabilityZoneSet", info.zoneNames);
  x.leaf("owner", s.ownerId);
  x.stringItems("baseEndpointDnsNameSet", {info.baseEndpointDnsName});
  if (s.hasUsablePrivateDnsName()) {
    x.leaf("privateDnsName", s.privateDnsName);
    auto set = x.scope("privateDnsNameSet");
    auto i = x.scope("item");
    x.leaf("privateDnsName", s.privateDnsName);
  }
  x.leaf("vpcEndpointPolicySupported", false);
  x.leaf("acceptanceRequired", s.acceptanceRequired);
  x.leaf("managesVpcEndpoints", s.managesVpcEndpoints);
  ec2::writeTags(x, s.tags);
  if (!s.privateDnsName.empty()) x.leaf("privateDnsNameVerificationState", s.privateDnsNameState);
  x.stringItems("supportedIpAddressTypeSet", {"ipv4"});
}

Result<bool> flag(const Params& p, std::string_view key) {
  LP_ASSIGN_OR_RETURN(auto v, p.getBool(key));
  return v.value_or(false);
}

}  // namespace

void registerEc2EndpointHandlers(Router& r, control::ControlContext& ctx) {
  // ---- consumer side ----
  r.add("ec2", "CreateVpcEndpoint", [&ctx](HandlerContext& h) -> Status {
    const Params& p = h.params;
    control::CreateVpcEndpointInput in;
    in.vpcEndpointType = p.get("VpcEndpointType");
    in.vpcId = p.get("VpcId");
    in.serviceName = p.get("ServiceName");
    in.policyDocument = p.get("PolicyDocument");
    in.routeTableIds = p.list("RouteTableId");
    in.subnetIds = p.list("SubnetId");
    in.securityGroupIds = p.list("SecurityGroupId");
    in.ipAddressType = p.get("IpAddressType");
    in.dnsRecordIpType = p.get("DnsOptions.DnsRecordIpType");
    LP_ASSIGN_OR_RETURN(in.privateDnsEnabled, p.getBool("PrivateDnsEnabled"));
    in.clientToken = p.get("ClientToken");
    in.tagSpecs = ec2::readTagSpecs(p);
    if (!p.structList("SubnetConfiguration").empty())
      return control::err::make(control::err::kInvalidParameter,
                                "SubnetConfiguration is not supported: addresses are allocated from the subnet.");
    LP_ASSIGN_OR_RETURN(auto e, EndpointService(ctx).createVpcEndpoint(h.call, in));
    {
      auto s = h.out.scope("vpcEndpoint");
      writeEndpoint(h.out, e);
    }
    if (!in.clientToken.empty()) h.out.leaf("clientToken", in.clientToken);
    return Status::Ok();
  });

  r.add("ec2", "DescribeVpcEndpoints", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, ec2::readDescribe(h.params, "VpcEndpointId"));
    LP_ASSIGN_OR_RETURN(auto page, EndpointService(ctx).describeVpcEndpoints(h.call, in));
    ec2::writeItems(h.out, "vpcEndpointSet", page.items, writeEndpoint);
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  r.add("ec2", "ModifyVpcEndpoint", [&ctx](HandlerContext& h) -> Status {
    const Params& p = h.params;
    control::ModifyVpcEndpointInput in;
    in.vpcEndpointId = p.get("VpcEndpointId");
    LP_ASSIGN_OR_RETURN(in.resetPolicy, flag(p, "ResetPolicy"));
    if (p.has("PolicyDocument")) in.policyDocument = p.get("PolicyDocument");
    in.addRouteTableIds = p.list("AddRouteTableId");
    in.removeRouteTableIds = p.list("RemoveRouteTableId");
    in.addSubnetIds = p.list("AddSubnetId");
    in.removeSubnetIds = p.list("RemoveSubnetId");
    in.addSecurityGroupIds = p.list("AddSecurityGroupId");
    in.removeSecurityGroupIds = p.list("RemoveSecurityGroupId");
    in.ipAddressType = p.get("IpAddressType");
    LP_ASSIGN_OR_RETURN(in.privateDnsEnabled, p.getBool("PrivateDnsEnabled"));
    LP_RETURN_IF_ERROR(EndpointService(ctx).modifyVpcEndpoint(h.call, in));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "DeleteVpcEndpoints", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto failed, EndpointService(ctx).deleteVpcEndpoints(h.call, h.params.list("VpcEndpointId")));
    ec2::writeUnsuccessful(h.out, failed);
    return Status::Ok();
  });

  r.add("ec2", "DescribeVpcEndpointServices", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, ec2::readDescribe(h.params, "ServiceName"));
    LP_ASSIGN_OR_RETURN(auto page,
                        EndpointService(ctx).describeVpcEndpointServices(h.call, in.ids, in.filters, in.page));
    std::vector<std::string> names;
    for (const auto& s : page.items) names.push_back(s.service.serviceName);
    h.out.stringItems("serviceNameSet", names);
    ec2::writeItems(h.out, "serviceDetailSet", page.items, writeServiceDetail);
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  // ---- provider side ----
  r.add("ec2", "CreateVpcEndpointServiceConfiguration", [&ctx](HandlerContext& h) -> Status {
    const Params& p = h.params;
    control::CreateServiceConfigurationInput in;
    LP_ASSIGN_OR_RETURN(in.acceptanceRequired, p.getBool("AcceptanceRequired"));
    in.privateDnsName = p.get("PrivateDnsName");
    in.networkLoadBalancerArns = p.list("NetworkLoadBalancerArn");
    in.gatewayLoadBalancerArns = p.list("GatewayLoadBalancerArn");
    in.supportedIpAddressTypes = p.list("SupportedIpAddressType");
    in.clientToken = p.get("ClientToken");
    in.tagSpecs = ec2::readTagSpecs(p);
    LP_ASSIGN_OR_RETURN(auto s, EndpointService(ctx).createServiceConfiguration(h.call, in));
    {
      auto c = h.out.scope("serviceConfiguration");
      writeServiceConfiguration(h.out, s);
    }
    if (!in.clientToken.empty()) h.out.leaf("clientToken", in.clientToken);
    return Status::Ok();
  });

  r.add("ec2", "DescribeVpcEndpointServiceConfigurations", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, ec2::readDescribe(h.params, "ServiceId"));
    LP_ASSIGN_OR_RETURN(auto page, EndpointService(ctx).describeServiceConfigurations(h.call, in));
    ec2::writeItems(h.out, "serviceConfigurationSet", page.items, writeServiceConfiguration);
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  r.add("ec2", "ModifyVpcEndpointServiceConfiguration", [&ctx](HandlerContext& h) -> Status {
    const Params& p = h.params;
    control::ModifyServiceConfigurationInput in;
    in.serviceId = p.get("ServiceId");
    if (p.has("PrivateDnsName")) in.privateDnsName = p.get("PrivateDnsName");
    LP_ASSIGN_OR_RETURN(in.removePrivateDnsName, flag(p, "RemovePrivateDnsName"));
    LP_ASSIGN_OR_RETURN(in.acceptanceRequired, p.getBool("AcceptanceRequired"));
    in.addNetworkLoadBalancerArns = p.list("AddNetworkLoadBalancerArn");
    in.removeNetworkLoadBalancerArns = p.list("RemoveNetworkLoadBalancerArn");
    in.addGatewayLoadBalancerArns = p.list("AddGatewayLoadBalancerArn");
    in.removeGatewayLoadBalancerArns = p.list("RemoveGatewayLoadBalancerArn");
    in.addSupportedIpAddressTypes = p.list("AddSupportedIpAddressType");
    in.removeSupportedIpAddressTypes = p.list("RemoveSupportedIpAddressType");
    LP_RETURN_IF_ERROR(EndpointService(ctx).modifyServiceConfiguration(h.call, in));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "DeleteVpcEndpointServiceConfigurations", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto failed,
                        EndpointService(ctx).deleteServiceConfigurations(h.call, h.params.list("ServiceId")));
    ec2::writeUnsuccessful(h.out, failed);
    return Status::Ok();
  });

  r.add("ec2", "StartVpcEndpointServicePrivateDnsVerification", [&ctx](HandlerContext& h) -> Status {
    LP_RETURN_IF_ERROR(EndpointService(ctx).startPrivateDnsVerification(h.call, h.params.get("ServiceId")));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "DescribeVpcEndpointServicePermissions", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto page, ec2::readPage(h.params));
    LP_ASSIGN_OR_RETURN(auto perms, EndpointService(ctx).describeServicePermissions(h.call, h.params.get("ServiceId"),
                                                                                    ec2::readFilters(h.params), page));
    ec2::writeItems(h.out, "allowedPrincipals", perms.items, [](XmlWriter& x, const control::PermissionInfo& p) {
      x.leaf("principalType", p.principalType);
      x.leaf("principal", p.principal.principal);
      x.leaf("servicePermissionId", p.principal.permissionId);
      x.empty("tagSet");
      x.leaf("serviceId", p.serviceId.str());
    });
    ec2::writeNextToken(h.out, perms.nextToken);
    return Status::Ok();
  });

  r.add("ec2", "ModifyVpcEndpointServicePermissions", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto added, EndpointService(ctx).modifyServicePermissions(
                                        h.call, h.params.get("ServiceId"), h.params.list("AddAllowedPrincipals"),
                                        h.params.list("RemoveAllowedPrincipals")));
    ec2::writeItems(h.out, "addedPrincipalSet", added, [](XmlWriter& x, const control::PermissionInfo& p) {
      x.leaf("principalType", p.principalType);
      x.leaf("principal", p.principal.principal);
      x.leaf("servicePermissionId", p.principal.permissionId);
      x.leaf("serviceId", p.serviceId.str());
    });
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "AcceptVpcEndpointConnections", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto failed, EndpointService(ctx).acceptConnections(h.call, h.params.get("ServiceId"),
                                                                            h.params.list("VpcEndpointId")));
    ec2::writeUnsuccessful(h.out, failed);
    return Status::Ok();
  });

  r.add("ec2", "RejectVpcEndpointConnections", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto failed, EndpointService(ctx).rejectConnections(h.call, h.params.get("ServiceId"),
                                                                            h.params.list("VpcEndpointId")));
    ec2::writeUnsuccessful(h.out, failed);
    return Status::Ok();
  });

  r.add("ec2", "DescribeVpcEndpointConnections", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto page, ec2::readPage(h.params));
    LP_ASSIGN_OR_RETURN(auto conns, EndpointService(ctx).describeConnections(h.call, ec2::readFilters(h.params), page));
    ec2::writeItems(h.out, "vpcEndpointConnectionSet", conns.items, [](XmlWriter& x, const control::ConnectionInfo& c) {
      const auto& e = c.endpoint;
      x.leaf("serviceId", e.serviceId.str());
      x.leaf("vpcEndpointId", e.id.str());
      x.leaf("vpcEndpointOwner", e.ownerId);
      x.leaf("vpcEndpointState", e.state);
      x.leaf("creationTimestamp", e.createdAt);
      writeDnsEntries(x, e.dnsEntries);
      x.stringItems("networkLoadBalancerArnSet", c.networkLoadBalancerArns);
      x.empty("gatewayLoadBalancerArnSet");
      x.leaf("ipAddressType", "ipv4");
      x.leaf("vpcEndpointConnectionId", c.connectionId);
      x.empty("tagSet");
    });
    ec2::writeNextToken(h.out, conns.nextToken);
    return Status::Ok();
  });
}

}  // namespace lp::api
