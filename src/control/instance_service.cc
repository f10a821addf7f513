#include "control/instance_service.h"

#include <algorithm>

#include "common/strings.h"
#include "control/ip_allocation.h"
#include "control/network_interface_service.h"
#include "model/elb.h"

namespace lp::control {

using model::Instance;
using model::InstanceState;
using model::NetworkInterface;
using model::SecurityGroup;
using model::Subnet;

namespace {

using Strings = std::vector<std::string>;

struct InstanceRow {
  InstanceInfo info;
  model::Tags tags;
};

const FilterSpec<InstanceRow>& instanceFilters() {
  static const FilterSpec<InstanceRow> spec = [] {
    FilterSpec<InstanceRow> s;
    auto one = [](auto get) { return [get](const InstanceRow& r) { return Strings{get(r.info.instance)}; }; };
    auto ip = one([](const Instance& i) { return i.privateIp; });
    auto eni = one([](const Instance& i) { return i.networkInterfaceId.str(); });
    auto subnet = one([](const Instance& i) { return i.subnetId.str(); });
    auto vpc = one([](const Instance& i) { return i.vpcId.str(); });
    auto groupIds = [](const InstanceRow& r) {
      Strings out;
      for (auto& g : r.info.groups) out.push_back(g.first);
      return out;
    };
    auto groupNames = [](const InstanceRow& r) {
      Strings out;
      for (auto& g : r.info.groups) out.push_back(g.second);
      return out;
    };
    s.add("instance-id", one([](const Instance& i) { return i.id.str(); }))
        .add("instance-state-name", one([](const Instance& i) { return i.state; }))
        .add("instance-state-code",
             one([](const Instance& i) { return std::to_string(model::instanceStateCode(i.stateValue())); }))
        .add("instance-type", one([](const Instance& i) { return i.instanceType; }))
        .add("image-id", one([](const Instance& i) { return i.imageId; }))
        .add("key-name", one([](const Instance& i) { return i.keyName; }))
        .add("reservation-id", one([](const Instance& i) { return i.reservationId.str(); }))
        .add("owner-id", one([](const Instance& i) { return i.ownerId; }))
        .add("client-token", one([](const Instance& i) { return i.clientToken; }))
        .add("launch-index", one([](const Instance& i) { return std::to_string(i.amiLaunchIndex); }))
        .add("launch-time", one([](const Instance& i) { return i.launchTime; }))
        .add("vpc-id", vpc)
        .add("subnet-id", subnet)
        .add("private-ip-address", ip)
        .add("network-interface.addresses.private-ip-address", ip)
        .add("network-interface.private-ip-address", ip)
        .add("network-interface.network-interface-id", eni)
        .add("network-interface.subnet-id", subnet)
        .add("network-interface.vpc-id", vpc)
        .add("network-interface.group-id", groupIds)
        .add("network-interface.group-name", groupNames)
        .add("network-interface.attachment.device-index", [](const InstanceRow&) { return Strings{"0"}; })
        .add("instance.group-id", groupIds)
        .add("instance.group-name", groupNames)
        .add("group-id", groupIds)
        .add("group-name", groupNames)
        .add("availability-zone", [](const InstanceRow& r) { return Strings{r.info.zoneName}; })
        .add("architecture", one([](const Instance& i) {
               const auto* img = model::findImage(i.imageId);
               return img ? img->architecture : std::string("x86_64");
             }))
        .add("tenancy", [](const InstanceRow&) { return Strings{"default"}; })
        .add("root-device-type", [](const InstanceRow&) { return Strings{"ebs"}; })
        .add("virtualization-type", [](const InstanceRow&) { return Strings{"hvm"}; })
        .add("instance-lifecycle", [](const InstanceRow&) { return Strings{}; })
        .add("monitoring-state",
             one([](const Instance& i) { return std::string(i.monitoringEnabled ? "enabled" : "disabled"); }))
        .add("metadata-options.http-tokens", one([](const Instance& i) { return i.metadataHttpTokens; }))
        .add("metadata-options.http-endpoint", one([](const Instance& i) { return i.metadataHttpEndpoint; }))
        .add("metadata-options.http-put-response-hop-limit",
             one([](const Instance& i) { return std::to_string(i.metadataHopLimit); }))
        .add("state-reason-code", one([](const Instance& i) { return i.stateReasonCode; }))
        // DescribeInstanceStatus's own (an instance's checks pass while it runs).
        .add("instance-status.status",
             [](const InstanceRow& r) { return Strings{r.info.instance.state == "running" ? "ok" : "not-applicable"}; })
        .add("system-status.status", [](const InstanceRow& r) {
          return Strings{r.info.instance.state == "running" ? "ok" : "not-applicable"};
        });
    return s;
  }();
  return spec;
}

InstanceInfo render(const View& v, const ControlContext& ctx, const CallContext& call, Instance i) {
  InstanceInfo info;
  info.zoneName = ctx.zoneName(call.account, i.zoneId);
  for (const auto& g : i.groupIds) {
    auto sg = v.get<SecurityGroup>(g);
    info.groups.emplace_back(g.str(), sg ? sg->name : "");
  }
  if (auto eni = v.get<NetworkInterface>(i.networkInterfaceId)) {
    info.eniStatus = eni->status;
    info.sourceDestCheck = eni->sourceDestCheck;
    info.eniTags = eni->tags;
  }
  if (!i.rootVolumeId.empty()) {
    auto vol = v.get<model::Volume>(i.rootVolumeId);
    if (vol && vol->instanceId == i.id) info.rootVolume = std::move(*vol);
  }
  info.instance = std::move(i);
  return info;
}

Result<int> countParam(const std::string& v, std::string_view name) {
  if (v.empty()) return err::missing(name);
  try {
    size_t used = 0;
    long n = std::stol(v, &used);
    if (used != v.size() || n < 1) throw std::invalid_argument(v);
    return static_cast<int>(std::min(n, 100000L));
  } catch (const std::exception&) {
    return err::badValue(name, v, "Expected a positive integer.");
  }
}

// Splits TagSpecifications by resource type: instance, network-interface and volume
// (the root volume's); anything else refused.
Status splitTagSpecs(const std::vector<TagSpecification>& specs, model::Tags& instanceTags, model::Tags& eniTags,
                     model::Tags& volumeTags) {
  std::vector<TagSpecification> forInstance, forEni, forVolume;
  for (const auto& s : specs) {
    if (s.resourceType == "instance") {
      forInstance.push_back(s);
    } else if (s.resourceType == "network-interface") {
      forEni.push_back(s);
    } else if (s.resourceType == "volume") {
      forVolume.push_back(s);
    } else if (s.resourceType.empty()) {
      return err::missing("TagSpecification.N.ResourceType");
    } else {
      return err::make(err::kInvalidParameterValue, "'{}' is not a valid taggable resource type for this operation.",
                       s.resourceType);
    }
  }
  LP_ASSIGN_OR_RETURN(instanceTags, tagsFromSpecs(forInstance, "instance"));
  LP_ASSIGN_OR_RETURN(eniTags, tagsFromSpecs(forEni, "network-interface"));
  LP_ASSIGN_OR_RETURN(volumeTags, tagsFromSpecs(forVolume, "volume"));
  return Status::Ok();
}

}  // namespace

Status checkInstanceIds(const std::vector<std::string>& ids) {
  for (const auto& id : ids)
    if (!model::isWellFormed<model::InstanceId>(id))
      return err::make(err::kInstanceMalformed, "Invalid id: \"{}\"", id);
  return Status::Ok();
}

Status checkInstancesOwned(const View& v, const CallContext& call, const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    auto i = v.get<Instance>(id);
    if (!i || i->ownerId != call.account)
      return err::make(err::kInstanceNotFound, "The instance ID '{}' does not exist", id);
  }
  return Status::Ok();
}

