// VpcNetworkService: route tables and network ACLs (CreateRouteTable,
// DescribeRouteTables, Associate/Disassociate/ReplaceRouteTableAssociation,
// DeleteRouteTable, CreateNetworkAcl, DescribeNetworkAcls, Create/Replace/Delete
// NetworkAclEntry, ReplaceNetworkAclAssociation, DeleteNetworkAcl), plus the hooks
// through which a VPC's and a subnet's lifecycle keeps them consistent (inside the
// caller's transaction). Stateless over a ControlContext; any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/common.h"
#include "control/query.h"
#include "control/vpc_service.h"
#include "model/network.h"

namespace lp::control {

struct CreateInVpcInput {
  std::string vpcId;
  std::string clientToken;
  std::vector<TagSpecification> tagSpecs;
};

struct RouteTableAssociationResult {
  std::string associationId;
  std::string state = "associated";
};

// One CreateNetworkAclEntry / ReplaceNetworkAclEntry as the request spells it.
struct AclEntryInput {
  std::string networkAclId;
  std::optional<int64_t> ruleNumber;
  std::optional<bool> egress;
  std::string protocol;
  std::string ruleAction;
  std::string cidrBlock;
  std::string ipv6CidrBlock;
  std::optional<int64_t> fromPort, toPort;
  std::optional<int64_t> icmpType, icmpCode;
};

// CreateRoute / ReplaceRoute / DeleteRoute as the request spells them: one
// destination, and (Create/Replace) exactly one target.
struct RouteInput {
  std::string routeTableId;
  std::string destinationCidrBlock;
  std::string destinationIpv6CidrBlock;
  std::string destinationPrefixListId;
  // Targets that exist here.
  std::string networkInterfaceId;
  std::string instanceId;
  std::optional<bool> localTarget;  // ReplaceRoute: back to the local route
  // Targets linkplane has no such thing as (answered with AWS's NotFound for them).
  std::string gatewayId;  // igw-, vgw- ("local" only through LocalTarget)
  std::string natGatewayId;
  std::string vpcPeeringConnectionId;
  std::string transitGatewayId;
  std::string egressOnlyInternetGatewayId;
  std::string localGatewayId;
  std::string carrierGatewayId;
  std::string vpcEndpointId;
  std::string coreNetworkArn;
  std::string odbNetworkArn;
};

// The normalized IPv4 destination of a route request, or AWS's error: none given,
// more than one, an IPv6 block (this cloud is IPv4-only), a prefix list (none
// exists here for routes), a malformed CIDR. Pure.
Result<std::string> routeDestination(const RouteInput& in);
// For Create/Replace: MissingParameter without a target, InvalidParameterCombination
// with more than one, and for a target of a kind linkplane does not have, the
// NotFound error AWS gives for an id that does not exist (InvalidGatewayID.NotFound,
// NatGatewayNotFound, ...). Ok when the one target is an interface, an instance or
// (replace only) LocalTarget. Pure.
Status checkRouteTarget(const RouteInput& in, bool replace);

// A route's state as described: local routes active; a route to an interface active
// while the interface exists and any instance it belongs to is pending or running,
// blackhole otherwise.
std::string routeState(const View& v, const model::Route& r);

class VpcNetworkService {
 public:
  explicit VpcNetworkService(ControlContext& ctx) : ctx_(ctx) {}

  Result<model::RouteTable> createRouteTable(const CallContext& call, const CreateInVpcInput& in);
  Result<Page<model::RouteTable>> describeRouteTables(const CallContext& call, const DescribeInput& in);
  Result<RouteTableAssociationResult> associateRouteTable(const CallContext& call, const std::string& routeTableId,
                                                          const std::string& subnetId);
  Status disassociateRouteTable(const CallContext& call, const std::string& associationId);
  Result<RouteTableAssociationResult> replaceRouteTableAssociation(const CallContext& call,
                                                                   const std::string& associationId,
                                                                   const std::string& routeTableId);
  Status deleteRouteTable(const CallContext& call, const std::string& routeTableId);
  // route_service.cc. All or nothing. Routes are recorded and described with their
  // state; the data plane does not install them (docs/vpc-routes.md says why).
  Status createRoute(const CallContext& call, const RouteInput& in);
  Status replaceRoute(const CallContext& call, const RouteInput& in);
  Status deleteRoute(const CallContext& call, const RouteInput& in);

  Result<model::NetworkAcl> createNetworkAcl(const CallContext& call, const CreateInVpcInput& in);
  Result<Page<model::NetworkAcl>> describeNetworkAcls(const CallContext& call, const DescribeInput& in);
  Status createNetworkAclEntry(const CallContext& call, const AclEntryInput& in);
  Status replaceNetworkAclEntry(const CallContext& call, const AclEntryInput& in);
  Status deleteNetworkAclEntry(const CallContext& call, const std::string& networkAclId,
                               std::optional<int64_t> ruleNumber, std::optional<bool> egress);
  // Returns the new association id.
  Result<std::string> replaceNetworkAclAssociation(const CallContext& call, const std::string& associationId,
                                                   const std::string& networkAclId);
  Status deleteNetworkAcl(const CallContext& call, const std::string& networkAclId);

 private:
  Status changeEntry(const CallContext& call, const AclEntryInput& in, bool replace);
  ControlContext& ctx_;
};

// Lifecycle hooks, called inside the caller's write transaction.
// CreateVpc: the main route table and the default network ACL.
void createVpcNetworkDefaults(Txn& t, ControlContext& ctx, const model::Vpc& vpc);
// DeleteVpc: DependencyViolation while a non-main route table or a non-default ACL
// is in the VPC; otherwise nothing.
Status checkVpcNetworkDependencies(const View& v, const model::Vpc& vpc);
// DeleteVpc, after the checks: removes the main route table and default ACL.
void eraseVpcNetworkDefaults(Txn& t, const model::Vpc& vpc);
// CreateSubnet: the subnet joins the VPC's default network ACL.
void associateSubnetWithDefaultAcl(Txn& t, ControlContext& ctx, const model::Subnet& subnet);
// DeleteSubnet: the subnet's route table and ACL associations go with it.
void dropSubnetAssociations(Txn& t, const model::SubnetId& subnet);
// At start: VPCs stored before route tables and ACLs existed get their main route
// table and default ACL (holding their subnets). One pass over the VPCs; writes
// only for a VPC that lacks them.
Status addMissingVpcNetworkDefaults(ControlContext& ctx);

}  // namespace lp::control
