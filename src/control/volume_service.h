// VolumeService: DescribeVolumes and DeleteVolume over the stored EBS volumes
// (model/volume.h). RunInstances makes an instance's root volume; the instance
// supervisor deletes it at termination, or detaches it (available) when its
// DeleteOnTermination is false. Stateless over a ControlContext; any thread.
#pragma once

#include <string>
#include <vector>

#include "control/common.h"
#include "control/query.h"
#include "control/vpc_service.h"  // DescribeInput
#include "model/volume.h"

namespace lp::control {

// A volume with what AWS renders per caller.
struct VolumeInfo {
  model::Volume volume;
  std::string zoneName;
  std::string attachmentStatus;  // attached | detaching; "" when not attached
  model::Tags tags;              // the volume's (tag:K filters)
};

class VolumeService {
 public:
  explicit VolumeService(ControlContext& ctx) : ctx_(ctx) {}

  Result<Page<VolumeInfo>> describeVolumes(const CallContext& call, const DescribeInput& in);
  // Available volumes only (VolumeInUse while attached).
  Status deleteVolume(const CallContext& call, const std::string& volumeId);

 private:
  ControlContext& ctx_;
};

// What the calls naming volumes check, as checkInstanceIds and checkInstancesOwned do
// for instances: each id well formed ("vol-..."; InvalidVolume.Malformed), and the
// volume the caller's account owns (InvalidVolume.NotFound otherwise).
Status checkVolumeIds(const std::vector<std::string>& ids);
Result<model::Volume> ownedVolume(const View& v, const CallContext& call, const std::string& id);

// The rendering DescribeVolumes and DescribeInstances' BlockDeviceMappings share.
VolumeInfo renderVolume(const View& v, const ControlContext& ctx, const CallContext& call, model::Volume vol);

}  // namespace lp::control
