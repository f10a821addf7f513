#include "control/elb_service.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>
#include <span>

#include "control/ip_allocation.h"
#include "model/cidr.h"
#include "model/endpoint.h"
#include "model/instance.h"

namespace lp::control {

using model::Listener;
using model::LoadBalancer;
using model::TargetGroup;

namespace {

constexpr int64_t kMaxPageSize = 400;

template <typename... Args>
Status validation(fmt::format_string<Args...> f, Args&&... args) {
  return err::make(err::kValidationError, f, std::forward<Args>(args)...);
}
template <typename... Args>
Status invalidConfig(fmt::format_string<Args...> f, Args&&... args) {
  return err::make(err::kInvalidConfigurationRequest, f, std::forward<Args>(args)...);
}
Status required(std::string_view field) {
  return validation(
      "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", field);
}

bool isAlnumOrHyphen(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// Load balancer and target group names share one rule set (1-32 alphanumerics or
// hyphens, no hyphen at either end); noun is "Load balancer" or "Target group".
Status validateResourceName(std::string_view name, std::string_view noun) {
  if (name.empty()) return validation("{} name must not be empty", noun);
  if (name.size() > 32) return validation("{} name '{}' cannot be longer than '32' characters", noun, name);
  if (!isAlnumOrHyphen(name))
    return validation("{} name '{}' can only contain characters that are alphanumeric characters or hyphens(-)", noun,
                      name);
  if (name.front() == '-' || name.back() == '-')
    return validation("{} name '{}' cannot begin or end with '-'", noun, name);
  return Status::Ok();
}

Status validateElbTags(const model::Tags& tags) {
  if (tags.size() > model::kMaxTagsPerResource)
    return err::make(err::kTooManyTags,
                     "The quota for the number of tags that can be assigned to a resource has been reached");
  std::set<std::string> seen;
  for (const auto& t : tags) {
    if (t.key.empty() || t.key.size() > 128) return validation("Tag keys must be between 1 and 128 characters");
    if (t.value.size() > 256) return validation("Tag values must be at most 256 characters");
    if (startsWith(t.key, "aws:")) return validation("Tag keys starting with 'aws:' are reserved for internal use");
    if (!seen.insert(t.key).second)
      return err::make(err::kDuplicateTagKeys, "Tag key was specified more than once: {}", t.key);
  }
  return Status::Ok();
}

Result<int> intInRange(std::optional<int64_t> v, int64_t lo, int64_t hi, std::string_view field, int dflt) {
  if (!v) return dflt;
  if (*v < lo || *v > hi)
    return validation(
        "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member must have "
        "value between {} and {}",
        *v, field, lo, hi);
  return static_cast<int>(*v);
}

bool isHex(std::string_view s, size_t n) {
  return s.size() == n &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// arn:aws:elasticloadbalancing:<region>:<12 digits>:<resource>; the resource part.
std::optional<std::string_view> elbResource(std::string_view arn) {
  auto parts = split(arn, ':');
  if (parts.size() != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "elasticloadbalancing" ||
      parts[3].empty() || parts[4].size() != 12 ||
      !std::all_of(parts[4].begin(), parts[4].end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return arn.substr(arn.size() - parts[5].size());
}

// "loadbalancer/net/<name>/<hex16>", "targetgroup/<name>/<hex16>",
// "listener/net/<lb-name>/<lb-hex16>/<hex16>".
bool isArnOf(std::string_view arn, std::string_view kind) {
  auto res = elbResource(arn);
  if (!res) return false;
  auto p = split(*res, '/');
  if (kind == "loadbalancer")
    return p.size() == 4 && p[0] == "loadbalancer" && p[1] == "net" && validateResourceName(p[2], "").ok() &&
           isHex(p[3], 16);
  if (kind == "targetgroup")
    return p.size() == 3 && p[0] == "targetgroup" && validateResourceName(p[1], "").ok() && isHex(p[2], 16);
  if (kind == "listener")
    return p.size() == 5 && p[0] == "listener" && p[1] == "net" && validateResourceName(p[2], "").ok() &&
           isHex(p[3], 16) && isHex(p[4], 16);
  return false;
}

std::string arnPrefix(const ControlContext& ctx, const CallContext& call) {
  return fmt::format("arn:aws:elasticloadbalancing:{}:{}:", ctx.regionName(), call.account);
}

// Lookups of the caller's resources: another account's ARN answers NotFound.
Result<LoadBalancer> findLoadBalancer(const View& v, const CallContext& call, const std::string& arn) {
  if (!isArnOf(arn, "loadbalancer")) return validation("'{}' is not a valid load balancer ARN", arn);
  auto lb = v.get<LoadBalancer>(arn);
  if (!lb || lb->ownerId != call.account)
    return err::make(err::kLoadBalancerNotFound, "Load balancers '[{}]' not found", arn);
  return std::move(*lb);
}

Result<TargetGroup> findTargetGroup(const View& v, const CallContext& call, const std::string& arn) {
  if (!isArnOf(arn, "targetgroup")) return validation("'{}' is not a valid target group ARN", arn);
  auto tg = v.get<TargetGroup>(arn);
  if (!tg || tg->ownerId != call.account)
    return err::make(err::kTargetGroupNotFound, "Target groups '{}' not found", arn);
  return std::move(*tg);
}

Result<Listener> findListener(const View& v, const CallContext& call, const std::string& arn) {
  if (!isArnOf(arn, "listener")) return validation("'{}' is not a valid listener ARN", arn);
  auto l = v.get<Listener>(arn);
  if (!l || l->ownerId != call.account) return err::make(err::kListenerNotFound, "One or more listeners not found");
  return std::move(*l);
}

template <typename R, typename KeyFn>
Result<Page<R>> markerPage(std::vector<R> items, const MarkerPage& p, KeyFn key) {
  if (p.pageSize && (*p.pageSize < 1 || *p.pageSize > kMaxPageSize))
    return validation(
        "1 validation error detected: Value '{}' at 'pageSize' failed to satisfy constraint: Member must "
        "have value between 1 and {}",
        *p.pageSize, kMaxPageSize);
  PageRequest req{p.pageSize.value_or(kMaxPageSize), p.marker};
  auto page = paginate(std::move(items), req, key, kMaxPageSize);
  if (!page.ok()) return validation("Invalid Marker '{}'", p.marker);
  return page;
}

bool isPrivateAddress(model::Ipv4 ip) {
  static const model::Cidr kPrivate[] = {*model::Cidr::parse("10.0.0.0/8"), *model::Cidr::parse("172.16.0.0/12"),
                                         *model::Cidr::parse("192.168.0.0/16"), *model::Cidr::parse("100.64.0.0/10")};
  return std::any_of(std::begin(kPrivate), std::end(kPrivate), [&](const model::Cidr& c) { return c.contains(ip); });
}

bool targetGroupInUse(const View& v, const std::string& tgArn) {
  return v.count<Listener>(index::kTargetGroup, tgArn) > 0;
}

bool sameTargetGroupSettings(const TargetGroup& a, const TargetGroup& b) {
  return a.protocol == b.protocol && a.port == b.port && a.vpcId == b.vpcId && a.targetType == b.targetType &&
         a.healthCheckIntervalSeconds == b.healthCheckIntervalSeconds &&
         a.healthCheckTimeoutSeconds == b.healthCheckTimeoutSeconds &&
         a.healthyThresholdCount == b.healthyThresholdCount && a.unhealthyThresholdCount == b.unhealthyThresholdCount &&
         a.healthCheckPort == b.healthCheckPort && a.healthCheckProtocol == b.healthCheckProtocol &&
         a.healthCheckEnabled == b.healthCheckEnabled;
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

bool isLoadBalancerArn(std::string_view arn) { return isArnOf(arn, "loadbalancer"); }

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

std::string nlbCanonicalHostedZoneId(std::string_view region) {
  // Route 53 zones AWS publishes for NLB DNS names, per region.
  static const std::map<std::string, std::string, std::less<>> kZones = {
      {"us-east-1", "Z26RNL4JYFTOTI"},      {"us-east-2", "ZLMOA37VPKANP"},     {"us-west-1", "Z24FKFUX50B4VW"},
      {"us-west-2", "Z18D5FSROUN65G"},      {"eu-west-1", "Z2IFOLAFXWLO4F"},    {"eu-west-2", "ZD4D7Y8KGAS4G"},
      {"eu-central-1", "Z3F0SRJ5LGBH90"},   {"ap-southeast-1", "ZKVM4W9LS7TM"}, {"ap-southeast-2", "ZCT6FZBF4DROD"},
      {"ap-northeast-1", "Z31USIVHYNEOWT"}, {"ap-south-1", "ZVDDRBQ08TROA"},    {"sa-east-1", "ZTK26PT1VY4CU"},
  };
  auto it = kZones.find(region);
  return it == kZones.end() ? "Z26RNL4JYFTOTI" : it->second;
}

// ---- Load balancers ----

Result<LoadBalancer> ElbService::createLoadBalancer(const CallContext& call, const CreateLoadBalancerInput& in) {
  if (in.name.empty()) return required("name");
  LP_RETURN_IF_ERROR(validateResourceName(in.name, "Load balancer"));
  if (startsWith(in.name, "internal-")) return validation("Load balancer name cannot start with 'internal-'");
  std::string type = in.type.empty() ? "network" : in.type;
  if (type == "application" || type == "gateway")
    return invalidConfig("Load balancers of type '{}' are not supported; only 'network'", type);
  if (type != "network")
    return validation(
        "1 validation error detected: Value '{}' at 'type' failed to satisfy constraint: Member must "
        "satisfy enum value set: [application, network, gateway]",
        type);
  std::string scheme = in.scheme.empty() ? "internal" : in.scheme;
  if (scheme != "internal" && scheme != "internet-facing")
    return validation(
        "1 validation error detected: Value '{}' at 'scheme' failed to satisfy constraint: Member must "
        "satisfy enum value set: [internet-facing, internal]",
        scheme);
  std::string ipType = in.ipAddressType.empty() ? "ipv4" : in.ipAddressType;
  if (ipType == "dualstack" || ipType == "dualstack-without-public-ipv4")
    return invalidConfig("IP address type '{}' is not supported; only 'ipv4'", ipType);
  if (ipType != "ipv4")
    return validation(
        "1 validation error detected: Value '{}' at 'ipAddressType' failed to satisfy constraint: Member "
        "must satisfy enum value set: [ipv4, dualstack, dualstack-without-public-ipv4]",
        ipType);
  if (!in.securityGroups.empty())
    return invalidConfig("Security groups are not supported for network load balancers here");
  LP_RETURN_IF_ERROR(validateElbTags(in.tags));
  if (!in.subnets.empty() && !in.subnetMappings.empty())
    return validation("You cannot specify both subnets and subnet mappings");
  std::vector<SubnetMappingInput> mappings = in.subnetMappings;
  for (const auto& s : in.subnets) mappings.push_back({s, "", ""});
  if (mappings.empty()) return validation("At least one subnet must be specified");
  for (const auto& m : mappings) {
    if (m.subnetId.empty()) return required("subnetMappings.member.subnetId");
    if (!m.allocationId.empty())
      return invalidConfig("Elastic IP addresses are not supported: load balancers here are internal");
    if (!m.privateIpv4Address.empty() && !model::Ipv4::parse(m.privateIpv4Address))
      return validation("The private IPv4 address '{}' is not valid", m.privateIpv4Address);
  }

  LoadBalancer lb;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    std::vector<model::Subnet> subnets;
    std::set<std::string> zones;
    for (const auto& m : mappings) {
      auto s = model::isWellFormed<model::SubnetId>(m.subnetId) ? t.get<model::Subnet>(m.subnetId) : std::nullopt;
      if (!s || s->ownerId != call.account)
        return err::make(err::kElbSubnetNotFound, "The subnet ID '{}' is not valid", m.subnetId);
      if (!subnets.empty() && s->vpcId != subnets.front().vpcId)
        return invalidConfig("The subnets '{}' and '{}' are in different VPCs; all subnets must belong to one VPC",
                             subnets.front().id.str(), s->id.str());
      if (!zones.insert(s->zoneId).second)
        return invalidConfig("A load balancer cannot be attached to multiple subnets in the same Availability Zone");
      subnets.push_back(std::move(*s));
    }

    auto existing = t.listIndexed<LoadBalancer>(index::kOwnerName, ownerName(call.account, in.name));
    if (!existing.empty()) {
      // Same name and settings: AWS answers with the existing load balancer.
      const LoadBalancer& e = existing.front();
      std::set<std::string> want, have;
      for (auto& s : subnets) want.insert(s.id.str());
      for (auto& n : e.nodes) have.insert(n.subnetId.str());
      if (want == have && e.scheme == scheme && e.type == type) {
        lb = e;
        return Status::Ok();
      }
      return err::make(err::kDuplicateLoadBalancerName,
                       "A load balancer with the same name '{}' exists, but with "
                       "different settings",
                       in.name);
    }
    if (t.count<LoadBalancer>(index::kOwner, call.account) >= ctx_.limits().loadBalancersPerAccount)
      return err::make(err::kTooManyLoadBalancers, "The quota for the number of load balancers has been reached");

    std::string hex = ctx_.random.hex(16);
    lb.id.v = arnPrefix(ctx_, call) + "loadbalancer/net/" + in.name + "/" + hex;
    lb.ownerId = call.account;
    lb.name = in.name;
    lb.scheme = scheme;
    lb.type = type;
    lb.state = "active";
    lb.vpcId = subnets.front().vpcId;
    lb.dnsName = fmt::format("{}-{}.elb.{}.amazonaws.com", in.name, hex, ctx_.regionName());
    lb.ipAddressType = ipType;
    lb.createdAt = nowIso(ctx_);
    lb.tags = in.tags;
    for (size_t i = 0; i < subnets.size(); ++i) {
      const auto& s = subnets[i];
      const auto& requested = mappings[i].privateIpv4Address;
      auto ip = allocatePrivateIp(t, s, requested);
      if (!ip.ok()) {
        if (ip.status().code() == err::kInsufficientFreeAddresses)
          return err::make(err::kElbInvalidSubnet, "Not enough IP space available in {}", s.id.str());
        if (!requested.empty())
          return invalidConfig("The private IPv4 address '{}' cannot be used in subnet '{}': {}", requested, s.id.str(),
                               ip.status().message());
        return ip.status();
      }
      model::NetworkInterface eni;
      eni.id = model::NetworkInterfaceId::generate(ctx_.random);
      eni.ownerId = call.account;
      eni.vpcId = s.vpcId;
      eni.subnetId = s.id;
      eni.zoneId = s.zoneId;
      eni.privateIp = *ip;
      eni.macAddress = macForInterface(eni.id.str());
      eni.description = "ELB net/" + in.name + "/" + hex;
      eni.interfaceType = "network_load_balancer";
      eni.requesterManaged = true;
      eni.requesterId = "amazon-elb";
      eni.managedBy = lb.id.str();
      eni.createdAt = lb.createdAt;
      t.put(eni);
      lb.nodes.push_back({s.id, s.zoneId, eni.id, *ip});
    }
    t.put(lb);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return lb;
}

Result<Page<LoadBalancer>> ElbService::describeLoadBalancers(const CallContext& call,
                                                             const DescribeLoadBalancersInput& in) {
  if (!in.arns.empty() && !in.names.empty())
    return validation("Load balancer names and load balancer ARNs cannot be specified at the same time");
  for (const auto& a : in.arns)
    if (!isArnOf(a, "loadbalancer")) return validation("'{}' is not a valid load balancer ARN", a);
  std::vector<LoadBalancer> lbs;
  ctx_.store.read(
      [&](const store::ReadView& r) { lbs = View(r).listIndexed<LoadBalancer>(index::kOwner, call.account); });
  auto keep = [&](const std::vector<std::string>& wanted, auto field) -> Status {
    std::vector<std::string> missing;
    for (const auto& w : wanted)
      if (std::none_of(lbs.begin(), lbs.end(), [&](const LoadBalancer& l) { return field(l) == w; }))
        missing.push_back(w);
    if (!missing.empty())
      return err::make(err::kLoadBalancerNotFound, "Load balancers '[{}]' not found", fmt::join(missing, ", "));
    std::erase_if(
        lbs, [&](const LoadBalancer& l) { return std::find(wanted.begin(), wanted.end(), field(l)) == wanted.end(); });
    return Status::Ok();
  };
  if (!in.arns.empty()) LP_RETURN_IF_ERROR(keep(in.arns, [](const LoadBalancer& l) { return l.id.str(); }));
  if (!in.names.empty()) LP_RETURN_IF_ERROR(keep(in.names, [](const LoadBalancer& l) { return l.name; }));
  return markerPage(std::move(lbs), in.page, [](const LoadBalancer& l) -> const std::string& { return l.id.str(); });
}

Status ElbService::deleteLoadBalancer(const CallContext& call, const std::string& arn) {
  if (arn.empty()) return required("loadBalancerArn");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(LoadBalancer lb, findLoadBalancer(t, call, arn));
    if (lb.deletionProtection())
      return err::make(err::kOperationNotPermitted,
                       "Load balancer '{}' cannot be deleted because deletion protection is enabled", arn);
    bool referenced = t.anyIndexed<model::ServiceConfiguration>(
        index::kLoadBalancer, arn, [&](const model::ServiceConfiguration& sc) { return sc.state != "Deleted"; });
    if (referenced)
      return err::make(err::kResourceInUse,
                       "Load balancer '{}' cannot be deleted because it is currently associated with another service",
                       arn);
    for (const auto& l : t.listIndexed<Listener>(index::kLoadBalancer, arn)) t.erase<Listener>(l.id.str());
    for (const auto& e : t.listIndexed<model::NetworkInterface>(index::kManagedBy, arn))
      t.erase<model::NetworkInterface>(e.id);
    t.erase<LoadBalancer>(arn);
    return Status::Ok();
  });
}

// ---- Target groups ----

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

// ---- Targets ----

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

// ---- Listeners ----

Result<Listener> ElbService::createListener(const CallContext& call, const CreateListenerInput& in) {
  if (in.loadBalancerArn.empty()) return required("loadBalancerArn");
  static const std::set<std::string, std::less<>> kProtocols = {"HTTP",    "HTTPS",  "TCP",  "TLS",     "UDP",
                                                                "TCP_UDP", "GENEVE", "QUIC", "TCP_QUIC"};
  if (in.protocol.empty()) return validation("A listener protocol must be specified");
  if (!kProtocols.count(in.protocol))
    return validation(
        "1 validation error detected: Value '{}' at 'protocol' failed to satisfy constraint: Member must "
        "satisfy enum value set: [HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, GENEVE, QUIC, TCP_QUIC]",
        in.protocol);
  if (in.protocol != "TCP")
    return err::make(err::kUnsupportedProtocol, "Protocol '{}' is not supported; listeners here are TCP", in.protocol);
  if (!in.port) return validation("A listener port must be specified");
  LP_ASSIGN_OR_RETURN(int port, intInRange(in.port, 1, 65535, "port", 0));
  if (in.defaultActions.empty()) return required("defaultActions");
  if (in.defaultActions.size() > 1)
    return invalidConfig("A network load balancer listener takes exactly one default action");
  const ListenerAction& action = in.defaultActions.front();
  static const std::set<std::string, std::less<>> kActions = {"forward",  "authenticate-oidc", "authenticate-cognito",
                                                              "redirect", "fixed-response",    "jwt-validation"};
  if (action.type.empty()) return required("defaultActions.member.type");
  if (!kActions.count(action.type))
    return validation(
        "1 validation error detected: Value '{}' at 'defaultActions.1.member.type' failed to satisfy "
        "constraint: Member must satisfy enum value set: [forward, authenticate-oidc, "
        "authenticate-cognito, redirect, fixed-response]",
        action.type);
  if (action.type != "forward")
    return err::make(err::kInvalidLoadBalancerAction,
                     "The action type '{}' is not valid for a load balancer of type 'network'", action.type);
  if (action.forwardTargetGroupArns.size() > 1)
    return invalidConfig("A network load balancer listener forwards to exactly one target group");
  std::string tgArn = action.targetGroupArn;
  if (!action.forwardTargetGroupArns.empty()) {
    if (!tgArn.empty() && tgArn != action.forwardTargetGroupArns.front())
      return validation("The target group ARN in the action and in its forward config must be the same");
    tgArn = action.forwardTargetGroupArns.front();
  }
  if (tgArn.empty()) return validation("A target group ARN must be specified for a forward action");
  LP_RETURN_IF_ERROR(validateElbTags(in.tags));

  Listener listener;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(LoadBalancer lb, findLoadBalancer(t, call, in.loadBalancerArn));
    LP_ASSIGN_OR_RETURN(TargetGroup tg, findTargetGroup(t, call, tgArn));
    if (tg.vpcId != lb.vpcId)
      return invalidConfig("The target group '{}' is in VPC '{}', not in the load balancer's VPC '{}'", tgArn,
                           tg.vpcId.str(), lb.vpcId.str());
    if (t.anyIndexed<Listener>(index::kTargetGroup, tgArn,
                               [&](const Listener& l) { return l.loadBalancerArn != lb.id.str(); }))
      return err::make(err::kTargetGroupAssociationLimit,
                       "The following target groups cannot be associated with more than one load balancer: '{}'",
                       tgArn);
    auto mine = t.listIndexed<Listener>(index::kLoadBalancer, lb.id.str());
    for (const auto& l : mine) {
      if (l.port != port) continue;
      if (l.protocol == in.protocol && l.targetGroupArn == tgArn) {
        listener = l;  // same settings: AWS answers with the existing listener
        return Status::Ok();
      }
      return err::make(err::kDuplicateListener, "A listener already exists on port {} of this load balancer", port);
    }
    if (static_cast<int>(mine.size()) >= ctx_.limits().listenersPerLoadBalancer)
      return err::make(err::kTooManyListeners, "You've reached the limit on the number of listeners per load balancer");
    auto lbPath = split(std::string_view(lb.id.str()).substr(lb.id.str().find(":loadbalancer/") + 14), '/');
    listener.id.v = arnPrefix(ctx_, call) + "listener/net/" + lb.name + "/" + lbPath.back() + "/" + ctx_.random.hex(16);
    listener.ownerId = call.account;
    listener.loadBalancerArn = lb.id.str();
    listener.protocol = in.protocol;
    listener.port = port;
    listener.targetGroupArn = tgArn;
    listener.createdAt = nowIso(ctx_);
    listener.tags = in.tags;
    t.put(listener);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return listener;
}

Result<Page<Listener>> ElbService::describeListeners(const CallContext& call, const DescribeListenersInput& in) {
  if (in.loadBalancerArn.empty() && in.arns.empty())
    return validation("You must specify either listener ARNs or a load balancer ARN");
  if (!in.loadBalancerArn.empty() && !in.arns.empty())
    return validation("Listener ARNs and a load balancer ARN cannot be specified at the same time");
  for (const auto& a : in.arns)
    if (!isArnOf(a, "listener")) return validation("'{}' is not a valid listener ARN", a);
  std::vector<Listener> listeners;
  Status st;
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    if (!in.loadBalancerArn.empty()) {
      st = findLoadBalancer(v, call, in.loadBalancerArn).status();
      listeners = v.listIndexed<Listener>(index::kLoadBalancer, in.loadBalancerArn);
      return;
    }
    for (const auto& a : in.arns) {
      auto l = findListener(v, call, a);
      if (!l.ok()) {
        st = l.status();
        return;
      }
      if (std::none_of(listeners.begin(), listeners.end(), [&](const Listener& x) { return x.id.str() == a; }))
        listeners.push_back(std::move(*l));
    }
  });
  LP_RETURN_IF_ERROR(st);
  std::sort(listeners.begin(), listeners.end(),
            [](const Listener& a, const Listener& b) { return a.id.str() < b.id.str(); });
  return markerPage(std::move(listeners), in.page, [](const Listener& l) -> const std::string& { return l.id.str(); });
}

Status ElbService::deleteListener(const CallContext& call, const std::string& arn) {
  if (arn.empty()) return required("listenerArn");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Listener l, findListener(t, call, arn));
    t.erase<Listener>(l.id.str());
    return Status::Ok();
  });
}

