#include "control/subnet_service.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <map>

#include "control/ip_allocation.h"
#include "control/vpc_network_service.h"
#include "model/cidr.h"

namespace lp::control {

using model::NetworkInterface;
using model::Subnet;
using model::Vpc;

namespace {

using Strings = std::vector<std::string>;

// Filters over a SubnetInfo; the wrapper carries tags so tag:KEY works.
struct SubnetRow {
  SubnetInfo info;
  model::Tags tags;
};

const FilterSpec<SubnetRow>& subnetFilters() {
  static const FilterSpec<SubnetRow> spec = [] {
    FilterSpec<SubnetRow> s;
    auto cidr = [](const SubnetRow& r) { return Strings{r.info.subnet.cidrBlock}; };
    s.add("subnet-id", [](const SubnetRow& r) { return Strings{r.info.subnet.id.str()}; })
        .add("vpc-id", [](const SubnetRow& r) { return Strings{r.info.subnet.vpcId.str()}; })
        .add("cidr-block", cidr)
        .add("cidr", cidr)
        .add("cidrBlock", cidr)
        .add("availability-zone", [](const SubnetRow& r) { return Strings{r.info.zoneName}; })
        .add("availabilityZone", [](const SubnetRow& r) { return Strings{r.info.zoneName}; })
        .add("availability-zone-id", [](const SubnetRow& r) { return Strings{r.info.subnet.zoneId}; })
        .add("availabilityZoneId", [](const SubnetRow& r) { return Strings{r.info.subnet.zoneId}; })
        .add("state", [](const SubnetRow& r) { return Strings{r.info.subnet.state}; })
        .add("owner-id", [](const SubnetRow& r) { return Strings{r.info.subnet.ownerId}; })
        .add("available-ip-address-count",
             [](const SubnetRow& r) { return Strings{std::to_string(r.info.availableIps)}; })
        .add("availableIpAddressCount", [](const SubnetRow& r) { return Strings{std::to_string(r.info.availableIps)}; })
        .add("default-for-az", [](const SubnetRow&) { return Strings{"false"}; })
        .add("defaultForAz", [](const SubnetRow&) { return Strings{"false"}; })
        .add("map-public-ip-on-launch",
             [](const SubnetRow& r) { return Strings{r.info.subnet.mapPublicIpOnLaunch ? "true" : "false"}; })
        .add("mapPublicIpOnLaunch",
             [](const SubnetRow& r) { return Strings{r.info.subnet.mapPublicIpOnLaunch ? "true" : "false"}; })
        .add("assign-ipv6-address-on-creation", [](const SubnetRow&) { return Strings{"false"}; })
        .add("enable-dns64", [](const SubnetRow&) { return Strings{"false"}; })
        .add("ipv6-native", [](const SubnetRow&) { return Strings{"false"}; });
    return s;
  }();
  return spec;
}

// Built per call: it names the region, which differs between contexts.
FilterSpec<AvailabilityZoneInfo> zoneFilters(const std::string& regionName) {
  FilterSpec<AvailabilityZoneInfo> s;
  {
    std::string name = regionName;
    s.add("zone-name", [](const AvailabilityZoneInfo& z) { return Strings{z.zoneName}; })
        .add("zone-id", [](const AvailabilityZoneInfo& z) { return Strings{z.zoneId}; })
        .add("state", [](const AvailabilityZoneInfo&) { return Strings{"available"}; })
        .add("region-name", [name](const AvailabilityZoneInfo&) { return Strings{name}; })
        .add("zone-type", [](const AvailabilityZoneInfo&) { return Strings{"availability-zone"}; })
        .add("group-name", [name](const AvailabilityZoneInfo&) { return Strings{name}; })
        .add("network-border-group", [name](const AvailabilityZoneInfo&) { return Strings{name}; })
        .add("opt-in-status", [](const AvailabilityZoneInfo&) { return Strings{"opt-in-not-required"}; })
        .add("message", [](const AvailabilityZoneInfo&) { return Strings{}; });
  }
  return s;
}

std::string zoneList(const ControlContext& ctx, const std::string& account) {
  std::string out;
  for (const auto& id : ctx.zoneIdsInNameOrder(account)) {
    if (!out.empty()) out += ", ";
    out += ctx.zoneName(account, id);
  }
  return out;
}

}  // namespace

std::string subnetArn(const std::string& regionName, const Subnet& s) {
  return fmt::format("arn:aws:ec2:{}:{}:subnet/{}", regionName, s.ownerId, s.id.str());
}

Result<SubnetInfo> SubnetService::createSubnet(const CallContext& call, const CreateSubnetInput& in) {
  if (in.vpcId.empty()) return err::missing("VpcId");
  if (in.cidrBlock.empty()) return err::missing("CidrBlock");
  auto cidr = model::Cidr::parse(in.cidrBlock);
  if (!cidr) return err::badValue("cidrBlock", in.cidrBlock, "This is not a valid CIDR block.");
  if (cidr->prefix < 16 || cidr->prefix > 28)
    return err::make(err::kSubnetRange, "The CIDR '{}' is invalid.", in.cidrBlock);
  std::string zoneId;
  if (!in.availabilityZone.empty() && !in.availabilityZoneId.empty())
    return err::make(err::kInvalidParameterCombination,
                     "Only one of AvailabilityZone or AvailabilityZoneId may be specified.");
  if (!in.availabilityZone.empty()) {
    auto id = ctx_.zoneIdForName(call.account, in.availabilityZone);
    if (!id)
      return err::make(err::kInvalidParameterValue,
                       "Value ({}) for parameter availabilityZone is invalid. Subnets can currently only be created "
                       "in the following availability zones: {}.",
                       in.availabilityZone, zoneList(ctx_, call.account));
    zoneId = *id;
  } else if (!in.availabilityZoneId.empty()) {
    if (!ctx_.hasZoneId(in.availabilityZoneId))
      return err::make(err::kInvalidAvailabilityZone, "The availability zone id '{}' does not exist.",
                       in.availabilityZoneId);
    zoneId = in.availabilityZoneId;
  }
  LP_ASSIGN_OR_RETURN(auto tags, tagsFromSpecs(in.tagSpecs, "subnet"));

  SubnetInfo out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Vpc vpc, findOwned<Vpc>(t, call, in.vpcId, err::kVpcMalformed, err::kVpcNotFound, "vpc ID"));
    // Any block the VPC has: the primary or an associated secondary one.
    auto blocks = model::associatedCidrs(vpc);
    if (std::none_of(blocks.begin(), blocks.end(), [&](const std::string& b) {
          auto c = model::Cidr::parse(b);
          return c && c->contains(*cidr);
        }))
      return err::make(err::kSubnetRange, "The CIDR '{}' is invalid.", in.cidrBlock);
    auto siblings = t.listIndexed<Subnet>(index::kVpc, vpc.id.str());
    for (const auto& s : siblings) {
      auto other = model::Cidr::parse(s.cidrBlock);
      if (other && other->overlaps(*cidr))
        return err::make(err::kSubnetConflict, "The CIDR '{}' conflicts with another subnet", in.cidrBlock);
    }
    if (static_cast<int>(siblings.size()) >= ctx_.limits().subnetsPerVpc)
      return err::make(err::kSubnetLimitExceeded, "The maximum number of subnets has been reached.");
    if (call.dryRun) return err::dryRun();
    std::string zone = zoneId;
    if (zone.empty()) {
      // Spread over zones: the first zone (in the caller's order) with the fewest subnets of this VPC.
      size_t best = SIZE_MAX;
      for (const auto& z : ctx_.zoneIdsInNameOrder(call.account)) {
        size_t n = std::count_if(siblings.begin(), siblings.end(), [&](const Subnet& s) { return s.zoneId == z; });
        if (n < best) best = n, zone = z;
      }
    }
    Subnet s;
    s.id = model::SubnetId::generate(ctx_.random);
    s.ownerId = call.account;
    s.vpcId = vpc.id;
    s.cidrBlock = cidr->toString();
    s.zoneId = zone;
    s.createdAt = nowIso(ctx_);
    s.tags = tags;
    t.put(s);
    associateSubnetWithDefaultAcl(t, ctx_, s);
    out.availableIps = availableIpCount(t, s);
    out.zoneName = ctx_.zoneName(call.account, s.zoneId);
    out.subnet = std::move(s);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<Page<SubnetInfo>> SubnetService::describeSubnets(const CallContext& call, const DescribeInput& in) {
  LP_RETURN_IF_ERROR(subnetFilters().validate(in.filters));
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 5, 1000));
  for (const auto& id : in.ids)
    if (!model::isWellFormed<model::SubnetId>(id))
      return err::make(err::kSubnetMalformed, "Invalid id: \"{}\"", id);
  if (call.dryRun) return err::dryRun();
  Result<Page<SubnetRow>> rows = Page<SubnetRow>{};
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    for (const auto& id : in.ids) {
      auto s = v.get<Subnet>(id);
      if (!s || s->ownerId != call.account) {
        rows = err::make(err::kSubnetNotFound, "The subnet ID '{}' does not exist", id);
        return;
      }
    }
    rows = paginateInOrder<SubnetRow>(
        in.page, [](const SubnetRow& x) -> const std::string& { return x.info.subnet.id.str(); },
        [&](std::string_view from, const std::function<bool(SubnetRow)>& take) {
          v.forEachOwned<Subnet>(call.account, in.ids, from, [&](const Subnet& s) {
            SubnetRow row;
            row.info.availableIps = availableIpCount(v, s);
            row.info.zoneName = ctx_.zoneName(call.account, s.zoneId);
            row.tags = s.tags;
            row.info.subnet = s;
            return !subnetFilters().matches(row, in.filters) || take(std::move(row));
          });
        });
  });
  LP_ASSIGN_OR_RETURN(auto page, std::move(rows));
  Page<SubnetInfo> out;
  out.nextToken = page.nextToken;
  for (auto& r : page.items) out.items.push_back(std::move(r.info));
  return out;
}

