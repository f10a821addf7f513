// VpcService: CreateVpc, DescribeVpcs, DeleteVpc, Modify/DescribeVpcAttribute.
// Stateless over a ControlContext; any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/common.h"
#include "control/query.h"

namespace lp::control {

struct CreateVpcInput {
  std::string cidrBlock;
  std::string instanceTenancy;
  std::vector<TagSpecification> tagSpecs;
};

struct DescribeInput {
  std::vector<std::string> ids;
  Filters filters;
  PageRequest page;
};

struct AssociateVpcCidrInput {
  std::string vpcId;
  std::string cidrBlock;
  bool ipv6 = false;        // AmazonProvidedIpv6CidrBlock / Ipv6CidrBlock: not here
  std::string ipamPoolId;   // Ipv4IpamPoolId: not here
};

struct VpcCidrChange {
  model::VpcId vpcId;
  model::VpcCidrAssociation association;
};

// Whether cidr may become a secondary block of vpc: nullopt when it may, else the
// AWS error (size /16-/28, no overlap with the VPC's blocks, the ranges AWS restricts
// given the primary block's range, the count limit). Pure; tests.
std::optional<Status> secondaryCidrRefusal(const model::Vpc& vpc, const std::string& cidr, int cidrBlocksPerVpc);
// How long a disassociated block stays described.
inline constexpr int kDisassociatedCidrRetentionMinutes = 60;

struct VpcAttribute {
  model::VpcId vpcId;
  std::string name;  // enableDnsSupport | enableDnsHostnames | enableNetworkAddressUsageMetrics
  bool value = false;
};

class VpcService {
 public:
  explicit VpcService(ControlContext& ctx) : ctx_(ctx) {}

  Result<model::Vpc> createVpc(const CallContext& call, const CreateVpcInput& in);
  Result<Page<model::Vpc>> describeVpcs(const CallContext& call, const DescribeInput& in);
  Status deleteVpc(const CallContext& call, const std::string& vpcId);
  // Exactly one attribute per call, as AWS requires.
  Status modifyVpcAttribute(const CallContext& call, const std::string& vpcId, std::optional<bool> dnsSupport,
                            std::optional<bool> dnsHostnames, std::optional<bool> addressUsageMetrics = std::nullopt);
  Result<VpcAttribute> describeVpcAttribute(const CallContext& call, const std::string& vpcId,
                                            const std::string& attribute);

  // Secondary IPv4 CIDR blocks (vpc_cidr_service.cc): AWS's size, overlap, range and
  // count rules; every route table of the VPC gets a local route per block. The
  // answer is the association in its transitional state (associating,
  // disassociating), as AWS answers.
  Result<VpcCidrChange> associateVpcCidrBlock(const CallContext& call, const AssociateVpcCidrInput& in);
  Result<VpcCidrChange> disassociateVpcCidrBlock(const CallContext& call, const std::string& associationId);

 private:
  ControlContext& ctx_;
};

// The VPC's default security group as CreateVpc makes it.
model::SecurityGroup makeDefaultSecurityGroup(ControlContext& ctx, const model::Vpc& vpc);

}  // namespace lp::control
