#include "control/data_volume_service.h"

#include "model/instance.h"

namespace lp::control {

using model::Instance;
using model::Volume;

namespace {

// EC2's code for a volume and an instance in different zones (AttachVolume).
// Kept here, not in errors.h, which every control file includes.
constexpr std::string_view kVolumeZoneMismatch = "InvalidVolume.ZoneMismatch";

bool samePlan(const Volume& v, const std::string& zoneId, const DataVolumePlan& p) {
  return v.zoneId == zoneId && v.sizeGiB == p.sizeGiB && v.volumeType == p.volumeType && v.iops == p.iops &&
         v.throughput == p.throughput && v.encrypted == p.encrypted;
}

// The instance a volume may be attached to or detached from: the caller's, and in
// a state that has volumes (AWS: running or stopped to attach).
Result<Instance> attachableInstance(const View& v, const CallContext& call, const std::string& id) {
  LP_ASSIGN_OR_RETURN(Instance i, findOwned<Instance>(v, call, id, err::kInstanceMalformed, err::kInstanceNotFound,
                                                      "instance ID"));
  if (i.state != "running" && i.state != "stopped")
    return err::make(err::kIncorrectInstanceState, "The instance '{}' is not in a valid state for this operation.",
                     id);
  return i;
}

constexpr std::string_view kModificationNotFound = "InvalidVolumeModification.NotFound";

const FilterSpec<Volume>& modificationFilters() {
  using V = std::vector<std::string>;
  static const FilterSpec<Volume> spec = [] {
    FilterSpec<Volume> s;
    auto num = [](auto get) { return [get](const Volume& v) { return V{std::to_string(get(v.modification))}; }; };
    auto str = [](auto get) { return [get](const Volume& v) { return V{get(v.modification)}; }; };
    using M = model::VolumeModificationRecord;
    s.add("volume-id", [](const Volume& v) { return V{v.id.str()}; })
        .add("modification-state", str([](const M& m) { return m.state; }))
        .add("target-size", num([](const M& m) { return m.targetSize; }))
        .add("target-iops", num([](const M& m) { return m.targetIops; }))
        .add("target-volume-type", str([](const M& m) { return m.targetType; }))
        .add("target-throughput", num([](const M& m) { return m.targetThroughput; }))
        .add("original-size", num([](const M& m) { return m.originalSize; }))
        .add("original-iops", num([](const M& m) { return m.originalIops; }))
        .add("original-volume-type", str([](const M& m) { return m.originalType; }))
        .add("original-throughput", num([](const M& m) { return m.originalThroughput; }))
        .add("start-time", str([](const M& m) { return m.startTime; }))
        .add("target-multi-attach-enabled", [](const Volume&) { return V{"false"}; })
        .add("original-multi-attach-enabled", [](const Volume&) { return V{"false"}; });
    return s;
  }();
  return spec;
}

}  // namespace

Result<Volume> planVolumeModification(const Volume& v, bool isRoot, const ModifyVolumeInput& in,
                                      const std::string& now) {
  if (!in.size && in.volumeType.empty() && !in.iops && !in.throughput && !in.multiAttachEnabled)
    return err::make(err::kMissingParameter,
                     "The request must contain at least one of Size, VolumeType, Iops, Throughput or "
                     "MultiAttachEnabled.");
  if (in.multiAttachEnabled.value_or(false))
    return err::make(err::kUnsupportedOperation, "Multi-Attach is not supported here: a volume has one instance.");
  if (in.size && *in.size < v.sizeGiB)
    return err::make(err::kInvalidParameterValue,
                     "New size cannot be smaller than existing size: {}GiB is less than the volume's {}GiB.", *in.size,
                     v.sizeGiB);
  std::string type = in.volumeType.empty() ? v.volumeType : in.volumeType;
  const model::VolumeTypeInfo* info = model::findVolumeType(type);
  if (!info)
    return err::make(err::kInvalidParameterValue, "Value ({}) for parameter volumeType is invalid. Valid types: {}",
                     type, model::volumeTypeNames());
  if (isRoot && !info->bootable)
    return err::make(err::kInvalidParameterValue, "Volume type {} cannot be used for a root (boot) volume.", type);
  int size = in.size ? static_cast<int>(*in.size) : v.sizeGiB;
  if (size < info->minGiB || size > info->maxGiB)
    return err::make(err::kInvalidParameterValue,
                     "Volume of {}GiB is invalid for volume type {}: the size must be from {} to {}GiB.", size, type,
                     info->minGiB, info->maxGiB);
  if (in.iops && !info->iopsAllowed)
    return err::make(err::kInvalidParameterCombination, "The parameter iops is not supported for {} volumes.", type);
  // The IOPS a type keeps when it stays the same; a new io1/io2 type needs them given.
  std::optional<int> iops;
  if (in.iops)
    iops = static_cast<int>(*in.iops);
  else if (type == v.volumeType && info->iopsAllowed)
    iops = v.iops;
  if (!iops && info->iopsRequired)
    return err::make(err::kMissingParameter, "The parameter iops must be specified for {} volumes.", type);
  if (iops && info->iopsAllowed && (*iops < info->minIops || *iops > info->maxIops))
    return err::make(err::kInvalidParameterValue,
                     "Value ({}) for parameter iops is invalid. {} volumes take {} to {} IOPS.", *iops, type,
                     info->minIops, info->maxIops);
  if (in.throughput && type != "gp3")
    return err::make(err::kInvalidParameterCombination, "throughput can only be specified for volumeType gp3.");
  if (in.throughput && (*in.throughput < 125 || *in.throughput > 1000))
    return err::make(err::kInvalidParameterValue,
                     "Value ({}) for parameter throughput is invalid. gp3 volumes take 125 to 1000 MiB/s.",
                     *in.throughput);
  Volume out = v;
  out.sizeGiB = size;
  out.volumeType = type;
  out.iops = model::reportedIops(type, size, iops);
  out.throughput = type != "gp3"           ? 0
                   : in.throughput         ? static_cast<int>(*in.throughput)
                   : v.volumeType == "gp3" ? v.throughput
                                           : 125;
  auto& m = out.modification;
  m.state = "completed";
  m.originalSize = v.sizeGiB;
  m.originalType = v.volumeType;
  m.originalIops = v.iops;
  m.originalThroughput = v.throughput;
  m.targetSize = out.sizeGiB;
  m.targetType = out.volumeType;
  m.targetIops = out.iops;
  m.targetThroughput = out.throughput;
  m.startTime = now;
  m.endTime = now;
  return out;
}

Result<DataVolumePlan> planDataVolume(const CreateVolumeInput& in) {
  DataVolumePlan plan;
  if (!in.snapshotId.empty())
    return err::make(err::kSnapshotNotFound, "The snapshot '{}' does not exist.", in.snapshotId);
  if (!in.size) return err::make(err::kMissingParameter, "The request must contain the parameter size or snapshotId");
  if (!in.volumeType.empty()) plan.volumeType = in.volumeType;
  const model::VolumeTypeInfo* type = model::findVolumeType(plan.volumeType);
  if (!type)
    return err::make(err::kInvalidParameterValue, "Value ({}) for parameter volumeType is invalid. Valid types: {}",
                     plan.volumeType, model::volumeTypeNames());
  if (*in.size < type->minGiB || *in.size > type->maxGiB)
    return err::make(err::kInvalidParameterValue,
                     "Volume of {}GiB is invalid for volume type {}: the size must be from {} to {}GiB.", *in.size,
                     plan.volumeType, type->minGiB, type->maxGiB);
  plan.sizeGiB = static_cast<int>(*in.size);
  if (in.iops && !type->iopsAllowed)
    return err::make(err::kInvalidParameterCombination, "The parameter iops is not supported for {} volumes.",
                     plan.volumeType);
  if (!in.iops && type->iopsRequired)
    return err::make(err::kMissingParameter, "The parameter iops must be specified for {} volumes.", plan.volumeType);
  if (in.iops && (*in.iops < type->minIops || *in.iops > type->maxIops))
    return err::make(err::kInvalidParameterValue,
                     "Value ({}) for parameter iops is invalid. {} volumes take {} to {} IOPS.", *in.iops,
                     plan.volumeType, type->minIops, type->maxIops);
  if (in.throughput && plan.volumeType != "gp3")
    return err::make(err::kInvalidParameterCombination, "throughput can only be specified for volumeType gp3.");
  if (in.throughput && (*in.throughput < 125 || *in.throughput > 1000))
    return err::make(err::kInvalidParameterValue,
                     "Value ({}) for parameter throughput is invalid. gp3 volumes take 125 to 1000 MiB/s.",
                     *in.throughput);
  if (!in.kmsKeyId.empty())
    return err::make(err::kInvalidParameterValue,
                     "KmsKeyId is not supported here: there is no KMS; Encrypted=true uses the default key.");
  if (in.multiAttachEnabled.value_or(false))
    return err::make(err::kUnsupportedOperation, "Multi-Attach is not supported here: a volume has one instance.");
  std::optional<int> iops;
  if (in.iops) iops = static_cast<int>(*in.iops);
  plan.iops = model::reportedIops(plan.volumeType, plan.sizeGiB, iops);
  if (plan.volumeType == "gp3") plan.throughput = in.throughput ? static_cast<int>(*in.throughput) : 125;
  plan.encrypted = in.encrypted.value_or(false);
  return plan;
}

Result<VolumeInfo> DataVolumeService::createVolume(const CallContext& call, const CreateVolumeInput& in) {
  std::string zoneId = in.availabilityZoneId;
  if (in.availabilityZone.empty() && zoneId.empty()) return err::missing("AvailabilityZone");
  if (!in.availabilityZone.empty()) {
    auto id = ctx_.zoneIdForName(call.account, in.availabilityZone);
    if (!id || (!zoneId.empty() && *id != zoneId))
      return err::make(err::kInvalidParameterValue, "Invalid availability zone: [{}]", in.availabilityZone);
    zoneId = *id;
  } else if (!ctx_.hasZoneId(zoneId)) {
    return err::make(err::kInvalidParameterValue, "Invalid availability zone ID: [{}]", zoneId);
  }
  LP_ASSIGN_OR_RETURN(DataVolumePlan plan, planDataVolume(in));
  LP_ASSIGN_OR_RETURN(model::Tags tags, tagsFromSpecs(in.tagSpecs, "volume"));
  if (in.clientToken.size() > 64) return err::badValue("ClientToken", in.clientToken);
  std::optional<VolumeInfo> out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    if (!in.clientToken.empty()) {
      auto prior = t.listIndexed<Volume>(index::kOwnerToken, ownerToken(call.account, in.clientToken));
      if (!prior.empty()) {
        if (!samePlan(prior.front(), zoneId, plan))
          return err::make(err::kIdempotentParameterMismatch,
                           "The client token '{}' was already used with different parameters.", in.clientToken);
        if (call.dryRun) return err::dryRun();
        out = renderVolume(t, ctx_, call, prior.front());
        return Status::Ok();
      }
    }
    if (call.dryRun) return err::dryRun();
    Volume vol;
    vol.id = model::VolumeId::generate(ctx_.random);
    vol.ownerId = call.account;
    vol.zoneId = zoneId;
    vol.sizeGiB = plan.sizeGiB;
    vol.volumeType = plan.volumeType;
    vol.iops = plan.iops;
    vol.throughput = plan.throughput;
    vol.encrypted = plan.encrypted;
    vol.createTime = nowIso(ctx_);
    vol.state = "available";
    vol.deleteOnTermination = false;
    vol.tags = tags;
    vol.clientToken = in.clientToken;
    t.put(vol);
    out = renderVolume(t, ctx_, call, std::move(vol));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return std::move(*out);
}

Result<VolumeAttachmentResult> DataVolumeService::attachVolume(const CallContext& call,
                                                               const VolumeAttachmentInput& in) {
  if (in.volumeId.empty()) return err::missing("VolumeId");
  if (in.instanceId.empty()) return err::missing("InstanceId");
  if (in.device.empty()) return err::missing("Device");
  if (!model::isDataDeviceName(in.device))
    return err::make(err::kInvalidParameterValue,
                     "Value ({}) for parameter device is invalid. {} is not a valid EBS device name: use /dev/sd[b-z] "
                     "or /dev/xvd[b-z].",
                     in.device, in.device);
  VolumeAttachmentResult out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Volume vol, findOwned<Volume>(t, call, in.volumeId, err::kVolumeMalformed,
                                                      err::kVolumeNotFound, "volume"));
    LP_ASSIGN_OR_RETURN(Instance inst, attachableInstance(t, call, in.instanceId));
    if (vol.state != "available")
      return err::make(err::kVolumeInUse, "{} is already attached to an instance", in.volumeId);
    if (vol.zoneId != inst.zoneId)
      return err::make(kVolumeZoneMismatch,
                       "The volume '{}' is not in the same availability zone as instance '{}'", in.volumeId,
                       in.instanceId);
    bool taken = t.anyIndexed<Volume>(index::kOwner, call.account, [&](const Volume& o) {
      return o.instanceId == inst.id && o.device == in.device;
    });
    if (taken) return err::make(err::kInvalidParameterValue, "Attachment point {} is already in use", in.device);
    if (call.dryRun) return err::dryRun();
    vol.state = "in-use";
    vol.instanceId = inst.id;
    vol.device = in.device;
    vol.attachTime = nowIso(ctx_);
    vol.deleteOnTermination = false;
    t.put(vol);
    out = {std::move(vol), "attaching"};
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<VolumeAttachmentResult> DataVolumeService::detachVolume(const CallContext& call,
                                                               const VolumeAttachmentInput& in) {
  if (in.volumeId.empty()) return err::missing("VolumeId");
  VolumeAttachmentResult out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Volume vol, findOwned<Volume>(t, call, in.volumeId, err::kVolumeMalformed,
                                                      err::kVolumeNotFound, "volume"));
    if (vol.state != "in-use" || vol.instanceId.empty())
      return err::make(err::kIncorrectState, "Volume '{}' is in the '{}' state.", in.volumeId, vol.state);
    if (!in.instanceId.empty() && in.instanceId != vol.instanceId.str())
      return err::make(err::kIncorrectState, "Volume '{}' is not attached to instance '{}'.", in.volumeId,
                       in.instanceId);
    if (!in.device.empty() && in.device != vol.device)
      return err::make(err::kIncorrectState, "Volume '{}' is not attached at {}.", in.volumeId, in.device);
    auto inst = t.get<Instance>(vol.instanceId);
    if (inst && inst->rootVolumeId == vol.id)
      return err::make(err::kUnsupportedOperation,
                       "Unable to detach root volume '{}' from instance '{}': the root volume stays with its "
                       "instance here",
                       in.volumeId, vol.instanceId.str());
    if (call.dryRun) return err::dryRun();
    out = {vol, "detaching"};
    vol.state = "available";
    vol.instanceId = model::InstanceId();
    vol.device.clear();
    vol.attachTime.clear();
    t.put(vol);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<Volume> DataVolumeService::modifyVolume(const CallContext& call, const ModifyVolumeInput& in) {
  if (in.volumeId.empty()) return err::missing("VolumeId");
  Volume out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Volume vol,
                        findOwned<Volume>(t, call, in.volumeId, err::kVolumeMalformed, err::kVolumeNotFound, "volume"));
    bool isRoot = vol.device == model::kRootDeviceName && !vol.instanceId.empty();
    LP_ASSIGN_OR_RETURN(Volume next, planVolumeModification(vol, isRoot, in, nowIso(ctx_)));
    if (call.dryRun) return err::dryRun();
    t.put(next);
    if (isRoot) {
      // The instance keeps its root size for DescribeInstances' view.
      if (auto inst = t.get<Instance>(vol.instanceId); inst && inst->rootVolumeId == vol.id) {
        inst->rootVolumeSizeGiB = next.sizeGiB;
        t.put(*inst);
      }
    }
    out = std::move(next);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<Page<Volume>> DataVolumeService::describeVolumesModifications(const CallContext& call, const DescribeInput& in) {
  LP_RETURN_IF_ERROR(modificationFilters().validate(in.filters));
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 5, 500));
  LP_RETURN_IF_ERROR(checkVolumeIds(in.ids));
  if (call.dryRun) return err::dryRun();
  Result<Page<Volume>> out = Page<Volume>{};
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    for (const auto& id : in.ids) {
      auto vol = ownedVolume(v, call, id);
      if (!vol.ok()) {
        out = vol.status();
        return;
      }
      if (vol->modification.state.empty()) {
        out = err::make(kModificationNotFound, "Modification for volume '{}' does not exist.", id);
        return;
      }
    }
    out = paginateInOrder<Volume>(
        in.page, [](const Volume& x) -> const std::string& { return x.id.str(); },
        [&](std::string_view from, const std::function<bool(Volume)>& take) {
          v.forEachOwned<Volume>(call.account, in.ids, from, [&](const Volume& vol) {
            if (vol.modification.state.empty() || !modificationFilters().matches(vol, in.filters)) return true;
            return take(vol);
          });
        },
        500);
  });
  return out;
}

}  // namespace lp::control
