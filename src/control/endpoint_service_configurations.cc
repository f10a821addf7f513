// EndpointService, provider side: endpoint service configurations backed by
// network load balancers (Create, Describe, Modify, DeleteVpcEndpointService-
// Configurations) and their private DNS names (the rules a name must meet, first
// claim owns it, StartVpcEndpointServicePrivateDnsVerification).
// Stateless over a ControlContext; any thread.
#include <algorithm>
#include <array>
#include <set>

#include "control/elb_service.h"
#include "control/endpoint_common.h"
#include "control/endpoint_dns_names.h"
#include "model/elb.h"

namespace lp::control {

using namespace endpoint_internal;

namespace {

// Endpoints that hold a connection to their service.
bool isConnected(const VpcEndpoint& e) {
  return e.state == es::kPendingAcceptance || e.state == es::kPending || e.state == es::kAvailable;
}

// Zones of a set of load balancers: where any of them has a node.
Strings zonesOfLoadBalancers(const View& v, const Strings& arns) {
  std::set<std::string> zones;
  for (const auto& a : arns)
    if (auto lb = v.get<model::LoadBalancer>(a))
      for (const auto& n : lb->nodes) zones.insert(n.zoneId);
  return {zones.begin(), zones.end()};
}

Status checkLoadBalancerArns(const View& v, const CallContext& call, const Strings& arns) {
  for (const auto& a : arns) {
    if (!isLoadBalancerArn(a))
      return err::make(err::kNlbArnMalformed, "The network load balancer ARN '{}' is malformed.", a);
    auto lb = v.get<model::LoadBalancer>(a);
    if (!lb || lb->ownerId != call.account)
      return err::make(err::kNlbArnNotFound, "The network load balancer ARN '{}' does not exist.", a);
  }
  return Status::Ok();
}

// Domains only AWS's own services answer for: a provider's name there would,
// once a consumer enables private DNS, take over an AWS API inside its VPC.
constexpr std::array<std::string_view, 3> kAwsReservedDomains = {"amazonaws.com", "amazonaws.com.cn", "aws"};

// The domain a private DNS name takes in a consumer VPC (it becomes a zone of
// its own there): the name itself, lower case; a wildcard takes the domain under it.
std::string claimedDomain(const std::string& name) {
  std::string d = toLower(name);
  return startsWith(d, "*.") ? d.substr(2) : d;
}

bool isAtOrUnder(std::string_view name, std::string_view domain) {
  return name == domain ||
         (endsWith(name, domain) && name.size() > domain.size() && name[name.size() - domain.size() - 1] == '.');
}

// Two names overlap when one's zone would answer for the other.
bool overlaps(const std::string& a, const std::string& b) {
  std::string da = claimedDomain(a), db = claimedDomain(b);
  return isAtOrUnder(da, db) || isAtOrUnder(db, da);
}

Status checkPrivateDnsName(const std::string& name) {
  if (name.size() > 255 || name.empty() || name.front() == '.' || name.back() == '.' ||
      name.find("..") != std::string::npos || !std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '*';
      }))
    return err::make(err::kInvalidParameter, "The private DNS name '{}' is not a valid domain name.", name);
  for (std::string_view reserved : kAwsReservedDomains)
    if (isAtOrUnder(claimedDomain(name), reserved))
      return err::make(err::kInvalidParameter,
                       "The private DNS name '{}' is under {}, which is reserved for AWS services.", name, reserved);
  return Status::Ok();
}

// First claim owns a name: no service of another account may hold one that
// overlaps it (the same account may reuse its names across its services).
Status checkPrivateDnsNameFree(const View& v, const std::string& account, const std::string& name) {
  if (v.any<ServiceConfiguration>([&](const ServiceConfiguration& s) {
        return s.ownerId != account && !s.privateDnsName.empty() && overlaps(s.privateDnsName, name);
      }))
    return err::make(err::kInvalidParameter,
                     "The private DNS name '{}' is, or overlaps, a name held by another account's endpoint service.",
                     name);
  return Status::Ok();
}

