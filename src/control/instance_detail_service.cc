// What Terraform's aws_instance reads and changes around an instance:
// ModifyInstanceAttribute, RebootInstances, DescribeInstanceTypes and the credit
// option of burstable instances (Describe/ModifyInstanceCreditSpecification).
// Volumes are volume_service.cc's.
#include <algorithm>
#include <set>

#include <fmt/ranges.h>

#include "common/strings.h"
#include "control/instance_service.h"
#include "control/network_interface_service.h"

namespace lp::control {

using model::Instance;
using model::InstanceState;
using model::InstanceTypeInfo;
using model::NetworkInterface;

namespace {

using Strings = std::vector<std::string>;

std::string fmtNumber(double v) {
  std::string s = fmt::format("{:.1f}", v);
  return s;
}

const FilterSpec<InstanceTypeInfo>& typeFilters() {
  static const FilterSpec<InstanceTypeInfo> spec = [] {
    FilterSpec<InstanceTypeInfo> s;
    auto num = [](auto get) { return [get](const InstanceTypeInfo& t) { return Strings{std::to_string(get(t))}; }; };
    s.add("instance-type", [](const InstanceTypeInfo& t) { return Strings{t.name}; })
        .add("current-generation", [](const InstanceTypeInfo& t) { return Strings{t.name == "m1.small" ? "false" : "true"}; })
        .add("burstable-performance-supported",
             [](const InstanceTypeInfo& t) { return Strings{t.burstable ? "true" : "false"}; })
        .add("free-tier-eligible", [](const InstanceTypeInfo& t) {
          return Strings{t.name == "t2.micro" || t.name == "t3.micro" ? "true" : "false"};
        })
        .add("vcpu-info.default-vcpus", num([](const InstanceTypeInfo& t) { return t.vcpus; }))
        .add("vcpu-info.default-cores", num([](const InstanceTypeInfo& t) { return t.cores; }))
        .add("vcpu-info.default-threads-per-core", num([](const InstanceTypeInfo& t) { return t.threadsPerCore; }))
        .add("memory-info.size-in-mib", num([](const InstanceTypeInfo& t) { return t.memoryMiB; }))
        .add("network-info.network-performance", [](const InstanceTypeInfo& t) { return Strings{t.networkPerformance}; })
        .add("network-info.maximum-network-interfaces", num([](const InstanceTypeInfo& t) { return t.maxNetworkInterfaces; }))
        .add("network-info.ipv4-addresses-per-interface",
             num([](const InstanceTypeInfo& t) { return t.ipv4AddressesPerInterface; }))
        .add("processor-info.supported-architecture", [](const InstanceTypeInfo& t) { return Strings{t.architecture}; })
        .add("processor-info.sustained-clock-speed-in-ghz",
             [](const InstanceTypeInfo& t) { return Strings{fmtNumber(t.sustainedClockGhz)}; })
        .add("supported-usage-class", [](const InstanceTypeInfo&) { return Strings{"on-demand", "spot"}; })
        .add("supported-root-device-type", [](const InstanceTypeInfo&) { return Strings{"ebs"}; })
        .add("supported-virtualization-type", [](const InstanceTypeInfo&) { return Strings{"hvm"}; })
        .add("hypervisor", [](const InstanceTypeInfo&) { return Strings{"nitro"}; })
        .add("bare-metal", [](const InstanceTypeInfo&) { return Strings{"false"}; });
    return s;
  }();
  return spec;
}

Status needStopped(const Instance& i) {
  if (i.stateValue() != InstanceState::kStopped)
    return err::make(err::kIncorrectInstanceState, "The instance '{}' is not in the 'stopped' state.", i.id.str());
  return Status::Ok();
}

}  // namespace

Status InstanceService::modifyInstanceAttribute(const CallContext& call, const ModifyInstanceAttributeInput& in) {
  if (in.instanceId.empty()) return err::missing("InstanceId");
  LP_RETURN_IF_ERROR(checkInstanceIds({in.instanceId}));
  int named = in.instanceType.has_value() + in.userData.has_value() + in.disableApiTermination.has_value() +
              in.disableApiStop.has_value() + in.shutdownBehavior.has_value() + in.ebsOptimized.has_value() +
              in.sourceDestCheck.has_value() + !in.groupIds.empty();
  if (named == 0) return err::make(err::kMissingParameter, "The request must contain exactly one attribute to modify.");
  if (named > 1)
    return err::make(err::kInvalidParameterCombination, "Fields for multiple attribute types specified.");
  if (in.instanceType && !model::findInstanceType(*in.instanceType))
    return err::make(err::kInvalidInstanceAttributeValue, "Value ({}) for parameter instanceType is invalid.",
                     *in.instanceType);
  if (in.userData) {
    auto raw = base64Decode(*in.userData);
    if (!raw) return err::make(err::kInvalidParameterValue, "Invalid BASE64 encoding of user data.");
    if (raw->size() > model::kMaxUserDataBytes)
      return err::make(err::kInvalidParameterValue, "User data is limited to {} bytes", model::kMaxUserDataBytes);
  }
  if (in.shutdownBehavior && *in.shutdownBehavior != "stop" && *in.shutdownBehavior != "terminate")
    return err::make(err::kInvalidInstanceAttributeValue,
                     "Value ({}) for parameter instanceInitiatedShutdownBehavior is invalid.", *in.shutdownBehavior);
  for (const auto& g : in.groupIds)
    if (!model::isWellFormed<model::SecurityGroupId>(g))
      return err::make(err::kGroupIdMalformed, "Invalid id: \"{}\" (expecting \"sg-...\")", g);
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Instance i, findOwned<Instance>(t, call, in.instanceId, err::kInstanceMalformed,
                                                        err::kInstanceNotFound, "instance ID"));
    auto state = i.stateValue();
    if (state == InstanceState::kTerminated || state == InstanceState::kShuttingDown)
      return err::make(err::kIncorrectInstanceState, "The instance '{}' is not in a state from which it can be modified.",
                       i.id.str());
    if (in.instanceType || in.userData || in.ebsOptimized) LP_RETURN_IF_ERROR(needStopped(i));
    if (in.instanceType) {
      const auto* image = model::findImage(i.imageId);
      const auto* next = model::findInstanceType(*in.instanceType);
      if (image && image->architecture != next->architecture)
        return err::make(err::kInvalidInstanceAttributeValue,
                         "The instance type '{}' does not support the architecture of the instance's image ({}).",
                         *in.instanceType, image->architecture);
    }
    std::optional<NetworkInterface> eni;
    std::vector<model::SecurityGroupId> groups;
    if (!in.groupIds.empty() || in.sourceDestCheck) {
      eni = t.get<NetworkInterface>(i.networkInterfaceId);
      if (!eni) return err::make(err::kIncorrectInstanceState, "The instance '{}' has no network interface.", i.id.str());
    }
    if (!in.groupIds.empty()) {
      auto subnet = t.get<model::Subnet>(i.subnetId);
      if (!subnet) return err::make(err::kInternalError, "The instance's subnet is missing.");
      LP_ASSIGN_OR_RETURN(groups, interfaceGroups(t, call, *subnet, in.groupIds));
      LP_RETURN_IF_ERROR(checkGroupsPerInterface(ctx_.limits(), groups.size()));
    }
    if (call.dryRun) return err::dryRun();
    if (in.instanceType) {
      i.instanceType = *in.instanceType;
      const auto* info = model::findInstanceType(i.instanceType);
      if (!info->burstable) i.creditSpecification.clear();
      else if (i.creditSpecification.empty()) i.creditSpecification = info->defaultCredits;
    }
    if (in.userData) i.userData = *in.userData;  // kept; it ran at first start and does not run again
    if (in.disableApiTermination) i.disableApiTermination = *in.disableApiTermination;
    if (in.disableApiStop) i.disableApiStop = *in.disableApiStop;
    if (in.shutdownBehavior) i.shutdownBehavior = *in.shutdownBehavior;
    if (in.ebsOptimized) i.ebsOptimized = *in.ebsOptimized;
    if (!groups.empty()) {
      i.groupIds = groups;
      eni->groupIds = groups;
    }
    if (in.sourceDestCheck) eni->sourceDestCheck = *in.sourceDestCheck;
    if (eni) t.put(*eni);
    t.put(i);
    return Status::Ok();
  });
}