Status SubnetService::deleteSubnet(const CallContext& call, const std::string& subnetId) {
  if (subnetId.empty()) return err::missing("SubnetId");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Subnet s, findOwned<Subnet>(t, call, subnetId, err::kSubnetMalformed, err::kSubnetNotFound,
                                                    "subnet ID"));
    // Any interface counts, whoever owns it: endpoint and load-balancer nodes too.
    if (t.count<NetworkInterface>(index::kSubnet, s.id.str()) > 0)
      return err::make(err::kDependencyViolation, "The subnet '{}' has dependencies and cannot be deleted.",
                       subnetId);
    if (call.dryRun) return err::dryRun();
    dropSubnetAssociations(t, s.id);
    t.erase<Subnet>(s.id);
    return Status::Ok();
  });
}

Status applySubnetAttribute(Subnet& subnet, const SubnetAttributeChange& c) {
  std::vector<std::string_view> named;
  if (c.mapPublicIpOnLaunch) named.push_back("mapPublicIpOnLaunch");
  if (c.assignIpv6AddressOnCreation) named.push_back("assignIpv6AddressOnCreation");
  if (c.mapCustomerOwnedIpOnLaunch || !c.customerOwnedIpv4Pool.empty()) named.push_back("mapCustomerOwnedIpOnLaunch");
  if (c.enableDns64) named.push_back("enableDns64");
  if (!c.privateDnsHostnameTypeOnLaunch.empty()) named.push_back("privateDnsHostnameTypeOnLaunch");
  if (c.enableResourceNameDnsARecordOnLaunch) named.push_back("enableResourceNameDnsARecordOnLaunch");
  if (c.enableResourceNameDnsAAAARecordOnLaunch) named.push_back("enableResourceNameDnsAAAARecordOnLaunch");
  if (c.enableLniAtDeviceIndex) named.push_back("enableLniAtDeviceIndex");
  if (c.disableLniAtDeviceIndex) named.push_back("disableLniAtDeviceIndex");
  if (named.size() > 1)
    return err::make(err::kInvalidParameterCombination, "Fields for multiple attribute types specified: {}",
                     fmt::join(named, ", "));
  if (named.empty())
    return err::make(err::kMissingParameter, "The request must contain exactly one attribute to modify.");
  auto noIpv6 = [&](std::string_view what) {
    return err::make(err::kInvalidParameterValue,
                     "Cannot enable {} on subnet {}: it has no IPv6 CIDR block (subnets here are IPv4-only).", what,
                     subnet.id.str());
  };
  if (c.mapPublicIpOnLaunch) subnet.mapPublicIpOnLaunch = *c.mapPublicIpOnLaunch;
  if (c.assignIpv6AddressOnCreation && *c.assignIpv6AddressOnCreation) return noIpv6("assignIpv6AddressOnCreation");
  if (c.enableDns64 && *c.enableDns64) return noIpv6("enableDns64");
  if (c.enableResourceNameDnsAAAARecordOnLaunch && *c.enableResourceNameDnsAAAARecordOnLaunch)
    return noIpv6("enableResourceNameDnsAAAARecordOnLaunch");
  if (c.mapCustomerOwnedIpOnLaunch || !c.customerOwnedIpv4Pool.empty()) {
    if (c.mapCustomerOwnedIpOnLaunch && *c.mapCustomerOwnedIpOnLaunch && c.customerOwnedIpv4Pool.empty())
      return err::missing("CustomerOwnedIpv4Pool");
    if (!c.customerOwnedIpv4Pool.empty() || *c.mapCustomerOwnedIpOnLaunch)
      return err::make(err::kInvalidParameterValue,
                       "Subnet {} is not on an Outpost: customer-owned IP addresses are for Outpost subnets only.",
                       subnet.id.str());
  }
  if (c.enableLniAtDeviceIndex) {
    if (*c.enableLniAtDeviceIndex < 1)
      return err::badValue("EnableLniAtDeviceIndex", std::to_string(*c.enableLniAtDeviceIndex),
                           "The device index must be 1 or more.");
    return err::make(err::kInvalidParameterValue,
                     "Subnet {} is not on an Outpost: local network interfaces are for Outpost subnets only.",
                     subnet.id.str());
  }
  if (c.disableLniAtDeviceIndex && *c.disableLniAtDeviceIndex)
    return err::make(err::kInvalidParameterValue,
                     "Subnet {} is not on an Outpost: it has no local network interface setting to disable.",
                     subnet.id.str());
  if (!c.privateDnsHostnameTypeOnLaunch.empty()) {
    if (c.privateDnsHostnameTypeOnLaunch != "ip-name" && c.privateDnsHostnameTypeOnLaunch != "resource-name")
      return err::badValue("PrivateDnsHostnameTypeOnLaunch", c.privateDnsHostnameTypeOnLaunch,
                           "Valid values are ip-name and resource-name.");
    subnet.hostnameTypeOnLaunch = c.privateDnsHostnameTypeOnLaunch;
  }
  if (c.enableResourceNameDnsARecordOnLaunch)
    subnet.enableResourceNameDnsARecordOnLaunch = *c.enableResourceNameDnsARecordOnLaunch;
  return Status::Ok();
}

