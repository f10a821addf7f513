#include "control/volume_service.h"

#include <algorithm>

#include "model/instance.h"

namespace lp::control {

using model::Volume;

namespace {

using Strings = std::vector<std::string>;

const FilterSpec<VolumeInfo>& volumeFilters() {
  static const FilterSpec<VolumeInfo> spec = [] {
    FilterSpec<VolumeInfo> s;
    auto one = [](auto get) { return [get](const VolumeInfo& v) { return Strings{get(v.volume)}; }; };
    auto attached = [](auto get) {
      return [get](const VolumeInfo& v) { return v.attachmentStatus.empty() ? Strings{} : Strings{get(v)}; };
    };
    auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
    s.add("volume-id", one([](const Volume& v) { return v.id.str(); }))
        .add("attachment.instance-id", attached([](const VolumeInfo& v) { return v.volume.instanceId.str(); }))
        .add("attachment.device", attached([](const VolumeInfo& v) { return v.volume.device; }))
        .add("attachment.status", attached([](const VolumeInfo& v) { return v.attachmentStatus; }))
        .add("attachment.attach-time", attached([](const VolumeInfo& v) { return v.volume.attachTime; }))
        .add("attachment.delete-on-termination",
             attached([flag](const VolumeInfo& v) { return flag(v.volume.deleteOnTermination); }))
        .add("availability-zone", [](const VolumeInfo& v) { return Strings{v.zoneName}; })
        .add("create-time", one([](const Volume& v) { return v.createTime; }))
        .add("encrypted", one([flag](const Volume& v) { return flag(v.encrypted); }))
        .add("multi-attach-enabled", [](const VolumeInfo&) { return Strings{"false"}; })
        .add("size", one([](const Volume& v) { return std::to_string(v.sizeGiB); }))
        .add("snapshot-id", one([](const Volume& v) { return v.snapshotId; }))
        .add("status", one([](const Volume& v) { return v.state; }))
        .add("volume-type", one([](const Volume& v) { return v.volumeType; }));
    return s;
  }();
  return spec;
}

}  // namespace

VolumeInfo renderVolume(const View& v, const ControlContext& ctx, const CallContext& call, Volume vol) {
  VolumeInfo info;
  info.zoneName = ctx.zoneName(call.account, vol.zoneId);
  if (!vol.instanceId.empty()) {
    auto i = v.get<model::Instance>(vol.instanceId);
    info.attachmentStatus = std::string(model::rootAttachmentStatus(i ? i->state : "running"));
  }
  info.tags = vol.tags;
  info.volume = std::move(vol);
  return info;
}

Status checkVolumeIds(const std::vector<std::string>& ids) {
  for (const auto& id : ids)
    if (!model::isWellFormed<model::VolumeId>(id))
      return err::make(err::kVolumeMalformed, "Invalid id: \"{}\" (expecting \"vol-...\")", id);
  return Status::Ok();
}

Result<Volume> ownedVolume(const View& v, const CallContext& call, const std::string& id) {
  auto vol = v.get<Volume>(id);
  if (!vol || vol->ownerId != call.account) return err::make(err::kVolumeNotFound, "The volume '{}' does not exist.", id);
  return std::move(*vol);
}

Result<Page<VolumeInfo>> VolumeService::describeVolumes(const CallContext& call, const DescribeInput& in) {
  LP_RETURN_IF_ERROR(volumeFilters().validate(in.filters));
  if (in.page.maxResults && !in.ids.empty())
    return err::make(err::kInvalidParameterCombination,
                     "The parameter volumeSet cannot be used with the parameter maxResults");
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 5, 500));
  LP_RETURN_IF_ERROR(checkVolumeIds(in.ids));
  if (call.dryRun) return err::dryRun();
  Result<Page<VolumeInfo>> out = Page<VolumeInfo>{};
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    for (const auto& id : in.ids) {
      if (auto vol = ownedVolume(v, call, id); !vol.ok()) {
        out = vol.status();
        return;
      }
    }
    out = paginateInOrder<VolumeInfo>(
        in.page, [](const VolumeInfo& x) -> const std::string& { return x.volume.id.str(); },
        [&](std::string_view from, const std::function<bool(VolumeInfo)>& take) {
          v.forEachOwned<Volume>(call.account, in.ids, from, [&](const Volume& vol) {
            auto info = renderVolume(v, ctx_, call, vol);
            return !volumeFilters().matches(info, in.filters) || take(std::move(info));
          });
        },
        500);
  });
  return out;
}

Status VolumeService::deleteVolume(const CallContext& call, const std::string& volumeId) {
  if (volumeId.empty()) return err::missing("VolumeId");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Volume vol, findOwned<Volume>(t, call, volumeId, err::kVolumeMalformed, err::kVolumeNotFound,
                                                      "volume"));
    if (vol.state != "available")
      return err::make(err::kVolumeInUse, "Volume {} is currently attached to {}", volumeId, vol.instanceId.str());
    if (call.dryRun) return err::dryRun();
    t.erase<Volume>(vol.id);
    return Status::Ok();
  });
}

}  // namespace lp::control