InstanceInfo renderInstance(const View& v, const ControlContext& ctx, const CallContext& call, Instance i) {
  return render(v, ctx, call, std::move(i));
}

Result<Reservation> InstanceService::runInstances(const CallContext& call, const RunInstancesInput& in) {
  if (in.imageId.empty()) return err::missing("ImageId");
  if (!model::isWellFormedId("ami-", in.imageId))
    return err::make(err::kAmiMalformed, "Invalid id: \"{}\" (expecting \"ami-...\")", in.imageId);
  const model::Image* image = model::findImage(in.imageId);
  if (!image) return err::make(err::kAmiNotFound, "The image id '[{}]' does not exist", in.imageId);
  std::string type = in.instanceType.empty() ? "m1.small" : in.instanceType;
  const model::InstanceTypeInfo* typeInfo = model::findInstanceType(type);
  if (!typeInfo) return err::make(err::kInvalidParameterValue, "Invalid value '{}' for InstanceType.", in.instanceType);
  if (typeInfo->architecture != image->architecture)
    return err::make(err::kInvalidParameterValue,
                     "The architecture '{}' of the specified instance type does not match the architecture '{}' of "
                     "the specified AMI.",
                     typeInfo->architecture, image->architecture);
  std::string credits = in.creditSpecification;
  if (!credits.empty() && credits != "standard" && credits != "unlimited")
    return err::badValue("CreditSpecification.CpuCredits", credits);
  if (!credits.empty() && !typeInfo->burstable)
    return err::make(err::kInvalidParameterCombination,
                     "The parameter CreditSpecification is not supported for {} instance type.", type);
  if (credits.empty()) credits = typeInfo->defaultCredits;
  if (!in.shutdownBehavior.empty() && in.shutdownBehavior != "stop" && in.shutdownBehavior != "terminate")
    return err::badValue("InstanceInitiatedShutdownBehavior", in.shutdownBehavior);
  LP_ASSIGN_OR_RETURN(int minCount, countParam(in.minCount, "MinCount"));
  LP_ASSIGN_OR_RETURN(int maxCount, countParam(in.maxCount, "MaxCount"));
  if (minCount > maxCount)
    return err::make(err::kInvalidParameterValue, "MaxCount ({}) must be greater than or equal to MinCount ({}).",
                     maxCount, minCount);
  if (in.subnetId.empty()) {
    if (!in.groupNames.empty())
      return err::make(err::kInvalidParameterCombination,
                       "The parameter groupName cannot be used with the parameter subnet");
    return err::make(err::kVpcIdNotSpecified, "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.");
  }
  if (!in.groupNames.empty())
    return err::make(err::kInvalidParameterCombination, "The parameter groupName cannot be used with the parameter subnet");
  if (!in.privateIpAddress.empty() && maxCount > 1)
    return err::make(err::kInvalidParameterCombination,
                     "Network interfaces and an instance-level private IP address should not be specified on the same "
                     "request");
  if (in.clientToken.size() > 64) return err::badValue("ClientToken", in.clientToken);
  for (const auto& g : in.groupIds)
    if (!model::isWellFormed<model::SecurityGroupId>(g))
      return err::make(err::kGroupIdMalformed, "Invalid id: \"{}\" (expecting \"sg-...\")", g);
  if (!in.userData.empty()) {
    auto raw = base64Decode(in.userData);
    if (!raw) return err::make(err::kInvalidParameterValue, "Invalid BASE64 encoding of user data.");
    if (raw->size() > model::kMaxUserDataBytes)
      return err::make(err::kInvalidParameterValue, "User data is limited to {} bytes", model::kMaxUserDataBytes);
  }
  model::Tags instanceTags, eniTags, volumeTags;
  LP_RETURN_IF_ERROR(splitTagSpecs(in.tagSpecs, instanceTags, eniTags, volumeTags));
  LP_ASSIGN_OR_RETURN(RootVolumePlan rootPlan, planRootVolume(in.blockDeviceMappings, in.imageId));
  Instance launchSettings;  // metadata options as the request sets them
  LP_RETURN_IF_ERROR(applyMetadataOptions(launchSettings, in.metadataOptions));

  Reservation out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Subnet subnet, findOwned<Subnet>(t, call, in.subnetId, err::kSubnetMalformed,
                                                         err::kSubnetNotFound, "subnet ID"));
    if (!in.availabilityZone.empty() && ctx_.zoneName(call.account, subnet.zoneId) != in.availabilityZone)
      return err::make(err::kInvalidParameterValue,
                       "Value ({}) for parameter availabilityZone is invalid. Subnet {} is in {}.",
                       in.availabilityZone, in.subnetId, ctx_.zoneName(call.account, subnet.zoneId));
    LP_ASSIGN_OR_RETURN(auto groups, interfaceGroups(t, call, subnet, in.groupIds));
    LP_RETURN_IF_ERROR(checkGroupsPerInterface(ctx_.limits(), groups.size()));
    if (!in.clientToken.empty()) {
      auto prior = t.listIndexed<Instance>(index::kOwnerToken, ownerToken(call.account, in.clientToken));
      if (!prior.empty()) {
        const auto& first = prior.front();
        if (first.subnetId != subnet.id || first.imageId != in.imageId || first.instanceType != type)
          return err::make(err::kIdempotentParameterMismatch,
                           "The client token '{}' was already used with different parameters.", in.clientToken);
        if (call.dryRun) return err::dryRun();
        std::sort(prior.begin(), prior.end(),
                  [](const Instance& a, const Instance& b) { return a.amiLaunchIndex < b.amiLaunchIndex; });
        out.reservationId = first.reservationId.str();
        out.ownerId = first.ownerId;
        for (auto& i : prior) out.instances.push_back(render(t, ctx_, call, std::move(i)));
        return Status::Ok();
      }
    }
    int live = 0;
    t.forEachIndexed<Instance>(index::kOwner, call.account, [&](const Instance& i) {
      live += i.state != "terminated";
      return true;
    });
    int room = ctx_.limits().instancesPerAccount - live;
    if (room < minCount)
      return err::make(err::kInstanceLimitExceeded,
                       "You have requested more instances ({}) than your current instance limit of {} allows.",
                       minCount, ctx_.limits().instancesPerAccount);
    int count = std::min(maxCount, room);
    if (call.dryRun) {
      LP_RETURN_IF_ERROR(allocatePrivateIp(t, subnet, in.privateIpAddress).status());
      return err::dryRun();
    }
    auto reservation = model::ReservationId::generate(ctx_.random);
    std::string now = nowIso(ctx_);
    for (int n = 0; n < count; ++n) {
      Instance inst;
      inst.id = model::InstanceId::generate(ctx_.random);
      auto eni = putWorkloadInterface(t, ctx_, call, subnet, groups, in.privateIpAddress, "", eniTags,
                                      [&](NetworkInterface& e) {
                                        e.status = "in-use";
                                        e.managedBy = inst.id.str();
                                      });
      if (!eni.ok()) {
        // As AWS: fewer than MaxCount is fine, fewer than MinCount fails the call.
        if (n >= minCount && eni.status().code() == err::kInsufficientFreeAddresses) break;
        return eni.status();
      }
      inst.ownerId = call.account;
      inst.reservationId = reservation;
      inst.imageId = in.imageId;
      inst.instanceType = type;
      inst.keyName = in.keyName;
      inst.amiLaunchIndex = n;
      inst.vpcId = subnet.vpcId;
      inst.subnetId = subnet.id;
      inst.zoneId = subnet.zoneId;
      inst.networkInterfaceId = eni->id;
      inst.attachmentId = model::AttachmentId(attachmentIdFor(eni->id.str()));
      inst.privateIp = eni->privateIp;
      inst.macAddress = eni->macAddress;
      inst.groupIds = groups;
      inst.state = "pending";
      inst.userData = in.userData;
      inst.clientToken = in.clientToken;
      inst.launchTime = now;
      inst.tags = instanceTags;
      inst.disableApiTermination = in.disableApiTermination.value_or(false);
      inst.disableApiStop = in.disableApiStop.value_or(false);
      inst.shutdownBehavior = in.shutdownBehavior.empty() ? "stop" : in.shutdownBehavior;
      inst.ebsOptimized = in.ebsOptimized.value_or(false);
      inst.creditSpecification = credits;
      inst.metadataHttpTokens = launchSettings.metadataHttpTokens;
      inst.metadataHopLimit = launchSettings.metadataHopLimit;
      inst.metadataHttpEndpoint = launchSettings.metadataHttpEndpoint;
      inst.metadataHttpProtocolIpv6 = launchSettings.metadataHttpProtocolIpv6;
      inst.metadataTags = launchSettings.metadataTags;
      inst.monitoringEnabled = in.monitoring.value_or(false);
      inst.hostnameType = subnet.hostnameTypeOnLaunch;
      inst.enableResourceNameDnsARecord = subnet.enableResourceNameDnsARecordOnLaunch;
      inst.rootVolumeId = model::VolumeId::generate(ctx_.random);
      inst.rootVolumeSizeGiB = rootPlan.sizeGiB;
      model::Volume vol;
      vol.id = inst.rootVolumeId;
      vol.ownerId = call.account;
      vol.zoneId = subnet.zoneId;
      vol.sizeGiB = rootPlan.sizeGiB;
      vol.volumeType = rootPlan.volumeType;
      vol.iops = rootPlan.iops;
      vol.throughput = rootPlan.throughput;
      vol.encrypted = rootPlan.encrypted;
      vol.snapshotId = rootPlan.snapshotId;
      vol.createTime = now;
      vol.state = "in-use";
      vol.instanceId = inst.id;
      vol.device = std::string(model::kRootDeviceName);
      vol.attachTime = now;
      vol.deleteOnTermination = rootPlan.deleteOnTermination;
      vol.tags = volumeTags;
      t.put(vol);
      t.put(inst);
      out.instances.push_back(render(t, ctx_, call, std::move(inst)));
    }
    out.reservationId = reservation.str();
    out.ownerId = call.account;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<Page<InstanceInfo>> InstanceService::describeInstances(const CallContext& call, const DescribeInput& in) {
  LP_RETURN_IF_ERROR(instanceFilters().validate(in.filters));
  if (in.page.maxResults && !in.ids.empty())
    return err::make(err::kInvalidParameterCombination,
                     "The parameter instancesSet cannot be used with the parameter maxResults");
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 5, 1000));
  LP_RETURN_IF_ERROR(checkInstanceIds(in.ids));
  if (call.dryRun) return err::dryRun();
  Result<Page<InstanceRow>> rows = Page<InstanceRow>{};
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    if (Status st = checkInstancesOwned(v, call, in.ids); !st.ok()) {
      rows = st;
      return;
    }
    rows = paginateInOrder<InstanceRow>(
        in.page, [](const InstanceRow& x) -> const std::string& { return x.info.instance.id.str(); },
        [&](std::string_view from, const std::function<bool(InstanceRow)>& take) {
          v.forEachOwned<Instance>(call.account, in.ids, from, [&](const Instance& i) {
            InstanceRow row;
            row.tags = i.tags;
            row.info = render(v, ctx_, call, i);
            return !instanceFilters().matches(row, in.filters) || take(std::move(row));
          });
        });
  });
  LP_ASSIGN_OR_RETURN(auto page, std::move(rows));
  Page<InstanceInfo> out;
  out.nextToken = page.nextToken;
  for (auto& r : page.items) out.items.push_back(std::move(r.info));
  return out;
}

