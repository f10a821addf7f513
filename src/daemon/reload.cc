#include "daemon/reload.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <functional>

namespace lp::daemon {

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return "[" + out + "]";
}

std::string accountsText(const model::RegionConfig& r) {
  std::string out;
  for (const auto& a : r.accounts) out += (out.empty() ? "" : ",") + a.id + ":" + a.name + ":" + a.accessKeyId;
  return "[" + out + "]";
}

bool sameAccounts(const model::RegionConfig& a, const model::RegionConfig& b) {
  if (a.accounts.size() != b.accounts.size()) return false;
  for (size_t i = 0; i < a.accounts.size(); ++i) {
    const auto &x = a.accounts[i], &y = b.accounts[i];
    if (x.id != y.id || x.name != y.name || x.accessKeyId != y.accessKeyId || x.secretAccessKey != y.secretAccessKey)
      return false;
  }
  return true;
}

std::string backendsText(const std::map<std::string, std::string>& m) {
  std::string out;
  for (const auto& [k, v] : m) out += (out.empty() ? "" : ",") + k + "=" + v;
  return "{" + out + "}";
}

}  // namespace

ConfigChanges diffConfig(const Config& running, const Config& file) {
  ConfigChanges c;
  c.next = running;
  auto restart = [&](const char* key, const std::string& was, const std::string& now) {
    if (was != now) c.needsRestart.push_back(fmt::format("{}: {} -> {}", key, was, now));
  };
  if (running.logLevel != file.logLevel) {
    c.applied.push_back(fmt::format("log_level: {} -> {}", running.logLevel, file.logLevel));
    c.next.logLevel = file.logLevel;
  }
  struct Limit {
    const char* key;
    int control::Limits::*field;
  };
  static const Limit kLimits[] = {
      {"limits.vpcs_per_account", &control::Limits::vpcsPerAccount},
      {"limits.subnets_per_vpc", &control::Limits::subnetsPerVpc},
      {"limits.security_groups_per_vpc", &control::Limits::securityGroupsPerVpc},
      {"limits.rules_per_security_group", &control::Limits::rulesPerSecurityGroup},
      {"limits.network_interfaces_per_account", &control::Limits::networkInterfacesPerAccount},
      {"limits.interface_endpoints_per_vpc", &control::Limits::interfaceEndpointsPerVpc},
      {"limits.load_balancers_per_account", &control::Limits::loadBalancersPerAccount},
      {"limits.target_groups_per_account", &control::Limits::targetGroupsPerAccount},
      {"limits.targets_per_target_group", &control::Limits::targetsPerTargetGroup},
      {"limits.listeners_per_load_balancer", &control::Limits::listenersPerLoadBalancer},
  };
  // The API threads read the limits without a lock (control::ControlContext is
  // immutable while they run), so a new quota waits for a restart.
  for (const auto& l : kLimits) restart(l.key, std::to_string(running.limits.*l.field), std::to_string(file.limits.*l.field));
  // Secrets are compared but never printed.
  if (!sameAccounts(running.region, file.region))
    c.needsRestart.push_back(fmt::format("accounts: {} -> {}", accountsText(running.region), accountsText(file.region)));
  restart("aws_service_backends", backendsText(running.region.serviceBackends), backendsText(file.region.serviceBackends));
  restart("region", running.region.name, file.region.name);
  restart("zone_ids", join(running.region.zoneIds), join(file.region.zoneIds));
  restart("listen", running.listen, file.listen);
  restart("state_dir", running.stateDir, file.stateDir);
  restart("api_threads", std::to_string(running.apiThreads), std::to_string(file.apiThreads));
  restart("dataplane.enabled", running.dataplane ? "true" : "false", file.dataplane ? "true" : "false");
  restart("dataplane.endpoint_bandwidth_gbps", fmt::format("{}", running.endpointBandwidthGbps),
          fmt::format("{}", file.endpointBandwidthGbps));
  restart("dataplane.workers", std::to_string(running.dataplaneWorkers), std::to_string(file.dataplaneWorkers));
  restart("dns_listen", running.dnsListen, file.dnsListen);
  restart("dns_upstream", running.dnsUpstream, file.dnsUpstream);
  restart("sns.ca_file", running.snsCaFile, file.snsCaFile);
  auto throttleText = [](const api::ThrottleConfig& t) {
    return fmt::format("enabled={} mutating={}/s burst {} read={}/s burst {} in flight {}", t.enabled,
                       t.mutatingRate, t.mutatingBurst, t.readRate, t.readBurst, t.maxInFlight);
  };
  restart("throttle", throttleText(running.throttle), throttleText(file.throttle));
  restart("audit", fmt::format("{} bytes x {} files, {} refused/s", running.auditMaxFileBytes, running.auditMaxFiles,
                               running.auditRefusedPerSecond),
          fmt::format("{} bytes x {} files, {} refused/s", file.auditMaxFileBytes, file.auditMaxFiles,
                      file.auditRefusedPerSecond));
  restart("sns.subscriber_networks", fmt::format("{}", fmt::join(running.snsSubscriberNetworks, ",")),
          fmt::format("{}", fmt::join(file.snsSubscriberNetworks, ",")));
  return c;
}

}  // namespace lp::daemon
