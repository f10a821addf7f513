#include "daemon/config.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>
#include <sstream>

#include "common/strings.h"
#include "daemon/config_guards.h"
#include "daemon/config_schema.h"
#include "model/ip_address.h"

namespace lp::daemon {

namespace {
// [dataplane] bpf_connection_table, in entries. The least is for tests' tiny tables
// (whether it leaves room for a connection depends on the host's CPUs, checked at
// start: net/bpf/bpf_fastpath.h, connectionLimitFor); the most, 16 Mi entries, is
// about 8 million connections and 1.9 GiB of kernel memory (120 bytes an entry: the
// default 262,144 entries' map reports 30 MiB of memlock).
constexpr int64_t kMinBpfConnectionTable = 64;
constexpr int64_t kMaxBpfConnectionTable = 16'777'216;

// `kms = { url = "https://HOST:PORT", ca_file = "...", server_name = "..." }`: the CA
// is required (an upstream is never used unverified) and must load now, so a typo
// stops the start or the reload rather than every connection.
Result<tls::HttpsUpstream> parseHttpsBackend(const std::string& key, const toml::table& t) {
  auto url = t["url"].value<std::string>();
  if (!url) return Status("InvalidConfig", key + ".url must be \"https://HOST:PORT\"");
  auto up = tls::parseHttpsUrl(*url);
  if (!up.ok()) return Status("InvalidConfig", key + ".url: " + up.status().message());
  auto ca = t["ca_file"].value<std::string>();
  if (!ca || ca->empty())
    return Status("InvalidConfig", key + ".ca_file is required: the PEM file of the CAs that " + *url +
                                       "'s certificate must chain to");
  up->caFile = std::filesystem::absolute(*ca).string();
  if (Status st = tls::checkCaFile(up->caFile); !st.ok())
    return Status("InvalidConfig", key + ".ca_file: " + st.message());
  if (auto name = t["server_name"].value<std::string>()) {
    auto named = tls::parseHttpsUrl("https://" + *name);
    if (name->empty() || !named.ok() || named->port != 443 || name->find(':') != std::string::npos)
      return Status("InvalidConfig", key + ".server_name '" + *name + "' is not a host name or IP address");
    up->serverName = named->host;
  }
  return *up;
}
}  // namespace

Config defaultConfig() {
  Config c;
  c.region.name = "us-east-1";
  c.region.zoneIds = {"use1-az1", "use1-az2", "use1-az3"};
  // Documented in README.md: the demo accounts every example uses.
  c.region.accounts = {
      {"111111111111", "provider", "AKIALINKPLANEPROVIDR", "provider/secret/key/0000000000000000000000"},
      {"222222222222", "consumer", "AKIALINKPLANECONSUMR", "consumer/secret/key/0000000000000000000000"},
  };
  // The demo's subscribers are local; a config file must name its own networks.
  c.snsSubscriberNetworks = {"127.0.0.0/8"};
  return c;
}

Result<std::pair<std::string, uint16_t>> parseListen(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return Status("InvalidConfig", "listen address must be ADDR:PORT, got '" + s + "'");
  auto port = parseInt(s.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) return Status("InvalidConfig", "bad port in '" + s + "'");
  return std::make_pair(s.substr(0, colon), static_cast<uint16_t>(*port));
}

Result<Config> loadConfig(const std::string& path) {
  Config c = defaultConfig();
  c.snsSubscriberNetworks.clear();
  // Read through one descriptor so the mode checked is the file's that is parsed.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status("InvalidConfig", path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) == 0) {
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  toml::table t;
  try {
    t = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return Status("InvalidConfig", path + ":" + std::to_string(e.source().begin.line) + ": " +
                                       std::string(e.description()));
  }
  LP_RETURN_IF_ERROR(checkConfigKeys(t, path));
  // "FILE:LINE" of a key, for the value errors below.
  auto at = [&](std::string_view dotted) { return whereInFile(path, t, dotted); };
  if (auto v = t["region"].value<std::string>()) c.region.name = *v;
  if (auto* zones = t["zone_ids"].as_array()) {
    c.region.zoneIds.clear();
    for (auto& z : *zones) {
      auto s = z.value<std::string>();
      if (!s || s->empty())
        return Status("InvalidConfig", whereInFile(path, &z) + ": zone_ids must be non-empty strings");
      c.region.zoneIds.push_back(*s);
    }
    if (c.region.zoneIds.empty() || c.region.zoneIds.size() > 26)
      return Status("InvalidConfig", at("zone_ids") + ": zone_ids needs 1 to 26 zones");
  }
  if (auto v = t["listen"].value<std::string>()) c.listen = *v;
  if (auto v = t["tls_listen"].value<std::string>()) c.tlsListen = *v;
  if (auto v = t["state_dir"].value<std::string>()) c.stateDir = *v;
  if (auto v = t["log_level"].value<std::string>()) c.logLevel = *v;
  if (auto v = t["api_threads"].value<int64_t>()) {
    if (*v < 1 || *v > 1024) return Status("InvalidConfig", at("api_threads") + ": api_threads must be 1 to 1024");
    c.apiThreads = static_cast<int>(*v);
  }
  if (auto v = t["dataplane"].value<bool>()) c.dataplane = *v;
  if (auto* d = t["dataplane"].as_table()) {
    if (auto v = (*d)["enabled"].value<bool>()) c.dataplane = *v;
    if (auto v = (*d)["endpoint_bandwidth_gbps"].value<double>()) c.endpointBandwidthGbps = *v;
    if (auto v = (*d)["workers"].value<int64_t>()) c.dataplaneWorkers = static_cast<int>(*v);
    if (auto v = (*d)["path"].value<std::string>()) c.dataplanePath = *v;
    if (auto v = (*d)["idle_timeout_seconds"].value<int64_t>()) c.idleTimeoutSeconds = static_cast<int>(*v);
    if (auto v = (*d)["max_connections_per_interface"].value<int64_t>()) c.maxConnectionsPerInterface = *v;
    if (auto v = (*d)["bpf_connection_table"].value<int64_t>()) c.bpfConnectionTable = *v;
    if (c.bpfConnectionTable < kMinBpfConnectionTable || c.bpfConnectionTable > kMaxBpfConnectionTable)
      return Status("InvalidConfig", at("dataplane.bpf_connection_table") +
                                         fmt::format(": dataplane.bpf_connection_table must be {} to {} entries",
                                                     kMinBpfConnectionTable, kMaxBpfConnectionTable));
    if (c.maxConnectionsPerInterface < 0 || c.maxConnectionsPerInterface > 10'000'000)
      return Status("InvalidConfig", at("dataplane.max_connections_per_interface") +
                                         ": dataplane.max_connections_per_interface must be 0 (no limit) to 10000000");
    if (c.dataplanePath != "auto" && c.dataplanePath != "kernel" && c.dataplanePath != "splice" &&
        c.dataplanePath != "bpf")
      return Status("InvalidConfig", at("dataplane.path") +
                                         ": dataplane.path must be \"auto\", \"kernel\", \"bpf\" or \"splice\"");
    if (c.idleTimeoutSeconds < 1 || c.idleTimeoutSeconds > 86400)
      return Status("InvalidConfig",
                    at("dataplane.idle_timeout_seconds") + ": dataplane.idle_timeout_seconds must be 1 to 86400");
    if (c.endpointBandwidthGbps < 0 || c.endpointBandwidthGbps > 10000)
      return Status("InvalidConfig", at("dataplane.endpoint_bandwidth_gbps") +
                                         ": dataplane.endpoint_bandwidth_gbps must be 0 (no cap) to 10000");
    if (c.dataplaneWorkers < 0 || c.dataplaneWorkers > 256)
      return Status("InvalidConfig", at("dataplane.workers") + ": dataplane.workers must be 0 (one per core) to 256");
  }
  if (auto* sns = t["sns"].as_table()) {
    if (auto* nets = (*sns)["subscriber_networks"].as_array()) {
      for (auto& n : *nets) {
        auto v = n.value<std::string>();
        if (!v || !model::IpNetwork::parse(*v))
          return Status("InvalidConfig", whereInFile(path, &n) +
                                             ": sns.subscriber_networks must be CIDR blocks (\"127.0.0.0/8\", "
                                             "\"10.0.0.0/8\", \"fd00::/8\") with host bits zero");
        c.snsSubscriberNetworks.push_back(*v);
      }
    }
    if (auto* node = (*sns).get("ca_file")) {
      auto v = node->value<std::string>();
      if (!v || v->empty())
        return Status("InvalidConfig", whereInFile(path, node) + ": sns.ca_file must be the path of a PEM file");
      std::ifstream in(*v);
      std::stringstream pem;
      pem << in.rdbuf();
      if (!in || pem.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos)
        return Status("InvalidConfig", whereInFile(path, node) + ": sns.ca_file '" + *v +
                                           "' is not a readable PEM file of certificates");
      c.snsCaFile = std::filesystem::absolute(*v).string();
    }
  }
  if (auto* m = t["metrics"].as_table()) {
    if (auto v = (*m)["sample_seconds"].value<int64_t>()) c.metricsSampleSeconds = static_cast<int>(*v);
    if (auto v = (*m)["retention_days"].value<int64_t>()) c.metricsRetentionDays = static_cast<int>(*v);
    if (auto v = (*m)["max_points"].value<int64_t>()) c.metricsMaxPoints = *v;
    if (auto v = (*m)["prometheus_listen"].value<std::string>()) c.prometheusListen = *v;
    if (c.metricsSampleSeconds < 1 || c.metricsSampleSeconds > 60)
      return Status("InvalidConfig", at("metrics.sample_seconds") + ": metrics.sample_seconds must be 1 to 60");
    if (c.metricsRetentionDays < 1 || c.metricsRetentionDays > 455)
      return Status("InvalidConfig", at("metrics.retention_days") + ": metrics.retention_days must be 1 to 455");
    if (c.metricsMaxPoints < 1000)
      return Status("InvalidConfig", at("metrics.max_points") + ": metrics.max_points must be at least 1000");
  }
  if (auto* pr = t["pricing"].as_table()) {
    if (auto v = (*pr)["endpoint_zone_hour_usd"].value<double>()) c.prices.perEndpointZoneHour = *v;
    auto* bounds = (*pr)["data_tiers_gb"].as_array();
    auto* rates = (*pr)["data_tiers_usd_per_gb"].as_array();
    if (!bounds != !rates || (bounds && bounds->size() != rates->size()) || (bounds && bounds->empty()))
      return Status("InvalidConfig", at(bounds ? "pricing.data_tiers_gb" : "pricing.data_tiers_usd_per_gb") +
                                         ": pricing.data_tiers_gb and pricing.data_tiers_usd_per_gb must be "
                                         "non-empty lists of the same length");
    if (bounds) {
      c.prices.dataTiers.clear();
      double last = 0;
      for (size_t i = 0; i < bounds->size(); ++i) {
        auto b = (*bounds)[i].value<double>();
        auto r = (*rates)[i].value<double>();
        bool badBound = !b || (*b != 0 && *b <= last) || (*b == 0 && i + 1 != bounds->size());
        if (badBound || !r || *r < 0)
          return Status("InvalidConfig", whereInFile(path, badBound ? &(*bounds)[i] : &(*rates)[i]) +
                                             ": pricing tiers must be rising GB bounds (0 = no bound, last "
                                             "only) with rates of 0 or more");
        double bound = *b == 0 ? std::numeric_limits<double>::infinity() : *b;
        c.prices.dataTiers.push_back({bound, *r});
        last = bound;
      }
    }
    if (c.prices.perEndpointZoneHour < 0)
      return Status("InvalidConfig",
                    at("pricing.endpoint_zone_hour_usd") + ": pricing.endpoint_zone_hour_usd must be 0 or more");
  }
  if (auto v = t["dns_listen"].value<std::string>()) c.dnsListen = *v;
  if (auto v = t["dns_upstream"].value<std::string>()) c.dnsUpstream = *v;
  if (auto* accounts = t["accounts"].as_array()) {
    c.region.accounts.clear();
    static const std::regex kId("[0-9]{12}");
    for (auto& node : *accounts) {
      auto* a = node.as_table();
      if (!a) return Status("InvalidConfig", whereInFile(path, &node) + ": each [[accounts]] entry must be a table");
      model::Account acct;
      acct.id = (*a)["id"].value_or(std::string());
      acct.name = (*a)["name"].value_or(std::string());
      acct.accessKeyId = (*a)["access_key_id"].value_or(std::string());
      acct.secretAccessKey = (*a)["secret_access_key"].value_or(std::string());
      // The entry's line is its [[accounts]] header; a bad id points at the id.
      const std::string entry = whereInFile(path, a);
      if (!std::regex_match(acct.id, kId))
        return Status("InvalidConfig", whereInFile(path, a->get("id") ? a->get("id") : a) +
                                           ": account id must be 12 digits, got '" + acct.id + "'");
      if (acct.accessKeyId.empty() || acct.secretAccessKey.empty())
        return Status("InvalidConfig", entry + ": account " + acct.id + " needs access_key_id and secret_access_key");
      if (c.region.accountById(acct.id) || c.region.accountByKey(acct.accessKeyId))
        return Status("InvalidConfig", entry + ": duplicate account id or access key for " + acct.id);
      c.region.accounts.push_back(acct);
    }
    // Like ssh with a private key: secrets open to other users are refused, not used.
    if (!accounts->empty() && (st.st_mode & 077) != 0)
      return Status("InvalidConfig",
                    fmt::format("{} holds secret keys ([[accounts]] secret_access_key) and is accessible by group "
                                "or others (mode {:04o}); refusing to use it: run chmod 600 {}",
                                path, st.st_mode & 07777, path));
  }
  if (auto* b = t["aws_service_backends"].as_table()) {
    for (auto& [name, node] : *b) {
      const std::string key = whereInFile(path, &node) + ": aws_service_backends." + std::string(name.str());
      if (auto* up = node.as_table()) {
        LP_ASSIGN_OR_RETURN(c.httpsBackends[std::string(name.str())], parseHttpsBackend(key, *up));
        continue;
      }
      auto v = node.value<std::string>();
      if (v && v->starts_with("https://"))
        return Status("InvalidConfig", key + ": an https:// upstream needs the CA to verify it with: write { url = \"" +
                                           *v + "\", ca_file = \"/path/to/ca.pem\" }");
      if (!v || v->find(':') == std::string::npos)
        return Status("InvalidConfig", key + " must be \"HOST:PORT\" or { url = \"https://HOST:PORT\", ca_file = \"...\" }");
      c.region.serviceBackends[std::string(name.str())] = *v;
    }
  }
  if (auto* l = t["limits"].as_table()) {
    // Refused rather than wrapped into an int (a negative quota would refuse everything).
    Status bad;
    auto get = [&](const char* k, int& dst) {
      auto v = (*l)[k].value<int64_t>();
      if (!v || !bad.ok()) return;
      if (*v < 0 || *v > std::numeric_limits<int>::max())
        bad = Status("InvalidConfig", whereInFile(path, (*l).get(k)) + ": limits." + k + " must be 0 to " +
                                          std::to_string(std::numeric_limits<int>::max()));
      else
        dst = static_cast<int>(*v);
    };
    get("vpcs_per_account", c.limits.vpcsPerAccount);
    get("subnets_per_vpc", c.limits.subnetsPerVpc);
    get("security_groups_per_vpc", c.limits.securityGroupsPerVpc);
    get("rules_per_security_group", c.limits.rulesPerSecurityGroup);
    get("network_interfaces_per_account", c.limits.networkInterfacesPerAccount);
    get("interface_endpoints_per_vpc", c.limits.interfaceEndpointsPerVpc);
    get("load_balancers_per_account", c.limits.loadBalancersPerAccount);
    get("target_groups_per_account", c.limits.targetGroupsPerAccount);
    get("targets_per_target_group", c.limits.targetsPerTargetGroup);
    get("listeners_per_load_balancer", c.limits.listenersPerLoadBalancer);
    get("route_tables_per_vpc", c.limits.routeTablesPerVpc);
    get("network_acls_per_vpc", c.limits.networkAclsPerVpc);
    get("network_acl_entries_per_direction", c.limits.networkAclEntriesPerDirection);
    get("security_groups_per_interface", c.limits.securityGroupsPerInterface);
    get("instances_per_account", c.limits.instancesPerAccount);
    get("cidr_blocks_per_vpc", c.limits.cidrBlocksPerVpc);
    LP_RETURN_IF_ERROR(bad);
  }
  LP_RETURN_IF_ERROR(readGuardSections(t, path, c));
  // spdlog reads an unknown level name as "off": a typo would silence the daemon.
  static const char* const kLevels[] = {"trace", "debug", "info", "warn", "warning", "error", "err", "critical", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), c.logLevel) == std::end(kLevels))
    return Status("InvalidConfig",
                  at("log_level") + ": log_level must be one of trace, debug, info, warn, error, critical, off; got '" +
                      c.logLevel + "'");
  for (auto [key, value] : {std::pair{"listen", &c.listen}, std::pair{"tls_listen", &c.tlsListen},
                            std::pair{"metrics.prometheus_listen", &c.prometheusListen},
                            std::pair{"dns_listen", &c.dnsListen}, std::pair{"dns_upstream", &c.dnsUpstream}}) {
    if (value->empty() && std::string_view(key) != "listen") continue;  // "" turns it off
    if (auto l = parseListen(*value); !l.ok())
      return Status("InvalidConfig", at(key) + ": " + key + ": " + l.status().message());
  }
  return c;
}

}  // namespace lp::daemon
