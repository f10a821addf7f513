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
  // Exactly one of enableDnsSupport / enableDnsHostnames per call, as AWS requires.
  Status modifyVpcAttribute(const CallContext& call, const std::string& vpcId, std::optional<bool> dnsSupport,
                            std::optional<bool> dnsHostnames);
  Result<VpcAttribute> describeVpcAttribute(const CallContext& call, const std::string& vpcId,
                                            const std::string& attribute);

 private:
  ControlContext& ctx_;
};

// The VPC's default security group as CreateVpc makes it.
model::SecurityGroup makeDefaultSecurityGroup(ControlContext& ctx, const model::Vpc& vpc);

}  // namespace lp::control