Result<Page<InstanceInfo>> InstanceService::describeInstanceStatus(const CallContext& call, const DescribeInput& in,
                                                                   bool includeAll) {
  DescribeInput scoped = in;
  if (!includeAll) scoped.filters.push_back(Filter{"instance-state-name", {"running"}});
  return describeInstances(call, scoped);
}

Result<std::vector<InstanceStateChange>> InstanceService::changeState(const CallContext& call,
                                                                      const std::vector<std::string>& ids,
                                                                      model::InstanceAction action) {
  if (ids.empty()) return err::missing("InstanceId");
  LP_RETURN_IF_ERROR(checkInstanceIds(ids));
  std::vector<InstanceStateChange> out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    std::vector<Instance> found;
    for (const auto& id : ids) {
      LP_ASSIGN_OR_RETURN(Instance i, findOwned<Instance>(t, call, id, err::kInstanceMalformed,
                                                          err::kInstanceNotFound, "instance ID"));
      found.push_back(std::move(i));
    }
    for (const auto& i : found) {
      // As AWS: the protection is checked before the state, and fails the whole call.
      if (action == model::InstanceAction::kTerminate && i.disableApiTermination)
        return err::make(err::kOperationNotPermitted,
                         "The instance '{}' may not be terminated. Modify its 'disableApiTermination' instance "
                         "attribute and try again.",
                         i.id.str());
      if (action == model::InstanceAction::kStop && i.disableApiStop)
        return err::make(err::kOperationNotPermitted,
                         "The instance '{}' may not be stopped. Modify its 'disableApiStop' instance attribute and "
                         "try again.",
                         i.id.str());
      if (!model::nextState(i.stateValue(), action))
        return err::make(err::kIncorrectInstanceState,
                         "This instance '{}' is not in a state from which it can be {}.", i.id.str(),
                         action == model::InstanceAction::kStart  ? "started"
                         : action == model::InstanceAction::kStop ? "stopped"
                                                                  : "terminated");
    }
    if (call.dryRun) return err::dryRun();
    std::string now = nowIso(ctx_);
    for (auto& i : found) {
      InstanceState prev = i.stateValue();
      InstanceState next = *model::nextState(prev, action);
      out.push_back({i.id.str(), prev, next});
      if (next == prev) continue;
      i.state = std::string(model::instanceStateName(next));
      if (action == model::InstanceAction::kStart) {
        i.stateTransitionReason.clear();
        i.stateReasonCode.clear();
        i.stateReasonMessage.clear();
      } else {
        i.rebootsDone = i.rebootsRequested;  // a stop or terminate supersedes a reboot under way
        i.stateTransitionReason = "User initiated (" + now.substr(0, 19) + " GMT)";
        i.stateReasonCode = "Client.UserInitiatedShutdown";
        i.stateReasonMessage = "Client.UserInitiatedShutdown: User initiated shutdown";
      }
      if (action == model::InstanceAction::kTerminate) {
        // As AWS: a terminated instance leaves its target groups (of type instance,
        // in its VPC, where its address is what was registered).
        for (auto tg : t.listIndexed<model::TargetGroup>(index::kOwner, call.account)) {
          if (tg.targetType != "instance" || tg.vpcId != i.vpcId) continue;
          auto gone = std::stable_partition(tg.targets.begin(), tg.targets.end(),
                                            [&](const model::Target& x) { return x.ip != i.privateIp; });
          if (gone == tg.targets.end()) continue;
          for (auto it = gone; it != tg.targets.end(); ++it)
            t.raw().erase(model::TargetHealthRecord::kKind, model::targetHealthKey(tg.id.str(), it->ip, it->port));
          tg.targets.erase(gone, tg.targets.end());
          t.put(tg);
        }
      }
      t.put(i);
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<ConsoleOutput> InstanceService::getConsoleOutput(const CallContext& call, const std::string& id) {
  if (id.empty()) return err::missing("InstanceId");
  if (call.dryRun) return err::dryRun();
  Result<ConsoleOutput> out = ConsoleOutput{};
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    auto i = findOwned<Instance>(v, call, id, err::kInstanceMalformed, err::kInstanceNotFound, "instance ID");
    if (!i.ok()) {
      out = i.status();
      return;
    }
    ConsoleOutput c;
    c.instanceId = id;
    if (auto o = r.get(model::InstanceConsole::kKind, id)) {
      auto j = nlohmann::json::parse(o->body, nullptr, false);
      if (!j.is_discarded()) {
        auto con = j.get<model::InstanceConsole>();
        c.output = std::move(con.output);
        c.timestamp = std::move(con.timestamp);
      }
    }
    if (c.timestamp.empty()) c.timestamp = nowIso(ctx_);
    out = std::move(c);
  });
  return out;
}

