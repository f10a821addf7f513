// EC2 route tables and network ACLs: CreateRouteTable, DescribeRouteTables,
// AssociateRouteTable, DisassociateRouteTable, ReplaceRouteTableAssociation,
// DeleteRouteTable, CreateRoute, ReplaceRoute, DeleteRoute, CreateNetworkAcl, DescribeNetworkAcls,
// CreateNetworkAclEntry, ReplaceNetworkAclEntry, DeleteNetworkAclEntry, ReplaceNetworkAclAssociation, DeleteNetworkAcl.
#include "api/ec2/codec.h"
#include "api/handlers.h"
#include "control/vpc_network_service.h"

namespace lp::api {

namespace {

void writeRouteTable(XmlWriter& x, const model::RouteTable& rt) {
  x.leaf("routeTableId", rt.id.str());
  ec2::writeItems(x, "associationSet", rt.associations, [&](XmlWriter& w, const model::RouteTableAssociation& a) {
    w.leaf("main", a.main);
    w.leaf("routeTableAssociationId", a.id.str());
    w.leaf("routeTableId", rt.id.str());
    w.leafIf("subnetId", a.subnetId.str());
    auto s = w.scope("associationState");
    w.leaf("state", "associated");
  });
  x.empty("propagatingVgwSet");
  ec2::writeItems(x, "routeSet", rt.routes, [](XmlWriter& w, const model::Route& r) {
    w.leaf("destinationCidrBlock", r.destinationCidrBlock);
    w.leafIf("gatewayId", r.gatewayId);
    w.leafIf("instanceId", r.instanceId.str());
    w.leafIf("instanceOwnerId", r.instanceOwnerId);
    w.leafIf("networkInterfaceId", r.networkInterfaceId.str());
    w.leaf("origin", r.origin);
    w.leaf("state", r.state);
  });
  ec2::writeTags(x, rt.tags);
  x.leaf("vpcId", rt.vpcId.str());
  x.leaf("ownerId", rt.ownerId);
}

void writeNetworkAcl(XmlWriter& x, const model::NetworkAcl& acl) {
  x.leaf("networkAclId", acl.id.str());
  x.leaf("vpcId", acl.vpcId.str());
  x.leaf("default", acl.isDefault);
  ec2::writeItems(x, "entrySet", acl.entries, [](XmlWriter& w, const model::NetworkAclEntry& e) {
    w.leaf("ruleNumber", e.ruleNumber);
    w.leaf("protocol", e.protocol);
    w.leaf("ruleAction", e.ruleAction);
    w.leaf("egress", e.egress);
    w.leaf("cidrBlock", e.cidrBlock);
    if (e.hasPortRange()) {
      auto p = w.scope("portRange");
      w.leaf("from", e.fromPort);
      w.leaf("to", e.toPort);
    }
    if (e.hasIcmp()) {
      auto i = w.scope("icmpTypeCode");
      w.leaf("code", e.icmpCode);
      w.leaf("type", e.icmpType);
    }
  });
  ec2::writeItems(x, "associationSet", acl.associations, [&](XmlWriter& w, const model::NetworkAclAssociation& a) {
    w.leaf("networkAclAssociationId", a.id.str());
    w.leaf("networkAclId", acl.id.str());
    w.leaf("subnetId", a.subnetId.str());
  });
  ec2::writeTags(x, acl.tags);
  x.leaf("ownerId", acl.ownerId);
}

Result<control::RouteInput> readRoute(const Params& p) {
  control::RouteInput in;
  in.routeTableId = p.get("RouteTableId");
  in.destinationCidrBlock = p.get("DestinationCidrBlock");
  in.destinationIpv6CidrBlock = p.get("DestinationIpv6CidrBlock");
  in.destinationPrefixListId = p.get("DestinationPrefixListId");
  in.networkInterfaceId = p.get("NetworkInterfaceId");
  in.instanceId = p.get("InstanceId");
  LP_ASSIGN_OR_RETURN(in.localTarget, p.getBool("LocalTarget"));
  in.gatewayId = p.get("GatewayId");
  in.natGatewayId = p.get("NatGatewayId");
  in.vpcPeeringConnectionId = p.get("VpcPeeringConnectionId");
  in.transitGatewayId = p.get("TransitGatewayId");
  in.egressOnlyInternetGatewayId = p.get("EgressOnlyInternetGatewayId");
  in.localGatewayId = p.get("LocalGatewayId");
  in.carrierGatewayId = p.get("CarrierGatewayId");
  in.vpcEndpointId = p.get("VpcEndpointId");
  in.coreNetworkArn = p.get("CoreNetworkArn");
  in.odbNetworkArn = p.get("OdbNetworkArn");
  return in;
}

control::CreateInVpcInput readCreateInVpc(const Params& p) {
  return {p.get("VpcId"), p.get("ClientToken"), ec2::readTagSpecs(p)};
}

Result<control::AclEntryInput> readAclEntry(const Params& p) {
  control::AclEntryInput in;
  in.networkAclId = p.get("NetworkAclId");
  LP_ASSIGN_OR_RETURN(in.ruleNumber, p.getInt("RuleNumber"));
  LP_ASSIGN_OR_RETURN(in.egress, p.getBool("Egress"));
  in.protocol = p.get("Protocol");
  in.ruleAction = p.get("RuleAction");
  in.cidrBlock = p.get("CidrBlock");
  in.ipv6CidrBlock = p.get("Ipv6CidrBlock");
  LP_ASSIGN_OR_RETURN(in.fromPort, p.getInt("PortRange.From"));
  LP_ASSIGN_OR_RETURN(in.toPort, p.getInt("PortRange.To"));
  LP_ASSIGN_OR_RETURN(in.icmpType, p.getInt("Icmp.Type"));
  LP_ASSIGN_OR_RETURN(in.icmpCode, p.getInt("Icmp.Code"));
  return in;
}

}  // namespace

void registerEc2VpcNetworkHandlers(Router& r, control::ControlContext& ctx) {
  r.add("ec2", "CreateRouteTable", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto rt, control::VpcNetworkService(ctx).createRouteTable(h.call, readCreateInVpc(h.params)));
    {
      auto s = h.out.scope("routeTable");
      writeRouteTable(h.out, rt);
    }
    h.out.leafIf("clientToken", rt.clientToken);
    return Status::Ok();
  });

  r.add("ec2", "DescribeRouteTables", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, ec2::readDescribe(h.params, "RouteTableId"));
    LP_ASSIGN_OR_RETURN(auto page, control::VpcNetworkService(ctx).describeRouteTables(h.call, in));
    ec2::writeItems(h.out, "routeTableSet", page.items, writeRouteTable);
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  r.add("ec2", "CreateRoute", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, readRoute(h.params));
    LP_RETURN_IF_ERROR(control::VpcNetworkService(ctx).createRoute(h.call, in));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "ReplaceRoute", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, readRoute(h.params));
    LP_RETURN_IF_ERROR(control::VpcNetworkService(ctx).replaceRoute(h.call, in));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "DeleteRoute", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, readRoute(h.params));
    LP_RETURN_IF_ERROR(control::VpcNetworkService(ctx).deleteRoute(h.call, in));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "AssociateRouteTable", [&ctx](HandlerContext& h) -> Status {
    if (h.params.has("GatewayId"))
      return control::err::make(control::err::kInvalidParameterValue, "Gateway route tables are not supported here.");
    LP_ASSIGN_OR_RETURN(auto a, control::VpcNetworkService(ctx).associateRouteTable(
                                    h.call, h.params.get("RouteTableId"), h.params.get("SubnetId")));
    h.out.leaf("associationId", a.associationId);
    auto s = h.out.scope("associationState");
    h.out.leaf("state", a.state);
    return Status::Ok();
  });

  r.add("ec2", "DisassociateRouteTable", [&ctx](HandlerContext& h) -> Status {
    LP_RETURN_IF_ERROR(control::VpcNetworkService(ctx).disassociateRouteTable(h.call, h.params.get("AssociationId")));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "ReplaceRouteTableAssociation", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto a, control::VpcNetworkService(ctx).replaceRouteTableAssociation(
                                    h.call, h.params.get("AssociationId"), h.params.get("RouteTableId")));
    h.out.leaf("newAssociationId", a.associationId);
    auto s = h.out.scope("associationState");
    h.out.leaf("state", a.state);
    return Status::Ok();
  });

  r.add("ec2", "DeleteRouteTable", [&ctx](HandlerContext& h) -> Status {
    LP_RETURN_IF_ERROR(control::VpcNetworkService(ctx).deleteRouteTable(h.call, h.params.get("RouteTableId")));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "CreateNetworkAcl", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto acl, control::VpcNetworkService(ctx).createNetworkAcl(h.call, readCreateInVpc(h.params)));
    {
      auto s = h.out.scope("networkAcl");
      writeNetworkAcl(h.out, acl);
    }
    h.out.leafIf("clientToken", acl.clientToken);
    return Status::Ok();
  });

  r.add("ec2", "DescribeNetworkAcls", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, ec2::readDescribe(h.params, "NetworkAclId"));
    LP_ASSIGN_OR_RETURN(auto page, control::VpcNetworkService(ctx).describeNetworkAcls(h.call, in));
    ec2::writeItems(h.out, "networkAclSet", page.items, writeNetworkAcl);
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  r.add("ec2", "CreateNetworkAclEntry", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, readAclEntry(h.params));
    LP_RETURN_IF_ERROR(control::VpcNetworkService(ctx).createNetworkAclEntry(h.call, in));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "ReplaceNetworkAclEntry", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, readAclEntry(h.params));
    LP_RETURN_IF_ERROR(control::VpcNetworkService(ctx).replaceNetworkAclEntry(h.call, in));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "DeleteNetworkAclEntry", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto rule, h.params.getInt("RuleNumber"));
    LP_ASSIGN_OR_RETURN(auto egress, h.params.getBool("Egress"));
    LP_RETURN_IF_ERROR(
        control::VpcNetworkService(ctx).deleteNetworkAclEntry(h.call, h.params.get("NetworkAclId"), rule, egress));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "ReplaceNetworkAclAssociation", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto id, control::VpcNetworkService(ctx).replaceNetworkAclAssociation(
                                     h.call, h.params.get("AssociationId"), h.params.get("NetworkAclId")));
    h.out.leaf("newAssociationId", id);
    return Status::Ok();
  });

  r.add("ec2", "DeleteNetworkAcl", [&ctx](HandlerContext& h) -> Status {
    LP_RETURN_IF_ERROR(control::VpcNetworkService(ctx).deleteNetworkAcl(h.call, h.params.get("NetworkAclId")));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });
}

}  // namespace lp::api
