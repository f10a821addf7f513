// ElbService: the attributes of target groups and load balancers (Describe and
// Modify, TargetGroupAttributes and LoadBalancerAttributes): each key's default
// and the values it takes. Stateless over a ControlContext; any thread.
#include <optional>
#include <span>

#include "control/elb_common.h"

namespace lp::control {

using namespace elb_internal;

namespace {

enum class AttrKind {
  kBool,
  kFalseOnly,
  kString,
  kInt,
  kCrossZone,
  kStickinessType,
  kCountOrOff,
  kPercentOrOff,
  kRoutingPolicy
};

struct AttrSpec {
  std::string_view key;
  std::string_view dflt;
  AttrKind kind;
  int64_t lo = 0;
  int64_t hi = 0;
};

constexpr AttrSpec kAttrSpecs[] = {
    {"deregistration_delay.timeout_seconds", "300", AttrKind::kInt, 0, 3600},
    {"deregistration_delay.connection_termination.enabled", "false", AttrKind::kBool},
    {"stickiness.enabled", "false", AttrKind::kBool},
    {"stickiness.type", "source_ip", AttrKind::kStickinessType},
    {"proxy_protocol_v2.enabled", "false", AttrKind::kBool},
    {"preserve_client_ip.enabled", "false", AttrKind::kBool},
    {"load_balancing.cross_zone.enabled", "use_load_balancer_configuration", AttrKind::kCrossZone},
    {"target_health_state.unhealthy.connection_termination.enabled", "true", AttrKind::kBool},
    {"target_health_state.unhealthy.draining_interval_seconds", "0", AttrKind::kInt, 0, 360000},
    {"target_group_health.dns_failover.minimum_healthy_targets.count", "1", AttrKind::kCountOrOff, 1, 1000},
    {"target_group_health.dns_failover.minimum_healthy_targets.percentage", "off", AttrKind::kPercentOrOff, 1, 100},
    {"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count", "1", AttrKind::kCountOrOff, 1, 1000},
    {"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage", "off", AttrKind::kPercentOrOff,
     1, 100},
};

constexpr AttrSpec kLbAttrSpecs[] = {
    {"access_logs.s3.enabled", "false", AttrKind::kFalseOnly},
    {"access_logs.s3.bucket", "", AttrKind::kString},
    {"access_logs.s3.prefix", "", AttrKind::kString},
    {"deletion_protection.enabled", "false", AttrKind::kBool},
    {"load_balancing.cross_zone.enabled", "false", AttrKind::kBool},
    {"dns_record.client_routing_policy", "any_availability_zone", AttrKind::kRoutingPolicy},
    {"zonal_shift.config.enabled", "false", AttrKind::kBool},
};

Status validateAttribute(std::span<const AttrSpec> specs, std::string_view noun, const std::string& key,
                         const std::string& value) {
  const AttrSpec* spec = nullptr;
  for (const auto& s : specs)
    if (s.key == key) spec = &s;
  if (!spec) return validation("{} attribute key '{}' is not recognized", noun, key);
  auto intIn = [&](int64_t lo, int64_t hi) {
    auto n = parseInt(value);
    return n && *n >= lo && *n <= hi;
  };
  switch (spec->kind) {
    case AttrKind::kBool:
      if (value != "true" && value != "false")
        return validation("Attribute '{}' value '{}' must be one of [true, false]", key, value);
      break;
    case AttrKind::kFalseOnly:
      if (value == "true") return invalidConfig("'{}' cannot be enabled here", key);
      if (value != "false") return validation("Attribute '{}' value '{}' must be one of [true, false]", key, value);
      break;
    case AttrKind::kString:
      if (value.size() > 1024) return validation("Attribute '{}' value is too long", key);
      break;
    case AttrKind::kRoutingPolicy:
      if (value != "availability_zone_affinity" && value != "partial_availability_zone_affinity" &&
          value != "any_availability_zone")
        return validation(
            "Attribute '{}' value '{}' must be one of [availability_zone_affinity, "
            "partial_availability_zone_affinity, any_availability_zone]",
            key, value);
      break;
    case AttrKind::kInt:
      if (!intIn(spec->lo, spec->hi))
        return validation("'{}' value '{}' must be between '{}-{}' inclusive", key, value, spec->lo, spec->hi);
      break;
    case AttrKind::kCrossZone:
      if (value != "true" && value != "false" && value != "use_load_balancer_configuration")
        return validation(
            "Attribute '{}' value '{}' must be one of [true, false, "
            "use_load_balancer_configuration]",
            key, value);
      break;
    case AttrKind::kStickinessType:
      if (value == "lb_cookie" || value == "app_cookie")
        return invalidConfig("Stickiness type '{}' is not supported for target groups with the TCP protocol", value);
      if (value != "source_ip")
        return validation("'Stickiness type' must be one of [app_cookie, lb_cookie, source_ip]");
      break;
    case AttrKind::kCountOrOff:
    case AttrKind::kPercentOrOff:
      if (value != "off" && !intIn(spec->lo, spec->hi))
        return validation("Attribute '{}' value '{}' must be 'off' or between {} and {}", key, value, spec->lo,
                          spec->hi);
      break;
  }
  return Status::Ok();
}

// Target groups and load balancers keep attributes the same way: validated against
// their specs, stored as overrides, read back as the full list with defaults.
template <class R>
struct AttributeKind {
  const char* arnParam;
  std::string_view noun;
  std::span<const AttrSpec> specs;
  Result<R> (*find)(const View&, const CallContext&, const std::string&);
  Attributes (*render)(const R&);
};

const AttributeKind<TargetGroup> kTargetGroupAttrs{"targetGroupArn", "Target group", kAttrSpecs, findTargetGroup,
                                                   targetGroupAttributes};
const AttributeKind<LoadBalancer> kLoadBalancerAttrs{"loadBalancerArn", "Load balancer", kLbAttrSpecs, findLoadBalancer,
                                                     loadBalancerAttributes};

template <class R>
Result<Attributes> modifyAttributes(ControlContext& ctx, const AttributeKind<R>& kind, const CallContext& call,
                                    const std::string& arn, const Attributes& changes) {
  if (arn.empty()) return required(kind.arnParam);
  if (changes.empty()) return required("attributes");
  for (const auto& [k, v] : changes) LP_RETURN_IF_ERROR(validateAttribute(kind.specs, kind.noun, k, v));
  Attributes out;
  Status st = ctx.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(R obj, kind.find(t, call, arn));
    for (const auto& [k, v] : changes) obj.attributes[k] = v;
    t.put(obj);
    out = kind.render(obj);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

template <class R>
Result<Attributes> describeAttributes(ControlContext& ctx, const AttributeKind<R>& kind, const CallContext& call,
                                      const std::string& arn) {
  if (arn.empty()) return required(kind.arnParam);
  std::optional<Result<R>> obj;
  ctx.store.read([&](const store::ReadView& r) { obj = kind.find(View(r), call, arn); });
  if (!obj->ok()) return obj->status();
  return kind.render(obj->value());
}

}  // namespace

const Attributes& defaultTargetGroupAttributes() {
  static const Attributes kDefaults = [] {
    Attributes a;
    for (const auto& s : kAttrSpecs) a.emplace_back(std::string(s.key), std::string(s.dflt));
    return a;
  }();
  return kDefaults;
}

Attributes targetGroupAttributes(const TargetGroup& tg) {
  Attributes out = defaultTargetGroupAttributes();
  for (auto& [k, v] : out) {
    auto it = tg.attributes.find(k);
    if (it != tg.attributes.end()) v = it->second;
  }
  return out;
}

Attributes loadBalancerAttributes(const LoadBalancer& lb) {
  Attributes out;
  for (const auto& s : kLbAttrSpecs) {
    auto it = lb.attributes.find(std::string(s.key));
    out.emplace_back(std::string(s.key), it != lb.attributes.end() ? it->second : std::string(s.dflt));
  }
  return out;
}

Result<Attributes> ElbService::modifyTargetGroupAttributes(const CallContext& call, const std::string& tgArn,
                                                           const Attributes& changes) {
  return modifyAttributes(ctx_, kTargetGroupAttrs, call, tgArn, changes);
}

Result<Attributes> ElbService::describeTargetGroupAttributes(const CallContext& call, const std::string& tgArn) {
  return describeAttributes(ctx_, kTargetGroupAttrs, call, tgArn);
}

Result<Attributes> ElbService::modifyLoadBalancerAttributes(const CallContext& call, const std::string& lbArn,
                                                            const Attributes& changes) {
  return modifyAttributes(ctx_, kLoadBalancerAttrs, call, lbArn, changes);
}

Result<Attributes> ElbService::describeLoadBalancerAttributes(const CallContext& call, const std::string& lbArn) {
  return describeAttributes(ctx_, kLoadBalancerAttrs, call, lbArn);
}

}  // namespace lp::control
