// EC2 network interfaces: CreateNetworkInterface, DescribeNetworkInterfaces,
// DeleteNetworkInterface.
#include "api/ec2/codec.h"
#include "api/handlers.h"
#include "control/network_interface_service.h"
#include "model/instance.h"

namespace lp::api {

namespace {

void writeEni(XmlWriter& x, const control::NetworkInterfaceInfo& info) {
  const auto& e = info.eni;
  x.leaf("networkInterfaceId", e.id.str());
  x.leaf("subnetId", e.subnetId.str());
  x.leaf("vpcId", e.vpcId.str());
  x.leaf("availabilityZone", info.zoneName);
  x.leaf("availabilityZoneId", e.zoneId);
  x.leaf("description", e.description);
  x.leaf("ownerId", e.ownerId);
  if (!e.requesterId.empty()) x.leaf("requesterId", e.requesterId);
  x.leaf("requesterManaged", e.requesterManaged);
  x.leaf("status", e.status);
  x.leaf("macAddress", e.macAddress);
  x.leaf("privateIpAddress", e.privateIp);
  x.leaf("sourceDestCheck", e.sourceDestCheck);
  x.leaf("interfaceType", e.interfaceType);
  if (e.managedBy.rfind(model::InstanceId::prefix(), 0) == 0) {
    auto a = x.scope("attachment");
    x.leaf("attachmentId", control::attachmentIdFor(e.id.str()));
    x.leaf("instanceId", e.managedBy);
    x.leaf("instanceOwnerId", e.ownerId);
    x.leaf("deviceIndex", 0);
    x.leaf("networkCardIndex", 0);
    x.leaf("status", "attached");
    x.leaf("attachTime", e.createdAt);
    x.leaf("deleteOnTermination", true);
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
  x.empty("ipv6AddressesSet");
  {
    auto p = x.scope("privateIpAddressesSet");
    auto i = x.scope("item");
    x.leaf("privateIpAddress", e.privateIp);
    x.leaf("primary", true);
  }
  x.empty("ipv4PrefixSet");
  x.empty("ipv6PrefixSet");
  x.leaf("denyAllIgwTraffic", false);
  x.leaf("ipv6Native", false);
  ec2::writeTags(x, e.tags);
}

}  // namespace

void registerEc2NetworkInterfaceHandlers(Router& r, control::ControlContext& ctx) {
  r.add("ec2", "CreateNetworkInterface", [&ctx](HandlerContext& h) -> Status {
    control::CreateNetworkInterfaceInput in{h.params.get("SubnetId"),    h.params.get("PrivateIpAddress"),
                                            h.params.get("Description"), h.params.list("SecurityGroupId"),
                                            h.params.get("ClientToken"), ec2::readTagSpecs(h.params)};
    LP_ASSIGN_OR_RETURN(auto eni, control::NetworkInterfaceService(ctx).createNetworkInterface(h.call, in));
    {
      auto s = h.out.scope("networkInterface");
      writeEni(h.out, eni);
    }
    if (!in.clientToken.empty()) h.out.leaf("clientToken", in.clientToken);
    return Status::Ok();
  });

  r.add("ec2", "DescribeNetworkInterfaces", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, ec2::readDescribe(h.params, "NetworkInterfaceId"));
    LP_ASSIGN_OR_RETURN(auto page, control::NetworkInterfaceService(ctx).describeNetworkInterfaces(h.call, in));
    ec2::writeItems(h.out, "networkInterfaceSet", page.items, writeEni);
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  r.add("ec2", "DeleteNetworkInterface", [&ctx](HandlerContext& h) -> Status {
    LP_RETURN_IF_ERROR(
        control::NetworkInterfaceService(ctx).deleteNetworkInterface(h.call, h.params.get("NetworkInterfaceId")));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "ModifyNetworkInterfaceAttribute", [&ctx](HandlerContext& h) -> Status {
    control::ModifyNetworkInterfaceInput in;
    in.interfaceId = h.params.get("NetworkInterfaceId");
    if (h.params.has("Description.Value")) in.description = h.params.get("Description.Value");
    LP_ASSIGN_OR_RETURN(in.sourceDestCheck, h.params.getBool("SourceDestCheck.Value"));
    in.groupIds = h.params.list("SecurityGroupId");
    LP_RETURN_IF_ERROR(control::NetworkInterfaceService(ctx).modifyNetworkInterfaceAttribute(h.call, in));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });
}

}  // namespace lp::api
