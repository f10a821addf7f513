#include "control/endpoint_service.h"

#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "control/connection_events.h"
#include "control/elb_service.h"
#include "control/ip_allocation.h"
#include "control/network_interface_service.h"
#include "model/elb.h"

namespace lp::control {

using model::NetworkInterface;
using model::SecurityGroup;
using model::ServiceConfiguration;
using model::Subnet;
using model::Vpc;
using model::VpcEndpoint;
namespace es = model::endpoint_state;

namespace {

using Strings = std::vector<std::string>;

// The seed's list of AWS services reachable through interface endpoints (short
// names as they appear in com.amazonaws.<region>.<name>).
const Strings kAwsServices = {
    "cloudformation",
    "codebuild",
    "config",
    "ec2",
    "elasticloadbalancing",
    "events",
    "execute-api",
    "kinesis-streams",
    "kms",
    "logs",
    "monitoring",
    "sagemaker.runtime",
    "secretsmanager",
    "servicecatalog",
    "sns",
    "ssm",
    "sts",
};

// A service's default DNS name where it is not simply <name>.<region>.amazonaws.com.
std::string awsPrivateDnsName(const std::string& shortName, const std::string& region) {
  if (shortName == "kinesis-streams") return "kinesis." + region + ".amazonaws.com";
  if (shortName == "sagemaker.runtime") return "runtime.sagemaker." + region + ".amazonaws.com";
  return shortName + "." + region + ".amazonaws.com";
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// 17 hex digits derived from a name: stable ids for things made from config.
std::string stableHex17(std::string_view s) {
  std::string h = fmt::format("{:016x}", fnv1a(s));
  return fmt::format("{:x}", fnv1a(std::string(s) + "#") & 0xf) + h;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string awsServiceName(const std::string& region, const std::string& shortName) {
  return "com.amazonaws." + region + "." + shortName;
}

// The label every DNS name of a service shares: the AWS short name, or the
// endpoint service's id.
std::string serviceDnsLabel(const ControlContext& ctx, const ServiceConfiguration& s) {
  if (s.isAwsService()) {
    std::string prefix = "com.amazonaws." + ctx.regionName() + ".";
    return startsWith(s.serviceName, prefix) ? s.serviceName.substr(prefix.size()) : s.serviceName;
  }
  return s.id.str();
}

std::string baseEndpointDnsName(const ControlContext& ctx, const ServiceConfiguration& s) {
  return serviceDnsLabel(ctx, s) + "." + ctx.regionName() + ".vpce.amazonaws.com";
}

// Route 53 zone of vpce.amazonaws.com names (the seed's value in us-east-1).
std::string vpceHostedZoneId(const std::string& region) {
  if (region == "us-east-1") return "Z7HUB22UULQXV";
  return "Z" + upper(stableHex17("vpce." + region)).substr(0, 13);
}

// The private hosted zone that holds a private DNS name for one VPC.
std::string privateHostedZoneId(const std::string& vpcId, const std::string& name) {
  return "Z" + upper(stableHex17(vpcId + "|" + name)).substr(0, 13);
}

std::string randomDnsLabel(Random& r) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (int i = 0; i < 8; ++i) out += kAlphabet[r.next64() % 36];
  return out;
}

std::vector<model::DnsEntry> computeDnsEntries(const ControlContext& ctx, const VpcEndpoint& e,
                                               const ServiceConfiguration& s, const std::vector<Subnet>& subnets) {
  std::vector<model::DnsEntry> out;
  std::string first = e.id.str() + "-" + e.dnsLabel;
  std::string rest = "." + baseEndpointDnsName(ctx, s);
  std::string zone = vpceHostedZoneId(ctx.regionName());
  out.push_back({first + rest, zone, ""});
  // Zonal names in the endpoint owner's zone names, in name order.
  std::vector<std::pair<std::string, std::string>> zonal;  // name, zone id
  for (const auto& sub : subnets) zonal.emplace_back(ctx.zoneName(e.ownerId, sub.zoneId), sub.zoneId);
  std::sort(zonal.begin(), zonal.end());
  for (const auto& [name, zoneId] : zonal) out.push_back({first + "-" + name + rest, zone, zoneId});
  if (e.privateDnsEnabled && s.hasUsablePrivateDnsName())
    out.push_back({s.privateDnsName, privateHostedZoneId(e.vpcId.str(), s.privateDnsName), ""});
  return out;
}

// Whether account may discover and connect to s.
bool allowedFor(const ServiceConfiguration& s, const std::string& account) {
  if (s.isAwsService() || s.ownerId == account) return true;
  std::string root = "arn:aws:iam::" + account + ":root";
  return std::any_of(s.allowedPrincipals.begin(), s.allowedPrincipals.end(),
                     [&](const model::AllowedPrincipal& p) { return p.principal == "*" || p.principal == root; });
}

// Endpoints that hold a connection to their service.
bool isConnected(const VpcEndpoint& e) {
  return e.state == es::kPendingAcceptance || e.state == es::kPending || e.state == es::kAvailable;
}

bool isLive(const VpcEndpoint& e) { return e.state != es::kDeleted && e.state != es::kDeleting; }

std::string principalType(const std::string& p) {
  if (p == "*") return "All";
  if (p.find(":role/") != std::string::npos) return "Role";
  if (p.find(":user/") != std::string::npos) return "User";
  return "Account";
}

bool isValidPrincipal(const std::string& p) {
  if (p == "*") return true;
  static constexpr std::string_view kPrefix = "arn:aws:iam::";
  if (!startsWith(p, kPrefix) || p.size() < kPrefix.size() + 13) return false;
  std::string_view acct = std::string_view(p).substr(kPrefix.size(), 12);
  if (!std::all_of(acct.begin(), acct.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  std::string_view rest = std::string_view(p).substr(kPrefix.size() + 12);
  return rest == ":root" || ((startsWith(rest, ":user/") || startsWith(rest, ":role/")) && rest.size() > 6);
}

Status checkIpv4Only(std::string_view param, const std::string& value) {
  if (value.empty() || value == "ipv4") return Status::Ok();
  if (value == "dualstack" || value == "ipv6" || value == "service-defined")
    return err::make(err::kInvalidParameter, "{} '{}' is not supported: endpoints here are IPv4 only.", param, value);
  return err::badValue(std::string(param), value);
}

Status checkPolicyDocument(const std::string& doc) {
  if (doc.size() > 20480) return err::make(err::kInvalidPolicyDocument, "The policy document is too large.");
  auto j = nlohmann::json::parse(doc, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return err::make(err::kInvalidPolicyDocument, "The policy document is not a valid JSON object.");
  return Status::Ok();
}

Status checkServiceIdFormat(const std::string& id) {
  if (!model::isWellFormed<model::ServiceId>(id))
    return err::make(err::kServiceIdMalformed, "Invalid Id: '{}' (expecting 'vpce-svc-...')", id);
  return Status::Ok();
}

Result<ServiceConfiguration> findOwnedService(const View& v, const CallContext& call, const std::string& id) {
  if (id.empty()) return err::missing("ServiceId");
  LP_RETURN_IF_ERROR(checkServiceIdFormat(id));
  auto s = v.get<ServiceConfiguration>(id);
  if (!s || s->ownerId != call.account)
    return err::make(err::kServiceIdNotFound, "The VpcEndpointService Id '{}' does not exist", id);
  return std::move(*s);
}

Result<VpcEndpoint> findOwnedEndpoint(const View& v, const CallContext& call, const std::string& id) {
  if (id.empty()) return err::missing("VpcEndpointId");
  return findOwned<VpcEndpoint>(v, call, id, err::kEndpointIdMalformed, err::kEndpointIdNotFound, "VpcEndpoint Id");
}

// The caller's subnets for an endpoint: in its VPC, at most one per zone (counting
// the zones it already has), only zones the service supports.
Result<std::vector<Subnet>> resolveEndpointSubnets(const View& v, const CallContext& call, const model::VpcId& vpcId,
                                                   const Strings& ids, std::set<std::string> zonesTaken,
                                                   const ServiceConfiguration& svc) {
  std::vector<Subnet> out;
  for (const auto& id : ids) {
    LP_ASSIGN_OR_RETURN(Subnet s,
                        findOwned<Subnet>(v, call, id, err::kSubnetMalformed, err::kSubnetNotFound, "subnet ID"));
    if (s.vpcId != vpcId)
      return err::make(err::kInvalidParameter, "The subnet ID '{}' does not belong to the VPC '{}'.", id, vpcId.str());
    if (!zonesTaken.insert(s.zoneId).second)
      return err::make(err::kDuplicateSubnetsInSameZone,
                       "Found another VPC endpoint subnet in the availability zone of {}. VPC endpoint subnets "
                       "should be in different availability zones supported by the VPC endpoint service.",
                       id);
    if (std::find(svc.zoneIds.begin(), svc.zoneIds.end(), s.zoneId) == svc.zoneIds.end())
      return err::make(err::kInvalidParameter,
                       "The VPC endpoint service {} does not support the availability zone of the subnet: {}.",
                       svc.serviceName, id);
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<model::SecurityGroupId>> resolveEndpointGroups(const View& v, const CallContext& call,
                                                                  const model::VpcId& vpcId, const Strings& ids) {
  std::vector<model::SecurityGroupId> out;
  for (const auto& id : ids) {
    if (!model::isWellFormed<model::SecurityGroupId>(id))
      return err::make(err::kGroupIdMalformed, "Invalid id: \"{}\" (expecting \"sg-...\")", id);
    auto g = v.get<SecurityGroup>(id);
    if (!g || g->ownerId != call.account)
      return err::make(err::kGroupNotFound, "The security group '{}' does not exist", id);
    if (g->vpcId != vpcId)
      return err::make(err::kInvalidParameter, "The security group '{}' does not belong to the VPC '{}'.", id,
                       vpcId.str());
    if (std::find(out.begin(), out.end(), g->id) == out.end()) out.push_back(g->id);
  }
  return out;
}

// Private DNS needs a name to publish, both VPC DNS attributes, and no other
// endpoint in the VPC already holding that name.
Status checkPrivateDns(const View& v, const Vpc& vpc, const ServiceConfiguration& svc,
                       const model::VpcEndpointId& self) {
  if (!svc.hasUsablePrivateDnsName())
    return err::make(err::kInvalidParameter,
                     "Private DNS can't be enabled because the service {} does not provide a private DNS name.",
                     svc.serviceName);
  if (!vpc.enableDnsSupport || !vpc.enableDnsHostnames)
    return err::make(err::kInvalidParameter,
                     "Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set "
                     "to true for {}",
                     vpc.id.str());
  bool conflict = v.anyIndexed<VpcEndpoint>(index::kVpc, vpc.id.str(), [&](const VpcEndpoint& o) {
    if (o.id == self || !o.privateDnsEnabled || !isLive(o)) return false;
    return std::any_of(o.dnsEntries.begin(), o.dnsEntries.end(),
                       [&](const model::DnsEntry& d) { return d.dnsName == svc.privateDnsName; });
  });
  if (conflict)
    return err::make(err::kInvalidParameter,
                     "private-dns-enabled cannot be set because there is already a conflicting DNS domain for {} in "
                     "the VPC {}",
                     svc.privateDnsName, vpc.id.str());
  return Status::Ok();
}

NetworkInterface makeEndpointInterface(ControlContext& ctx, const VpcEndpoint& e, const Subnet& s,
                                       const std::string& ip) {
  NetworkInterface eni;
  eni.id = model::NetworkInterfaceId::generate(ctx.random);
  eni.ownerId = e.ownerId;
  eni.vpcId = s.vpcId;
  eni.subnetId = s.id;
  eni.zoneId = s.zoneId;
  eni.privateIp = ip;
  eni.macAddress = macForInterface(eni.id.str());
  eni.description = "VPC Endpoint Interface " + e.id.str();
  eni.groupIds = e.groupIds;
  eni.interfaceType = "vpc_endpoint";
  eni.requesterManaged = true;
  eni.requesterId = "amazon-vpce";
  eni.status = "in-use";
  eni.managedBy = e.id.str();
  eni.createdAt = nowIso(ctx);
  return eni;
}

// Adds one endpoint interface per subnet to e (addresses allocated in t).
Status addEndpointInterfaces(Txn& t, ControlContext& ctx, VpcEndpoint& e, const std::vector<Subnet>& subnets) {
  for (const auto& s : subnets) {
    LP_ASSIGN_OR_RETURN(std::string ip, allocatePrivateIp(t, s, ""));
    NetworkInterface eni = makeEndpointInterface(ctx, e, s, ip);
    t.put(eni);
    e.subnetIds.push_back(s.id);
    e.networkInterfaceIds.push_back(eni.id);
  }
  return Status::Ok();
}

std::vector<Subnet> subnetsOf(const View& v, const VpcEndpoint& e) {
  std::vector<Subnet> out;
  for (const auto& id : e.subnetIds)
    if (auto s = v.get<Subnet>(id)) out.push_back(std::move(*s));
  return out;
}

// A change made by an API call: the lifecycle timeline names the action and the
// calling account.
void setState(ControlContext& ctx, VpcEndpoint& e, std::string_view state, std::string_view action,
              const CallContext& call) {
  e.changeState(state, nowIso(ctx), action, call.account);
}

VpcEndpointInfo renderEndpoint(const View& v, VpcEndpoint e) {
  VpcEndpointInfo info;
  for (const auto& g : e.groupIds) {
    auto sg = v.get<SecurityGroup>(g);
    info.groups.emplace_back(g.str(), sg ? sg->name : "");
  }
  info.endpoint = std::move(e);
  return info;
}

std::vector<std::string> zoneNamesFor(const ControlContext& ctx, const std::string& account, const Strings& zoneIds) {
  Strings names;
  for (const auto& z : zoneIds) names.push_back(ctx.zoneName(account, z));
  std::sort(names.begin(), names.end());
  return names;
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

struct ServiceRow {
  ServiceDetailInfo info;
  model::Tags tags;
};

const FilterSpec<ServiceRow>& serviceDetailFilters() {
  static const FilterSpec<ServiceRow> spec = [] {
    FilterSpec<ServiceRow> s;
    s.add("service-name", [](const ServiceRow& r) { return Strings{r.info.service.serviceName}; })
        .add("service-type", [](const ServiceRow&) { return Strings{"Interface"}; })
        .add("owner", [](const ServiceRow& r) { return Strings{r.info.service.ownerId}; })
        .add("service-region", [](const ServiceRow&) { return Strings{}; })
        .add("supported-ip-address-types", [](const ServiceRow&) { return Strings{"ipv4"}; });
    return s;
  }();
  return spec;
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

const FilterSpec<VpcEndpoint>& endpointFilters() {
  static const FilterSpec<VpcEndpoint> spec = [] {
    FilterSpec<VpcEndpoint> s;
    s.add("vpc-endpoint-id", [](const VpcEndpoint& e) { return Strings{e.id.str()}; })
        .add("vpc-id", [](const VpcEndpoint& e) { return Strings{e.vpcId.str()}; })
        .add("service-name", [](const VpcEndpoint& e) { return Strings{e.serviceName}; })
        .add("vpc-endpoint-state", [](const VpcEndpoint& e) { return Strings{e.state}; })
        .add("vpc-endpoint-type", [](const VpcEndpoint& e) { return Strings{e.type}; })
        .add("ip-address-type", [](const VpcEndpoint&) { return Strings{"ipv4"}; })
        .add("service-region", [](const VpcEndpoint&) { return Strings{}; });
    return s;
  }();
  return spec;
}

const FilterSpec<ConnectionInfo>& connectionFilters() {
  static const FilterSpec<ConnectionInfo> spec = [] {
    FilterSpec<ConnectionInfo> s;
    s.add("service-id", [](const ConnectionInfo& c) { return Strings{c.endpoint.serviceId.str()}; })
        .add("vpc-endpoint-owner", [](const ConnectionInfo& c) { return Strings{c.endpoint.ownerId}; })
        .add("vpc-endpoint-state", [](const ConnectionInfo& c) { return Strings{c.endpoint.state}; })
        .add("vpc-endpoint-id", [](const ConnectionInfo& c) { return Strings{c.endpoint.id.str()}; })
        .add("ip-address-type", [](const ConnectionInfo&) { return Strings{"ipv4"}; })
        .add("vpc-endpoint-region", [](const ConnectionInfo&) { return Strings{}; });
    return s;
  }();
  return spec;
}

const FilterSpec<PermissionInfo>& permissionFilters() {
  static const FilterSpec<PermissionInfo> spec = [] {
    FilterSpec<PermissionInfo> s;
    s.add("principal", [](const PermissionInfo& p) {
       return Strings{p.principal.principal};
     }).add("principal-type", [](const PermissionInfo& p) { return Strings{p.principalType}; });
    return s;
  }();
  return spec;
}

// Common shape of the batch operations: per-id outcomes inside one transaction.
UnsuccessfulItem failure(const std::string& id, std::string_view code, std::string message) {
  return UnsuccessfulItem{id, std::string(code), std::move(message)};
}

}  // namespace

const std::vector<std::string>& awsServiceCatalog() { return kAwsServices; }

const std::string& defaultEndpointPolicy() {
  static const std::string kPolicy =
      "{\n  \"Statement\": [\n    {\n      \"Action\": \"*\", \n      \"Effect\": \"Allow\", \n      "
      "\"Principal\": \"*\", \n      \"Resource\": \"*\"\n    }\n  ]\n}";
  return kPolicy;
}

Status syncAwsServiceCatalog(ControlContext& ctx) {
  const auto settings = ctx.settings();
  const auto& backends = settings->region.serviceBackends;
  return ctx.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    for (const auto& shortName : kAwsServices) {
      ServiceConfiguration s;
      s.serviceName = awsServiceName(ctx.regionName(), shortName);
      s.id = model::ServiceId("vpce-svc-" + stableHex17(s.serviceName));
      s.ownerId = std::string(model::kAmazonAccount);
      s.acceptanceRequired = false;
      s.zoneIds = ctx.zoneIds();
      s.privateDnsName = awsPrivateDnsName(shortName, ctx.regionName());
      s.privateDnsNameState = "verified";
      if (auto b = backends.find(shortName); b != backends.end())
        s.backend = b->second;
      auto prior = t.get<ServiceConfiguration>(s.id);
      s.createdAt = prior ? prior->createdAt : nowIso(ctx);
      if (!prior || nlohmann::json(*prior) != nlohmann::json(s)) t.put(s);
    }
    return Status::Ok();
  });
}

// ---------------------------------------------------------------- consumer side

Result<VpcEndpointInfo> EndpointService::createVpcEndpoint(const CallContext& call, const CreateVpcEndpointInput& in) {
  if (in.vpcId.empty()) return err::missing("VpcId");
  if (in.serviceName.empty()) return err::missing("ServiceName");
  std::string type = in.vpcEndpointType.empty() ? "Gateway" : in.vpcEndpointType;
  if (type != "Interface") {
    if (type == "Gateway" || type == "GatewayLoadBalancer" || type == "Resource" || type == "ServiceNetwork")
      return err::make(err::kInvalidVpcEndpointType,
                       "The VPC endpoint type '{}' is not supported here: only Interface endpoints (pass "
                       "--vpc-endpoint-type Interface).",
                       type);
    return err::badValue("VpcEndpointType", type);
  }
  if (!in.routeTableIds.empty())
    return err::make(err::kInvalidParameter, "Route tables can only be specified for Gateway endpoints.");
  LP_RETURN_IF_ERROR(checkIpv4Only("IpAddressType", in.ipAddressType));
  LP_RETURN_IF_ERROR(checkIpv4Only("DnsOptions.DnsRecordIpType", in.dnsRecordIpType));
  if (!in.policyDocument.empty()) LP_RETURN_IF_ERROR(checkPolicyDocument(in.policyDocument));
  if (in.clientToken.size() > 64) return err::badValue("ClientToken", in.clientToken);
  LP_ASSIGN_OR_RETURN(auto tags, tagsFromSpecs(in.tagSpecs, "vpc-endpoint"));

  VpcEndpointInfo out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Vpc vpc, findOwned<Vpc>(t, call, in.vpcId, err::kVpcMalformed, err::kVpcNotFound, "vpc ID"));
    // Services of other regions, unknown ones and ones this account may not use
    // all look the same: the name does not exist for this caller.
    auto svcs = t.listIndexed<ServiceConfiguration>(index::kServiceName, in.serviceName);
    if (svcs.empty() || !allowedFor(svcs.front(), call.account) || svcs.front().state != "Available")
      return err::make(err::kInvalidServiceName, "The Vpc Endpoint Service '{}' does not exist", in.serviceName);
    const ServiceConfiguration& svc = svcs.front();
    LP_ASSIGN_OR_RETURN(auto subnets, resolveEndpointSubnets(t, call, vpc.id, in.subnetIds, {}, svc));
    LP_ASSIGN_OR_RETURN(auto groups, resolveEndpointGroups(t, call, vpc.id, in.securityGroupIds));
    if (groups.empty()) groups.push_back(vpc.defaultSecurityGroupId);
    LP_RETURN_IF_ERROR(checkGroupsPerInterface(ctx_.limits(), groups.size()));
    bool privateDns = in.privateDnsEnabled.value_or(svc.hasUsablePrivateDnsName());

    if (!in.clientToken.empty()) {
      auto prior = t.listIndexed<VpcEndpoint>(index::kOwnerToken, ownerToken(call.account, in.clientToken));
      if (!prior.empty()) {
        const VpcEndpoint& e = prior.front();
        std::vector<model::SubnetId> wantSubnets;
        for (const auto& s : subnets) wantSubnets.push_back(s.id);
        bool same = e.vpcId == vpc.id && e.serviceId == svc.id && e.subnetIds == wantSubnets && e.groupIds == groups &&
                    e.privateDnsEnabled == privateDns;
        if (!same)
          return err::make(err::kIdempotentParameterMismatch,
                           "The client token '{}' was already used with different parameters.", in.clientToken);
        if (call.dryRun) return err::dryRun();
        out = renderEndpoint(t, e);
        return Status::Ok();
      }
    }
    if (privateDns) LP_RETURN_IF_ERROR(checkPrivateDns(t, vpc, svc, model::VpcEndpointId()));
    const int limit = ctx_.limits().interfaceEndpointsPerVpc;
    if (t.count<VpcEndpoint>(index::kVpcQuota, vpc.id.str()) >= limit)
      return err::make(err::kVpcEndpointLimitExceeded,
                       "The maximum number of VPC endpoints ({}) has been reached for VPC {}.", limit,
                       vpc.id.str());

    VpcEndpoint e;
    e.id = model::VpcEndpointId::generate(ctx_.random);
    e.ownerId = call.account;
    e.type = "Interface";
    e.vpcId = vpc.id;
    e.serviceId = svc.id;
    e.serviceName = svc.serviceName;
    e.policyDocument = in.policyDocument.empty() ? defaultEndpointPolicy() : in.policyDocument;
    e.groupIds = groups;
    e.privateDnsEnabled = privateDns;
    e.dnsLabel = randomDnsLabel(ctx_.random);
    e.clientToken = in.clientToken;
    e.createdAt = nowIso(ctx_);
    e.tags = tags;
    setState(ctx_, e, svc.acceptanceRequired ? es::kPendingAcceptance : es::kPending, "CreateVpcEndpoint", call);
    LP_RETURN_IF_ERROR(addEndpointInterfaces(t, ctx_, e, subnets));
    if (call.dryRun) return err::dryRun();
    e.dnsEntries = computeDnsEntries(ctx_, e, svc, subnets);
    t.put(e);
    recordConnectionEvent(t, ctx_, e, connection_event::kConnect);
    if (!svc.acceptanceRequired) recordConnectionEvent(t, ctx_, e, connection_event::kAccept);
    out = renderEndpoint(t, std::move(e));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<Page<VpcEndpointInfo>> EndpointService::describeVpcEndpoints(const CallContext& call, const DescribeInput& in) {
  LP_RETURN_IF_ERROR(endpointFilters().validate(in.filters));
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 1, 1000, /*capInsteadOfError=*/true));
  for (const auto& id : in.ids)
    if (!model::isWellFormed<model::VpcEndpointId>(id))
      return err::make(err::kEndpointIdMalformed, "Invalid Id: '{}' (expecting 'vpce-...')", id);
  if (call.dryRun) return err::dryRun();
  Result<Page<VpcEndpointInfo>> out = Page<VpcEndpointInfo>{};
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    for (const auto& id : in.ids) {
      auto e = v.get<VpcEndpoint>(id);
      if (!e || e->ownerId != call.account) {
        out = err::make(err::kEndpointIdNotFound, "The VpcEndpoint Id '{}' does not exist", id);
        return;
      }
    }
    auto page = paginateInOrder<VpcEndpoint>(
        in.page, [](const VpcEndpoint& e) -> const std::string& { return e.id.str(); },
        [&](std::string_view from, const std::function<bool(VpcEndpoint)>& take) {
          v.forEachOwned<VpcEndpoint>(call.account, in.ids, from, [&](const VpcEndpoint& e) {
            return !endpointFilters().matches(e, in.filters) || take(e);
          });
        });
    if (!page.ok()) {
      out = page.status();
      return;
    }
    Page<VpcEndpointInfo> rendered;
    rendered.nextToken = page->nextToken;
    for (auto& e : page->items) rendered.items.push_back(renderEndpoint(v, std::move(e)));
    out = std::move(rendered);
  });
  return out;
}

Status EndpointService::modifyVpcEndpoint(const CallContext& call, const ModifyVpcEndpointInput& in) {
  if (!in.addRouteTableIds.empty() || !in.removeRouteTableIds.empty())
    return err::make(err::kInvalidParameter, "Route tables can only be modified for Gateway endpoints.");
  LP_RETURN_IF_ERROR(checkIpv4Only("IpAddressType", in.ipAddressType));
  if (in.resetPolicy && in.policyDocument)
    return err::make(err::kInvalidParameterCombination, "ResetPolicy cannot be combined with PolicyDocument.");
  if (in.policyDocument) LP_RETURN_IF_ERROR(checkPolicyDocument(*in.policyDocument));
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(VpcEndpoint e, findOwnedEndpoint(t, call, in.vpcEndpointId));
    if (!isLive(e) || e.state == es::kRejected)
      return err::make(err::kIncorrectState, "The VPC endpoint {} is in state {} and cannot be modified.", e.id.str(),
                       e.state);
    auto svc = t.get<ServiceConfiguration>(e.serviceId);
    if (!svc) return err::make(err::kInternalError, "The endpoint's service is missing.");
    LP_ASSIGN_OR_RETURN(Vpc vpc,
                        findOwned<Vpc>(t, call, e.vpcId.str(), err::kVpcMalformed, err::kVpcNotFound, "vpc ID"));

    // Subnets: removals first, so a zone freed by a removal can be added back.
    for (const auto& id : in.removeSubnetIds) {
      if (!model::isWellFormed<model::SubnetId>(id)) return err::make(err::kSubnetMalformed, "Invalid id: \"{}\"", id);
      auto it = std::find(e.subnetIds.begin(), e.subnetIds.end(), model::SubnetId(id));
      if (it == e.subnetIds.end())
        return err::make(err::kInvalidParameter, "The subnet {} is not part of the VPC endpoint {}.", id, e.id.str());
      e.subnetIds.erase(it);
      for (auto i = e.networkInterfaceIds.begin(); i != e.networkInterfaceIds.end(); ++i) {
        auto eni = t.get<NetworkInterface>(*i);
        if (eni && eni->subnetId.str() == id) {
          t.erase<NetworkInterface>(*i);
          e.networkInterfaceIds.erase(i);
          break;
        }
      }
    }
    std::set<std::string> zones;
    for (const auto& s : subnetsOf(t, e)) zones.insert(s.zoneId);
    for (const auto& id : in.addSubnetIds)
      if (std::find(e.subnetIds.begin(), e.subnetIds.end(), model::SubnetId(id)) != e.subnetIds.end())
        return err::make(err::kDuplicateSubnetsInSameZone, "The subnet {} is already part of the VPC endpoint {}.", id,
                         e.id.str());
    LP_ASSIGN_OR_RETURN(auto added, resolveEndpointSubnets(t, call, e.vpcId, in.addSubnetIds, zones, *svc));

    // Security groups.
    LP_ASSIGN_OR_RETURN(auto addGroups, resolveEndpointGroups(t, call, e.vpcId, in.addSecurityGroupIds));
    for (const auto& id : in.removeSecurityGroupIds) {
      if (!model::isWellFormed<model::SecurityGroupId>(id))
        return err::make(err::kGroupIdMalformed, "Invalid id: \"{}\" (expecting \"sg-...\")", id);
      auto it = std::find(e.groupIds.begin(), e.groupIds.end(), model::SecurityGroupId(id));
      if (it == e.groupIds.end())
        return err::make(err::kInvalidParameter, "The security group {} is not associated with the VPC endpoint {}.",
                         id, e.id.str());
      e.groupIds.erase(it);
    }
    for (const auto& g : addGroups)
      if (std::find(e.groupIds.begin(), e.groupIds.end(), g) == e.groupIds.end()) e.groupIds.push_back(g);
    if (e.groupIds.empty())
      return err::make(err::kInvalidParameter, "An interface endpoint must keep at least one security group.");
    LP_RETURN_IF_ERROR(checkGroupsPerInterface(ctx_.limits(), e.groupIds.size()));

    if (in.privateDnsEnabled) {
      if (*in.privateDnsEnabled && !e.privateDnsEnabled) LP_RETURN_IF_ERROR(checkPrivateDns(t, vpc, *svc, e.id));
      e.privateDnsEnabled = *in.privateDnsEnabled;
    }
    if (in.resetPolicy) e.policyDocument = defaultEndpointPolicy();
    if (in.policyDocument) e.policyDocument = *in.policyDocument;
    LP_RETURN_IF_ERROR(addEndpointInterfaces(t, ctx_, e, added));
    if (call.dryRun) return err::dryRun();

    // Every interface carries the endpoint's current groups.
    for (const auto& id : e.networkInterfaceIds) {
      auto eni = t.get<NetworkInterface>(id);
      if (eni && eni->groupIds != e.groupIds) {
        eni->groupIds = e.groupIds;
        t.put(*eni);
      }
    }
    e.dnsEntries = computeDnsEntries(ctx_, e, *svc, subnetsOf(t, e));
    t.put(e);
    return Status::Ok();
  });
}

Result<std::vector<UnsuccessfulItem>> EndpointService::deleteVpcEndpoints(const CallContext& call,
                                                                          const std::vector<std::string>& ids) {
  if (ids.empty()) return err::missing("VpcEndpointId");
  std::vector<UnsuccessfulItem> failed;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    failed.clear();
    std::vector<VpcEndpoint> toDelete;
    for (const auto& id : ids) {
      auto e = model::isWellFormed<model::VpcEndpointId>(id) ? t.get<VpcEndpoint>(id) : std::nullopt;
      if (!e || e->ownerId != call.account || e->state == es::kDeleted) {
        failed.push_back(
            failure(id, err::kEndpointNotFound, fmt::format("The VpcEndpoint Id '{}' does not exist", id)));
        continue;
      }
      if (e->state != es::kDeleting) toDelete.push_back(std::move(*e));
    }
    if (call.dryRun) return err::dryRun();
    for (auto& e : toDelete) {
      for (const auto& eni : e.networkInterfaceIds) t.erase<NetworkInterface>(eni);
      e.networkInterfaceIds.clear();
      setState(ctx_, e, es::kDeleting, "DeleteVpcEndpoints", call);
      t.put(e);
      recordConnectionEvent(t, ctx_, e, connection_event::kDelete);
      // The endpoint's own notifications end with it, after announcing its deletion.
      for (const auto& n : t.listIndexed<model::ConnectionNotification>(index::kEndpoint, e.id.str()))
        t.erase<model::ConnectionNotification>(n.id);
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return failed;
}

Result<Page<ServiceDetailInfo>> EndpointService::describeVpcEndpointServices(const CallContext& call,
                                                                             const std::vector<std::string>& names,
                                                                             const Filters& filters,
                                                                             const PageRequest& page) {
  LP_RETURN_IF_ERROR(serviceDetailFilters().validate(filters));
  LP_RETURN_IF_ERROR(validateMaxResults(page, 1, 1000, /*capInsteadOfError=*/true));
  if (call.dryRun) return err::dryRun();
  std::vector<ServiceRow> rows;
  ctx_.store.read([&](const store::ReadView& r) {
    for (auto& s : View(r).listWhere<ServiceConfiguration>(
             [&](const ServiceConfiguration& s) { return s.state == "Available" && allowedFor(s, call.account); })) {
      ServiceRow row;
      row.tags = s.tags;
      row.info.zoneNames = zoneNamesFor(ctx_, call.account, s.zoneIds);
      row.info.baseEndpointDnsName = baseEndpointDnsName(ctx_, s);
      row.info.service = std::move(s);
      rows.push_back(std::move(row));
    }
  });
  for (const auto& n : names)
    if (std::none_of(rows.begin(), rows.end(), [&](const ServiceRow& r) { return r.info.service.serviceName == n; }))
      return err::make(err::kInvalidServiceName, "The Vpc Endpoint Service '{}' does not exist", n);
  std::erase_if(rows, [&](const ServiceRow& r) {
    if (!names.empty() && std::find(names.begin(), names.end(), r.info.service.serviceName) == names.end()) return true;
    return !serviceDetailFilters().matches(r, filters);
  });
  std::sort(rows.begin(), rows.end(), [](const ServiceRow& a, const ServiceRow& b) {
    return a.info.service.serviceName < b.info.service.serviceName;
  });
  LP_ASSIGN_OR_RETURN(auto p, paginate(std::move(rows), page, [](const ServiceRow& r) -> const std::string& {
                        return r.info.service.serviceName;
                      }));
  Page<ServiceDetailInfo> out;
  out.nextToken = p.nextToken;
  for (auto& r : p.items) out.items.push_back(std::move(r.info));
  return out;
}

// ---------------------------------------------------------------- provider side

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

Result<Page<PermissionInfo>> EndpointService::describeServicePermissions(const CallContext& call,
                                                                         const std::string& serviceId,
                                                                         const Filters& filters,
                                                                         const PageRequest& page) {
  LP_RETURN_IF_ERROR(permissionFilters().validate(filters));
  LP_RETURN_IF_ERROR(validateMaxResults(page, 5, 1000, /*capInsteadOfError=*/true));
  std::optional<Result<ServiceConfiguration>> found;
  ctx_.store.read([&](const store::ReadView& r) { found = findOwnedService(View(r), call, serviceId); });
  if (!found->ok()) return found->status();
  if (call.dryRun) return err::dryRun();
  std::vector<PermissionInfo> rows;
  for (const auto& p : found->value().allowedPrincipals) {
    PermissionInfo info{p, principalType(p.principal), found->value().id};
    if (permissionFilters().matches(info, filters)) rows.push_back(std::move(info));
  }
  std::sort(rows.begin(), rows.end(), [](const PermissionInfo& a, const PermissionInfo& b) {
    return a.principal.permissionId < b.principal.permissionId;
  });
  return paginate(std::move(rows), page,
                  [](const PermissionInfo& p) -> const std::string& { return p.principal.permissionId; });
}

Result<std::vector<PermissionInfo>> EndpointService::modifyServicePermissions(const CallContext& call,
                                                                              const std::string& serviceId,
                                                                              const std::vector<std::string>& add,
                                                                              const std::vector<std::string>& remove) {
  for (const auto& p : add)
    if (!isValidPrincipal(p))
      return err::make(err::kInvalidPrincipal,
                       "Invalid principal '{}': expecting '*' or an IAM ARN such as "
                       "arn:aws:iam::123456789012:root",
                       p);
  for (const auto& p : remove)
    if (!isValidPrincipal(p)) return err::make(err::kInvalidPrincipal, "Invalid principal '{}'", p);
  std::vector<PermissionInfo> added;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    added.clear();
    LP_ASSIGN_OR_RETURN(ServiceConfiguration s, findOwnedService(t, call, serviceId));
    if (call.dryRun) return err::dryRun();
    for (const auto& p : remove)
      std::erase_if(s.allowedPrincipals, [&](const model::AllowedPrincipal& a) { return a.principal == p; });
    for (const auto& p : add) {
      auto it = std::find_if(s.allowedPrincipals.begin(), s.allowedPrincipals.end(),
                             [&](const model::AllowedPrincipal& a) { return a.principal == p; });
      if (it == s.allowedPrincipals.end()) {
        s.allowedPrincipals.push_back({p, "vpce-svc-perm-" + ctx_.random.hex(17)});
        it = s.allowedPrincipals.end() - 1;
      }
      added.push_back({*it, principalType(p), s.id});
    }
    t.put(s);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return added;
}

Result<std::vector<UnsuccessfulItem>> EndpointService::decideConnections(const CallContext& call,
                                                                         const std::string& serviceId,
                                                                         const std::vector<std::string>& endpointIds,
                                                                         bool accept) {
  if (endpointIds.empty()) return err::missing("VpcEndpointId");
  std::vector<UnsuccessfulItem> failed;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    failed.clear();
    LP_ASSIGN_OR_RETURN(ServiceConfiguration s, findOwnedService(t, call, serviceId));
    std::vector<VpcEndpoint> changed;
    for (const auto& id : endpointIds) {
      auto e = model::isWellFormed<model::VpcEndpointId>(id) ? t.get<VpcEndpoint>(id) : std::nullopt;
      if (!e || e->serviceId != s.id || e->state == es::kDeleted) {
        failed.push_back(failure(id, err::kEndpointNotFound,
                                 fmt::format("The VpcEndpoint Id '{}' does not exist for service {}", id, serviceId)));
        continue;
      }
      bool ok = accept ? e->state == es::kPendingAcceptance
                       : (e->state == es::kPendingAcceptance || e->state == es::kPending || e->state == es::kAvailable);
      if (!ok) {
        failed.push_back(failure(id, err::kInvalidState,
                                 fmt::format("The VPC endpoint {} is in state {} and cannot be {}.", id, e->state,
                                             accept ? "accepted" : "rejected")));
        continue;
      }
      changed.push_back(std::move(*e));
    }
    if (call.dryRun) return err::dryRun();
    for (auto& e : changed) {
      setState(ctx_, e, accept ? es::kPending : es::kRejected,
               accept ? "AcceptVpcEndpointConnections" : "RejectVpcEndpointConnections", call);
      t.put(e);
      recordConnectionEvent(t, ctx_, e, accept ? connection_event::kAccept : connection_event::kReject);
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return failed;
}

Result<std::vector<UnsuccessfulItem>> EndpointService::acceptConnections(const CallContext& call,
                                                                         const std::string& serviceId,
                                                                         const std::vector<std::string>& endpointIds) {
  return decideConnections(call, serviceId, endpointIds, true);
}

Result<std::vector<UnsuccessfulItem>> EndpointService::rejectConnections(const CallContext& call,
                                                                         const std::string& serviceId,
                                                                         const std::vector<std::string>& endpointIds) {
  return decideConnections(call, serviceId, endpointIds, false);
}

Result<Page<ConnectionInfo>> EndpointService::describeConnections(const CallContext& call, const Filters& filters,
                                                                  const PageRequest& page) {
  LP_RETURN_IF_ERROR(connectionFilters().validate(filters));
  LP_RETURN_IF_ERROR(validateMaxResults(page, 5, 1000, /*capInsteadOfError=*/true));
  if (call.dryRun) return err::dryRun();
  std::optional<std::string> last;
  if (!page.nextToken.empty()) {
    last = decodePageToken(page.nextToken);
    if (!last) return err::make(err::kInvalidNextToken, "The token '{}' is invalid.", page.nextToken);
  }
  // Each of the caller's services contributes at most one page past the token;
  // paginate() below merges them and cuts the page.
  size_t perService = page.maxResults ? static_cast<size_t>(std::min<int64_t>(*page.maxResults, 1000)) + 1 : SIZE_MAX;
  std::vector<ConnectionInfo> rows;
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    for (const auto& s : v.listIndexed<ServiceConfiguration>(index::kOwner, call.account)) {
      size_t taken = 0;
      v.forEachIndexed<VpcEndpoint>(
          index::kService, s.id.str(),
          [&](const VpcEndpoint& e) {
            if (last && e.id.str() <= *last) return true;
            ConnectionInfo c;
            c.networkLoadBalancerArns = s.networkLoadBalancerArns;
            c.connectionId = "vpce-con-" + stableHex17(e.id.str());
            c.endpoint = e;
            if (connectionFilters().matches(c, filters)) {
              rows.push_back(std::move(c));
              ++taken;
            }
            return taken < perService;
          },
          last ? std::string_view(*last) : std::string_view());
    }
  });
  std::sort(rows.begin(), rows.end(),
            [](const ConnectionInfo& a, const ConnectionInfo& b) { return a.endpoint.id.str() < b.endpoint.id.str(); });
  return paginate(std::move(rows), page,
                  [](const ConnectionInfo& c) -> const std::string& { return c.endpoint.id.str(); });
}

}  // namespace lp::control
