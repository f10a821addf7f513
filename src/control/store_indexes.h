// The secondary indexes the control plane keeps on its store kinds, so per-call
// checks (quotas, ClientToken idempotency, IP allocation, names in use) read only
// the objects they concern instead of parsing every object of a kind. The store
// maintains them (store::Indexer); this file says which exist. Pure; any thread.
#pragma once

#include <string>
#include <string_view>

#include "store/store.h"

namespace lp::control {

namespace index {
// Index names. Which kinds carry which is listed in storeIndexer().
inline constexpr std::string_view kOwner = "owner";               // owning account
inline constexpr std::string_view kVpc = "vpc";                   // VPC the object lives in
inline constexpr std::string_view kSubnet = "subnet";             // subnet of an interface; subnets a route table or ACL holds
inline constexpr std::string_view kGroup = "group";               // each security group an object carries
inline constexpr std::string_view kOwnerToken = "owner-token";    // ownerToken(owner, ClientToken), when one was given
inline constexpr std::string_view kOwnerName = "owner-name";      // ownerName(owner, name): group, LB, TG names
inline constexpr std::string_view kService = "service";           // endpoint service id
inline constexpr std::string_view kServiceName = "service-name";  // a service's serviceName
inline constexpr std::string_view kEndpoint = "endpoint";         // endpoint id of a notification
inline constexpr std::string_view kManagedBy = "managed-by";      // load balancer owning an interface
inline constexpr std::string_view kLoadBalancer = "load-balancer";  // a listener's or service's load balancer ARN
inline constexpr std::string_view kTargetGroup = "target-group";    // a listener's target group ARN
inline constexpr std::string_view kTopic = "topic";                 // SNS topic ARN of a subscription
// Endpoints that count against their VPC's quota (every state but deleted).
inline constexpr std::string_view kVpcQuota = "vpc-quota";
}  // namespace index

std::string ownerToken(std::string_view owner, std::string_view clientToken);
std::string ownerName(std::string_view owner, std::string_view name);

// Index entries of an object of any control-plane kind, from its JSON body; none
// for a kind without indexes or a body that does not parse.
store::Indexer storeIndexer();

}  // namespace lp::control
