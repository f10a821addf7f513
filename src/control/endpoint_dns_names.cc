#include "control/endpoint_dns_names.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"

namespace lp::control::endpoint_internal {

using model::ServiceConfiguration;
using model::Subnet;
using model::VpcEndpoint;

namespace {

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
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

// "Z" and 13 characters of the key's hash, as Route 53 zone ids look. Appended, not
// `"Z" + str`: GCC 12 at -O3 inlines that operator+ into an insert at offset 0 and
// reports a -Wrestrict overlap that cannot happen (GCC PR 105651), which failed the
// Release build of the matrix.
std::string zoneIdOf(const std::string& key) {
  std::string id = "Z";
  id.append(upper(stableHex17(key)).substr(0, 13));
  return id;
}

// Route 53 zone of vpce.amazonaws.com names (the seed's value in us-east-1).
std::string vpceHostedZoneId(const std::string& region) {
  if (region == "us-east-1") return "Z7HUB22UULQXV";
  return zoneIdOf("vpce." + region);
}

// The private hosted zone that holds a private DNS name for one VPC.
std::string privateHostedZoneId(const std::string& vpcId, const std::string& name) {
  return zoneIdOf(vpcId + "|" + name);
}

}  // namespace

std::string stableHex17(std::string_view s) {
  std::string h = fmt::format("{:016x}", fnv1a(s));
  return fmt::format("{:x}", fnv1a(std::string(s) + "#") & 0xf) + h;
}

std::string baseEndpointDnsName(const ControlContext& ctx, const ServiceConfiguration& s) {
  return serviceDnsLabel(ctx, s) + "." + ctx.regionName() + ".vpce.amazonaws.com";
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
  std::string rest = ".";  // appended: `"." + str` is GCC PR 105651's -Wrestrict at -O3 (zoneIdOf)
  rest.append(baseEndpointDnsName(ctx, s));
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

}  // namespace lp::control::endpoint_internal
