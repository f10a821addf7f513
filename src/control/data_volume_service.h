// EBS data volumes: CreateVolume, AttachVolume, DetachVolume (DescribeVolumes and
// DeleteVolume are VolumeService's). What Terraform's aws_ebs_volume and
// aws_volume_attachment make. A volume is a name and figures only (model/volume.h):
// attaching one records it on the instance's side of DescribeVolumes, nothing more;
// at the instance's termination a data volume is detached and stays available
// (DeleteOnTermination is false for a volume attached after launch, as on AWS).
// Stateless over a ControlContext; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/common.h"
#include "control/volume_service.h"

namespace lp::control {

struct CreateVolumeInput {
  std::string availabilityZone;    // a name, or
  std::string availabilityZoneId;  // an id
  std::optional<int64_t> size;     // GiB
  std::string volumeType;          // gp2 when empty
  std::optional<int64_t> iops;
  std::optional<int64_t> throughput;
  std::optional<bool> encrypted;
  std::optional<bool> multiAttachEnabled;
  std::string snapshotId;
  std::string kmsKeyId;
  std::string clientToken;
  std::vector<TagSpecification> tagSpecs;
};

// The figures a new data volume gets, or AWS's error for the request. Pure.
struct DataVolumePlan {
  int sizeGiB = 0;
  std::string volumeType = "gp2";
  int iops = 0;        // as reported (0: none)
  int throughput = 0;  // gp3 only
  bool encrypted = false;
};
Result<DataVolumePlan> planDataVolume(const CreateVolumeInput& in);

// ModifyVolume: what is given changes, the rest stays.
struct ModifyVolumeInput {
  std::string volumeId;
  std::optional<int64_t> size;  // GiB; may only grow
  std::string volumeType;
  std::optional<int64_t> iops;
  std::optional<int64_t> throughput;
  std::optional<bool> multiAttachEnabled;
};

// The volume after a ModifyVolume, with its modification record filled (completed
// at now), or AWS's error for the request: nothing to change, a smaller size, a
// size, IOPS or throughput out of the (new) type's range, st1/sc1 for a root
// volume, Multi-Attach. Pure.
Result<model::Volume> planVolumeModification(const model::Volume& v, bool isRoot, const ModifyVolumeInput& in,
                                             const std::string& now);

struct VolumeAttachmentInput {
  std::string volumeId;
  std::string instanceId;  // required to attach; on detach, checked when given
  std::string device;      // required to attach; on detach, checked when given
};

// What AttachVolume and DetachVolume answer: the attachment, in the state AWS
// reports at that moment (attaching, detaching).
struct VolumeAttachmentResult {
  model::Volume volume;  // as it was attached (DetachVolume: before the detach)
  std::string status;
};

class DataVolumeService {
 public:
  explicit DataVolumeService(ControlContext& ctx) : ctx_(ctx) {}

  // Available at once (nothing to provision). ClientToken: the same token with the
  // same figures answers the volume it made; other figures are
  // IdempotentParameterMismatch.
  Result<VolumeInfo> createVolume(const CallContext& call, const CreateVolumeInput& in);
  // An available volume to a running or stopped instance of the same zone, at a
  // free /dev/sd[b-z] or /dev/xvd[b-z].
  Result<VolumeAttachmentResult> attachVolume(const CallContext& call, const VolumeAttachmentInput& in);
  // A data volume back to available; the root volume stays with its instance here.
  Result<VolumeAttachmentResult> detachVolume(const CallContext& call, const VolumeAttachmentInput& in);
  // Changes the volume's figures at once (no block device backs it) and keeps the
  // modification for DescribeVolumesModifications. Returns the volume as changed.
  Result<model::Volume> modifyVolume(const CallContext& call, const ModifyVolumeInput& in);
  // The latest modification of each named volume, or of all the caller's modified
  // volumes; a named volume never modified is InvalidVolumeModification.NotFound.
  Result<Page<model::Volume>> describeVolumesModifications(const CallContext& call, const DescribeInput& in);

 private:
  ControlContext& ctx_;
};

}  // namespace lp::control
