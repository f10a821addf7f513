// SIGHUP says what changed for EVERY key a config file may hold: applied, or needs
// a restart. A key the schema gains without a line in reload.cc was silently ignored
// by a reload (dataplane.max_connections_per_interface and [console] were); this
// test fails until the new key has a case here, and the case fails until the reload
// names it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <set>

#include "daemon/config.h"
#include "daemon/config_schema.h"
#include "daemon/reload.h"

namespace lp::daemon {
namespace {

// A PEM bundle every Debian has (ca-certificates): sns.ca_file and an https
// backend's ca_file must be readable certificates.
constexpr const char* kPem = "/etc/ssl/certs/ca-certificates.crt";

struct Case {
  std::vector<std::string> keys;  // what the snippet sets (each differs from the default)
  std::string toml;
  std::string line;  // how the reload's line for it begins
};

const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      {{"region"}, "region = \"eu-west-1\"\n", "region: "},
      {{"zone_ids"}, "zone_ids = [\"use1-az1\"]\n", "zone_ids: "},
      {{"listen"}, "listen = \"127.0.0.1:4567\"\n", "listen: "},
      {{"tls_listen"}, "tls_listen = \"127.0.0.1:4443\"\n", "tls_listen: "},
      {{"state_dir"}, "state_dir = \"/tmp/lp-elsewhere\"\n", "state_dir: "},
      {{"log_level"}, "log_level = \"debug\"\n", "log_level: "},
      {{"api_threads"}, "api_threads = 4\n", "api_threads: "},
      {{"dns_listen"}, "dns_listen = \"\"\n", "dns_listen: "},
      {{"dns_upstream"}, "dns_upstream = \"127.0.0.1:53\"\n", "dns_upstream: "},
      {{"dataplane"}, "dataplane = false\n", "dataplane.enabled: "},
      {{"dataplane.enabled"}, "[dataplane]\nenabled = false\n", "dataplane.enabled: "},
      {{"dataplane.endpoint_bandwidth_gbps"}, "[dataplane]\nendpoint_bandwidth_gbps = 5\n",
       "dataplane.endpoint_bandwidth_gbps: "},
      {{"dataplane.workers"}, "[dataplane]\nworkers = 2\n", "dataplane.workers: "},
      {{"dataplane.path"}, "[dataplane]\npath = \"splice\"\n", "dataplane.path: "},
      {{"dataplane.idle_timeout_seconds"}, "[dataplane]\nidle_timeout_seconds = 100\n",
       "dataplane.idle_timeout_seconds: "},
      {{"dataplane.max_connections_per_interface"}, "[dataplane]\nmax_connections_per_interface = 10\n",
       "dataplane.max_connections_per_interface: "},
      {{"dataplane.bpf_connection_table"}, "[dataplane]\nbpf_connection_table = 4096\n",
       "dataplane.bpf_connection_table: "},
      {{"sns", "sns.ca_file"}, std::string("[sns]\nca_file = \"") + kPem + "\"\n", "sns.ca_file: "},
      {{"sns.subscriber_networks"}, "[sns]\nsubscriber_networks = [\"10.0.0.0/8\"]\n", "sns.subscriber_networks: "},
      {{"accounts", "accounts.id", "accounts.name", "accounts.access_key_id", "accounts.secret_access_key"},
       "[[accounts]]\nid = \"333333333333\"\nname = \"carol\"\naccess_key_id = \"AKCAROL\"\n"
       "secret_access_key = \"carol-secret\"\n",
       "accounts: "},
      {{"aws_service_backends"}, "[aws_service_backends]\nsts = \"127.0.0.1:9000\"\n", "aws_service_backends: "},
      {{"aws_service_backends.*.url", "aws_service_backends.*.ca_file", "aws_service_backends.*.server_name"},
       std::string("[aws_service_backends]\nkms = { url = \"https://127.0.0.1:8443\", ca_file = \"") + kPem +
           "\", server_name = \"kms.internal\" }\n",
       "aws_service_backends (https): "},
      {{"metrics", "metrics.sample_seconds"}, "[metrics]\nsample_seconds = 20\n", "metrics.sample_seconds: "},
      {{"metrics.retention_days"}, "[metrics]\nretention_days = 30\n", "metrics.retention_days: "},
      {{"metrics.max_points"}, "[metrics]\nmax_points = 5000\n", "metrics.max_points: "},
      {{"metrics.prometheus_listen"}, "[metrics]\nprometheus_listen = \"\"\n", "metrics.prometheus_listen: "},
      {{"throttle", "throttle.enabled"}, "[throttle]\nenabled = false\n", "throttle: "},
      {{"throttle.mutating_rate"}, "[throttle]\nmutating_rate = 5\n", "throttle: "},
      {{"throttle.mutating_burst"}, "[throttle]\nmutating_burst = 50\n", "throttle: "},
      {{"throttle.read_rate"}, "[throttle]\nread_rate = 20\n", "throttle: "},
      {{"throttle.read_burst"}, "[throttle]\nread_burst = 100\n", "throttle: "},
      {{"throttle.max_in_flight_per_account"}, "[throttle]\nmax_in_flight_per_account = 2\n", "throttle: "},
      {{"throttle.refusal_hold_max_ms"}, "[throttle]\nrefusal_hold_max_ms = 200\n", "throttle: "},
      {{"audit", "audit.max_file_bytes"}, "[audit]\nmax_file_bytes = 8192\n", "audit: "},
      {{"audit.max_files"}, "[audit]\nmax_files = 3\n", "audit: "},
      {{"audit.refused_per_second"}, "[audit]\nrefused_per_second = 5\n", "audit: "},
      {{"console", "console.signin_free_failures"}, "[console]\nsignin_free_failures = 3\n", "console: "},
      {{"console.signin_first_delay_seconds"}, "[console]\nsignin_first_delay_seconds = 5\n", "console: "},
      {{"console.signin_max_delay_seconds"}, "[console]\nsignin_max_delay_seconds = 600\n", "console: "},
      {{"console.signin_forget_seconds"}, "[console]\nsignin_forget_seconds = 600\n", "console: "},
      {{"console.signin_max_entries"}, "[console]\nsignin_max_entries = 500\n", "console: "},
  };
  static const std::vector<Case> kWithLimits = [] {
    // Every limit is an integer whose default is above 3; its line is reload.cc's
    // kLimits table.
    std::vector<Case> all = kCases;
    for (const auto& key : knownConfigKeys()) {
      if (key.rfind("limits.", 0) != 0) continue;
      std::string name = key.substr(7);
      all.push_back({{key}, "[limits]\n" + name + " = 3\n", key + ": "});
    }
    all.back().keys.push_back("limits");
    return all;
  }();
  return kWithLimits;
}

