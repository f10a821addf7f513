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
