// ElbService: the targets of a target group (Register, DeregisterTargets), IP or
// instance, and their health as DescribeTargetHealth shows it. Stateless over a
// ControlContext; any thread.
#include <algorithm>

#include "control/elb_common.h"
#include "model/cidr.h"
#include "model/instance.h"

namespace lp::control {

using namespace elb_internal;

namespace {

bool isPrivateAddress(model::Ipv4 ip) {
  static const model::Cidr kPrivate[] = {*model::Cidr::parse("10.0.0.0/8"), *model::Cidr::parse("172.16.0.0/12"),
                                         *model::Cidr::parse("192.168.0.0/16"), *model::Cidr::parse("100.64.0.0/10")};
  return std::any_of(std::begin(kPrivate), std::end(kPrivate), [&](const model::Cidr& c) { return c.contains(ip); });
}

// A requested target, resolved against the target group: address, port and zone.
// An instance target: the instance's primary private address, resolved here once
// (an instance keeps it for life, and leaves its target groups when terminated), so
// what plans forwarding sees is an address, exactly as for an ip target.
Result<model::Target> resolveInstanceTarget(const View& v, const ControlContext& ctx, const CallContext& call,
                                            const TargetGroup& tg, const TargetInput& in) {
  if (!model::isWellFormed<model::InstanceId>(in.id))
    return err::make(err::kInvalidTarget, "The following targets are not valid instance IDs: '{}'", in.id);
  auto inst = v.get<model::Instance>(in.id);
  if (!inst || inst->ownerId != call.account)
    return err::make(err::kInvalidTarget, "The following targets are not valid instance IDs: '{}'", in.id);
  if (inst->vpcId != tg.vpcId)
    return err::make(err::kInvalidTarget, "The following targets are not in the target group VPC '{}': '{}'",
                     tg.vpcId.str(), in.id);
  auto state = inst->stateValue();
  if (state == model::InstanceState::kTerminated || state == model::InstanceState::kShuttingDown)
    return err::make(err::kInvalidTarget,
                     "The following targets are not in a running state and cannot be registered: '{}'", in.id);
  if (!in.availabilityZone.empty())
    return validation("You cannot specify an Availability Zone for a target of type instance: '{}'", in.id);
  (void)ctx;
  LP_ASSIGN_OR_RETURN(int port, intInRange(in.port, 1, 65535, "targets.member.port", tg.port));
  return model::Target{inst->privateIp, port, inst->zoneId};
}

Result<model::Target> resolveTarget(const View& v, const ControlContext& ctx, const CallContext& call,
                                    const TargetGroup& tg,
                                    const model::Vpc* vpc, const std::vector<model::Subnet>& subnets,
                                    const TargetInput& in) {
  if (in.id.empty()) return required("targets.member.id");
  if (tg.targetType == "instance") return resolveInstanceTarget(v, ctx, call, tg, in);
  auto ip = model::Ipv4::parse(in.id);
  if (!ip) return err::make(err::kInvalidTarget, "The IP address '{}' is not a valid IPv4 address", in.id);
  LP_ASSIGN_OR_RETURN(int port, intInRange(in.port, 1, 65535, "targets.member.port", tg.port));
  model::Target t{ip->toString(), port, ""};
  auto vpcCidr = vpc ? model::Cidr::parse(vpc->cidrBlock) : std::nullopt;
  bool inVpc = vpcCidr && vpcCidr->contains(*ip);
  if (!inVpc && !isPrivateAddress(*ip))
    return err::make(err::kInvalidTarget,
                     "The IP address '{}' is not within the target group's VPC CIDR or a private address range "
                     "(RFC 1918, RFC 6598)",
                     in.id);
  for (const auto& s : subnets) {
    auto c = model::Cidr::parse(s.cidrBlock);
    if (c && c->contains(*ip)) t.zoneId = s.zoneId;
  }
  if (!in.availabilityZone.empty() && in.availabilityZone != "all") {
    auto zone = ctx.zoneIdForName(call.account, in.availabilityZone);
    if (!zone) return validation("The Availability Zone '{}' is not valid", in.availabilityZone);
    if (!t.zoneId.empty() && t.zoneId != *zone)
      return err::make(err::kInvalidTarget, "The IP address '{}' is not in Availability Zone '{}'", in.id,
                       in.availabilityZone);
    t.zoneId = *zone;
  }
  return t;
}

// A target as DeregisterTargets and DescribeTargetHealth name it: an address, or an
// instance id in a group of type instance (its primary address, while it has one).
Result<model::Target> targetNamed(const View& v, const CallContext& call, const TargetGroup& tg,
                                  const TargetInput& in) {
  if (in.id.empty()) return required("targets.member.id");
  LP_ASSIGN_OR_RETURN(int port, intInRange(in.port, 1, 65535, "targets.member.port", tg.port));
  if (tg.targetType == "instance") {
    if (!model::isWellFormed<model::InstanceId>(in.id))
      return err::make(err::kInvalidTarget, "The following targets are not valid instance IDs: '{}'", in.id);
    auto inst = v.get<model::Instance>(in.id);
    bool live = inst && inst->ownerId == call.account && inst->stateValue() != model::InstanceState::kTerminated;
    return model::Target{live ? inst->privateIp : std::string(), port, ""};
  }
  auto ip = model::Ipv4::parse(in.id);
  if (!ip) return err::make(err::kInvalidTarget, "The IP address '{}' is not a valid IPv4 address", in.id);
  return model::Target{ip->toString(), port, ""};
}

// The instance at a target's address, for a group of type instance ("" otherwise).
std::string instanceAt(const View& v, const TargetGroup& tg, const std::string& ip) {
  if (tg.targetType != "instance" || ip.empty()) return "";
  std::string found;
  v.forEachIndexed<model::Instance>(index::kVpc, tg.vpcId.str(), [&](const model::Instance& i) {
    if (i.privateIp != ip || i.stateValue() == model::InstanceState::kTerminated) return true;
    found = i.id.str();
    return false;
  });
  return found;
}

model::TargetHealthRecord healthOf(const View& v, const TargetGroup& tg, bool inUse, const model::Target& t,
                                   bool registered) {
  if (!registered) return {"unused", "Target.NotRegistered", "Target is not registered to the target group"};
  if (!inUse)
    return {"unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer"};
  if (!tg.healthCheckEnabled)
    return {"unavailable", "Target.HealthCheckDisabled", "Health checks are disabled for the target group"};
  if (auto rec = v.get<model::TargetHealthRecord>(model::targetHealthKey(tg.id.str(), t.ip, t.port))) return *rec;
  return {"initial", "Elb.InitialHealthChecking", "Initial health checking in progress"};
}

}  // namespace

Status ElbService::registerTargets(const CallContext& call, const std::string& tgArn,
                                   const std::vector<TargetInput>& targets) {
  if (tgArn.empty()) return required("targetGroupArn");
  if (targets.empty()) return required("targets");
  const size_t maxTargets = static_cast<size_t>(ctx_.limits().targetsPerTargetGroup);
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(TargetGroup tg, findTargetGroup(t, call, tgArn));
    auto vpc = t.get<model::Vpc>(tg.vpcId);
    auto subnets = t.listIndexed<model::Subnet>(index::kVpc, tg.vpcId.str());
    for (const auto& in : targets) {
      LP_ASSIGN_OR_RETURN(model::Target target, resolveTarget(t, ctx_, call, tg, vpc ? &*vpc : nullptr, subnets, in));
      auto same = std::find_if(tg.targets.begin(), tg.targets.end(),
                               [&](const model::Target& x) { return x.ip == target.ip && x.port == target.port; });
      if (same != tg.targets.end()) {
        *same = target;  // registering again is a no-op apart from the zone
        continue;
      }
      if (tg.targets.size() >= maxTargets)
        return err::make(err::kTooManyTargets, "You've reached the limit on the number of targets per target group");
      tg.targets.push_back(target);
    }
    t.put(tg);
    return Status::Ok();
  });
}

