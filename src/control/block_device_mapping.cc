#include "control/block_device_mapping.h"

#include "model/volume.h"

namespace lp::control {

namespace {

Status checkEbs(const BlockDeviceMappingInput& m, const std::string& snapshot, RootVolumePlan& plan) {
  if (!m.snapshotId.empty() && m.snapshotId != snapshot)
    return err::make(err::kSnapshotNotFound, "The snapshot '{}' does not exist.", m.snapshotId);
  if (!m.volumeType.empty()) plan.volumeType = m.volumeType;
  const model::VolumeTypeInfo* type = model::findVolumeType(plan.volumeType);
  if (!type)
    return err::make(err::kInvalidParameterValue, "Value ({}) for parameter volumeType is invalid. Valid types: {}",
                     plan.volumeType, model::volumeTypeNames());
  if (!type->bootable)
    return err::make(err::kInvalidBlockDeviceMapping, "The volume type {} is not supported for root volumes.",
                     plan.volumeType);
  if (m.volumeSize) {
    if (*m.volumeSize < model::kImageRootGiB)
      return err::make(err::kInvalidBlockDeviceMapping,
                       "Volume of size {}GB is smaller than snapshot '{}', expect size >= {}GB", *m.volumeSize,
                       snapshot, model::kImageRootGiB);
    if (*m.volumeSize > type->maxGiB)
      return err::make(err::kInvalidParameterValue, "Volume of {}GiB is too large for volume type {}; maximum is {}GiB.",
                       *m.volumeSize, plan.volumeType, type->maxGiB);
    plan.sizeGiB = static_cast<int>(*m.volumeSize);
  }
  if (m.iops && !type->iopsAllowed)
    return err::make(err::kInvalidParameterCombination, "The parameter iops is not supported for {} volumes.",
                     plan.volumeType);
  if (!m.iops && type->iopsRequired)
    return err::make(err::kMissingParameter, "The parameter iops must be specified for {} volumes.", plan.volumeType);
  if (m.iops && (*m.iops < type->minIops || *m.iops > type->maxIops))
    return err::make(err::kInvalidParameterValue,
                     "Value ({}) for parameter iops is invalid. {} volumes take {} to {} IOPS.", *m.iops,
                     plan.volumeType, type->minIops, type->maxIops);
  if (m.throughput && plan.volumeType != "gp3")
    return err::make(err::kInvalidParameterCombination, "throughput can only be specified for volumeType gp3.");
  if (m.throughput && (*m.throughput < 125 || *m.throughput > 1000))
    return err::make(err::kInvalidParameterValue,
                     "Value ({}) for parameter throughput is invalid. gp3 volumes take 125 to 1000 MiB/s.",
                     *m.throughput);
  if (!m.kmsKeyId.empty())
    return err::make(err::kInvalidParameterValue,
                     "KmsKeyId is not supported here: there is no KMS; Encrypted=true uses the default key.");
  std::optional<int> iops;
  if (m.iops) iops = static_cast<int>(*m.iops);
  plan.iops = model::reportedIops(plan.volumeType, plan.sizeGiB, iops);
  if (plan.volumeType == "gp3") plan.throughput = m.throughput ? static_cast<int>(*m.throughput) : 125;
  plan.encrypted = m.encrypted.value_or(false);
  plan.deleteOnTermination = m.deleteOnTermination.value_or(true);
  return Status::Ok();
}

}  // namespace

Result<RootVolumePlan> planRootVolume(const std::vector<BlockDeviceMappingInput>& mappings, std::string_view imageId) {
  RootVolumePlan plan;
  plan.sizeGiB = model::kImageRootGiB;
  plan.snapshotId = model::imageRootSnapshot(imageId);
  plan.iops = model::reportedIops(plan.volumeType, plan.sizeGiB, std::nullopt);
  bool rootSeen = false;
  for (const auto& m : mappings) {
    if (m.deviceName.empty()) return err::missing("BlockDeviceMapping.N.DeviceName");
    if (m.deviceName != model::kRootDeviceName)
      return err::make(err::kInvalidBlockDeviceMapping,
                       "Invalid device name {}: only the image's root device {} can be mapped here (an instance has "
                       "no volume besides its root volume).",
                       m.deviceName, model::kRootDeviceName);
    if (rootSeen)
      return err::make(err::kInvalidBlockDeviceMapping, "The device name {} is used more than once.", m.deviceName);
    rootSeen = true;
    if (m.noDevice)
      return err::make(err::kInvalidBlockDeviceMapping, "The root device {} cannot be suppressed with NoDevice.",
                       m.deviceName);
    if (!m.virtualName.empty())
      return err::make(err::kInvalidBlockDeviceMapping,
                       "Invalid virtual name {} for the root device {}: instance store volumes are not available.",
                       m.virtualName, m.deviceName);
    if (!m.hasEbs) return err::missing("ebs");
    LP_RETURN_IF_ERROR(checkEbs(m, plan.snapshotId, plan));
  }
  return plan;
}

}  // namespace lp::control
