#include "control/store_indexes.h"

#include <nlohmann/json.hpp>

#include "model/elb.h"
#include "model/endpoint.h"
#include "model/instance.h"
#include "model/network.h"
#include "model/resources.h"
#include "model/sns.h"
#include "model/volume.h"

namespace lp::control {

std::string ownerToken(std::string_view owner, std::string_view clientToken) {
  return std::string(owner) + "/" + std::string(clientToken);
}

std::string ownerName(std::string_view owner, std::string_view name) {
  return std::string(owner) + "/" + std::string(name);
}

namespace {

using store::IndexEntries;

void add(IndexEntries& out, std::string_view name, const std::string& value) {
  if (!value.empty()) out.emplace_back(std::string(name), value);
}

template <typename Id>
void addEach(IndexEntries& out, std::string_view name, const std::vector<Id>& ids) {
  for (const auto& id : ids) {
    std::string v = id.str();
    bool seen = false;
    for (const auto& [n, existing] : out) seen |= n == name && existing == v;
    if (!seen) add(out, name, v);
  }
}

void addToken(IndexEntries& out, const std::string& owner, const std::string& token) {
  if (!token.empty()) add(out, index::kOwnerToken, ownerToken(owner, token));
}

IndexEntries entriesOf(const model::Vpc& v) {
  IndexEntries out;
  add(out, index::kOwner, v.ownerId);
  return out;
}
IndexEntries entriesOf(const model::Subnet& s) {
  IndexEntries out;
  add(out, index::kOwner, s.ownerId);
  add(out, index::kVpc, s.vpcId.str());
  return out;
}
IndexEntries entriesOf(const model::SecurityGroup& g) {
  IndexEntries out;
  add(out, index::kOwner, g.ownerId);
  add(out, index::kVpc, g.vpcId.str());
  add(out, index::kOwnerName, ownerName(g.ownerId, g.name));
  return out;
}
IndexEntries entriesOf(const model::NetworkInterface& e) {
  IndexEntries out;
  add(out, index::kOwner, e.ownerId);
  add(out, index::kVpc, e.vpcId.str());
  add(out, index::kSubnet, e.subnetId.str());
  addEach(out, index::kGroup, e.groupIds);
  add(out, index::kManagedBy, e.managedBy);
  addToken(out, e.ownerId, e.clientToken);
  return out;
}
IndexEntries entriesOf(const model::Volume& v) {
  IndexEntries out;
  add(out, index::kOwner, v.ownerId);
  addToken(out, v.ownerId, v.clientToken);
  return out;
}
IndexEntries entriesOf(const model::Instance& i) {
  IndexEntries out;
  add(out, index::kOwner, i.ownerId);
  add(out, index::kVpc, i.vpcId.str());
  add(out, index::kSubnet, i.subnetId.str());
  addEach(out, index::kGroup, i.groupIds);
  addToken(out, i.ownerId, i.clientToken);
  return out;
}
IndexEntries entriesOf(const model::VpcEndpoint& e) {
  IndexEntries out;
  add(out, index::kOwner, e.ownerId);
  add(out, index::kVpc, e.vpcId.str());
  if (e.state != model::endpoint_state::kDeleted) add(out, index::kVpcQuota, e.vpcId.str());
  add(out, index::kService, e.serviceId.str());
  addEach(out, index::kGroup, e.groupIds);
  addToken(out, e.ownerId, e.clientToken);
  return out;
}
IndexEntries entriesOf(const model::ServiceConfiguration& s) {
  IndexEntries out;
  add(out, index::kOwner, s.ownerId);
  add(out, index::kServiceName, s.serviceName);
  for (const auto& arn : s.networkLoadBalancerArns) add(out, index::kLoadBalancer, arn);
  addToken(out, s.ownerId, s.clientToken);
  return out;
}
IndexEntries entriesOf(const model::ConnectionNotification& n) {
  IndexEntries out;
  add(out, index::kOwner, n.ownerId);
  add(out, index::kService, n.serviceId.str());
  add(out, index::kEndpoint, n.vpcEndpointId.str());
  return out;
}
IndexEntries entriesOf(const model::LoadBalancer& l) {
  IndexEntries out;
  add(out, index::kOwner, l.ownerId);
  add(out, index::kOwnerName, ownerName(l.ownerId, l.name));
  return out;
}
IndexEntries entriesOf(const model::TargetGroup& g) {
  IndexEntries out;
  add(out, index::kOwner, g.ownerId);
  add(out, index::kOwnerName, ownerName(g.ownerId, g.name));
  return out;
}
IndexEntries entriesOf(const model::Listener& l) {
  IndexEntries out;
  add(out, index::kOwner, l.ownerId);
  add(out, index::kLoadBalancer, l.loadBalancerArn);
  add(out, index::kTargetGroup, l.targetGroupArn);
  return out;
}
// Route tables and ACLs by the subnets associated with them explicitly.
template <typename R>
IndexEntries vpcNetworkEntries(const R& r) {
  IndexEntries out;
  add(out, index::kOwner, r.ownerId);
  add(out, index::kVpc, r.vpcId.str());
  for (const auto& a : r.associations) add(out, index::kSubnet, a.subnetId.str());
  addToken(out, r.ownerId, r.clientToken);
  return out;
}
IndexEntries entriesOf(const model::RouteTable& r) { return vpcNetworkEntries(r); }
IndexEntries entriesOf(const model::NetworkAcl& a) { return vpcNetworkEntries(a); }
IndexEntries entriesOf(const model::SnsSubscription& s) {
  IndexEntries out;
  add(out, index::kTopic, s.topicArn);
  return out;
}

template <typename R>
IndexEntries decodeEntries(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return {};
  try {
    return entriesOf(j.get<R>());
  } catch (const nlohmann::json::exception&) {
    return {};
  }
}

}  // namespace

store::Indexer storeIndexer() {
  return [](std::string_view kind, std::string_view body) -> IndexEntries {
    if (kind == model::Vpc::kKind) return decodeEntries<model::Vpc>(body);
    if (kind == model::Subnet::kKind) return decodeEntries<model::Subnet>(body);
    if (kind == model::SecurityGroup::kKind) return decodeEntries<model::SecurityGroup>(body);
    if (kind == model::NetworkInterface::kKind) return decodeEntries<model::NetworkInterface>(body);
    if (kind == model::VpcEndpoint::kKind) return decodeEntries<model::VpcEndpoint>(body);
    if (kind == model::Instance::kKind) return decodeEntries<model::Instance>(body);
    if (kind == model::Volume::kKind) return decodeEntries<model::Volume>(body);
    if (kind == model::ServiceConfiguration::kKind) return decodeEntries<model::ServiceConfiguration>(body);
    if (kind == model::ConnectionNotification::kKind) return decodeEntries<model::ConnectionNotification>(body);
    if (kind == model::LoadBalancer::kKind) return decodeEntries<model::LoadBalancer>(body);
    if (kind == model::TargetGroup::kKind) return decodeEntries<model::TargetGroup>(body);
    if (kind == model::Listener::kKind) return decodeEntries<model::Listener>(body);
    if (kind == model::RouteTable::kKind) return decodeEntries<model::RouteTable>(body);
    if (kind == model::NetworkAcl::kKind) return decodeEntries<model::NetworkAcl>(body);
    if (kind == model::SnsSubscription::kKind) return decodeEntries<model::SnsSubscription>(body);
    return {};
  };
}

}  // namespace lp::control
