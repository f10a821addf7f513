// EndpointService: the PrivateLink control plane of the seeds. Provider side:
// endpoint service configurations backed by network load balancers, their
// allowed principals, and accepting or rejecting connections. Consumer side:
// discovering services, and creating, describing, modifying and deleting
// interface endpoints, each with one requester-managed network interface per
// subnet. The AWS service catalog is a set of services owned by "amazon".
//
// Every mutating call is one store transaction: a refused call changes nothing,
// and the connection events it causes are recorded in the same transaction.
// Stateless over a ControlContext; any thread.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "control/common.h"
#include "control/query.h"
#include "control/vpc_service.h"
#include "model/endpoint.h"

namespace lp::control {

// ---- consumer side ----

struct CreateVpcEndpointInput {
  std::string vpcEndpointType;  // "" = Gateway, as AWS defaults it
  std::string vpcId;
  std::string serviceName;
  std::string policyDocument;
  std::vector<std::string> routeTableIds;
  std::vector<std::string> subnetIds;
  std::vector<std::string> securityGroupIds;
  std::string ipAddressType;
  std::string dnsRecordIpType;
  std::optional<bool> privateDnsEnabled;
  std::string clientToken;
  std::vector<TagSpecification> tagSpecs;
};

struct ModifyVpcEndpointInput {
  std::string vpcEndpointId;
  bool resetPolicy = false;
  std::optional<std::string> policyDocument;
  std::vector<std::string> addRouteTableIds, removeRouteTableIds;
  std::vector<std::string> addSubnetIds, removeSubnetIds;
  std::vector<std::string> addSecurityGroupIds, removeSecurityGroupIds;
  std::string ipAddressType;
  std::optional<bool> privateDnsEnabled;
};

// An endpoint with what AWS renders per request.
struct VpcEndpointInfo {
  model::VpcEndpoint endpoint;
  std::vector<std::pair<std::string, std::string>> groups;  // id, name
};

// What DescribeVpcEndpointServices shows of one service, in the caller's zone names.
struct ServiceDetailInfo {
  model::ServiceConfiguration service;
  std::vector<std::string> zoneNames;
  std::string baseEndpointDnsName;
};

// One failed item of a batch call (HTTP 200 with <unsuccessful>).
struct UnsuccessfulItem {
  std::string resourceId;
  std::string code;
  std::string message;
};

// ---- provider side ----

struct CreateServiceConfigurationInput {
  std::optional<bool> acceptanceRequired;
  std::string privateDnsName;
  std::vector<std::string> networkLoadBalancerArns;
  std::vector<std::string> gatewayLoadBalancerArns;
  std::vector<std::string> supportedIpAddressTypes;
  std::string clientToken;
  std::vector<TagSpecification> tagSpecs;
};

struct ModifyServiceConfigurationInput {
  std::string serviceId;
  std::optional<std::string> privateDnsName;
  bool removePrivateDnsName = false;
  std::optional<bool> acceptanceRequired;
  std::vector<std::string> addNetworkLoadBalancerArns, removeNetworkLoadBalancerArns;
  std::vector<std::string> addGatewayLoadBalancerArns, removeGatewayLoadBalancerArns;
  std::vector<std::string> addSupportedIpAddressTypes, removeSupportedIpAddressTypes;
};

struct ServiceConfigurationInfo {
  model::ServiceConfiguration service;
  std::vector<std::string> zoneNames;  // the caller's names of its zones
  std::string baseEndpointDnsName;
};

struct PermissionInfo {
  model::AllowedPrincipal principal;
  std::string principalType;  // All | Account | User | Role
  model::ServiceId serviceId;
};

// An endpoint as its service's provider sees it.
struct ConnectionInfo {
  model::VpcEndpoint endpoint;
  std::vector<std::string> networkLoadBalancerArns;
  std::string connectionId;  // vpce-con-...
};

class EndpointService {
 public:
  explicit EndpointService(ControlContext& ctx) : ctx_(ctx) {}

  Result<VpcEndpointInfo> createVpcEndpoint(const CallContext& call, const CreateVpcEndpointInput& in);
  Result<Page<VpcEndpointInfo>> describeVpcEndpoints(const CallContext& call, const DescribeInput& in);
  Status modifyVpcEndpoint(const CallContext& call, const ModifyVpcEndpointInput& in);
  Result<std::vector<UnsuccessfulItem>> deleteVpcEndpoints(const CallContext& call,
                                                           const std::vector<std::string>& ids);
  // ServiceName.N filters by name (an unknown name is InvalidServiceName).
  Result<Page<ServiceDetailInfo>> describeVpcEndpointServices(const CallContext& call,
                                                              const std::vector<std::string>& names,
                                                              const Filters& filters, const PageRequest& page);

  Result<ServiceConfigurationInfo> createServiceConfiguration(const CallContext& call,
                                                              const CreateServiceConfigurationInput& in);
  Result<Page<ServiceConfigurationInfo>> describeServiceConfigurations(const CallContext& call,
                                                                       const DescribeInput& in);
  Status modifyServiceConfiguration(const CallContext& call, const ModifyServiceConfigurationInput& in);
  Result<std::vector<UnsuccessfulItem>> deleteServiceConfigurations(const CallContext& call,
                                                                    const std::vector<std::string>& ids);
  Status startPrivateDnsVerification(const CallContext& call, const std::string& serviceId);

  Result<Page<PermissionInfo>> describeServicePermissions(const CallContext& call, const std::string& serviceId,
                                                          const Filters& filters, const PageRequest& page);
  // Returns the principals added.
  Result<std::vector<PermissionInfo>> modifyServicePermissions(const CallContext& call, const std::string& serviceId,
                                                               const std::vector<std::string>& add,
                                                               const std::vector<std::string>& remove);

  Result<std::vector<UnsuccessfulItem>> acceptConnections(const CallContext& call, const std::string& serviceId,
                                                          const std::vector<std::string>& endpointIds);
  Result<std::vector<UnsuccessfulItem>> rejectConnections(const CallContext& call, const std::string& serviceId,
                                                          const std::vector<std::string>& endpointIds);
  Result<Page<ConnectionInfo>> describeConnections(const CallContext& call, const Filters& filters,
                                                   const PageRequest& page);

 private:
  Result<std::vector<UnsuccessfulItem>> decideConnections(const CallContext& call, const std::string& serviceId,
                                                          const std::vector<std::string>& endpointIds, bool accept);

  ControlContext& ctx_;
};

// Writes the AWS service catalog (the seed's list, owner "amazon", no
// acceptance, private DNS names <svc>.<region>.amazonaws.com, backends from the
// settings now) into the store; idempotent, run at daemon start and after a reload
// (a changed backend reaches the endpoints' listeners through the reconciler).
Status syncAwsServiceCatalog(ControlContext& ctx);

// The short names of the AWS services in the catalog ("ec2", "sts", ...).
const std::vector<std::string>& awsServiceCatalog();

// The default endpoint policy: full access.
const std::string& defaultEndpointPolicy();

}  // namespace lp::control