void setPrivateDnsName(ControlContext& ctx, ServiceConfiguration& s, const std::string& name) {
  s.privateDnsName = name;
  s.privateDnsNameState = name.empty() ? "" : "pendingVerification";
  s.privateDnsVerificationValue = name.empty() ? "" : "vpce:" + ctx.random.hex(20);
}

ServiceConfigurationInfo renderService(const ControlContext& ctx, const CallContext& call, ServiceConfiguration s) {
  ServiceConfigurationInfo info;
  info.zoneNames = zoneNamesFor(ctx, call.account, s.zoneIds);
  info.baseEndpointDnsName = baseEndpointDnsName(ctx, s);
  info.service = std::move(s);
  return info;
}

struct ConfigRow {
  ServiceConfigurationInfo info;
  model::Tags tags;
};

const FilterSpec<ConfigRow>& serviceConfigFilters() {
  static const FilterSpec<ConfigRow> spec = [] {
    FilterSpec<ConfigRow> s;
    s.add("service-name", [](const ConfigRow& r) { return Strings{r.info.service.serviceName}; })
        .add("service-id", [](const ConfigRow& r) { return Strings{r.info.service.id.str()}; })
        .add("service-state", [](const ConfigRow& r) { return Strings{r.info.service.state}; })
        .add("supported-ip-address-types", [](const ConfigRow&) { return Strings{"ipv4"}; });
    return s;
  }();
  return spec;
}

}  // namespace

Result<ServiceConfigurationInfo> EndpointService::createServiceConfiguration(
    const CallContext& call, const CreateServiceConfigurationInput& in) {
  if (!in.gatewayLoadBalancerArns.empty())
    return err::make(err::kInvalidParameter, "Gateway Load Balancers are not supported; use network load balancers.");
  if (in.networkLoadBalancerArns.empty())
    return err::make(err::kInvalidParameter, "At least one network load balancer ARN must be specified.");
  for (const auto& t : in.supportedIpAddressTypes) LP_RETURN_IF_ERROR(checkIpv4Only("SupportedIpAddressType", t));
  if (!in.privateDnsName.empty()) LP_RETURN_IF_ERROR(checkPrivateDnsName(in.privateDnsName));
  if (in.clientToken.size() > 64) return err::badValue("ClientToken", in.clientToken);
  LP_ASSIGN_OR_RETURN(auto tags, tagsFromSpecs(in.tagSpecs, "vpc-endpoint-service"));
  ServiceConfigurationInfo out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_RETURN_IF_ERROR(checkLoadBalancerArns(t, call, in.networkLoadBalancerArns));
    Strings arns;
    for (const auto& a : in.networkLoadBalancerArns)
      if (std::find(arns.begin(), arns.end(), a) == arns.end()) arns.push_back(a);
    bool acceptance = in.acceptanceRequired.value_or(true);
    if (!in.clientToken.empty()) {
      auto prior = t.listIndexed<ServiceConfiguration>(index::kOwnerToken, ownerToken(call.account, in.clientToken));
      if (!prior.empty()) {
        const auto& s = prior.front();
        if (s.networkLoadBalancerArns != arns || s.acceptanceRequired != acceptance ||
            s.privateDnsName != in.privateDnsName)
          return err::make(err::kIdempotentParameterMismatch,
                           "The client token '{}' was already used with different parameters.", in.clientToken);
        if (call.dryRun) return err::dryRun();
        out = renderService(ctx_, call, s);
        return Status::Ok();
      }
    }
    if (!in.privateDnsName.empty()) LP_RETURN_IF_ERROR(checkPrivateDnsNameFree(t, call.account, in.privateDnsName));
    if (call.dryRun) return err::dryRun();
    ServiceConfiguration s;
    s.id = model::ServiceId::generate(ctx_.random);
    s.ownerId = call.account;
    s.serviceName = "com.amazonaws.vpce." + ctx_.regionName() + "." + s.id.str();
    s.acceptanceRequired = acceptance;
    s.networkLoadBalancerArns = arns;
    s.zoneIds = zonesOfLoadBalancers(t, arns);
    setPrivateDnsName(ctx_, s, in.privateDnsName);
    s.clientToken = in.clientToken;
    s.createdAt = nowIso(ctx_);
    s.tags = tags;
    t.put(s);
    out = renderService(ctx_, call, std::move(s));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<Page<ServiceConfigurationInfo>> EndpointService::describeServiceConfigurations(const CallContext& call,
                                                                                      const DescribeInput& in) {
  LP_RETURN_IF_ERROR(serviceConfigFilters().validate(in.filters));
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 5, 1000, /*capInsteadOfError=*/true));
  for (const auto& id : in.ids) LP_RETURN_IF_ERROR(checkServiceIdFormat(id));
  if (call.dryRun) return err::dryRun();
  std::vector<ConfigRow> rows;
  ctx_.store.read([&](const store::ReadView& r) {
    for (auto& s : View(r).listWhere<ServiceConfiguration>(
             [&](const ServiceConfiguration& s) { return s.ownerId == call.account; })) {
      ConfigRow row;
      row.tags = s.tags;
      row.info = renderService(ctx_, call, std::move(s));
      rows.push_back(std::move(row));
    }
  });
  for (const auto& id : in.ids)
    if (std::none_of(rows.begin(), rows.end(), [&](const ConfigRow& r) { return r.info.service.id.str() == id; }))
      return err::make(err::kServiceIdNotFound, "The VpcEndpointService Id '{}' does not exist", id);
  std::erase_if(rows, [&](const ConfigRow& r) {
    if (!in.ids.empty() && std::find(in.ids.begin(), in.ids.end(), r.info.service.id.str()) == in.ids.end())
      return true;
    return !serviceConfigFilters().matches(r, in.filters);
  });
  LP_ASSIGN_OR_RETURN(auto p, paginate(std::move(rows), in.page, [](const ConfigRow& r) -> const std::string& {
                        return r.info.service.id.str();
                      }));
  Page<ServiceConfigurationInfo> out;
  out.nextToken = p.nextToken;
  for (auto& r : p.items) out.items.push_back(std::move(r.info));
  return out;
}

