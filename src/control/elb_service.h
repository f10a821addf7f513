// ElbService: the Network Load Balancer subset of ELBv2 (load balancers with one
// requester-managed node interface per subnet, TCP target groups of IP targets,
// TCP forward listeners, target-group attributes, target health).
// Stateless over a ControlContext; any thread. Every mutating call is one store
// transaction; a refused call changes nothing.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "control/common.h"
#include "control/query.h"
#include "model/elb.h"

namespace lp::control {

struct SubnetMappingInput {
  std::string subnetId;
  std::string privateIpv4Address;  // "" = allocate
  std::string allocationId;        // Elastic IPs: not supported here
};

struct CreateLoadBalancerInput {
  std::string name;
  std::string type;    // "" = network
  std::string scheme;  // "" = internal
  std::string ipAddressType;
  std::vector<std::string> subnets;
  std::vector<SubnetMappingInput> subnetMappings;
  std::vector<std::string> securityGroups;
  model::Tags tags;
};

// ELBv2 paging: Marker in, NextMarker out; PageSize 1..400.
struct MarkerPage {
  std::string marker;
  std::optional<int64_t> pageSize;
};

struct DescribeLoadBalancersInput {
  std::vector<std::string> arns;
  std::vector<std::string> names;
  MarkerPage page;
};

struct CreateTargetGroupInput {
  std::string name;
  std::string protocol;
  std::optional<int64_t> port;
  std::string vpcId;
  std::string targetType;  // "" = instance (AWS's default)
  std::string ipAddressType;
  std::string healthCheckProtocol;
  std::string healthCheckPort;
  std::string healthCheckPath;
  std::optional<bool> healthCheckEnabled;
  std::optional<int64_t> healthCheckIntervalSeconds;
  std::optional<int64_t> healthCheckTimeoutSeconds;
  std::optional<int64_t> healthyThresholdCount;
  std::optional<int64_t> unhealthyThresholdCount;
  model::Tags tags;
};

struct DescribeTargetGroupsInput {
  std::string loadBalancerArn;
  std::vector<std::string> arns;
  std::vector<std::string> names;
  MarkerPage page;
};

// A target group as Describe shows it: with the load balancers whose listeners use it.
struct TargetGroupInfo {
  model::TargetGroup group;
  std::vector<std::string> loadBalancerArns;
};

struct TargetInput {
  std::string id;  // IPv4 address, or an instance id (target type instance)
  std::optional<int64_t> port;
  std::string availabilityZone;  // "" | "all" | a zone name of the caller
};

struct TargetHealthDescription {
  model::Target target;  // zoneId "" means the target is outside the VPC's subnets ("all")
  std::string healthCheckPort;
  model::TargetHealthRecord health;
  std::string instanceId;  // target type instance: the instance at target.ip
};

struct ListenerAction {
  std::string type;
  std::string targetGroupArn;
  std::vector<std::string> forwardTargetGroupArns;  // ForwardConfig.TargetGroups
};

struct CreateListenerInput {
  std::string loadBalancerArn;
  std::string protocol;
  std::optional<int64_t> port;
  std::vector<ListenerAction> defaultActions;
  model::Tags tags;
};

struct DescribeListenersInput {
  std::string loadBalancerArn;
  std::vector<std::string> arns;
  MarkerPage page;
};

using Attributes = std::vector<std::pair<std::string, std::string>>;

class ElbService {
 public:
  explicit ElbService(ControlContext& ctx) : ctx_(ctx) {}

  // Idempotent: the same name with the same settings returns the existing one.
  Result<model::LoadBalancer> createLoadBalancer(const CallContext& call, const CreateLoadBalancerInput& in);
  Result<Page<model::LoadBalancer>> describeLoadBalancers(const CallContext& call,
                                                          const DescribeLoadBalancersInput& in);
  // Removes the node interfaces and listeners with it; ResourceInUse while an
  // endpoint service configuration names it.
  Status deleteLoadBalancer(const CallContext& call, const std::string& arn);

  Result<model::TargetGroup> createTargetGroup(const CallContext& call, const CreateTargetGroupInput& in);
  Result<Page<TargetGroupInfo>> describeTargetGroups(const CallContext& call, const DescribeTargetGroupsInput& in);
  Status deleteTargetGroup(const CallContext& call, const std::string& arn);

  Status registerTargets(const CallContext& call, const std::string& tgArn, const std::vector<TargetInput>& targets);
  Status deregisterTargets(const CallContext& call, const std::string& tgArn, const std::vector<TargetInput>& targets);
  // All registered targets, or the ones asked for (unregistered ones say so).
  Result<std::vector<TargetHealthDescription>> describeTargetHealth(const CallContext& call, const std::string& tgArn,
                                                                    const std::vector<TargetInput>& targets);

  Result<model::Listener> createListener(const CallContext& call, const CreateListenerInput& in);
  Result<Page<model::Listener>> describeListeners(const CallContext& call, const DescribeListenersInput& in);
  Status deleteListener(const CallContext& call, const std::string& arn);

  // Every attribute with its value (defaults filled in), after the change.
  Result<Attributes> modifyTargetGroupAttributes(const CallContext& call, const std::string& tgArn,
                                                 const Attributes& changes);
  Result<Attributes> describeTargetGroupAttributes(const CallContext& call, const std::string& tgArn);
  // Health check settings of an existing group (unset fields keep their values).
  Result<TargetGroupInfo> modifyTargetGroup(const CallContext& call, const std::string& tgArn,
                                            const CreateTargetGroupInput& changes);

  // deletion_protection.enabled, load_balancing.cross_zone.enabled, ...
  Result<Attributes> modifyLoadBalancerAttributes(const CallContext& call, const std::string& lbArn,
                                                  const Attributes& changes);
  Result<Attributes> describeLoadBalancerAttributes(const CallContext& call, const std::string& lbArn);

  // Tags of load balancers, target groups and listeners, by ARN (all or nothing).
  Status addTags(const CallContext& call, const std::vector<std::string>& arns, const model::Tags& tags);
  Status removeTags(const CallContext& call, const std::vector<std::string>& arns,
                    const std::vector<std::string>& keys);
  Result<std::vector<std::pair<std::string, model::Tags>>> describeTags(const CallContext& call,
                                                                        const std::vector<std::string>& arns);

 private:
  ControlContext& ctx_;
};

// The NLB target-group attributes with their defaults, in the order Describe lists them.
const Attributes& defaultTargetGroupAttributes();
// The full attribute list of a target group (defaults overlaid with its settings).
Attributes targetGroupAttributes(const model::TargetGroup& tg);
// The same for a load balancer.
Attributes loadBalancerAttributes(const model::LoadBalancer& lb);
// Whether arn is well-formed as a network load balancer ARN.
bool isLoadBalancerArn(std::string_view arn);
// Route 53 hosted zone of NLB DNS names in a region.
std::string nlbCanonicalHostedZoneId(std::string_view region);

}  // namespace lp::control
