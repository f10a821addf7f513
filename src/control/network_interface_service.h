// NetworkInterfaceService: CreateNetworkInterface, DescribeNetworkInterfaces,
// DeleteNetworkInterface for workload interfaces. Endpoint and load-balancer
// interfaces are made by their own services (requesterManaged) and can only be
// described here. Stateless over a ControlContext; any thread.
#pragma once

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

// An interface with what AWS renders per caller.
struct NetworkInterfaceInfo {
  model::NetworkInterface eni;
  std::string zoneName;  // in the caller's names
  std::vector<std::pair<std::string, std::string>> groups;  // id, name
};

class NetworkInterfaceService {
 public:
  explicit NetworkInterfaceService(ControlContext& ctx) : ctx_(ctx) {}

  Result<NetworkInterfaceInfo> createNetworkInterface(const CallContext& call, const CreateNetworkInterfaceInput& in);
  Result<Page<NetworkInterfaceInfo>> describeNetworkInterfaces(const CallContext& call, const DescribeInput& in);
  // Requester-managed interfaces answer OperationNotPermitted.
  Status deleteNetworkInterface(const CallContext& call, const std::string& id);

 private:
  ControlContext& ctx_;
};

}  // namespace lp::control
