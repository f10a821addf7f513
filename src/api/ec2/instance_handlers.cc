// EC2 instances: RunInstances, DescribeInstances, DescribeInstanceStatus,
// StopInstances, StartInstances, TerminateInstances, GetConsoleOutput,
// DescribeInstanceAttribute, DescribeImages. Field names and types follow the EC2
// model (Instance, Reservation, InstanceStateChange): state is <instanceState>,
// PublicDnsName is <dnsName>, StateTransitionReason is <reason>.
#include "api/ec2/codec.h"
#include "api/ec2/instance_codec.h"
#include "api/handlers.h"
#include "common/strings.h"
#include "control/instance_service.h"
#include "control/network_interface_service.h"

namespace lp::api {

namespace {

using control::InstanceInfo;

void writeState(XmlWriter& x, std::string_view tag, model::InstanceState s) {
  auto st = x.scope(tag);
  x.leaf("code", model::instanceStateCode(s));
  x.leaf("name", model::instanceStateName(s));
}

void writeGroups(XmlWriter& x, const InstanceInfo& info) {
  ec2::writeItems(x, "groupSet", info.groups, [](XmlWriter& w, const std::pair<std::string, std::string>& g) {
    w.leaf("groupId", g.first);
    w.leaf("groupName", g.second);
  });
}

// The internal DNS name AWS gives an address in us-east-1 (ec2.internal) or
// elsewhere (<region>.compute.internal).
std::string privateDnsName(const std::string& region, const std::string& ip) {
  std::string name = "ip-" + ip;
  for (auto& c : name)
    if (c == '.') c = '-';
  return name + (region == "us-east-1" ? ".ec2.internal" : "." + region + ".compute.internal");
}

// The root volume DescribeVolumes shows, while attached (blockDeviceMapping in
// DescribeInstances and DescribeInstanceAttribute).
void writeBlockDevices(XmlWriter& x, const InstanceInfo& info) {
  const auto& vol = info.rootVolume;
  if (info.instance.state == "terminated" || !vol) return x.empty("blockDeviceMapping");
  auto b = x.scope("blockDeviceMapping");
  auto it = x.scope("item");
  x.leaf("deviceName", vol->device);
  auto e = x.scope("ebs");
  x.leaf("volumeId", vol->id.str());
  x.leaf("status", model::rootAttachmentStatus(info.instance.state));
  x.leaf("attachTime", vol->attachTime);
  x.leaf("deleteOnTermination", vol->deleteOnTermination);
}

// BlockDeviceMapping.N as RunInstances sends it.
Result<std::vector<control::BlockDeviceMappingInput>> readBlockDeviceMappings(const Params& params) {
  std::vector<control::BlockDeviceMappingInput> out;
  for (const auto& m : params.structList("BlockDeviceMapping")) {
    control::BlockDeviceMappingInput in;
    in.deviceName = m.get("DeviceName");
    in.virtualName = m.get("VirtualName");
    in.noDevice = m.has("NoDevice");
    Params ebs = m.sub("Ebs");
    in.hasEbs = !ebs.all().empty();
    LP_ASSIGN_OR_RETURN(in.volumeSize, ebs.getInt("VolumeSize"));
    in.volumeType = ebs.get("VolumeType");
    LP_ASSIGN_OR_RETURN(in.deleteOnTermination, ebs.getBool("DeleteOnTermination"));
    LP_ASSIGN_OR_RETURN(in.encrypted, ebs.getBool("Encrypted"));
    LP_ASSIGN_OR_RETURN(in.iops, ebs.getInt("Iops"));
    LP_ASSIGN_OR_RETURN(in.throughput, ebs.getInt("Throughput"));
    in.snapshotId = ebs.get("SnapshotId");
    in.kmsKeyId = ebs.get("KmsKeyId");
    out.push_back(std::move(in));
  }
  return out;
}

void writeInstance(XmlWriter& x, const InstanceInfo& info, const std::string& region) {
  const auto& i = info.instance;
  const auto* image = model::findImage(i.imageId);
  std::string dns = privateDnsName(region, i.privateIp);
  bool gone = i.state == "terminated";
  x.leaf("instanceId", i.id.str());
  x.leaf("imageId", i.imageId);
  writeState(x, "instanceState", i.stateValue());
  x.leaf("privateDnsName", gone ? "" : dns);
  x.leaf("dnsName", "");
  x.leaf("reason", i.stateTransitionReason);
  x.leafIf("keyName", i.keyName);
  x.leaf("amiLaunchIndex", i.amiLaunchIndex);
  x.empty("productCodes");
  x.leaf("instanceType", i.instanceType);
  x.leaf("launchTime", i.launchTime);
  {
    auto p = x.scope("placement");
    x.leaf("availabilityZone", info.zoneName);
    x.leaf("groupName", "");
    x.leaf("tenancy", "default");
  }
  {
    auto m = x.scope("monitoring");
    x.leaf("state", i.monitoringEnabled ? "enabled" : "disabled");
  }
  if (!gone) {
    x.leaf("subnetId", i.subnetId.str());
    x.leaf("vpcId", i.vpcId.str());
    x.leaf("privateIpAddress", i.privateIp);
  }
  x.leaf("sourceDestCheck", info.sourceDestCheck);
  writeGroups(x, info);
  if (!i.stateReasonCode.empty()) {
    auto r = x.scope("stateReason");
    x.leaf("code", i.stateReasonCode);
    x.leaf("message", i.stateReasonMessage);
  }
  x.leaf("architecture", image ? image->architecture : std::string("x86_64"));
  x.leaf("rootDeviceType", "ebs");
  x.leaf("rootDeviceName", "/dev/xvda");
  writeBlockDevices(x, info);
  x.leaf("virtualizationType", "hvm");
  x.leafIf("clientToken", i.clientToken);
  ec2::writeTags(x, i.tags);
  x.leaf("hypervisor", "xen");
  if (gone) {
    x.empty("networkInterfaceSet");
  } else {
    auto set = x.scope("networkInterfaceSet");
    auto item = x.scope("item");
    x.leaf("networkInterfaceId", i.networkInterfaceId.str());
    x.leaf("subnetId", i.subnetId.str());
    x.leaf("vpcId", i.vpcId.str());
    x.leaf("description", "");
    x.leaf("ownerId", i.ownerId);
    x.leaf("status", info.eniStatus.empty() ? std::string("in-use") : info.eniStatus);
    x.leaf("macAddress", i.macAddress);
    x.leaf("privateIpAddress", i.privateIp);
    x.leaf("privateDnsName", dns);
    x.leaf("sourceDestCheck", info.sourceDestCheck);
    writeGroups(x, info);
    {
      auto a = x.scope("attachment");
      x.leaf("attachmentId", i.attachmentId.str());
      x.leaf("deviceIndex", 0);
      x.leaf("status", i.state == "shutting-down" ? "detaching" : "attached");
      x.leaf("attachTime", i.launchTime);
      x.leaf("deleteOnTermination", true);
      x.leaf("networkCardIndex", 0);
    }
    {
      auto ps = x.scope("privateIpAddressesSet");
      auto pi = x.scope("item");
      x.leaf("privateIpAddress", i.privateIp);
      x.leaf("privateDnsName", dns);
      x.leaf("primary", true);
    }
    x.empty("ipv6AddressesSet");
    x.leaf("interfaceType", "interface");
    x.empty("ipv4PrefixSet");
    x.empty("ipv6PrefixSet");
  }
  x.leaf("ebsOptimized", i.ebsOptimized);
  x.leaf("enaSupport", true);
  {
    const auto* type = model::findInstanceType(i.instanceType);
    auto c = x.scope("cpuOptions");
    x.leaf("coreCount", type ? type->cores : 1);
    x.leaf("threadsPerCore", type ? type->threadsPerCore : 1);
  }
  {
    auto c = x.scope("capacityReservationSpecification");
    x.leaf("capacityReservationPreference", "open");
  }
  {
    auto h = x.scope("hibernationOptions");
    x.leaf("configured", false);
  }
  {
    auto m = x.scope("metadataOptions");
    ec2::writeMetadataOptions(x, i, "applied");
  }
  {
    auto e = x.scope("enclaveOptions");
    x.leaf("enabled", false);
  }
  x.leaf("bootMode", "uefi-preferred");
  x.leaf("platformDetails", "Linux/UNIX");
  x.leaf("usageOperation", "RunInstances");
  x.leaf("usageOperationUpdateTime", i.launchTime);
  {
    auto p = x.scope("privateDnsNameOptions");
    x.leaf("hostnameType", i.hostnameType);
    x.leaf("enableResourceNameDnsARecord", i.enableResourceNameDnsARecord);
    x.leaf("enableResourceNameDnsAAAARecord", false);
  }
  {
    auto m = x.scope("maintenanceOptions");
    x.leaf("autoRecovery", "default");
  }
  x.leaf("currentInstanceBootMode", "legacy-bios");
}

// Consecutive instances of one reservation form one <item> of reservationSet.
void writeReservations(XmlWriter& x, const std::vector<InstanceInfo>& items, const std::string& region) {
  if (items.empty()) return x.empty("reservationSet");
  auto set = x.scope("reservationSet");
  for (size_t n = 0; n < items.size();) {
    size_t end = n + 1;
    while (end < items.size() && items[end].instance.reservationId == items[n].instance.reservationId) ++end;
    auto item = x.scope("item");
    x.leaf("reservationId", items[n].instance.reservationId.str());
    x.leaf("ownerId", items[n].instance.ownerId);
    x.empty("groupSet");
    auto is = x.scope("instancesSet");
    for (size_t k = n; k < end; ++k) {
      auto it = x.scope("item");
      writeInstance(x, items[k], region);
    }
    n = end;
  }
}

void writeStateChanges(XmlWriter& x, const std::vector<control::InstanceStateChange>& changes) {
  ec2::writeItems(x, "instancesSet", changes, [](XmlWriter& w, const control::InstanceStateChange& c) {
    w.leaf("instanceId", c.instanceId);
    writeState(w, "currentState", c.current);
    writeState(w, "previousState", c.previous);
  });
}

void writeImage(XmlWriter& x, const model::Image& i) {
  x.leaf("imageId", i.id);
  x.leaf("imageLocation", i.ownerId + "/" + i.name);
  x.leaf("imageState", "available");
  x.leaf("imageOwnerId", i.ownerId);
  x.leaf("creationDate", i.creationDate);
  x.leaf("isPublic", true);
  x.leaf("architecture", i.architecture);
  x.leaf("imageType", "machine");
  x.leaf("platformDetails", "Linux/UNIX");
  x.leaf("usageOperation", "RunInstances");
  x.leaf("name", i.name);
  x.leaf("description", i.description);
  x.leaf("rootDeviceType", "ebs");
  x.leaf("rootDeviceName", "/dev/xvda");
  {
    auto b = x.scope("blockDeviceMapping");
    auto it = x.scope("item");
    x.leaf("deviceName", "/dev/xvda");
    auto e = x.scope("ebs");
    x.leaf("deleteOnTermination", true);
    x.leaf("volumeSize", 8);
    x.leaf("volumeType", "gp2");
    x.leaf("encrypted", false);
  }
  x.leaf("virtualizationType", "hvm");
  x.leaf("hypervisor", "xen");
  x.leaf("enaSupport", true);
  x.leaf("sriovNetSupport", "simple");
  x.leaf("bootMode", "uefi-preferred");
  x.leaf("imdsSupport", "v2.0");
}

}  // namespace

void registerEc2InstanceHandlers(Router& r, control::ControlContext& ctx) {
  r.add("ec2", "RunInstances", [&ctx](HandlerContext& h) -> Status {
    control::RunInstancesInput in;
    in.imageId = h.params.get("ImageId");
    in.instanceType = h.params.get("InstanceType");
    in.minCount = h.params.get("MinCount");
    in.maxCount = h.params.get("MaxCount");
    in.subnetId = h.params.get("SubnetId");
    in.groupIds = h.params.list("SecurityGroupId");
    in.groupNames = h.params.list("SecurityGroup");
    in.privateIpAddress = h.params.get("PrivateIpAddress");
    in.userData = h.params.get("UserData");
    in.keyName = h.params.get("KeyName");
    in.availabilityZone = h.params.get("Placement.AvailabilityZone");
    in.clientToken = h.params.get("ClientToken");
    in.tagSpecs = ec2::readTagSpecs(h.params);
    in.creditSpecification = h.params.get("CreditSpecification.CpuCredits");
    in.shutdownBehavior = h.params.get("InstanceInitiatedShutdownBehavior");
    LP_ASSIGN_OR_RETURN(in.disableApiTermination, h.params.getBool("DisableApiTermination"));
    LP_ASSIGN_OR_RETURN(in.disableApiStop, h.params.getBool("DisableApiStop"));
    LP_ASSIGN_OR_RETURN(in.ebsOptimized, h.params.getBool("EbsOptimized"));
    LP_ASSIGN_OR_RETURN(in.blockDeviceMappings, readBlockDeviceMappings(h.params));
    LP_ASSIGN_OR_RETURN(in.metadataOptions, ec2::readMetadataOptions(h.params.sub("MetadataOptions")));
    LP_ASSIGN_OR_RETURN(in.monitoring, h.params.getBool("Monitoring.Enabled"));
    // The primary interface described as NetworkInterface.1 (what SDKs send when
    // asked for a public address or a device index): the same fields.
    auto nics = h.params.structList("NetworkInterface");
    if (nics.size() > 1)
      return control::err::make(control::err::kInvalidParameterValue,
                                "Only the primary network interface (device index 0) can be given here.");
    if (nics.size() == 1) {
      const auto& n = nics.front();
      if (n.has("NetworkInterfaceId"))
        return control::err::make(control::err::kInvalidParameterValue,
                                  "Attaching an existing network interface at launch is not supported here.");
      if (in.subnetId.empty()) in.subnetId = n.get("SubnetId");
      if (in.privateIpAddress.empty()) in.privateIpAddress = n.get("PrivateIpAddress");
      if (in.groupIds.empty()) in.groupIds = n.list("SecurityGroupId");
    }
    LP_ASSIGN_OR_RETURN(auto res, control::InstanceService(ctx).runInstances(h.call, in));
    h.out.leaf("reservationId", res.reservationId);
    h.out.leaf("ownerId", res.ownerId);
    h.out.empty("groupSet");
    auto is = h.out.scope("instancesSet");
    for (const auto& i : res.instances) {
      auto it = h.out.scope("item");
      writeInstance(h.out, i, h.region.name);
    }
    return Status::Ok();
  });

  r.add("ec2", "DescribeInstances", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, ec2::readDescribe(h.params, "InstanceId"));
    LP_ASSIGN_OR_RETURN(auto page, control::InstanceService(ctx).describeInstances(h.call, in));
    writeReservations(h.out, page.items, h.region.name);
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  r.add("ec2", "DescribeInstanceStatus", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, ec2::readDescribe(h.params, "InstanceId"));
    LP_ASSIGN_OR_RETURN(auto all, h.params.getBool("IncludeAllInstances"));
    LP_ASSIGN_OR_RETURN(auto page,
                        control::InstanceService(ctx).describeInstanceStatus(h.call, in, all.value_or(false)));
    ec2::writeItems(h.out, "instanceStatusSet", page.items, [&](XmlWriter& x, const InstanceInfo& info) {
      const auto& i = info.instance;
      bool running = i.state == "running";
      x.leaf("instanceId", i.id.str());
      x.leaf("availabilityZone", info.zoneName);
      x.empty("eventsSet");
      writeState(x, "instanceState", i.stateValue());
      for (const char* tag : {"systemStatus", "instanceStatus"}) {
        auto s = x.scope(tag);
        x.leaf("status", running ? "ok" : "not-applicable");
        if (running) {
          auto d = x.scope("details");
          auto it = x.scope("item");
          x.leaf("name", "reachability");
          x.leaf("status", "passed");
        } else {
          x.empty("details");
        }
      }
    });
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  auto stateCall = [&ctx](model::InstanceAction action) {
    return [&ctx, action](HandlerContext& h) -> Status {
      LP_ASSIGN_OR_RETURN(auto changes,
                          control::InstanceService(ctx).changeState(h.call, h.params.list("InstanceId"), action));
      writeStateChanges(h.out, changes);
      return Status::Ok();
    };
  };
  r.add("ec2", "StopInstances", stateCall(model::InstanceAction::kStop));
  r.add("ec2", "StartInstances", stateCall(model::InstanceAction::kStart));
  r.add("ec2", "TerminateInstances", stateCall(model::InstanceAction::kTerminate));

  r.add("ec2", "GetConsoleOutput", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto c, control::InstanceService(ctx).getConsoleOutput(h.call, h.params.get("InstanceId")));
    h.out.leaf("instanceId", c.instanceId);
    h.out.leaf("timestamp", c.timestamp);
    h.out.leaf("output", base64Encode(c.output));
    return Status::Ok();
  });

  r.add("ec2", "DescribeInstanceAttribute", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto res, control::InstanceService(ctx).describeInstanceAttribute(
                                      h.call, h.params.get("InstanceId"), h.params.get("Attribute")));
    const auto& [info, attr] = res;
    const auto& i = info.instance;
    h.out.leaf("instanceId", i.id.str());
    auto value = [&](std::string_view tag, std::string_view v) {
      auto s = h.out.scope(tag);
      h.out.leaf("value", v);
    };
    if (attr == "instanceType") value("instanceType", i.instanceType);
    else if (attr == "userData") {
      if (i.userData.empty()) h.out.empty("userData");
      else value("userData", i.userData);
    } else if (attr == "disableApiTermination") value("disableApiTermination", i.disableApiTermination ? "true" : "false");
    else if (attr == "disableApiStop") value("disableApiStop", i.disableApiStop ? "true" : "false");
    else if (attr == "instanceInitiatedShutdownBehavior") value("instanceInitiatedShutdownBehavior", i.shutdownBehavior);
    else if (attr == "rootDeviceName") value("rootDeviceName", "/dev/xvda");
    else if (attr == "sourceDestCheck") value("sourceDestCheck", info.sourceDestCheck ? "true" : "false");
    else if (attr == "ebsOptimized") value("ebsOptimized", i.ebsOptimized ? "true" : "false");
    else if (attr == "enaSupport") value("enaSupport", "true");
    else if (attr == "sriovNetSupport") value("sriovNetSupport", "simple");
    else if (attr == "groupSet") writeGroups(h.out, info);
    else if (attr == "enclaveOptions") {
      auto s = h.out.scope("enclaveOptions");
      h.out.leaf("enabled", false);
    } else if (attr == "blockDeviceMapping") {
      writeBlockDevices(h.out, info);
    }
    else if (attr == "productCodes") h.out.empty("productCodes");
    else h.out.empty(attr);  // kernel, ramdisk: none
    return Status::Ok();
  });

  r.add("ec2", "DescribeImages", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, ec2::readDescribe(h.params, "ImageId"));
    LP_ASSIGN_OR_RETURN(auto page,
                        control::InstanceService(ctx).describeImages(h.call, in, h.params.list("Owner")));
    ec2::writeItems(h.out, "imagesSet", page.items, writeImage);
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });
}

}  // namespace lp::api
