// RunInstances' BlockDeviceMapping.N: what the root volume will be. Pure: checks
// the mappings against the image and AWS's volume type rules and answers the
// root volume's figures, or the error AWS gives (nothing is created then).
// Only the image's root device (/dev/xvda) can be mapped: an instance here has
// no volume besides its root one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/common.h"

namespace lp::control {

// One BlockDeviceMapping.N as sent.
struct BlockDeviceMappingInput {
  std::string deviceName;
  std::string virtualName;
  bool noDevice = false;  // NoDevice given (any value)
  bool hasEbs = false;    // any Ebs.* given
  std::optional<int64_t> volumeSize;
  std::string volumeType;
  std::optional<bool> deleteOnTermination;
  std::optional<bool> encrypted;
  std::optional<int64_t> iops;
  std::optional<int64_t> throughput;
  std::string snapshotId;
  std::string kmsKeyId;
};

struct RootVolumePlan {
  int sizeGiB = 8;
  std::string volumeType = "gp2";
  int iops = 0;        // as reported (0: none)
  int throughput = 0;  // gp3 only
  bool encrypted = false;
  bool deleteOnTermination = true;
  std::string snapshotId;  // the image's root snapshot
};

Result<RootVolumePlan> planRootVolume(const std::vector<BlockDeviceMappingInput>& mappings, std::string_view imageId);

}  // namespace lp::control