Status InstanceService::rebootInstances(const CallContext& call, const std::vector<std::string>& ids) {
  if (ids.empty()) return err::missing("InstanceId");
  LP_RETURN_IF_ERROR(checkInstanceIds(ids));
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    std::vector<Instance> found;
    for (const auto& id : ids) {
      LP_ASSIGN_OR_RETURN(Instance i, findOwned<Instance>(t, call, id, err::kInstanceMalformed,
                                                          err::kInstanceNotFound, "instance ID"));
      if (i.stateValue() != InstanceState::kRunning)
        return err::make(err::kIncorrectInstanceState, "The instance '{}' is not in the 'running' state.", id);
      found.push_back(std::move(i));
    }
    if (call.dryRun) return err::dryRun();
    for (auto& i : found) {
      ++i.rebootsRequested;
      t.put(i);
    }
    return Status::Ok();
  });
}

Result<Page<InstanceTypeInfo>> InstanceService::describeInstanceTypes(const CallContext& call,
                                                                      const DescribeInput& in) {
  LP_RETURN_IF_ERROR(typeFilters().validate(in.filters));
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 5, 100));
  std::vector<std::string> unknown;
  for (const auto& id : in.ids)
    if (!model::findInstanceType(id)) unknown.push_back(id);
  if (!unknown.empty())
    return err::make(err::kInvalidInstanceType, "The following supplied instance types do not exist: [{}]",
                     fmt::join(unknown, ", "));
  if (call.dryRun) return err::dryRun();
  std::vector<InstanceTypeInfo> items;
  for (const auto& t : model::instanceTypeCatalog()) {
    if (!in.ids.empty() && std::find(in.ids.begin(), in.ids.end(), t.name) == in.ids.end()) continue;
    if (typeFilters().matches(t, in.filters)) items.push_back(t);
  }
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return paginate(std::move(items), in.page, [](const InstanceTypeInfo& t) -> const std::string& { return t.name; },
                  100);
}

