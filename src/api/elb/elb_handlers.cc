// ELBv2 (network load balancers, target groups, listeners) over the Query
// protocol: Name.member.N lists in, PascalCase elements with <member> items out.
// Handlers write the children of <ActionResult>; every operation here has an
// output shape, so the (possibly empty) result element is always sent.
#include "api/handlers.h"
#include "control/elb_listener_attributes.h"
#include "control/elb_service.h"

namespace lp::api {

namespace {

using control::ElbService;

// ELBv2 reports malformed numbers and booleans as ValidationError.
Result<std::optional<int64_t>> intParam(const Params& p, std::string_view key) {
  auto r = p.getInt(key);
  if (!r.ok()) return Status(std::string(control::err::kValidationError), r.status().message());
  return r;
}
Result<std::optional<bool>> boolParam(const Params& p, std::string_view key) {
  auto r = p.getBool(key);
  if (!r.ok()) return Status(std::string(control::err::kValidationError), r.status().message());
  return r;
}

model::Tags readTags(const Params& p) {
  model::Tags tags;
  for (auto& t : p.memberStructList("Tags")) tags.push_back({t.get("Key"), t.get("Value")});
  return tags;
}

Result<control::MarkerPage> readMarkerPage(const Params& p) {
  control::MarkerPage page;
  page.marker = p.get("Marker");
  LP_ASSIGN_OR_RETURN(page.pageSize, intParam(p, "PageSize"));
  return page;
}

Result<std::vector<control::TargetInput>> readTargets(const Params& p) {
  std::vector<control::TargetInput> out;
  for (auto& t : p.memberStructList("Targets")) {
    control::TargetInput in;
    in.id = t.get("Id");
    LP_ASSIGN_OR_RETURN(in.port, intParam(t, "Port"));
    in.availabilityZone = t.get("AvailabilityZone");
    out.push_back(std::move(in));
  }
  return out;
}

// A Describe* page: the members under list, then NextMarker when there is more.
template <class Page, class WriteOne>
void writeMarkerPage(XmlWriter& x, const char* list, const Page& page, WriteOne writeOne) {
  {
    auto s = x.scope(list);
    for (const auto& item : page.items) writeOne(item);
  }
  x.leafIf("NextMarker", page.nextToken);
}

void writeLoadBalancer(XmlWriter& x, const model::RegionConfig& region, const model::AccountId& caller,
                       const model::LoadBalancer& lb) {
  auto m = x.scope("member");
  x.leaf("LoadBalancerArn", lb.id.str());
  x.leaf("DNSName", lb.dnsName);
  x.leaf("CanonicalHostedZoneId", control::nlbCanonicalHostedZoneId(region.name));
  x.leaf("CreatedTime", lb.createdAt);
  x.leaf("LoadBalancerName", lb.name);
  x.leaf("Scheme", lb.scheme);
  x.leaf("VpcId", lb.vpcId.str());
  {
    auto s = x.scope("State");
    x.leaf("Code", lb.state);
  }
  x.leaf("Type", lb.type);
  {
    auto azs = x.scope("AvailabilityZones");
    for (const auto& n : lb.nodes) {
      auto az = x.scope("member");
      x.leaf("ZoneName", region.zoneName(caller, n.zoneId));
      x.leaf("ZoneId", n.zoneId);
      x.leaf("SubnetId", n.subnetId.str());
      auto addrs = x.scope("LoadBalancerAddresses");
      auto a = x.scope("member");
      x.leaf("PrivateIPv4Address", n.privateIp);
    }
  }
  if (!lb.securityGroups.empty()) {
    auto sgs = x.scope("SecurityGroups");
    for (const auto& g : lb.securityGroups) x.leaf("member", g.str());
  }
  x.leaf("IpAddressType", lb.ipAddressType);
}

void writeTargetGroup(XmlWriter& x, const model::TargetGroup& tg, const std::vector<std::string>& loadBalancerArns) {
  auto m = x.scope("member");
  x.leaf("TargetGroupArn", tg.id.str());
  x.leaf("TargetGroupName", tg.name);
  x.leaf("Protocol", tg.protocol);
  x.leaf("Port", tg.port);
  x.leaf("VpcId", tg.vpcId.str());
  x.leaf("HealthCheckProtocol", tg.healthCheckProtocol);
  x.leaf("HealthCheckPort", tg.healthCheckPort);
  x.leaf("HealthCheckEnabled", tg.healthCheckEnabled);
  x.leaf("HealthCheckIntervalSeconds", tg.healthCheckIntervalSeconds);
  x.leaf("HealthCheckTimeoutSeconds", tg.healthCheckTimeoutSeconds);
  x.leaf("HealthyThresholdCount", tg.healthyThresholdCount);
  x.leaf("UnhealthyThresholdCount", tg.unhealthyThresholdCount);
  if (loadBalancerArns.empty()) {
    x.empty("LoadBalancerArns");
  } else {
    auto s = x.scope("LoadBalancerArns");
    for (const auto& a : loadBalancerArns) x.leaf("member", a);
  }
  x.leaf("TargetType", tg.targetType);
  x.leaf("IpAddressType", "ipv4");
}

void writeListener(XmlWriter& x, const model::Listener& l) {
  auto m = x.scope("member");
  x.leaf("ListenerArn", l.id.str());
  x.leaf("LoadBalancerArn", l.loadBalancerArn);
  x.leaf("Port", l.port);
  x.leaf("Protocol", l.protocol);
  auto acts = x.scope("DefaultActions");
  auto a = x.scope("member");
  x.leaf("Type", "forward");
  x.leaf("TargetGroupArn", l.targetGroupArn);
  auto fc = x.scope("ForwardConfig");
  {
    auto tgs = x.scope("TargetGroups");
    auto t = x.scope("member");
    x.leaf("TargetGroupArn", l.targetGroupArn);
    x.leaf("Weight", 1);
  }
  auto st = x.scope("TargetGroupStickinessConfig");
  x.leaf("Enabled", false);
}

void writeAttributes(XmlWriter& x, const control::Attributes& attrs) {
  auto s = x.scope("Attributes");
  for (const auto& [k, v] : attrs) {
    auto m = x.scope("member");
    x.leaf("Key", k);
    x.leaf("Value", v);
  }
}

}  // namespace

void registerElbHandlers(Router& r, control::ControlContext& ctx) {
  constexpr std::string_view kElb = "elasticloadbalancing";

  r.add(kElb, "CreateLoadBalancer", [&ctx](HandlerContext& h) -> Status {
    control::CreateLoadBalancerInput in;
    in.name = h.params.get("Name");
    in.type = h.params.get("Type");
    in.scheme = h.params.get("Scheme");
    in.ipAddressType = h.params.get("IpAddressType");
    in.subnets = h.params.memberList("Subnets");
    for (auto& m : h.params.memberStructList("SubnetMappings"))
      in.subnetMappings.push_back({m.get("SubnetId"), m.get("PrivateIPv4Address"), m.get("AllocationId")});
    in.securityGroups = h.params.memberList("SecurityGroups");
    in.tags = readTags(h.params);
    LP_ASSIGN_OR_RETURN(auto lb, ElbService(ctx).createLoadBalancer(h.call, in));
    auto s = h.out.scope("LoadBalancers");
    writeLoadBalancer(h.out, h.region, h.call.account, lb);
    return Status::Ok();
  });

  r.add(kElb, "DescribeLoadBalancers", [&ctx](HandlerContext& h) -> Status {
    control::DescribeLoadBalancersInput in;
    in.arns = h.params.memberList("LoadBalancerArns");
    in.names = h.params.memberList("Names");
    LP_ASSIGN_OR_RETURN(in.page, readMarkerPage(h.params));
    LP_ASSIGN_OR_RETURN(auto page, ElbService(ctx).describeLoadBalancers(h.call, in));
    writeMarkerPage(h.out, "LoadBalancers", page,
                    [&](const auto& lb) { writeLoadBalancer(h.out, h.region, h.call.account, lb); });
    return Status::Ok();
  });

  r.add(kElb, "DeleteLoadBalancer", [&ctx](HandlerContext& h) -> Status {
    return ElbService(ctx).deleteLoadBalancer(h.call, h.params.get("LoadBalancerArn"));
  });

  r.add(kElb, "CreateTargetGroup", [&ctx](HandlerContext& h) -> Status {
    control::CreateTargetGroupInput in;
    const Params& p = h.params;
    in.name = p.get("Name");
    in.protocol = p.get("Protocol");
    LP_ASSIGN_OR_RETURN(in.port, intParam(p, "Port"));
    in.vpcId = p.get("VpcId");
    in.targetType = p.get("TargetType");
    in.ipAddressType = p.get("IpAddressType");
    in.healthCheckProtocol = p.get("HealthCheckProtocol");
    in.healthCheckPort = p.get("HealthCheckPort");
    in.healthCheckPath = p.get("HealthCheckPath");
    LP_ASSIGN_OR_RETURN(in.healthCheckEnabled, boolParam(p, "HealthCheckEnabled"));
    LP_ASSIGN_OR_RETURN(in.healthCheckIntervalSeconds, intParam(p, "HealthCheckIntervalSeconds"));
    LP_ASSIGN_OR_RETURN(in.healthCheckTimeoutSeconds, intParam(p, "HealthCheckTimeoutSeconds"));
    LP_ASSIGN_OR_RETURN(in.healthyThresholdCount, intParam(p, "HealthyThresholdCount"));
    LP_ASSIGN_OR_RETURN(in.unhealthyThresholdCount, intParam(p, "UnhealthyThresholdCount"));
    in.tags = readTags(p);
    LP_ASSIGN_OR_RETURN(auto tg, ElbService(ctx).createTargetGroup(h.call, in));
    auto s = h.out.scope("TargetGroups");
    writeTargetGroup(h.out, tg, {});
    return Status::Ok();
  });

  r.add(kElb, "DescribeTargetGroups", [&ctx](HandlerContext& h) -> Status {
    control::DescribeTargetGroupsInput in;
    in.loadBalancerArn = h.params.get("LoadBalancerArn");
    in.arns = h.params.memberList("TargetGroupArns");
    in.names = h.params.memberList("Names");
    LP_ASSIGN_OR_RETURN(in.page, readMarkerPage(h.params));
    LP_ASSIGN_OR_RETURN(auto page, ElbService(ctx).describeTargetGroups(h.call, in));
    writeMarkerPage(h.out, "TargetGroups", page,
                    [&](const auto& i) { writeTargetGroup(h.out, i.group, i.loadBalancerArns); });
    return Status::Ok();
  });

  r.add(kElb, "DeleteTargetGroup", [&ctx](HandlerContext& h) -> Status {
    return ElbService(ctx).deleteTargetGroup(h.call, h.params.get("TargetGroupArn"));
  });

  r.add(kElb, "RegisterTargets", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto targets, readTargets(h.params));
    return ElbService(ctx).registerTargets(h.call, h.params.get("TargetGroupArn"), targets);
  });

  r.add(kElb, "DeregisterTargets", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto targets, readTargets(h.params));
    return ElbService(ctx).deregisterTargets(h.call, h.params.get("TargetGroupArn"), targets);
  });

  r.add(kElb, "DescribeTargetHealth", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto targets, readTargets(h.params));
    LP_ASSIGN_OR_RETURN(auto health,
                        ElbService(ctx).describeTargetHealth(h.call, h.params.get("TargetGroupArn"), targets));
    auto s = h.out.scope("TargetHealthDescriptions");
    for (const auto& d : health) {
      auto m = h.out.scope("member");
      {
        auto t = h.out.scope("Target");
        h.out.leaf("Id", d.instanceId.empty() ? d.target.ip : d.instanceId);
        h.out.leaf("Port", d.target.port);
        h.out.leaf("AvailabilityZone",
                   d.target.zoneId.empty() ? std::string("all") : h.region.zoneName(h.call.account, d.target.zoneId));
      }
      h.out.leaf("HealthCheckPort", d.healthCheckPort);
      auto th = h.out.scope("TargetHealth");
      h.out.leaf("State", d.health.state);
      h.out.leafIf("Reason", d.health.reason);
      h.out.leafIf("Description", d.health.description);
    }
    return Status::Ok();
  });

  r.add(kElb, "CreateListener", [&ctx](HandlerContext& h) -> Status {
    control::CreateListenerInput in;
    in.loadBalancerArn = h.params.get("LoadBalancerArn");
    in.protocol = h.params.get("Protocol");
    LP_ASSIGN_OR_RETURN(in.port, intParam(h.params, "Port"));
    for (auto& a : h.params.memberStructList("DefaultActions")) {
      control::ListenerAction action{a.get("Type"), a.get("TargetGroupArn"), {}};
      for (auto& t : a.sub("ForwardConfig").memberStructList("TargetGroups"))
        action.forwardTargetGroupArns.push_back(t.get("TargetGroupArn"));
      in.defaultActions.push_back(std::move(action));
    }
    in.tags = readTags(h.params);
    LP_ASSIGN_OR_RETURN(auto listener, ElbService(ctx).createListener(h.call, in));
    auto s = h.out.scope("Listeners");
    writeListener(h.out, listener);
    return Status::Ok();
  });

  r.add(kElb, "DescribeListeners", [&ctx](HandlerContext& h) -> Status {
    control::DescribeListenersInput in;
    in.loadBalancerArn = h.params.get("LoadBalancerArn");
    in.arns = h.params.memberList("ListenerArns");
    LP_ASSIGN_OR_RETURN(in.page, readMarkerPage(h.params));
    LP_ASSIGN_OR_RETURN(auto page, ElbService(ctx).describeListeners(h.call, in));
    writeMarkerPage(h.out, "Listeners", page, [&](const auto& l) { writeListener(h.out, l); });
    return Status::Ok();
  });

  r.add(kElb, "DescribeListenerAttributes", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto attrs, control::describeListenerAttributes(ctx, h.call, h.params.get("ListenerArn")));
    writeAttributes(h.out, attrs);
    return Status::Ok();
  });

  r.add(kElb, "ModifyListenerAttributes", [&ctx](HandlerContext& h) -> Status {
    control::Attributes changes;
    for (auto& a : h.params.memberStructList("Attributes")) changes.emplace_back(a.get("Key"), a.get("Value"));
    LP_ASSIGN_OR_RETURN(auto attrs,
                        control::modifyListenerAttributes(ctx, h.call, h.params.get("ListenerArn"), changes));
    writeAttributes(h.out, attrs);
    return Status::Ok();
  });

  r.add(kElb, "DeleteListener", [&ctx](HandlerContext& h) -> Status {
    return ElbService(ctx).deleteListener(h.call, h.params.get("ListenerArn"));
  });

  r.add(kElb, "ModifyTargetGroupAttributes", [&ctx](HandlerContext& h) -> Status {
    control::Attributes changes;
    for (auto& a : h.params.memberStructList("Attributes")) changes.emplace_back(a.get("Key"), a.get("Value"));
    LP_ASSIGN_OR_RETURN(auto attrs,
                        ElbService(ctx).modifyTargetGroupAttributes(h.call, h.params.get("TargetGroupArn"), changes));
    writeAttributes(h.out, attrs);
    return Status::Ok();
  });

  r.add(kElb, "ModifyTargetGroup", [&ctx](HandlerContext& h) -> Status {
    control::CreateTargetGroupInput in;
    const Params& p = h.params;
    in.healthCheckProtocol = p.get("HealthCheckProtocol");
    in.healthCheckPort = p.get("HealthCheckPort");
    in.healthCheckPath = p.get("HealthCheckPath");
    LP_ASSIGN_OR_RETURN(in.healthCheckEnabled, boolParam(p, "HealthCheckEnabled"));
    LP_ASSIGN_OR_RETURN(in.healthCheckIntervalSeconds, intParam(p, "HealthCheckIntervalSeconds"));
    LP_ASSIGN_OR_RETURN(in.healthCheckTimeoutSeconds, intParam(p, "HealthCheckTimeoutSeconds"));
    LP_ASSIGN_OR_RETURN(in.healthyThresholdCount, intParam(p, "HealthyThresholdCount"));
    LP_ASSIGN_OR_RETURN(in.unhealthyThresholdCount, intParam(p, "UnhealthyThresholdCount"));
    LP_ASSIGN_OR_RETURN(auto info, ElbService(ctx).modifyTargetGroup(h.call, p.get("TargetGroupArn"), in));
    auto s = h.out.scope("TargetGroups");
    writeTargetGroup(h.out, info.group, info.loadBalancerArns);
    return Status::Ok();
  });

  r.add(kElb, "ModifyLoadBalancerAttributes", [&ctx](HandlerContext& h) -> Status {
    control::Attributes changes;
    for (auto& a : h.params.memberStructList("Attributes")) changes.emplace_back(a.get("Key"), a.get("Value"));
    LP_ASSIGN_OR_RETURN(auto attrs,
                        ElbService(ctx).modifyLoadBalancerAttributes(h.call, h.params.get("LoadBalancerArn"), changes));
    writeAttributes(h.out, attrs);
    return Status::Ok();
  });

  r.add(kElb, "DescribeLoadBalancerAttributes", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto attrs,
                        ElbService(ctx).describeLoadBalancerAttributes(h.call, h.params.get("LoadBalancerArn")));
    writeAttributes(h.out, attrs);
    return Status::Ok();
  });

  r.add(kElb, "AddTags", [&ctx](HandlerContext& h) -> Status {
    return ElbService(ctx).addTags(h.call, h.params.memberList("ResourceArns"), readTags(h.params));
  });

  r.add(kElb, "RemoveTags", [&ctx](HandlerContext& h) -> Status {
    return ElbService(ctx).removeTags(h.call, h.params.memberList("ResourceArns"), h.params.memberList("TagKeys"));
  });

  r.add(kElb, "DescribeTags", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto described, ElbService(ctx).describeTags(h.call, h.params.memberList("ResourceArns")));
    auto s = h.out.scope("TagDescriptions");
    for (const auto& [arn, tags] : described) {
      auto m = h.out.scope("member");
      h.out.leaf("ResourceArn", arn);
      auto ts = h.out.scope("Tags");
      for (const auto& t : tags) {
        auto tm = h.out.scope("member");
        h.out.leaf("Key", t.key);
        h.out.leaf("Value", t.value);
      }
    }
    return Status::Ok();
  });

  r.add(kElb, "DescribeTargetGroupAttributes", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto attrs,
                        ElbService(ctx).describeTargetGroupAttributes(h.call, h.params.get("TargetGroupArn")));
    writeAttributes(h.out, attrs);
    return Status::Ok();
  });
}

}  // namespace lp::api
