// EC2 instance settings Terraform's aws_instance changes in place:
// ModifyInstanceMetadataOptions, MonitorInstances, UnmonitorInstances; and
// aws_ebs_volume's ModifyVolume with DescribeVolumesModifications.
#include "api/ec2/codec.h"
#include "api/ec2/instance_codec.h"
#include "api/handlers.h"
#include "control/data_volume_service.h"
#include "control/instance_service.h"

namespace lp::api {

namespace ec2 {

Result<control::MetadataOptionsChange> readMetadataOptions(const Params& p) {
  control::MetadataOptionsChange c;
  c.httpTokens = p.get("HttpTokens");
  LP_ASSIGN_OR_RETURN(c.hopLimit, p.getInt("HttpPutResponseHopLimit"));
  c.httpEndpoint = p.get("HttpEndpoint");
  c.httpProtocolIpv6 = p.get("HttpProtocolIpv6");
  c.instanceMetadataTags = p.get("InstanceMetadataTags");
  return c;
}

void writeMetadataOptions(XmlWriter& x, const model::Instance& i, std::string_view state) {
  x.leaf("state", state);
  x.leaf("httpTokens", i.metadataHttpTokens);
  x.leaf("httpPutResponseHopLimit", i.metadataHopLimit);
  x.leaf("httpEndpoint", i.metadataHttpEndpoint);
  x.leaf("httpProtocolIpv6", i.metadataHttpProtocolIpv6);
  x.leaf("instanceMetadataTags", i.metadataTags);
}

}  // namespace ec2

namespace {

void writeModification(XmlWriter& x, const model::Volume& v) {
  const auto& m = v.modification;
  x.leaf("volumeId", v.id.str());
  x.leaf("modificationState", m.state);
  x.leaf("targetSize", m.targetSize);
  x.leaf("targetIops", m.targetIops);
  x.leaf("targetVolumeType", m.targetType);
  if (m.targetType == "gp3") x.leaf("targetThroughput", m.targetThroughput);
  x.leaf("targetMultiAttachEnabled", false);
  x.leaf("originalSize", m.originalSize);
  x.leaf("originalIops", m.originalIops);
  x.leaf("originalVolumeType", m.originalType);
  if (m.originalType == "gp3") x.leaf("originalThroughput", m.originalThroughput);
  x.leaf("originalMultiAttachEnabled", false);
  x.leaf("progress", m.state == "completed" ? 100 : 0);
  x.leaf("startTime", m.startTime);
  x.leafIf("endTime", m.endTime);
}

}  // namespace

void registerEc2InstanceSettingsHandlers(Router& r, control::ControlContext& ctx) {
  r.add("ec2", "ModifyInstanceMetadataOptions", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto change, ec2::readMetadataOptions(h.params));
    LP_ASSIGN_OR_RETURN(auto i, control::InstanceService(ctx).modifyInstanceMetadataOptions(
                                    h.call, h.params.get("InstanceId"), change));
    h.out.leaf("instanceId", i.id.str());
    auto m = h.out.scope("instanceMetadataOptions");
    // AWS answers pending; DescribeInstances shows applied (nothing to wait for here).
    ec2::writeMetadataOptions(h.out, i, "pending");
    return Status::Ok();
  });

  auto monitoring = [&ctx](bool enabled) {
    return [&ctx, enabled](HandlerContext& h) -> Status {
      LP_ASSIGN_OR_RETURN(auto changes,
                          control::InstanceService(ctx).setMonitoring(h.call, h.params.list("InstanceId"), enabled));
      ec2::writeItems(h.out, "instancesSet", changes, [](XmlWriter& x, const control::MonitoringChange& c) {
        x.leaf("instanceId", c.instanceId);
        auto m = x.scope("monitoring");
        x.leaf("state", c.state);
      });
      return Status::Ok();
    };
  };
  r.add("ec2", "MonitorInstances", monitoring(true));
  r.add("ec2", "UnmonitorInstances", monitoring(false));

  r.add("ec2", "ModifyVolume", [&ctx](HandlerContext& h) -> Status {
    control::ModifyVolumeInput in;
    in.volumeId = h.params.get("VolumeId");
    LP_ASSIGN_OR_RETURN(in.size, h.params.getInt("Size"));
    in.volumeType = h.params.get("VolumeType");
    LP_ASSIGN_OR_RETURN(in.iops, h.params.getInt("Iops"));
    LP_ASSIGN_OR_RETURN(in.throughput, h.params.getInt("Throughput"));
    LP_ASSIGN_OR_RETURN(in.multiAttachEnabled, h.params.getBool("MultiAttachEnabled"));
    LP_ASSIGN_OR_RETURN(auto v, control::DataVolumeService(ctx).modifyVolume(h.call, in));
    auto m = h.out.scope("volumeModification");
    // The answer AWS gives at the start; DescribeVolumesModifications shows it completed.
    v.modification.state = "modifying";
    v.modification.endTime.clear();
    writeModification(h.out, v);
    return Status::Ok();
  });

  r.add("ec2", "DescribeVolumesModifications", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto in, ec2::readDescribe(h.params, "VolumeId"));
    LP_ASSIGN_OR_RETURN(auto page, control::DataVolumeService(ctx).describeVolumesModifications(h.call, in));
    ec2::writeItems(h.out, "volumeModificationSet", page.items, writeModification);
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });
}

}  // namespace lp::api
