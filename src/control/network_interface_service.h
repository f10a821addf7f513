// NetworkInterfaceService: CreateNetworkInterface, DescribeNetworkInterfaces,
// DeleteNetworkInterface for workload interfaces. Endpoint and load-balancer
// interfaces are made by their own services (requesterManaged) and can only be
// described here. Stateless over a ControlContext; any thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "control/common.h"
#include "control/query.h"
#include "control/vpc_service.h"

namespace lp::control {

struct CreateNetworkInterfaceInput {
  std::string subnetId;
  std::string privateIpAddress;  // "" = allocate
  std::string description;
  std::vector<std::string> groupIds;  // empty = the VPC's default group
  std::string clientToken;
  std::vector<TagSpecification> tagSpecs;
};

struct ModifyNetworkInterfaceInput {
  std::string interfaceId;
  std::optional<std::string> description;
  std::optional<bool> sourceDestCheck;
  std::vector<std::string> groupIds;  // SecurityGroupId.N; empty = unchanged
};

// An interface with what AWS renders per caller.
struct NetworkInterfaceInfo {
  model::NetworkInterface eni;
  std::string zoneName;  // in the caller's names
  std::vector<std::pair<std::string, std::string>> groups;  // id, name
};

// The parts of a workload interface both CreateNetworkInterface and RunInstances
// (an instance's primary interface) make, inside the caller's write transaction.
// Groups named must be the caller's and in the subnet's VPC; none = the VPC's
// default group.
Result<std::vector<model::SecurityGroupId>> interfaceGroups(const Txn& t, const CallContext& call,
                                                            const model::Subnet& subnet,
                                                            const std::vector<std::string>& groupIds);
// Checks the interface quota, allocates the address (privateIp "" = the next free
// one) and puts a new workload interface; the caller sets what differs (status,
// managedBy, clientToken) through adjust before it is stored.
Result<model::NetworkInterface> putWorkloadInterface(Txn& t, const ControlContext& ctx, const CallContext& call,
                                                     const model::Subnet& subnet,
                                                     const std::vector<model::SecurityGroupId>& groups,
                                                     const std::string& privateIp, const std::string& description,
                                                     const model::Tags& tags,
                                                     const std::function<void(model::NetworkInterface&)>& adjust);
// AWS's vpc-max-security-groups-per-interface (Limits::securityGroupsPerInterface),
// for every kind of interface: workload, instance, endpoint.
Status checkGroupsPerInterface(const Limits& limits, size_t count);

// The attachment id of an instance's primary interface (derived, so the interface
// and the instance name the same one without storing it twice).
std::string attachmentIdFor(const std::string& interfaceId);

class NetworkInterfaceService {
 public:
  explicit NetworkInterfaceService(ControlContext& ctx) : ctx_(ctx) {}

  Result<NetworkInterfaceInfo> createNetworkInterface(const CallContext& call, const CreateNetworkInterfaceInput& in);
  Result<Page<NetworkInterfaceInfo>> describeNetworkInterfaces(const CallContext& call, const DescribeInput& in);
  // Requester-managed interfaces answer OperationNotPermitted.
  Status deleteNetworkInterface(const CallContext& call, const std::string& id);
  // One attribute per call, as AWS: description, sourceDestCheck or the groups (an
  // instance's primary interface: the instance's groups too).
  Status modifyNetworkInterfaceAttribute(const CallContext& call, const ModifyNetworkInterfaceInput& in);

 private:
  ControlContext& ctx_;
};

}  // namespace lp::control
