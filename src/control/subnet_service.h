// SubnetService: CreateSubnet, DescribeSubnets, DeleteSubnet,
// ModifySubnetAttribute and DescribeAvailabilityZones. Subnets store zone ids; zone names are the
// caller's (model::RegionConfig::zoneName), resolved here per call.
// Stateless over a ControlContext; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/common.h"
#include "control/query.h"
#include "control/vpc_service.h"

namespace lp::control {

struct CreateSubnetInput {
  std::string vpcId;
  std::string cidrBlock;
  std::string availabilityZone;    // a zone name as the caller sees it
  std::string availabilityZoneId;  // or a zone id
  std::vector<TagSpecification> tagSpecs;
};

// ModifySubnetAttribute as the request spells it: exactly one attribute set.
struct SubnetAttributeChange {
  std::optional<bool> mapPublicIpOnLaunch;
  std::optional<bool> assignIpv6AddressOnCreation;
  std::optional<bool> mapCustomerOwnedIpOnLaunch;
  std::string customerOwnedIpv4Pool;
  std::optional<bool> enableDns64;
  std::string privateDnsHostnameTypeOnLaunch;
  std::optional<bool> enableResourceNameDnsARecordOnLaunch;
  std::optional<bool> enableResourceNameDnsAAAARecordOnLaunch;
  std::optional<int64_t> enableLniAtDeviceIndex;
  std::optional<bool> disableLniAtDeviceIndex;
};

// Applies one attribute change to a subnet as AWS would, or says why not (nothing
// changed then): more or fewer than one attribute, a value out of AWS's range, or
// something an IPv4-only subnet outside an Outpost cannot do (IPv6 addresses, DNS64,
// AAAA records, customer-owned IPs, local network interfaces). Pure.
Status applySubnetAttribute(model::Subnet& subnet, const SubnetAttributeChange& change);

// A subnet with the values AWS computes per request.
struct SubnetInfo {
  model::Subnet subnet;
  std::string zoneName;  // in the caller's names
  uint64_t availableIps = 0;
};

struct AvailabilityZoneInfo {
  std::string zoneName;  // in the caller's names
  std::string zoneId;
};

struct DescribeZonesInput {
  std::vector<std::string> zoneNames;
  std::vector<std::string> zoneIds;
  Filters filters;
};

class SubnetService {
 public:
  explicit SubnetService(ControlContext& ctx) : ctx_(ctx) {}

  Result<SubnetInfo> createSubnet(const CallContext& call, const CreateSubnetInput& in);
  Result<Page<SubnetInfo>> describeSubnets(const CallContext& call, const DescribeInput& in);
  // DependencyViolation while any network interface (workload, endpoint or
  // load-balancer node) is in the subnet.
  Status deleteSubnet(const CallContext& call, const std::string& subnetId);
  Status modifySubnetAttribute(const CallContext& call, const std::string& subnetId,
                               const SubnetAttributeChange& change);
  // The region's zones in the caller's name order.
  Result<std::vector<AvailabilityZoneInfo>> describeAvailabilityZones(const CallContext& call,
                                                                      const DescribeZonesInput& in);

 private:
  ControlContext& ctx_;
};

std::string subnetArn(const std::string& regionName, const model::Subnet& s);

}  // namespace lp::control