// ---- Target group attributes ----

namespace {

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

Result<Attributes> ElbService::modifyTargetGroupAttributes(const CallContext& call, const std::string& tgArn,
                                                           const Attributes& changes) {
  return modifyAttributes(ctx_, kTargetGroupAttrs, call, tgArn, changes);
}

Result<Attributes> ElbService::describeTargetGroupAttributes(const CallContext& call, const std::string& tgArn) {
  return describeAttributes(ctx_, kTargetGroupAttrs, call, tgArn);
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

// ---- Load balancer attributes ----

Result<Attributes> ElbService::modifyLoadBalancerAttributes(const CallContext& call, const std::string& lbArn,
                                                            const Attributes& changes) {
  return modifyAttributes(ctx_, kLoadBalancerAttrs, call, lbArn, changes);
}

Result<Attributes> ElbService::describeLoadBalancerAttributes(const CallContext& call, const std::string& lbArn) {
  return describeAttributes(ctx_, kLoadBalancerAttrs, call, lbArn);
}

// ---- Tags ----

namespace {

constexpr size_t kMaxTagResources = 20;

Status checkTagArns(const std::vector<std::string>& arns) {
  if (arns.empty()) return required("resourceArns");
  if (arns.size() > kMaxTagResources)
    return validation(
        "1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must "
        "have length less than or equal to {}",
        kMaxTagResources);
  for (const auto& a : arns)
    if (!isArnOf(a, "loadbalancer") && !isArnOf(a, "targetgroup") && !isArnOf(a, "listener"))
      return validation("'{}' is not a valid resource ARN", a);
  return Status::Ok();
}

// Reads (and with a write transaction, rewrites) the tags of the caller's
// load balancer, target group or listener named by arn.
template <typename R>
Status editTags(Txn& t, Result<R> found, const std::function<Status(model::Tags&)>& fn) {
  if (!found.ok()) return found.status();
  R r = std::move(found).value();
  LP_RETURN_IF_ERROR(fn(r.tags));
  t.put(r);
  return Status::Ok();
}

Status editTagsByArn(Txn& t, const CallContext& call, const std::string& arn,
                     const std::function<Status(model::Tags&)>& fn) {
  if (isArnOf(arn, "loadbalancer")) return editTags(t, findLoadBalancer(t, call, arn), fn);
  if (isArnOf(arn, "targetgroup")) return editTags(t, findTargetGroup(t, call, arn), fn);
  return editTags(t, findListener(t, call, arn), fn);
}

Result<model::Tags> tagsByArn(const View& v, const CallContext& call, const std::string& arn) {
  if (isArnOf(arn, "loadbalancer")) {
    LP_ASSIGN_OR_RETURN(auto r, findLoadBalancer(v, call, arn));
    return r.tags;
  }
  if (isArnOf(arn, "targetgroup")) {
    LP_ASSIGN_OR_RETURN(auto r, findTargetGroup(v, call, arn));
    return r.tags;
  }
  LP_ASSIGN_OR_RETURN(auto r, findListener(v, call, arn));
  return r.tags;
}

}  // namespace

Status ElbService::addTags(const CallContext& call, const std::vector<std::string>& arns, const model::Tags& tags) {
  LP_RETURN_IF_ERROR(checkTagArns(arns));
  if (tags.empty()) return required("tags");
  LP_RETURN_IF_ERROR(validateElbTags(tags));
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    for (const auto& arn : arns) {
      LP_RETURN_IF_ERROR(editTagsByArn(t, call, arn, [&](model::Tags& have) -> Status {
        for (const auto& tag : tags) {
          auto it = std::find_if(have.begin(), have.end(), [&](const model::Tag& h) { return h.key == tag.key; });
          if (it != have.end()) {
            it->value = tag.value;
          } else {
            have.push_back(tag);
          }
        }
        return validateElbTags(have);
      }));
    }
    return Status::Ok();
  });
}

Status ElbService::removeTags(const CallContext& call, const std::vector<std::string>& arns,
                              const std::vector<std::string>& keys) {
  LP_RETURN_IF_ERROR(checkTagArns(arns));
  if (keys.empty()) return required("tagKeys");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    for (const auto& arn : arns) {
      LP_RETURN_IF_ERROR(editTagsByArn(t, call, arn, [&](model::Tags& have) -> Status {
        std::erase_if(have,
                      [&](const model::Tag& h) { return std::find(keys.begin(), keys.end(), h.key) != keys.end(); });
        return Status::Ok();
      }));
    }
    return Status::Ok();
  });
}

Result<std::vector<std::pair<std::string, model::Tags>>> ElbService::describeTags(
    const CallContext& call, const std::vector<std::string>& arns) {
  LP_RETURN_IF_ERROR(checkTagArns(arns));
  std::vector<std::pair<std::string, model::Tags>> out;
  Status st;
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    for (const auto& arn : arns) {
      auto tags = tagsByArn(v, call, arn);
      if (!tags.ok()) {
        st = tags.status();
        return;
      }
      out.emplace_back(arn, std::move(tags).value());
    }
  });
  LP_RETURN_IF_ERROR(st);
  return out;
}

}  // namespace lp::control