Result<Page<CreditSpecification>> InstanceService::describeInstanceCreditSpecifications(const CallContext& call,
                                                                                       const DescribeInput& in) {
  static const FilterSpec<CreditSpecification> kFilters = [] {
    FilterSpec<CreditSpecification> s;
    s.add("instance-id", [](const CreditSpecification& c) { return Strings{c.instanceId}; });
    return s;
  }();
  LP_RETURN_IF_ERROR(kFilters.validate(in.filters));
  if (in.page.maxResults && !in.ids.empty())
    return err::make(err::kInvalidParameterCombination,
                     "The parameter InstanceIds cannot be used with the parameter MaxResults");
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 5, 1000));
  LP_RETURN_IF_ERROR(checkInstanceIds(in.ids));
  if (call.dryRun) return err::dryRun();
  Result<std::vector<CreditSpecification>> found = std::vector<CreditSpecification>{};
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    if (Status st = checkInstancesOwned(v, call, in.ids); !st.ok()) {
      found = st;
      return;
    }
    std::vector<CreditSpecification> out;
    v.forEachIndexed<Instance>(index::kOwner, call.account, [&](const Instance& i) {
      if (!in.ids.empty() && std::find(in.ids.begin(), in.ids.end(), i.id.str()) == in.ids.end()) return true;
      if (i.creditSpecification.empty() || i.stateValue() == InstanceState::kTerminated) return true;
      CreditSpecification c{i.id.str(), i.creditSpecification};
      if (kFilters.matches(c, in.filters)) out.push_back(std::move(c));
      return true;
    });
    found = std::move(out);
  });
  LP_ASSIGN_OR_RETURN(auto items, std::move(found));
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.instanceId < b.instanceId; });
  return paginate(std::move(items), in.page,
                  [](const CreditSpecification& c) -> const std::string& { return c.instanceId; });
}

Result<CreditSpecificationResult> InstanceService::modifyInstanceCreditSpecification(
    const CallContext& call, const std::vector<CreditSpecificationChange>& changes) {
  if (changes.empty()) return err::missing("InstanceCreditSpecification");
  std::vector<std::string> seen;
  for (const auto& c : changes) {
    if (c.cpuCredits != "standard" && c.cpuCredits != "unlimited")
      return err::make(err::kInvalidCpuCredits,
                       "The specified CpuCredits value '{}' is invalid. Valid values are standard and unlimited.",
                       c.cpuCredits);
    if (std::find(seen.begin(), seen.end(), c.instanceId) != seen.end())
      return err::make(err::kCreditSpecDuplicateInstance,
                       "The request may not contain the instance ID '{}' more than once.", c.instanceId);
    seen.push_back(c.instanceId);
  }
  CreditSpecificationResult out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    std::vector<Instance> changed;
    auto fail = [&](const std::string& id, std::string_view code, std::string message) {
      out.unsuccessful.push_back({id, std::string(code), std::move(message)});
    };
    for (const auto& c : changes) {
      if (!model::isWellFormed<model::InstanceId>(c.instanceId)) {
        fail(c.instanceId, err::kInstanceMalformed, fmt::format("Invalid id: \"{}\"", c.instanceId));
        continue;
      }
      auto i = t.get<Instance>(c.instanceId);
      if (!i || i->ownerId != call.account) {
        fail(c.instanceId, err::kInstanceNotFound, fmt::format("The instance ID '{}' does not exist", c.instanceId));
        continue;
      }
      auto state = i->stateValue();
      if (state == InstanceState::kShuttingDown || state == InstanceState::kTerminated) {
        fail(c.instanceId, err::kIncorrectInstanceState,
             fmt::format("The instance '{}' is not in a state from which its credit option can be modified.",
                         c.instanceId));
        continue;
      }
      const auto* type = model::findInstanceType(i->instanceType);
      if (!type || !type->burstable) {
        fail(c.instanceId, err::kCreditSpecNotSupported,
             fmt::format("The instance '{}' is of type {}, which is not a burstable performance instance type.",
                         c.instanceId, i->instanceType));
        continue;
      }
      i->creditSpecification = c.cpuCredits;
      changed.push_back(std::move(*i));
    }
    if (call.dryRun) return err::dryRun();
    for (const auto& i : changed) {
      t.put(i);
      out.successful.push_back(i.id.str());
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace lp::control
