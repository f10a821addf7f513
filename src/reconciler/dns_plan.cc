#include "reconciler/dns_plan.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "model/cidr.h"
#include "model/endpoint.h"
#include "model/resources.h"

namespace lp::reconciler {

namespace {

using nlohmann::json;

// Every record of a kind that parses; the highest revision seen goes to *rev.
template <typename R>
std::vector<R> all(const store::ReadView& view, uint64_t* rev) {
  std::vector<R> out;
  view.forEach(R::kKind, [&](const store::Object& o) {
    auto j = json::parse(o.body, nullptr, false);
    if (j.is_discarded()) return true;
    try {
      out.push_back(j.get<R>());
      *rev = std::max(*rev, o.revision);
    } catch (const json::exception&) {
      // A malformed record names nothing; the others still resolve.
    }
    return true;
  });
  return out;
}

bool within(const std::string& name, const std::string& zone) {
  return name == zone ||
         (name.size() > zone.size() && name.compare(name.size() - zone.size(), zone.size(), zone) == 0 &&
          name[name.size() - zone.size() - 1] == '.');
}

void addZone(dns::NameSet& set, const std::string& zone) {
  if (std::find(set.zones.begin(), set.zones.end(), zone) == set.zones.end()) set.zones.push_back(zone);
}

void addRecords(dns::NameSet& set, const std::string& name, const std::vector<std::string>& addrs) {
  auto& have = set.a[name];
  for (const auto& a : addrs) {
    if (std::find(have.begin(), have.end(), a) == have.end()) have.push_back(a);
  }
}

}  // namespace

std::string vpceZone(const std::string& region) { return region + ".vpce.amazonaws.com"; }

dns::ZoneSnapshot planDns(const store::ReadView& view, const std::string& region) {
  dns::ZoneSnapshot snap;
  uint64_t rev = 1;
  auto vpcs = all<model::Vpc>(view, &rev);
  auto endpoints = all<model::VpcEndpoint>(view, &rev);
  auto interfaces = all<model::NetworkInterface>(view, &rev);
  auto services = all<model::ServiceConfiguration>(view, &rev);
  snap.serial = static_cast<uint32_t>(rev);

  std::map<std::string, const model::NetworkInterface*> interfaceById;
  for (const auto& i : interfaces) interfaceById[i.id.str()] = &i;
  std::map<std::string, const model::ServiceConfiguration*> serviceById;
  for (const auto& s : services) serviceById[s.id.str()] = &s;
  std::map<std::string, const model::Vpc*> vpcById;
  for (const auto& v : vpcs) vpcById[v.id.str()] = &v;

  const std::string shared = vpceZone(region);
  snap.shared.zones.push_back(shared);

  for (const auto& e : endpoints) {
    if (e.state != model::endpoint_state::kAvailable) continue;
    std::vector<const model::NetworkInterface*> nics;
    for (const auto& id : e.networkInterfaceIds) {
      auto it = interfaceById.find(id.str());
      if (it != interfaceById.end() && !it->second->privateIp.empty()) nics.push_back(it->second);
    }
    if (nics.empty()) continue;
    std::vector<std::string> allAddrs;
    for (const auto* n : nics) allAddrs.push_back(n->privateIp);

    auto vpc = vpcById.find(e.vpcId.str());
    bool privateDns =
        e.privateDnsEnabled && vpc != vpcById.end() && vpc->second->enableDnsSupport && vpc->second->enableDnsHostnames;
    std::vector<std::string> privateNames;
    for (const auto& d : e.dnsEntries) {
      std::string name = dns::canonicalName(d.dnsName);
      if (name.empty()) continue;
      if (!d.zoneId.empty()) {
        std::vector<std::string> zonal;
        for (const auto* n : nics) {
          if (n->zoneId == d.zoneId) zonal.push_back(n->privateIp);
        }
        if (zonal.empty()) continue;
        addZone(snap.shared, within(name, shared) ? shared : name);
        addRecords(snap.shared, name, zonal);
      } else if (within(name, shared)) {
        addRecords(snap.shared, name, allAddrs);
      } else {
        privateNames.push_back(name);  // the service's default name (DnsEntries end with it)
      }
    }
    if (!privateDns) continue;
    if (privateNames.empty()) {
      auto s = serviceById.find(e.serviceId.str());
      if (s != serviceById.end() && !s->second->privateDnsName.empty()) {
        privateNames.push_back(dns::canonicalName(s->second->privateDnsName));
      }
    }
    auto& set = snap.views[e.vpcId.str()];
    for (const auto& name : privateNames) {
      addZone(set, name);
      addRecords(set, name, allAddrs);
    }
  }

  for (const auto& v : vpcs) {
    if (!v.enableDnsSupport) continue;
    auto c = model::Cidr::parse(v.cidrBlock);
    if (!c) continue;
    snap.resolvers.push_back(dns::VpcResolver{v.id.str(), "lp-" + v.id.str(), c->at(2).toString(), 53});
  }
  return snap;
}

DnsPublisher::DnsPublisher(std::unique_ptr<HostProvisioner> inner, dns::DnsServer& server, std::string region,
                           bool vpcResolvers)
    : inner_(std::move(inner)), server_(server), region_(std::move(region)), vpcResolvers_(vpcResolvers) {}

ProvisionReport DnsPublisher::apply(const store::ReadView& view) {
  auto snap = std::make_shared<dns::ZoneSnapshot>(planDns(view, region_));
  if (!vpcResolvers_) snap->resolvers.clear();
  bool changed = !last_ || !(*last_ == *snap);
  bool newResolvers = changed && (!last_ || last_->resolvers != snap->resolvers);
  // Names first: a removal (private DNS off, reject, delete) must not wait for the
  // host pass. Names only ever appear for endpoints already available, whose
  // interfaces an earlier pass put in place.
  if (changed) {
    last_ = snap;
    server_.publish(snap);
  }
  ProvisionReport report = inner_->apply(view);
  // A new VPC's namespace exists only now: publishing again has its sockets opened
  // at once rather than at the server's next one-second retry.
  if (newResolvers) server_.publish(last_);
  return report;
}

void DnsPublisher::teardown() {
  last_ = std::make_shared<dns::ZoneSnapshot>();
  server_.publish(last_);
  inner_->teardown();
}

}  // namespace lp::reconciler
