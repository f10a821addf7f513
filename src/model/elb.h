// Network Load Balancer resources (ELBv2 subset): load balancers with one node
// per subnet, TCP target groups of IP targets, TCP forward listeners. Values only.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/ids.h"
#include "model/resources.h"

namespace lp::model {

// One node of a load balancer: its address in one subnet (a requester-managed
// interface of type network_load_balancer).
struct LoadBalancerNode {
  SubnetId subnetId;
  std::string zoneId;
  NetworkInterfaceId networkInterfaceId;
  std::string privateIp;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LoadBalancerNode, subnetId, zoneId, networkInterfaceId, privateIp)

struct LoadBalancer {
  static constexpr std::string_view kKind = "elb-load-balancer";
  // The store id is the ARN: arn:aws:elasticloadbalancing:<region>:<acct>:loadbalancer/net/<name>/<16 hex>
  struct Id {
    std::string v;
    const std::string& str() const { return v; }
  } id;
  AccountId ownerId;
  std::string name;
  std::string scheme = "internal";  // internal | internet-facing
  std::string type = "network";
  std::string state = "active";     // provisioning | active | active_impaired | failed
  VpcId vpcId;
  std::string dnsName;
  std::string ipAddressType = "ipv4";
  std::vector<LoadBalancerNode> nodes;
  std::vector<SecurityGroupId> securityGroups;
  std::map<std::string, std::string> attributes;  // set by ModifyLoadBalancerAttributes; absent = default
  std::string createdAt;
  Tags tags;
  bool deletionProtection() const {
    auto it = attributes.find("deletion_protection.enabled");
    return it != attributes.end() && it->second == "true";
  }
  bool crossZone() const {
    auto it = attributes.find("load_balancing.cross_zone.enabled");
    return it != attributes.end() && it->second == "true";
  }
};
inline void to_json(nlohmann::json& j, const LoadBalancer::Id& id) { j = id.v; }
inline void from_json(const nlohmann::json& j, LoadBalancer::Id& id) { id.v = j.get<std::string>(); }
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LoadBalancer, id, ownerId, name, scheme, type, state, vpcId, dnsName,
                                                ipAddressType, nodes, securityGroups, attributes, createdAt, tags)

struct Target {
  std::string ip;  // target type ip
  int port = 0;
  std::string zoneId;  // zone of the subnet the address lies in ("" when outside the VPC's subnets)
  bool operator==(const Target&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Target, ip, port, zoneId)

struct TargetGroup {
  static constexpr std::string_view kKind = "elb-target-group";
  // ARN: arn:aws:elasticloadbalancing:<region>:<acct>:targetgroup/<name>/<16 hex>
  LoadBalancer::Id id;
  AccountId ownerId;
  std::string name;
  std::string protocol = "TCP";
  int port = 0;
  VpcId vpcId;
  std::string targetType = "ip";
  // Health check settings (TCP).
  int healthCheckIntervalSeconds = 30;
  int healthCheckTimeoutSeconds = 10;
  int healthyThresholdCount = 5;
  int unhealthyThresholdCount = 2;
  std::string healthCheckPort = "traffic-port";
  std::string healthCheckProtocol = "TCP";
  bool healthCheckEnabled = true;
  std::vector<Target> targets;
  std::map<std::string, std::string> attributes;  // e.g. proxy_protocol_v2.enabled
  std::string createdAt;
  Tags tags;
  bool proxyProtocolV2() const {
    auto it = attributes.find("proxy_protocol_v2.enabled");
    return it != attributes.end() && it->second == "true";
  }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TargetGroup, id, ownerId, name, protocol, port, vpcId, targetType,
                                                healthCheckIntervalSeconds, healthCheckTimeoutSeconds,
                                                healthyThresholdCount, unhealthyThresholdCount, healthCheckPort,
                                                healthCheckProtocol, healthCheckEnabled, targets, attributes,
                                                createdAt, tags)

struct Listener {
  static constexpr std::string_view kKind = "elb-listener";
  // ARN: ...:listener/net/<lb-name>/<lb-id>/<16 hex>
  LoadBalancer::Id id;
  AccountId ownerId;
  std::string loadBalancerArn;
  std::string protocol = "TCP";
  int port = 0;
  std::string targetGroupArn;  // default action: forward
  std::string createdAt;
  Tags tags;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Listener, id, ownerId, loadBalancerArn, protocol, port, targetGroupArn,
                                                createdAt, tags)

// Observed health of one target, written by the data plane's health checker and
// read by DescribeTargetHealth. Store kind "elb-target-health", id
// targetHealthKey(); the JSON body is {"state":..,"reason":..,"description":..}.
struct TargetHealthRecord {
  static constexpr std::string_view kKind = "elb-target-health";
  std::string state;        // TargetHealthStateEnum: healthy | unhealthy | initial | ...
  std::string reason;       // TargetHealthReasonEnum, "" when healthy
  std::string description;  // human text, "" when healthy
  bool operator==(const TargetHealthRecord&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TargetHealthRecord, state, reason, description)

// "<tgArn>|<ip>:<port>": the store id of a target's health record.
inline std::string targetHealthKey(std::string_view targetGroupArn, std::string_view ip, int port) {
  return std::string(targetGroupArn) + "|" + std::string(ip) + ":" + std::to_string(port);
}

}  // namespace lp::model