Status EndpointService::modifyServiceConfiguration(const CallContext& call, const ModifyServiceConfigurationInput& in) {
  if (!in.addGatewayLoadBalancerArns.empty() || !in.removeGatewayLoadBalancerArns.empty())
    return err::make(err::kInvalidParameter, "Gateway Load Balancers are not supported; use network load balancers.");
  for (const auto& t : in.addSupportedIpAddressTypes) LP_RETURN_IF_ERROR(checkIpv4Only("AddSupportedIpAddressType", t));
  for (const auto& t : in.removeSupportedIpAddressTypes)
    if (t == "ipv4") return err::make(err::kInvalidParameter, "A service must support ipv4.");
  if (in.privateDnsName && in.removePrivateDnsName)
    return err::make(err::kInvalidParameterCombination, "PrivateDnsName cannot be combined with RemovePrivateDnsName.");
  if (in.privateDnsName && !in.privateDnsName->empty()) LP_RETURN_IF_ERROR(checkPrivateDnsName(*in.privateDnsName));
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(ServiceConfiguration s, findOwnedService(t, call, in.serviceId));
    LP_RETURN_IF_ERROR(checkLoadBalancerArns(t, call, in.addNetworkLoadBalancerArns));
    Strings arns = s.networkLoadBalancerArns;
    for (const auto& a : in.removeNetworkLoadBalancerArns) {
      auto it = std::find(arns.begin(), arns.end(), a);
      if (it == arns.end())
        return err::make(err::kInvalidParameter, "The network load balancer {} is not part of the service {}.", a,
                         s.id.str());
      arns.erase(it);
    }
    for (const auto& a : in.addNetworkLoadBalancerArns)
      if (std::find(arns.begin(), arns.end(), a) == arns.end()) arns.push_back(a);
    if (arns.empty())
      return err::make(err::kInvalidParameter, "A service must keep at least one network load balancer.");
    if (!in.removeNetworkLoadBalancerArns.empty() &&
        t.anyIndexed<VpcEndpoint>(index::kService, s.id.str(), [](const VpcEndpoint& e) { return isConnected(e); }))
      return err::make(err::kExistingVpcEndpointConnections,
                       "Network load balancers cannot be removed from the service {} while it has endpoint "
                       "connections.",
                       s.id.str());
    bool newName = in.privateDnsName && !in.privateDnsName->empty() && *in.privateDnsName != s.privateDnsName;
    if (newName) LP_RETURN_IF_ERROR(checkPrivateDnsNameFree(t, call.account, *in.privateDnsName));
    if (call.dryRun) return err::dryRun();
    s.networkLoadBalancerArns = arns;
    s.zoneIds = zonesOfLoadBalancers(t, arns);
    if (in.acceptanceRequired) s.acceptanceRequired = *in.acceptanceRequired;
    if (in.removePrivateDnsName) setPrivateDnsName(ctx_, s, "");
    if (in.privateDnsName && *in.privateDnsName != s.privateDnsName) setPrivateDnsName(ctx_, s, *in.privateDnsName);
    t.put(s);
    return Status::Ok();
  });
}

