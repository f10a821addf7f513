// EC2 VPC operations: CreateVpc, DescribeVpcs, DeleteVpc, ModifyVpcAttribute,
// DescribeVpcAttribute, AssociateVpcCidrBlock, DisassociateVpcCidrBlock.
#include "api/ec2/codec.h"
#include "api/handlers.h"
#include "control/vpc_service.h"

namespace lp::api {

namespace {

void writeCidrAssociation(XmlWriter& x, const model::VpcCidrAssociation& a) {
  x.leaf("associationId", a.associationId);
  x.leaf("cidrBlock", a.cidrBlock);
  auto st = x.scope("cidrBlockState");
  x.leaf("state", a.state);
}

void writeVpc(XmlWriter& x, const model::Vpc& v) {
  x.leaf("vpcId", v.id.str());
  x.leaf("ownerId", v.ownerId);
  x.leaf("state", v.state);
  x.leaf("cidrBlock", v.cidrBlock);
  {
    auto s = x.scope("cidrBlockAssociationSet");
    {
      auto i = x.scope("item");
      writeCidrAssociation(x, {v.cidrAssociationId, v.cidrBlock, "associated", ""});
    }
    for (const auto& a : v.secondaryCidrs) {
      auto i = x.scope("item");
      writeCidrAssociation(x, a);
    }
  }
  x.empty("ipv6CidrBlockAssociationSet");
  x.leaf("dhcpOptionsId", v.dhcpOptionsId);
  x.leaf("instanceTenancy", v.instanceTenancy);
  x.leaf("isDefault", false);
  ec2::writeTags(x, v.tags);
}

}  // namespace

void registerEc2VpcHandlers(Router& r, control::ControlContext& ctx) {
  r.add("ec2", "CreateVpc", [&ctx](HandlerContext& h) -> Status {
    control::CreateVpcInput in{h.params.get("CidrBlock"), h.params.get("InstanceTenancy"), ec2::readTagSpecs(h.params)};
    LP_ASSIGN_OR_RETURN(auto vpc, control::VpcService(ctx).createVpc(h.call, in));
    auto s = h.out.scope("vpc");
    writeVpc(h.out, vpc);
    return Status::Ok();
  });

  r.add("ec2", "DescribeVpcs", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, ec2::readDescribe(h.params, "VpcId"));
    LP_ASSIGN_OR_RETURN(auto page, control::VpcService(ctx).describeVpcs(h.call, in));
    if (page.items.empty()) {
      h.out.empty("vpcSet");
    } else {
      auto s = h.out.scope("vpcSet");
      for (auto& v : page.items) {
        auto i = h.out.scope("item");
        writeVpc(h.out, v);
      }
    }
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  r.add("ec2", "DeleteVpc", [&ctx](HandlerContext& h) -> Status {
    LP_RETURN_IF_ERROR(control::VpcService(ctx).deleteVpc(h.call, h.params.get("VpcId")));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "ModifyVpcAttribute", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto support, h.params.getBool("EnableDnsSupport.Value"));
    LP_ASSIGN_OR_RETURN(auto hostnames, h.params.getBool("EnableDnsHostnames.Value"));
    LP_ASSIGN_OR_RETURN(auto usageMetrics, h.params.getBool("EnableNetworkAddressUsageMetrics.Value"));
    LP_RETURN_IF_ERROR(control::VpcService(ctx).modifyVpcAttribute(h.call, h.params.get("VpcId"), support, hostnames,
                                                                   usageMetrics));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "DescribeVpcAttribute", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto attr, control::VpcService(ctx).describeVpcAttribute(h.call, h.params.get("VpcId"),
                                                                                 h.params.get("Attribute")));
    h.out.leaf("vpcId", attr.vpcId.str());
    auto s = h.out.scope(attr.name);
    h.out.leaf("value", attr.value);
    return Status::Ok();
  });

  r.add("ec2", "AssociateVpcCidrBlock", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto amazonIpv6, h.params.getBool("AmazonProvidedIpv6CidrBlock"));
    control::AssociateVpcCidrInput in{h.params.get("VpcId"), h.params.get("CidrBlock"),
                                      amazonIpv6.value_or(false) || h.params.has("Ipv6CidrBlock") ||
                                          h.params.has("Ipv6IpamPoolId") || h.params.has("Ipv6Pool"),
                                      h.params.get("Ipv4IpamPoolId")};
    LP_ASSIGN_OR_RETURN(auto change, control::VpcService(ctx).associateVpcCidrBlock(h.call, in));
    {
      auto s = h.out.scope("cidrBlockAssociation");
      writeCidrAssociation(h.out, change.association);
    }
    h.out.leaf("vpcId", change.vpcId.str());
    return Status::Ok();
  });

  r.add("ec2", "DisassociateVpcCidrBlock", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto change,
                        control::VpcService(ctx).disassociateVpcCidrBlock(h.call, h.params.get("AssociationId")));
    {
      auto s = h.out.scope("cidrBlockAssociation");
      writeCidrAssociation(h.out, change.association);
    }
    h.out.leaf("vpcId", change.vpcId.str());
    return Status::Ok();
  });
}

}  // namespace lp::api