Result<Page<model::Image>> InstanceService::describeImages(const CallContext& call, const DescribeInput& in,
                                                           const std::vector<std::string>& owners) {
  using model::Image;
  static const FilterSpec<Image> kFilters = [] {
    FilterSpec<Image> s;
    s.add("image-id", [](const Image& i) { return Strings{i.id}; })
        .add("name", [](const Image& i) { return Strings{i.name}; })
        .add("description", [](const Image& i) { return Strings{i.description}; })
        .add("architecture", [](const Image& i) { return Strings{i.architecture}; })
        .add("owner-id", [](const Image& i) { return Strings{i.ownerId}; })
        .add("state", [](const Image&) { return Strings{"available"}; })
        .add("is-public", [](const Image&) { return Strings{"true"}; })
        .add("image-type", [](const Image&) { return Strings{"machine"}; })
        .add("root-device-type", [](const Image&) { return Strings{"ebs"}; })
        .add("virtualization-type", [](const Image&) { return Strings{"hvm"}; })
        .add("hypervisor", [](const Image&) { return Strings{"xen"}; })
        .add("platform-details", [](const Image&) { return Strings{"Linux/UNIX"}; });
    return s;
  }();
  LP_RETURN_IF_ERROR(kFilters.validate(in.filters));
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 5, 1000));
  for (const auto& id : in.ids)
    if (!model::isWellFormedId("ami-", id)) return err::make(err::kAmiMalformed, "Invalid id: \"{}\"", id);
  if (call.dryRun) return err::dryRun();
  std::vector<Image> items;
  for (const auto& id : in.ids)
    if (!model::findImage(id)) return err::make(err::kAmiNotFound, "The image id '[{}]' does not exist", id);
  for (const auto& i : model::imageCatalog()) {
    if (!in.ids.empty() && std::find(in.ids.begin(), in.ids.end(), i.id) == in.ids.end()) continue;
    // Owners: account ids, "self" (the caller owns no images) or "amazon"/"aws-marketplace" (not Debian's).
    if (!owners.empty() && std::find(owners.begin(), owners.end(), i.ownerId) == owners.end()) continue;
    if (!kFilters.matches(i, in.filters)) continue;
    items.push_back(i);
  }
  std::sort(items.begin(), items.end(), [](const Image& a, const Image& b) { return a.id < b.id; });
  return paginate(std::move(items), in.page, [](const Image& i) -> const std::string& { return i.id; });
}

