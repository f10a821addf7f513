// EC2 subnets and availability zones: CreateSubnet, DescribeSubnets,
// DeleteSubnet, ModifySubnetAttribute, DescribeAvailabilityZones. Zone names are rendered in the
// caller's names (the service resolves them).
#include "api/ec2/codec.h"
#include "api/handlers.h"
#include "control/subnet_service.h"

namespace lp::api {

namespace {

void writeSubnet(XmlWriter& x, const control::ControlContext& ctx, const control::SubnetInfo& info) {
  const auto& s = info.subnet;
  x.leaf("subnetId", s.id.str());
  x.leaf("subnetArn", control::subnetArn(ctx.regionName(), s));
  x.leaf("state", s.state);
  x.leaf("vpcId", s.vpcId.str());
  x.leaf("ownerId", s.ownerId);
  x.leaf("cidrBlock", s.cidrBlock);
  x.empty("ipv6CidrBlockAssociationSet");
  x.leaf("availableIpAddressCount", static_cast<int64_t>(info.availableIps));
  x.leaf("availabilityZone", info.zoneName);
  x.leaf("availabilityZoneId", s.zoneId);
  x.leaf("defaultForAz", false);
  x.leaf("mapPublicIpOnLaunch", s.mapPublicIpOnLaunch);
  x.leaf("mapCustomerOwnedIpOnLaunch", false);
  x.leaf("assignIpv6AddressOnCreation", false);
  x.leaf("enableDns64", false);
  x.leaf("ipv6Native", false);
  {
    auto p = x.scope("privateDnsNameOptionsOnLaunch");
    x.leaf("hostnameType", s.hostnameTypeOnLaunch);
    x.leaf("enableResourceNameDnsARecord", s.enableResourceNameDnsARecordOnLaunch);
    x.leaf("enableResourceNameDnsAAAARecord", false);
  }
  ec2::writeTags(x, s.tags);
}

}  // namespace

void registerEc2SubnetHandlers(Router& r, control::ControlContext& ctx) {
  r.add("ec2", "CreateSubnet", [&ctx](HandlerContext& h) -> Status {
    control::CreateSubnetInput in{h.params.get("VpcId"), h.params.get("CidrBlock"), h.params.get("AvailabilityZone"),
                                  h.params.get("AvailabilityZoneId"), ec2::readTagSpecs(h.params)};
    LP_ASSIGN_OR_RETURN(auto s, control::SubnetService(ctx).createSubnet(h.call, in));
    auto sc = h.out.scope("subnet");
    writeSubnet(h.out, ctx, s);
    return Status::Ok();
  });

  r.add("ec2", "DescribeSubnets", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, ec2::readDescribe(h.params, "SubnetId"));
    LP_ASSIGN_OR_RETURN(auto page, control::SubnetService(ctx).describeSubnets(h.call, in));
    if (page.items.empty()) {
      h.out.empty("subnetSet");
    } else {
      auto s = h.out.scope("subnetSet");
      for (auto& sub : page.items) {
        auto i = h.out.scope("item");
        writeSubnet(h.out, ctx, sub);
      }
    }
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  r.add("ec2", "DeleteSubnet", [&ctx](HandlerContext& h) -> Status {
    LP_RETURN_IF_ERROR(control::SubnetService(ctx).deleteSubnet(h.call, h.params.get("SubnetId")));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  // Boolean attributes arrive as Name.Value (AttributeBooleanValue).
  r.add("ec2", "ModifySubnetAttribute", [&ctx](HandlerContext& h) -> Status {
    control::SubnetAttributeChange c;
    const auto& p = h.params;
    LP_ASSIGN_OR_RETURN(c.mapPublicIpOnLaunch, p.getBool("MapPublicIpOnLaunch.Value"));
    LP_ASSIGN_OR_RETURN(c.assignIpv6AddressOnCreation, p.getBool("AssignIpv6AddressOnCreation.Value"));
    LP_ASSIGN_OR_RETURN(c.mapCustomerOwnedIpOnLaunch, p.getBool("MapCustomerOwnedIpOnLaunch.Value"));
    c.customerOwnedIpv4Pool = p.get("CustomerOwnedIpv4Pool");
    LP_ASSIGN_OR_RETURN(c.enableDns64, p.getBool("EnableDns64.Value"));
    c.privateDnsHostnameTypeOnLaunch = p.get("PrivateDnsHostnameTypeOnLaunch");
    LP_ASSIGN_OR_RETURN(c.enableResourceNameDnsARecordOnLaunch,
                        p.getBool("EnableResourceNameDnsARecordOnLaunch.Value"));
    LP_ASSIGN_OR_RETURN(c.enableResourceNameDnsAAAARecordOnLaunch,
                        p.getBool("EnableResourceNameDnsAAAARecordOnLaunch.Value"));
    LP_ASSIGN_OR_RETURN(c.enableLniAtDeviceIndex, p.getInt("EnableLniAtDeviceIndex"));
    LP_ASSIGN_OR_RETURN(c.disableLniAtDeviceIndex, p.getBool("DisableLniAtDeviceIndex.Value"));
    LP_RETURN_IF_ERROR(control::SubnetService(ctx).modifySubnetAttribute(h.call, p.get("SubnetId"), c));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "DescribeAvailabilityZones", [&ctx](HandlerContext& h) -> Status {
    control::DescribeZonesInput in{h.params.list("ZoneName"), h.params.list("ZoneId"), ec2::readFilters(h.params)};
    LP_ASSIGN_OR_RETURN(auto zones, control::SubnetService(ctx).describeAvailabilityZones(h.call, in));
    if (zones.empty()) {
      h.out.empty("availabilityZoneInfo");
      return Status::Ok();
    }
    auto s = h.out.scope("availabilityZoneInfo");
    for (const auto& z : zones) {
      auto i = h.out.scope("item");
      h.out.leaf("zoneName", z.zoneName);
      h.out.leaf("zoneId", z.zoneId);
      h.out.leaf("zoneState", "available");
      h.out.leaf("regionName", ctx.regionName());
      h.out.leaf("zoneType", "availability-zone");
      h.out.leaf("optInStatus", "opt-in-not-required");
      h.out.leaf("groupName", ctx.regionName());
      h.out.leaf("networkBorderGroup", ctx.regionName());
      h.out.empty("messageSet");
    }
    return Status::Ok();
  });
}

}  // namespace lp::api
