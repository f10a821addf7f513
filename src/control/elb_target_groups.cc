// ElbService: target groups (Create, Describe, Delete, ModifyTargetGroup) and
// their health check settings. Stateless over a ControlContext; any thread.
#include <algorithm>
#include <set>

#include "control/elb_common.h"

namespace lp::control {

using namespace elb_internal;

namespace {

bool sameTargetGroupSettings(const TargetGroup& a, const TargetGroup& b) {
  return a.protocol == b.protocol && a.port == b.port && a.vpcId == b.vpcId && a.targetType == b.targetType &&
         a.healthCheckIntervalSeconds == b.healthCheckIntervalSeconds &&
         a.healthCheckTimeoutSeconds == b.healthCheckTimeoutSeconds &&
         a.healthyThresholdCount == b.healthyThresholdCount && a.unhealthyThresholdCount == b.unhealthyThresholdCount &&
         a.healthCheckPort == b.healthCheckPort && a.healthCheckProtocol == b.healthCheckProtocol &&
         a.healthCheckEnabled == b.healthCheckEnabled;
}

// Applies the health check settings present in `in` onto tg (absent ones keep
// tg's values) and validates the result.
Status applyHealthCheck(const CreateTargetGroupInput& in, TargetGroup& tg) {
  static const std::set<std::string, std::less<>> kProtocols = {"HTTP",    "HTTPS",  "TCP",  "TLS",     "UDP",
                                                                "TCP_UDP", "GENEVE", "QUIC", "TCP_QUIC"};
  LP_ASSIGN_OR_RETURN(
      tg.healthCheckIntervalSeconds,
      intInRange(in.healthCheckIntervalSeconds, 5, 300, "healthCheckIntervalSeconds", tg.healthCheckIntervalSeconds));
  LP_ASSIGN_OR_RETURN(
      tg.healthCheckTimeoutSeconds,
      intInRange(in.healthCheckTimeoutSeconds, 2, 120, "healthCheckTimeoutSeconds", tg.healthCheckTimeoutSeconds));
  LP_ASSIGN_OR_RETURN(tg.healthyThresholdCount,
                      intInRange(in.healthyThresholdCount, 2, 10, "healthyThresholdCount", tg.healthyThresholdCount));
  LP_ASSIGN_OR_RETURN(tg.unhealthyThresholdCount, intInRange(in.unhealthyThresholdCount, 2, 10,
                                                             "unhealthyThresholdCount", tg.unhealthyThresholdCount));
  if (tg.healthCheckTimeoutSeconds > tg.healthCheckIntervalSeconds)
    return validation("Health check timeout '{}' must be smaller than or equal to the interval '{}'",
                      tg.healthCheckTimeoutSeconds, tg.healthCheckIntervalSeconds);
  if (!in.healthCheckProtocol.empty() && in.healthCheckProtocol != "TCP") {
    if (kProtocols.count(in.healthCheckProtocol))
      return invalidConfig("Health check protocol '{}' is not supported; health checks here are TCP",
                           in.healthCheckProtocol);
    return validation("1 validation error detected: Value '{}' at 'healthCheckProtocol' failed to satisfy constraint",
                      in.healthCheckProtocol);
  }
  if (!in.healthCheckPath.empty())
    return invalidConfig("Custom health check paths are not supported for health checks with the TCP protocol");
  if (in.healthCheckPort == "traffic-port") {
    tg.healthCheckPort = in.healthCheckPort;
  } else if (!in.healthCheckPort.empty()) {
    auto p = parseInt(in.healthCheckPort);
    if (!p || *p < 1 || *p > 65535)
      return validation("Health check port '{}' must be 'traffic-port' or a port between 1 and 65535",
                        in.healthCheckPort);
    tg.healthCheckPort = std::to_string(*p);
  }
  if (in.healthCheckEnabled) tg.healthCheckEnabled = *in.healthCheckEnabled;
  return Status::Ok();
}

}  // namespace

Result<TargetGroup> ElbService::createTargetGroup(const CallContext& call, const CreateTargetGroupInput& in) {
  if (in.name.empty()) return required("name");
  LP_RETURN_IF_ERROR(validateResourceName(in.name, "Target group"));
  // AWS's default is instance.
  std::string targetType = in.targetType.empty() ? "instance" : in.targetType;
  if (targetType == "lambda" || targetType == "alb")
    return invalidConfig("Target type '{}' is not supported; only 'instance' and 'ip'", targetType);
  if (targetType != "ip" && targetType != "instance")
    return validation(
        "1 validation error detected: Value '{}' at 'targetType' failed to satisfy constraint: Member "
        "must satisfy enum value set: [instance, ip, lambda, alb]",
        targetType);
  static const std::set<std::string, std::less<>> kProtocols = {"HTTP",    "HTTPS",  "TCP",  "TLS",     "UDP",
                                                                "TCP_UDP", "GENEVE", "QUIC", "TCP_QUIC"};
  if (in.protocol.empty()) return validation("A protocol must be specified");
  if (!kProtocols.count(in.protocol))
    return validation(
        "1 validation error detected: Value '{}' at 'protocol' failed to satisfy constraint: Member must "
        "satisfy enum value set: [HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, GENEVE, QUIC, TCP_QUIC]",
        in.protocol);
  if (in.protocol != "TCP")
    return invalidConfig("Protocol '{}' is not supported; target groups here are TCP", in.protocol);
  if (!in.port) return validation("A port must be specified");
  if (in.vpcId.empty()) return validation("A VPC ID must be specified");
  if (!in.ipAddressType.empty() && in.ipAddressType != "ipv4") {
    if (in.ipAddressType == "ipv6") return invalidConfig("IP address type 'ipv6' is not supported; only 'ipv4'");
    return validation(
        "1 validation error detected: Value '{}' at 'ipAddressType' failed to satisfy constraint: Member "
        "must satisfy enum value set: [ipv4, ipv6]",
        in.ipAddressType);
  }

  TargetGroup tg;
  LP_ASSIGN_OR_RETURN(tg.port, intInRange(in.port, 1, 65535, "port", 0));
  LP_RETURN_IF_ERROR(applyHealthCheck(in, tg));
  LP_RETURN_IF_ERROR(validateElbTags(in.tags));

  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    auto vpc = model::isWellFormed<model::VpcId>(in.vpcId) ? t.get<model::Vpc>(in.vpcId) : std::nullopt;
    if (!vpc || vpc->ownerId != call.account) return validation("The VPC ID '{}' is not found", in.vpcId);
    tg.ownerId = call.account;
    tg.name = in.name;
    tg.protocol = in.protocol;
    tg.vpcId = vpc->id;
    tg.targetType = targetType;
    tg.healthCheckProtocol = "TCP";
    auto existing = t.listIndexed<TargetGroup>(index::kOwnerName, ownerName(call.account, in.name));
    if (!existing.empty()) {
      if (sameTargetGroupSettings(existing.front(), tg)) {
        tg = existing.front();
        return Status::Ok();
      }
      return err::make(err::kDuplicateTargetGroupName,
                       "A target group with the same name '{}' exists, but with different settings", in.name);
    }
    if (t.count<TargetGroup>(index::kOwner, call.account) >= ctx_.limits().targetGroupsPerAccount)
      return err::make(err::kTooManyTargetGroups, "The quota for the number of target groups has been reached");
    tg.id.v = arnPrefix(ctx_, call) + "targetgroup/" + in.name + "/" + ctx_.random.hex(16);
    tg.createdAt = nowIso(ctx_);
    tg.tags = in.tags;
    t.put(tg);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return tg;
}

Result<Page<TargetGroupInfo>> ElbService::describeTargetGroups(const CallContext& call,
                                                               const DescribeTargetGroupsInput& in) {
  int selectors = !in.loadBalancerArn.empty() + !in.arns.empty() + !in.names.empty();
  if (selectors > 1) return validation("Only one of LoadBalancerArn, TargetGroupArns or Names can be specified");
  for (const auto& a : in.arns)
    if (!isArnOf(a, "targetgroup")) return validation("'{}' is not a valid target group ARN", a);
  std::vector<TargetGroup> groups;
  std::vector<Listener> listeners;
  Status st;
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    if (!in.loadBalancerArn.empty()) st = findLoadBalancer(v, call, in.loadBalancerArn).status();
    groups = v.listIndexed<TargetGroup>(index::kOwner, call.account);
    listeners = v.listIndexed<Listener>(index::kOwner, call.account);
  });
  LP_RETURN_IF_ERROR(st);
  std::vector<TargetGroupInfo> out;
  for (auto& g : groups) {
    TargetGroupInfo info{std::move(g), {}};
    for (const auto& l : listeners) {
      auto& lbs = info.loadBalancerArns;
      if (l.targetGroupArn == info.group.id.str() && std::find(lbs.begin(), lbs.end(), l.loadBalancerArn) == lbs.end())
        lbs.push_back(l.loadBalancerArn);
    }
    out.push_back(std::move(info));
  }
  auto keep = [&](const std::vector<std::string>& wanted, auto field) -> Status {
    for (const auto& w : wanted)
      if (std::none_of(out.begin(), out.end(), [&](const TargetGroupInfo& i) { return field(i.group) == w; }))
        return err::make(err::kTargetGroupNotFound, "Target groups '{}' not found", w);
    std::erase_if(out, [&](const TargetGroupInfo& i) {
      return std::find(wanted.begin(), wanted.end(), field(i.group)) == wanted.end();
    });
    return Status::Ok();
  };
  if (!in.arns.empty()) LP_RETURN_IF_ERROR(keep(in.arns, [](const TargetGroup& g) { return g.id.str(); }));
  if (!in.names.empty()) LP_RETURN_IF_ERROR(keep(in.names, [](const TargetGroup& g) { return g.name; }));
  if (!in.loadBalancerArn.empty()) {
    std::erase_if(out, [&](const TargetGroupInfo& i) {
      const auto& lbs = i.loadBalancerArns;
      return std::find(lbs.begin(), lbs.end(), in.loadBalancerArn) == lbs.end();
    });
  }
  return markerPage(std::move(out), in.page,
                    [](const TargetGroupInfo& i) -> const std::string& { return i.group.id.str(); });
}