Result<std::pair<InstanceInfo, std::string>> InstanceService::describeInstanceAttribute(const CallContext& call,
                                                                                        const std::string& id,
                                                                                        const std::string& attribute) {
  if (id.empty()) return err::missing("InstanceId");
  if (attribute.empty()) return err::missing("Attribute");
  static const std::vector<std::string> kKnown = {
      "instanceType", "kernel", "ramdisk", "userData", "disableApiTermination", "instanceInitiatedShutdownBehavior",
      "rootDeviceName", "blockDeviceMapping", "productCodes", "sourceDestCheck", "groupSet", "ebsOptimized",
      "sriovNetSupport", "enaSupport", "enclaveOptions", "disableApiStop"};
  if (std::find(kKnown.begin(), kKnown.end(), attribute) == kKnown.end())
    return err::make(err::kInvalidParameterValue, "Value ({}) for parameter attribute is invalid. Unknown attribute.",
                     attribute);
  if (call.dryRun) return err::dryRun();
  Result<std::pair<InstanceInfo, std::string>> out = err::make(err::kInternalError, "unread");
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    auto i = findOwned<Instance>(v, call, id, err::kInstanceMalformed, err::kInstanceNotFound, "instance ID");
    if (!i.ok()) {
      out = i.status();
      return;
    }
    out = std::make_pair(render(v, ctx_, call, std::move(*i)), attribute);
  });
  return out;
}

}  // namespace lp::control
