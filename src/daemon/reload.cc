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

// Accounts by id: added, removed, and for one that stays, its name, key and secret.
void diffAccounts(const model::RegionConfig& was, const model::RegionConfig& now, ConfigChanges& c) {
  auto note = [&](std::string line) {
    c.applied.push_back("accounts: " + std::move(line));
    c.accountsChanged = true;
  };
  for (const auto& a : was.accounts) {
    const model::Account* b = now.accountById(a.id);
    if (!b) {
      note(fmt::format("removed {} ({}, key {})", a.id, a.name, a.accessKeyId));
      continue;
    }
    if (a.name != b->name) note(fmt::format("{} name {} -> {}", a.id, a.name, b->name));
    if (a.accessKeyId != b->accessKeyId)
      note(fmt::format("{} ({}) key {} -> {}", a.id, b->name, a.accessKeyId, b->accessKeyId));
    else if (a.secretAccessKey != b->secretAccessKey)
      note(fmt::format("{} ({}) secret of key {} changed", a.id, b->name, a.accessKeyId));
  }
  for (const auto& b : now.accounts)
    if (!was.accountById(b.id)) note(fmt::format("added {} ({}, key {})", b.id, b.name, b.accessKeyId));
}

std::string backendsText(const std::map<std::string, std::string>& m) {
  std::string out;
  for (const auto& [k, v] : m) out += (out.empty() ? "" : ",") + k + "=" + v;
  return "{" + out + "}";
}

std::string httpsText(const std::map<std::string, tls::HttpsUpstream>& m) {
  std::string out;
  for (const auto& [k, u] : m) {
    out += (out.empty() ? "" : ",") + k + "=" + u.url + " (ca " + u.caFile;
    out += (u.serverName != u.host ? ", name " + u.serverName : "") + ")";
  }
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
  // One line per field of control::Limits (config.cc parses the same keys).
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
      {"limits.route_tables_per_vpc", &control::Limits::routeTablesPerVpc},
      {"limits.network_acls_per_vpc", &control::Limits::networkAclsPerVpc},
      {"limits.network_acl_entries_per_direction", &control::Limits::networkAclEntriesPerDirection},
      {"limits.security_groups_per_interface", &control::Limits::securityGroupsPerInterface},
      {"limits.instances_per_account", &control::Limits::instancesPerAccount},
      {"limits.cidr_blocks_per_vpc", &control::Limits::cidrBlocksPerVpc},
  };
  // Limits, accounts and backends are live: control::ControlContext hands each request
  // an immutable snapshot, and the daemon publishes the next one.
  for (const auto& l : kLimits)
    if (running.limits.*l.field != file.limits.*l.field)
      c.applied.push_back(fmt::format("{}: {} -> {}", l.key, running.limits.*l.field, file.limits.*l.field));
  c.next.limits = file.limits;
  diffAccounts(running.region, file.region, c);
  c.next.region.accounts = file.region.accounts;
  if (running.region.serviceBackends != file.region.serviceBackends) {
    c.applied.push_back(fmt::format("aws_service_backends: {} -> {}", backendsText(running.region.serviceBackends),
                                    backendsText(file.region.serviceBackends)));
    c.backendsChanged = true;
  }
  c.next.region.serviceBackends = file.region.serviceBackends;
  if (running.httpsBackends != file.httpsBackends)
    c.applied.push_back(fmt::format("aws_service_backends (https): {} -> {}", httpsText(running.httpsBackends),
                                    httpsText(file.httpsBackends)));
  c.next.httpsBackends = file.httpsBackends;
  restart("region", running.region.name, file.region.name);
  restart("zone_ids", join(running.region.zoneIds), join(file.region.zoneIds));
  restart("listen", running.listen, file.listen);
  restart("tls_listen", running.tlsListen, file.tlsListen);
  restart("state_dir", running.stateDir, file.stateDir);
  restart("api_threads", std::to_string(running.apiThreads), std::to_string(file.apiThreads));
  restart("dataplane.enabled", running.dataplane ? "true" : "false", file.dataplane ? "true" : "false");
  restart("dataplane.endpoint_bandwidth_gbps", fmt::format("{}", running.endpointBandwidthGbps),
          fmt::format("{}", file.endpointBandwidthGbps));
  restart("dataplane.workers", std::to_string(running.dataplaneWorkers), std::to_string(file.dataplaneWorkers));
  restart("dataplane.path", running.dataplanePath, file.dataplanePath);
  restart("dataplane.idle_timeout_seconds", std::to_string(running.idleTimeoutSeconds),
          std::to_string(file.idleTimeoutSeconds));
  restart("dataplane.max_connections_per_interface", std::to_string(running.maxConnectionsPerInterface),
          std::to_string(file.maxConnectionsPerInterface));
  restart("dataplane.bpf_connection_table", std::to_string(running.bpfConnectionTable),
          std::to_string(file.bpfConnectionTable));
  restart("metrics.sample_seconds", std::to_string(running.metricsSampleSeconds),
          std::to_string(file.metricsSampleSeconds));
  restart("metrics.retention_days", std::to_string(running.metricsRetentionDays),
          std::to_string(file.metricsRetentionDays));
  restart("metrics.max_points", std::to_string(running.metricsMaxPoints), std::to_string(file.metricsMaxPoints));
  restart("metrics.prometheus_listen", running.prometheusListen, file.prometheusListen);
  restart("dns_listen", running.dnsListen, file.dnsListen);
  restart("dns_upstream", running.dnsUpstream, file.dnsUpstream);
  restart("sns.ca_file", running.snsCaFile, file.snsCaFile);
  auto throttleText = [](const api::ThrottleConfig& t) {
    return fmt::format("enabled={} mutating={}/s burst {} read={}/s burst {} in flight {} refusal hold {} ms",
                       t.enabled, t.mutatingRate, t.mutatingBurst, t.readRate, t.readBurst, t.maxInFlight,
                       t.refusalHoldMaxMs);
  };
  restart("throttle", throttleText(running.throttle), throttleText(file.throttle));
  restart("audit", fmt::format("{} bytes x {} files, {} refused/s", running.auditMaxFileBytes, running.auditMaxFiles,
                               running.auditRefusedPerSecond),
          fmt::format("{} bytes x {} files, {} refused/s", file.auditMaxFileBytes, file.auditMaxFiles,
                      file.auditRefusedPerSecond));
  auto signInText = [](const api::console::SignInLimits& l) {
    return fmt::format("{} free failures, delay {}s doubling to {}s, forgotten after {}s, {} entries", l.free,
                       l.firstDelay.count(), l.maxDelay.count(), l.forget.count(), l.maxEntries);
  };
  restart("console", signInText(running.consoleSignIn), signInText(file.consoleSignIn));
  restart("sns.subscriber_networks", fmt::format("{}", fmt::join(running.snsSubscriberNetworks, ",")),
          fmt::format("{}", fmt::join(file.snsSubscriberNetworks, ",")));
  return c;
}

}  // namespace lp::daemon