Status SubnetService::modifySubnetAttribute(const CallContext& call, const std::string& subnetId,
                                            const SubnetAttributeChange& change) {
  if (subnetId.empty()) return err::missing("SubnetId");
  {
    // Input errors first, as AWS answers them before looking the subnet up.
    Subnet probe;
    probe.id = model::SubnetId(subnetId);
    LP_RETURN_IF_ERROR(applySubnetAttribute(probe, change));
  }
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Subnet s,
                        findOwned<Subnet>(t, call, subnetId, err::kSubnetMalformed, err::kSubnetNotFound, "subnet ID"));
    LP_RETURN_IF_ERROR(applySubnetAttribute(s, change));
    if (call.dryRun) return err::dryRun();
    t.put(s);
    return Status::Ok();
  });
}

Result<std::vector<AvailabilityZoneInfo>> SubnetService::describeAvailabilityZones(const CallContext& call,
                                                                                   const DescribeZonesInput& in) {
  const auto spec = zoneFilters(ctx_.regionName());
  LP_RETURN_IF_ERROR(spec.validate(in.filters));
  std::vector<AvailabilityZoneInfo> zones;
  for (const auto& id : ctx_.zoneIdsInNameOrder(call.account))
    zones.push_back({ctx_.zoneName(call.account, id), id});
  for (const auto& n : in.zoneNames)
    if (std::none_of(zones.begin(), zones.end(), [&](const auto& z) { return z.zoneName == n; }))
      return err::make(err::kInvalidParameterValue, "The zone '{}' does not exist.", n);
  for (const auto& id : in.zoneIds)
    if (std::none_of(zones.begin(), zones.end(), [&](const auto& z) { return z.zoneId == id; }))
      return err::make(err::kInvalidParameterValue, "The zone ID '{}' does not exist.", id);
  if (call.dryRun) return err::dryRun();
  std::erase_if(zones, [&](const AvailabilityZoneInfo& z) {
    bool named = in.zoneNames.empty() && in.zoneIds.empty();
    named = named || std::find(in.zoneNames.begin(), in.zoneNames.end(), z.zoneName) != in.zoneNames.end() ||
            std::find(in.zoneIds.begin(), in.zoneIds.end(), z.zoneId) != in.zoneIds.end();
    return !named || !spec.matches(z, in.filters);
  });
  return zones;
}

}  // namespace lp::control
