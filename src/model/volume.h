// EBS volumes: an instance's root volume, stored as its own resource so it can be
// tagged and outlive its instance (DeleteOnTermination=false). A name and figures
// only: an instance runs the host's userland, so no block device backs a volume.
// Values and pure rules (volume types and their limits). See docs/instances.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "model/ids.h"
#include "model/resources.h"

namespace lp::model {

// The latest ModifyVolume of a volume (AWS describes the most recent one). Nothing
// backs a volume here, so a modification completes as soon as it is recorded.
struct VolumeModificationRecord {
  std::string state;  // "" when the volume was never modified; else completed
  int targetSize = 0, originalSize = 0;
  std::string targetType, originalType;
  int targetIops = 0, originalIops = 0;
  int targetThroughput = 0, originalThroughput = 0;
  std::string startTime, endTime;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(VolumeModificationRecord, state, targetSize, originalSize, targetType,
                                                originalType, targetIops, originalIops, targetThroughput,
                                                originalThroughput, startTime, endTime)

struct Volume {
  static constexpr std::string_view kKind = "volume";
  VolumeId id;
  AccountId ownerId;
  std::string zoneId;
  int sizeGiB = 8;
  std::string volumeType = "gp2";
  int iops = 0;        // 0: none reported (standard, st1, sc1)
  int throughput = 0;  // MiB/s, gp3 only
  bool encrypted = false;
  std::string snapshotId;  // the image's root snapshot it was made from
  std::string createTime;
  std::string state = "in-use";  // in-use | available
  // Its attachment while its instance has it; cleared when the instance is
  // terminated and the volume is kept (DeleteOnTermination=false).
  InstanceId instanceId;
  std::string device;  // /dev/xvda
  std::string attachTime;
  bool deleteOnTermination = true;
  Tags tags;
  std::string clientToken;  // CreateVolume's, for its idempotence ("" for root volumes)
  VolumeModificationRecord modification;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Volume, id, ownerId, zoneId, sizeGiB, volumeType, iops, throughput,
                                                encrypted, snapshotId, createTime, state, instanceId, device,
                                                attachTime, deleteOnTermination, tags, clientToken, modification)

// AWS's EBS volume types with their size limits (GiB) and IOPS rules.
struct VolumeTypeInfo {
  std::string_view name;
  int minGiB;
  int maxGiB;
  bool bootable;      // st1 and sc1 cannot be a root volume
  bool iopsRequired;  // io1, io2
  bool iopsAllowed;   // gp3, io1, io2
  int minIops;
  int maxIops;
};
const VolumeTypeInfo* findVolumeType(std::string_view name);
// "standard, io1, io2, gp2, sc1, st1, gp3", as AWS lists them.
std::string volumeTypeNames();

// The IOPS AWS reports for a volume: gp2 3 per GiB between 100 and 16000, gp3
// 3000 unless given, io1/io2 as given; 0 (not reported) for the others.
int reportedIops(std::string_view type, int sizeGiB, std::optional<int> given);

// What the root volume's attachment looks like while its instance is in a state:
// "attached", "detaching" while it shuts down.
std::string_view rootAttachmentStatus(std::string_view instanceState);

// What an instance's termination does to its root volume: false when it goes
// (DeleteOnTermination); true when it stays, now detached and available.
bool keepAtTermination(Volume& v);

// Whether name is a device an EBS data volume can be attached as here: /dev/sdX or
// /dev/xvdX with X in b..z (a is the root device), as AWS's Linux guidance lists them.
bool isDataDeviceName(std::string_view name);

// The root snapshot an image's volumes are made from ("snap-" + the image's hex).
std::string imageRootSnapshot(std::string_view imageId);

// The root device of every image here, and the size of its root snapshot.
inline constexpr std::string_view kRootDeviceName = "/dev/xvda";
inline constexpr int kImageRootGiB = 8;

}  // namespace lp::model