Status ElbService::deleteTargetGroup(const CallContext& call, const std::string& arn) {
  if (arn.empty()) return required("targetGroupArn");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(TargetGroup tg, findTargetGroup(t, call, arn));
    if (targetGroupInUse(t, arn))
      return err::make(err::kResourceInUse, "Target group '{}' is currently in use by a listener or a rule", arn);
    for (const auto& target : tg.targets)
      t.raw().erase(model::TargetHealthRecord::kKind, model::targetHealthKey(arn, target.ip, target.port));
    t.erase<TargetGroup>(arn);
    return Status::Ok();
  });
}

Result<TargetGroupInfo> ElbService::modifyTargetGroup(const CallContext& call, const std::string& tgArn,
                                                      const CreateTargetGroupInput& changes) {
  if (tgArn.empty()) return required("targetGroupArn");
  TargetGroupInfo out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(TargetGroup tg, findTargetGroup(t, call, tgArn));
    LP_RETURN_IF_ERROR(applyHealthCheck(changes, tg));
    t.put(tg);
    out.group = tg;
    for (const auto& l : t.listIndexed<Listener>(index::kTargetGroup, tgArn))
      if (std::find(out.loadBalancerArns.begin(), out.loadBalancerArns.end(), l.loadBalancerArn) ==
          out.loadBalancerArns.end())
        out.loadBalancerArns.push_back(l.loadBalancerArn);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace lp::control
