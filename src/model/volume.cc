#include "model/volume.h"

#include <algorithm>
#include <array>

namespace lp::model {

namespace {

// AWS's limits as the EC2 API reference states them (EbsBlockDevice: VolumeSize
// and Iops): sizes in GiB, IOPS ranges for the types that take a value.
constexpr std::array<VolumeTypeInfo, 7> kTypes{{
    {"standard", 1, 1024, true, false, false, 0, 0},
    {"io1", 4, 16384, true, true, true, 100, 64000},
    {"io2", 4, 16384, true, true, true, 100, 64000},
    {"gp2", 1, 16384, true, false, false, 0, 0},
    {"sc1", 125, 16384, false, false, false, 0, 0},
    {"st1", 125, 16384, false, false, false, 0, 0},
    {"gp3", 1, 16384, true, false, true, 3000, 16000},
}};

}  // namespace

const VolumeTypeInfo* findVolumeType(std::string_view name) {
  auto it = std::find_if(kTypes.begin(), kTypes.end(), [&](const VolumeTypeInfo& t) { return t.name == name; });
  return it == kTypes.end() ? nullptr : &*it;
}

std::string volumeTypeNames() {
  std::string out;
  for (const auto& t : kTypes) {
    if (!out.empty()) out += ", ";
    out += t.name;
  }
  return out;
}

int reportedIops(std::string_view type, int sizeGiB, std::optional<int> given) {
  if (type == "gp2") return std::clamp(sizeGiB * 3, 100, 16000);
  if (type == "gp3") return given.value_or(3000);
  if (type == "io1" || type == "io2") return given.value_or(0);
  return 0;
}

std::string_view rootAttachmentStatus(std::string_view instanceState) {
  return instanceState == "shutting-down" ? "detaching" : "attached";
}

bool keepAtTermination(Volume& v) {
  if (v.deleteOnTermination) return false;
  v.state = "available";
  v.instanceId = InstanceId();
  v.device.clear();
  v.attachTime.clear();
  return true;
}

bool isDataDeviceName(std::string_view name) {
  for (std::string_view prefix : {"/dev/sd", "/dev/xvd"}) {
    if (name.size() == prefix.size() + 1 && name.substr(0, prefix.size()) == prefix) {
      char c = name.back();
      return c >= 'b' && c <= 'z';
    }
  }
  return false;
}

std::string imageRootSnapshot(std::string_view imageId) {
  std::string_view hex = imageId.substr(std::min(imageId.size(), std::string_view("ami-").size()));
  return "snap-" + std::string(hex);
}

}  // namespace lp::model