Status ElbService::deregisterTargets(const CallContext& call, const std::string& tgArn,
                                     const std::vector<TargetInput>& targets) {
  if (tgArn.empty()) return required("targetGroupArn");
  if (targets.empty()) return required("targets");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(TargetGroup tg, findTargetGroup(t, call, tgArn));
    for (const auto& in : targets) {
      LP_ASSIGN_OR_RETURN(auto want, targetNamed(t, call, tg, in));
      auto it = std::find_if(tg.targets.begin(), tg.targets.end(),
                             [&](const model::Target& x) { return x.ip == want.ip && x.port == want.port; });
      if (it == tg.targets.end())
        return err::make(err::kInvalidTarget, "The target '{}:{}' is not registered with the target group", in.id,
                         want.port);
      t.raw().erase(model::TargetHealthRecord::kKind, model::targetHealthKey(tgArn, it->ip, it->port));
      tg.targets.erase(it);
    }
    t.put(tg);
    return Status::Ok();
  });
}

Result<std::vector<TargetHealthDescription>> ElbService::describeTargetHealth(const CallContext& call,
                                                                              const std::string& tgArn,
                                                                              const std::vector<TargetInput>& targets) {
  if (tgArn.empty()) return required("targetGroupArn");
  std::optional<Result<std::vector<TargetHealthDescription>>> result;
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    result = [&]() -> Result<std::vector<TargetHealthDescription>> {
      LP_ASSIGN_OR_RETURN(TargetGroup tg, findTargetGroup(v, call, tgArn));
      bool inUse = targetGroupInUse(v, tgArn);
      auto describe = [&](const model::Target& t, bool registered) {
        std::string hcPort = tg.healthCheckPort == "traffic-port" ? std::to_string(t.port) : tg.healthCheckPort;
        return TargetHealthDescription{t, hcPort, healthOf(v, tg, inUse, t, registered), instanceAt(v, tg, t.ip)};
      };
      std::vector<TargetHealthDescription> out;
      if (targets.empty()) {
        for (const auto& t : tg.targets) out.push_back(describe(t, true));
        return out;
      }
      for (const auto& in : targets) {
        LP_ASSIGN_OR_RETURN(auto want, targetNamed(v, call, tg, in));
        auto it = std::find_if(tg.targets.begin(), tg.targets.end(),
                               [&](const model::Target& x) { return x.ip == want.ip && x.port == want.port; });
        out.push_back(it == tg.targets.end() ? describe(want, false) : describe(*it, true));
        if (tg.targetType == "instance") out.back().instanceId = in.id;
      }
      return out;
    }();
  });
  return std::move(*result);
}

}  // namespace lp::control
