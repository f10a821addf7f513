// EC2 calls around instances that Terraform's aws_instance makes: ModifyInstanceAttribute,
// RebootInstances, DescribeInstanceTypes, DescribeVolumes, DeleteVolume,
// Describe/ModifyInstanceCreditSpecification(s); and aws_ebs_volume /
// aws_volume_attachment's CreateVolume, AttachVolume, DetachVolume. Shapes from the EC2 model
// (InstanceTypeInfo, Volume, InstanceCreditSpecification,
// Successful/UnsuccessfulInstanceCreditSpecificationItem).
#include <fmt/format.h>

#include "api/ec2/codec.h"
#include "api/handlers.h"
#include "control/data_volume_service.h"
#include "control/instance_service.h"
#include "control/volume_service.h"

namespace lp::api {

namespace {

void writeInstanceType(XmlWriter& x, const model::InstanceTypeInfo& t) {
  x.leaf("instanceType", t.name);
  x.leaf("currentGeneration", t.name != "m1.small");
  x.leaf("freeTierEligible", t.name == "t2.micro" || t.name == "t3.micro");
  x.stringItems("supportedUsageClasses", {"on-demand", "spot"});
  x.stringItems("supportedRootDeviceTypes", {"ebs"});
  x.stringItems("supportedVirtualizationTypes", {"hvm"});
  x.leaf("bareMetal", false);
  x.leaf("hypervisor", "nitro");
  {
    auto p = x.scope("processorInfo");
    x.stringItems("supportedArchitectures", {t.architecture});
    if (t.sustainedClockGhz > 0) x.leaf("sustainedClockSpeedInGhz", fmt::format("{:.1f}", t.sustainedClockGhz));
  }
  {
    auto v = x.scope("vCpuInfo");
    x.leaf("defaultVCpus", t.vcpus);
    x.leaf("defaultCores", t.cores);
    x.leaf("defaultThreadsPerCore", t.threadsPerCore);
    std::vector<std::string> cores;
    for (int c = 1; c <= t.cores; ++c) cores.push_back(std::to_string(c));
    x.stringItems("validCores", cores);
    std::vector<std::string> threads{"1"};
    if (t.threadsPerCore > 1) threads.push_back(std::to_string(t.threadsPerCore));
    x.stringItems("validThreadsPerCore", threads);
  }
  {
    auto m = x.scope("memoryInfo");
    x.leaf("sizeInMiB", t.memoryMiB);
  }
  x.leaf("instanceStorageSupported", false);
  {
    auto e = x.scope("ebsInfo");
    x.leaf("ebsOptimizedSupport", t.name == "m1.small" || t.name.rfind("t2.", 0) == 0 ? "unsupported" : "default");
    x.leaf("encryptionSupport", "supported");
    x.leaf("nvmeSupport", t.name == "m1.small" || t.name.rfind("t2.", 0) == 0 ? "unsupported" : "required");
  }
  {
    auto n = x.scope("networkInfo");
    x.leaf("networkPerformance", t.networkPerformance);
    x.leaf("maximumNetworkInterfaces", t.maxNetworkInterfaces);
    x.leaf("maximumNetworkCards", 1);
    x.leaf("defaultNetworkCardIndex", 0);
    {
      auto cards = x.scope("networkCards");
      auto item = x.scope("item");
      x.leaf("networkCardIndex", 0);
      x.leaf("networkPerformance", t.networkPerformance);
      x.leaf("maximumNetworkInterfaces", t.maxNetworkInterfaces);
    }
    x.leaf("ipv4AddressesPerInterface", t.ipv4AddressesPerInterface);
    x.leaf("ipv6AddressesPerInterface", t.ipv4AddressesPerInterface);
    x.leaf("ipv6Supported", t.name != "m1.small");
    x.leaf("enaSupport", t.name == "m1.small" || t.name.rfind("t2.", 0) == 0 ? "unsupported" : "required");
    x.leaf("efaSupported", false);
    x.leaf("encryptionInTransitSupported", false);
    x.leaf("enaSrdSupported", false);
  }
  {
    auto p = x.scope("placementGroupInfo");
    x.stringItems("supportedStrategies", {"partition", "spread"});
  }
  x.leaf("hibernationSupported", false);
  x.leaf("burstablePerformanceSupported", t.burstable);
  x.leaf("dedicatedHostsSupported", false);
  x.leaf("autoRecoverySupported", true);
  x.stringItems("supportedBootModes", {"legacy-bios", "uefi"});
}

void writeVolume(XmlWriter& x, const control::VolumeInfo& info) {
  const auto& v = info.volume;
  x.leaf("volumeId", v.id.str());
  x.leaf("size", v.sizeGiB);
  x.leaf("snapshotId", v.snapshotId);
  x.leaf("availabilityZone", info.zoneName);
  x.leaf("status", v.state);
  x.leaf("createTime", v.createTime);
  if (info.attachmentStatus.empty()) {
    x.empty("attachmentSet");
  } else {
    auto s = x.scope("attachmentSet");
    auto i = x.scope("item");
    x.leaf("volumeId", v.id.str());
    x.leaf("instanceId", v.instanceId.str());
    x.leaf("device", v.device);
    x.leaf("status", info.attachmentStatus);
    x.leaf("attachTime", v.attachTime);
    x.leaf("deleteOnTermination", v.deleteOnTermination);
  }
  x.leaf("volumeType", v.volumeType);
  if (v.iops > 0) x.leaf("iops", v.iops);
  if (v.throughput > 0) x.leaf("throughput", v.throughput);
  x.leaf("encrypted", v.encrypted);
  x.leaf("multiAttachEnabled", false);
  ec2::writeTags(x, v.tags);
}

}  // namespace

void registerEc2InstanceDetailHandlers(Router& r, control::ControlContext& ctx) {
  r.add("ec2", "ModifyInstanceAttribute", [&ctx](HandlerContext& h) -> Status {
    control::ModifyInstanceAttributeInput in;
    in.instanceId = h.params.get("InstanceId");
    auto text = [&](const char* key, std::optional<std::string>& dst) {
      if (h.params.has(key)) dst = h.params.get(key);
    };
    text("InstanceType.Value", in.instanceType);
    text("UserData.Value", in.userData);
    text("InstanceInitiatedShutdownBehavior.Value", in.shutdownBehavior);
    LP_ASSIGN_OR_RETURN(in.disableApiTermination, h.params.getBool("DisableApiTermination.Value"));
    LP_ASSIGN_OR_RETURN(in.disableApiStop, h.params.getBool("DisableApiStop.Value"));
    LP_ASSIGN_OR_RETURN(in.ebsOptimized, h.params.getBool("EbsOptimized.Value"));
    LP_ASSIGN_OR_RETURN(in.sourceDestCheck, h.params.getBool("SourceDestCheck.Value"));
    in.groupIds = h.params.list("GroupId");
    // The older form: Attribute=name&Value=value.
    if (h.params.has("Attribute")) {
      std::string attr = h.params.get("Attribute");
      std::string value = h.params.get("Value");
      auto flag = [&](std::optional<bool>& dst) -> Status {
        if (value != "true" && value != "false") return control::err::badValue("Value", value);
        dst = value == "true";
        return Status::Ok();
      };
      if (attr == "instanceType") in.instanceType = value;
      else if (attr == "userData") in.userData = value;
      else if (attr == "instanceInitiatedShutdownBehavior") in.shutdownBehavior = value;
      else if (attr == "disableApiTermination") LP_RETURN_IF_ERROR(flag(in.disableApiTermination));
      else if (attr == "disableApiStop") LP_RETURN_IF_ERROR(flag(in.disableApiStop));
      else if (attr == "ebsOptimized") LP_RETURN_IF_ERROR(flag(in.ebsOptimized));
      else if (attr == "sourceDestCheck") LP_RETURN_IF_ERROR(flag(in.sourceDestCheck));
      else if (attr == "groupSet") return control::err::missing("GroupId");
      else return control::err::make(control::err::kInvalidParameterValue,
                                     "Value ({}) for parameter attribute is invalid. Unknown attribute.", attr);
    }
    LP_RETURN_IF_ERROR(control::InstanceService(ctx).modifyInstanceAttribute(h.call, in));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "RebootInstances", [&ctx](HandlerContext& h) -> Status {
    LP_RETURN_IF_ERROR(control::InstanceService(ctx).rebootInstances(h.call, h.params.list("InstanceId")));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "DescribeInstanceTypes", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, ec2::readDescribe(h.params, "InstanceType"));
    LP_ASSIGN_OR_RETURN(auto page, control::InstanceService(ctx).describeInstanceTypes(h.call, in));
    ec2::writeItems(h.out, "instanceTypeSet", page.items, writeInstanceType);
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  r.add("ec2", "DescribeVolumes", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, ec2::readDescribe(h.params, "VolumeId"));
    LP_ASSIGN_OR_RETURN(auto page, control::VolumeService(ctx).describeVolumes(h.call, in));
    ec2::writeItems(h.out, "volumeSet", page.items, writeVolume);
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  r.add("ec2", "CreateVolume", [&ctx](HandlerContext& h) -> Status {
    control::CreateVolumeInput in;
    in.availabilityZone = h.params.get("AvailabilityZone");
    in.availabilityZoneId = h.params.get("AvailabilityZoneId");
    LP_ASSIGN_OR_RETURN(in.size, h.params.getInt("Size"));
    in.volumeType = h.params.get("VolumeType");
    LP_ASSIGN_OR_RETURN(in.iops, h.params.getInt("Iops"));
    LP_ASSIGN_OR_RETURN(in.throughput, h.params.getInt("Throughput"));
    LP_ASSIGN_OR_RETURN(in.encrypted, h.params.getBool("Encrypted"));
    LP_ASSIGN_OR_RETURN(in.multiAttachEnabled, h.params.getBool("MultiAttachEnabled"));
    in.snapshotId = h.params.get("SnapshotId");
    in.kmsKeyId = h.params.get("KmsKeyId");
    in.clientToken = h.params.get("ClientToken");
    in.tagSpecs = ec2::readTagSpecs(h.params);
    LP_ASSIGN_OR_RETURN(auto info, control::DataVolumeService(ctx).createVolume(h.call, in));
    writeVolume(h.out, info);
    return Status::Ok();
  });

  auto attachment = [&ctx](bool attach) {
    return [&ctx, attach](HandlerContext& h) -> Status {
      control::VolumeAttachmentInput in{h.params.get("VolumeId"), h.params.get("InstanceId"), h.params.get("Device")};
      control::DataVolumeService svc(ctx);
      LP_ASSIGN_OR_RETURN(auto res, attach ? svc.attachVolume(h.call, in) : svc.detachVolume(h.call, in));
      h.out.leaf("attachTime", res.volume.attachTime);
      h.out.leaf("device", res.volume.device);
      h.out.leaf("instanceId", res.volume.instanceId.str());
      h.out.leaf("status", res.status);
      h.out.leaf("volumeId", res.volume.id.str());
      h.out.leaf("deleteOnTermination", res.volume.deleteOnTermination);
      return Status::Ok();
    };
  };
  r.add("ec2", "AttachVolume", attachment(true));
  r.add("ec2", "DetachVolume", attachment(false));

  r.add("ec2", "DeleteVolume", [&ctx](HandlerContext& h) -> Status {
    LP_RETURN_IF_ERROR(control::VolumeService(ctx).deleteVolume(h.call, h.params.get("VolumeId")));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "ModifyInstanceCreditSpecification", [&ctx](HandlerContext& h) -> Status {
    std::vector<control::CreditSpecificationChange> changes;
    for (const auto& c : h.params.structList("InstanceCreditSpecification"))
      changes.push_back({c.get("InstanceId"), c.get("CpuCredits")});
    LP_ASSIGN_OR_RETURN(auto res, control::InstanceService(ctx).modifyInstanceCreditSpecification(h.call, changes));
    ec2::writeItems(h.out, "successfulInstanceCreditSpecificationSet", res.successful,
                    [](XmlWriter& x, const std::string& id) { x.leaf("instanceId", id); });
    ec2::writeItems(h.out, "unsuccessfulInstanceCreditSpecificationSet", res.unsuccessful,
                    [](XmlWriter& x, const control::CreditSpecificationFailure& f) {
                      x.leaf("instanceId", f.instanceId);
                      auto e = x.scope("error");
                      x.leaf("code", f.code);
                      x.leaf("message", f.message);
                    });
    return Status::Ok();
  });

  r.add("ec2", "DescribeInstanceCreditSpecifications", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, ec2::readDescribe(h.params, "InstanceId"));
    LP_ASSIGN_OR_RETURN(auto page, control::InstanceService(ctx).describeInstanceCreditSpecifications(h.call, in));
    ec2::writeItems(h.out, "instanceCreditSpecificationSet", page.items,
                    [](XmlWriter& x, const control::CreditSpecification& c) {
                      x.leaf("instanceId", c.instanceId);
                      x.leaf("cpuCredits", c.cpuCredits);
                    });
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });
}

}  // namespace lp::api
