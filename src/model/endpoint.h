// PrivateLink resources: endpoint service configurations (provider side),
// interface VPC endpoints (consumer side) and connection notifications.
// Values only; the lifecycle rules are in control/.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/ids.h"
#include "model/region.h"
#include "model/resources.h"

namespace lp::model {

// Endpoint states exactly as they travel on the wire (lower camel).
namespace endpoint_state {
inline constexpr std::string_view kPendingAcceptance = "pendingAcceptance";
inline constexpr std::string_view kPending = "pending";
inline constexpr std::string_view kAvailable = "available";
inline constexpr std::string_view kRejected = "rejected";
inline constexpr std::string_view kDeleting = "deleting";
inline constexpr std::string_view kDeleted = "deleted";
inline constexpr std::string_view kFailed = "failed";
}  // namespace endpoint_state

// One allowed principal of an endpoint service: "arn:aws:iam::<acct>:root" (or
// :user/..., :role/...) or "*".
struct AllowedPrincipal {
  std::string principal;
  std::string permissionId;  // "vpce-svc-perm-<17 hex>"
  bool operator==(const AllowedPrincipal&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AllowedPrincipal, principal, permissionId)

struct ServiceConfiguration {
  static constexpr std::string_view kKind = "vpce-service";
  ServiceId id;
  AccountId ownerId;                       // kAmazonAccount for the AWS catalog
  std::string serviceName;                 // com.amazonaws.vpce.<region>.vpce-svc-... or com.amazonaws.<region>.<svc>
  std::string state = "Available";         // PascalCase on the wire
  bool acceptanceRequired = true;
  bool managesVpcEndpoints = false;
  std::vector<std::string> networkLoadBalancerArns;
  std::vector<std::string> zoneIds;        // zones of the load balancers' nodes
  std::string privateDnsName;              // "" when none
  // Private DNS name ownership: pendingVerification -> verified (AWS services: verified).
  std::string privateDnsNameState;
  std::string privateDnsVerificationValue;  // TXT value the provider publishes
  std::vector<AllowedPrincipal> allowedPrincipals;
  // For AWS services: the backend the data plane forwards to ("host:port"), from the config.
  std::string backend;
  std::string clientToken;
  std::string createdAt;
  Tags tags;
  bool isAwsService() const { return ownerId == kAmazonAccount; }
  // The private DNS name endpoints may use: set and verified.
  bool hasUsablePrivateDnsName() const { return !privateDnsName.empty() && privateDnsNameState == "verified"; }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ServiceConfiguration, id, ownerId, serviceName, state,
                                                acceptanceRequired, managesVpcEndpoints, networkLoadBalancerArns,
                                                zoneIds, privateDnsName, privateDnsNameState,
                                                privateDnsVerificationValue, allowedPrincipals, backend, clientToken,
                                                createdAt, tags)

struct DnsEntry {
  std::string dnsName;
  std::string hostedZoneId;
  std::string zoneId;  // "" for the regional name and the private name; the zone for zonal names
  bool operator==(const DnsEntry&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DnsEntry, dnsName, hostedZoneId, zoneId)

// One change of an endpoint's state, as the endpoint's lifecycle timeline shows it.
// cause is the API action that made it (with actor, the calling account) or
// kReconcilerCause (actor empty) for the reconciler's status writes.
struct EndpointStateChange {
  std::string state;
  std::string at;      // ISO 8601 with milliseconds
  std::string cause;
  std::string actor;
  std::string reason;  // why, when the change says it (a failure's message)
  bool operator==(const EndpointStateChange&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(EndpointStateChange, state, at, cause, actor, reason)

inline constexpr std::string_view kReconcilerCause = "reconciler";
// Changes kept per endpoint, oldest dropped first. A lifecycle has at most 6
// (pendingAcceptance, pending, available, rejected, deleting, deleted); the
// rest is room for what a later state machine adds. ~120 bytes each in the store.
inline constexpr size_t kStateHistoryLimit = 16;

struct VpcEndpoint {
  static constexpr std::string_view kKind = "vpc-endpoint";
  VpcEndpointId id;
  AccountId ownerId;
  std::string type = "Interface";
  VpcId vpcId;
  ServiceId serviceId;
  std::string serviceName;
  std::string state{endpoint_state::kPending};
  std::string policyDocument;
  std::vector<SubnetId> subnetIds;
  std::vector<SecurityGroupId> groupIds;
  std::vector<NetworkInterfaceId> networkInterfaceIds;
  bool privateDnsEnabled = false;
  std::vector<DnsEntry> dnsEntries;  // regional, zonal..., then the private name when enabled
  std::string dnsLabel;              // the 8 random characters in the endpoint's DNS names
  std::string lastErrorCode;
  std::string lastErrorMessage;
  std::string clientToken;
  std::string createdAt;
  std::string stateChangedAt;  // when state last changed ("deleted" ones are purged after a while)
  Tags tags;
  // Every change of state, oldest first, at most kStateHistoryLimit; written in the
  // same store write as the state itself, gone when the endpoint is purged.
  std::vector<EndpointStateChange> stateHistory;

  // Sets state and stateChangedAt and appends the change to stateHistory.
  void changeState(std::string_view next, std::string at, std::string_view cause, std::string_view actor,
                   std::string_view reason = {}) {
    state = std::string(next);
    stateChangedAt = at;
    stateHistory.push_back({state, std::move(at), std::string(cause), std::string(actor), std::string(reason)});
    if (stateHistory.size() > kStateHistoryLimit)
      stateHistory.erase(stateHistory.begin(), stateHistory.end() - kStateHistoryLimit);
  }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(VpcEndpoint, id, ownerId, type, vpcId, serviceId, serviceName, state,
                                                policyDocument, subnetIds, groupIds, networkInterfaceIds,
                                                privateDnsEnabled, dnsEntries, dnsLabel, lastErrorCode,
                                                lastErrorMessage, clientToken, createdAt, stateChangedAt, tags,
                                                stateHistory)

struct ConnectionNotification {
  static constexpr std::string_view kKind = "vpce-connection-notification";
  ConnectionNotificationId id;
  AccountId ownerId;
  ServiceId serviceId;          // set for a service's notification (provider)
  VpcEndpointId vpcEndpointId;  // set for an endpoint's notification (consumer)
  std::string topicArn;
  std::vector<std::string> events;  // Accept, Connect, Delete, Reject
  std::string state = "Enabled";
  std::string createdAt;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ConnectionNotification, id, ownerId, serviceId, vpcEndpointId, topicArn,
                                                events, state, createdAt)

}  // namespace lp::model