Result<std::vector<UnsuccessfulItem>> EndpointService::deleteServiceConfigurations(
    const CallContext& call, const std::vector<std::string>& ids) {
  if (ids.empty()) return err::missing("ServiceId");
  std::vector<UnsuccessfulItem> failed;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    failed.clear();
    std::vector<model::ServiceId> doomed;
    for (const auto& id : ids) {
      auto s = model::isWellFormed<model::ServiceId>(id) ? t.get<ServiceConfiguration>(id) : std::nullopt;
      if (!s || s->ownerId != call.account) {
        failed.push_back(
            failure(id, err::kServiceNotFound, fmt::format("The VpcEndpointService Id '{}' does not exist", id)));
        continue;
      }
      if (t.anyIndexed<VpcEndpoint>(index::kService, s->id.str(),
                                    [](const VpcEndpoint& e) { return isConnected(e); })) {
        failed.push_back(failure(id, err::kExistingVpcEndpointConnections,
                                 fmt::format("Service {} has existing VPC endpoint connections in pendingAcceptance, "
                                             "pending or available state; reject them or have them deleted first.",
                                             id)));
        continue;
      }
      doomed.push_back(s->id);
    }
    if (call.dryRun) return err::dryRun();
    for (const auto& id : doomed) {
      t.erase<ServiceConfiguration>(id);
      for (const auto& n : t.listIndexed<model::ConnectionNotification>(index::kService, id.str()))
        t.erase<model::ConnectionNotification>(n.id);
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return failed;
}

Status EndpointService::startPrivateDnsVerification(const CallContext& call, const std::string& serviceId) {
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(ServiceConfiguration s, findOwnedService(t, call, serviceId));
    if (s.privateDnsName.empty())
      return err::make(err::kInvalidParameter, "The service {} has no private DNS name to verify.", s.id.str());
    if (call.dryRun) return err::dryRun();
    // There is no public DNS to look the TXT record up in: the proof this
    // single-operator deployment can have is that the name is outside AWS's
    // domains and no other account holds it (both checked when it was set; again
    // here for names stored before those checks existed).
    bool ok =
        checkPrivateDnsName(s.privateDnsName).ok() && checkPrivateDnsNameFree(t, call.account, s.privateDnsName).ok();
    s.privateDnsNameState = ok ? "verified" : "failed";
    t.put(s);
    return Status::Ok();
  });
}

}  // namespace lp::control