// Read by `linkplane usage` from the file each time it runs, never by the daemon:
// nothing for a reload to apply or wait for.
bool notTheDaemons(const std::string& key) { return key.rfind("pricing", 0) == 0; }

class ReloadEveryKey : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lp-reload-keys-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Result<Config> load(const std::string& text) {
    std::string path = dir_ + "/linkplane.toml";
    std::ofstream(path) << text;
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return loadConfig(path);
  }
  std::string dir_;
};

TEST_F(ReloadEveryKey, EveryKeyOfTheSchemaHasACase) {
  std::set<std::string> covered;
  for (const auto& c : cases()) covered.insert(c.keys.begin(), c.keys.end());
  for (const auto& key : knownConfigKeys()) {
    if (notTheDaemons(key)) continue;
    EXPECT_TRUE(covered.count(key)) << key << ": add a case above, and a line for it in reload.cc's diffConfig";
  }
}

TEST_F(ReloadEveryKey, AChangeOfAnyKeyIsNamedAsAppliedOrNeedingARestart) {
  auto running = load("");
  ASSERT_TRUE(running.ok()) << running.status().toString();
  for (const auto& c : cases()) {
    auto file = load(c.toml);
    ASSERT_TRUE(file.ok()) << c.toml << file.status().toString();
    auto changes = diffConfig(*running, *file);
    std::vector<std::string> lines = changes.applied;
    lines.insert(lines.end(), changes.needsRestart.begin(), changes.needsRestart.end());
    bool named = std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.rfind(c.line, 0) == 0; });
    EXPECT_TRUE(named) << c.keys[0] << " changed and the reload did not say so (expected a line starting '" << c.line
                       << "'), lines: " << ::testing::PrintToString(lines);
  }
}

}  // namespace
}  // namespace lp::daemon
