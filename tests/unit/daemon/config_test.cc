// Configuration files as a user writes them: typos and wrong types are refused at
// start with the key, the line and the nearest known key.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "daemon/config.h"
#include "daemon/config_schema.h"

namespace lp::daemon {
namespace {

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lp-config-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Result<Config> load(const std::string& text) {
    path_ = dir_ + "/linkplane.toml";
    std::ofstream(path_) << text;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return loadConfig(path_);
  }
  std::string dir_, path_;
};

TEST_F(ConfigFile, TypoOfTopLevelKeyIsRefusedWithLineAndSuggestion) {
  auto c = load("region = \"us-east-1\"\n\ndataplne = false\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), path_ + ":3: unknown key 'dataplne' (did you mean 'dataplane'?)");
}

TEST_F(ConfigFile, UnknownKeyInTableNamesTheDottedKeyWithoutSuggestion) {
  auto c = load("[sns]\nbogus = 1\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), path_ + ":2: unknown key 'sns.bogus'");
}

TEST_F(ConfigFile, TypoInLimitsSuggestsTheLimit) {
  auto c = load("[limits]\nvpcs_per_acount = 5\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            path_ + ":2: unknown key 'limits.vpcs_per_acount' (did you mean 'limits.vpcs_per_account'?)");
}

TEST_F(ConfigFile, TypoInsideAnAccountEntryIsRefused) {
  auto c = load(
      "[[accounts]]\nid = \"111111111111\"\nname = \"a\"\naccess_key_id = \"AK\"\nsecret_acess_key = \"s\"\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            path_ + ":5: unknown key 'accounts.secret_acess_key' (did you mean 'accounts.secret_access_key'?)");
}

TEST_F(ConfigFile, UnknownTableIsRefusedAtItsHeader) {
  auto c = load("region = \"us-east-1\"\n[limit]\nvpcs_per_account = 5\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), path_ + ":2: unknown key 'limit' (did you mean 'limits'?)");
}

TEST_F(ConfigFile, WrongTypeIsRefusedInsteadOfIgnored) {
  auto c = load("dataplane = \"false\"\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), path_ + ":1: dataplane must be true, false or a table");
  c = load("[limits]\nvpcs_per_account = \"5\"\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), path_ + ":2: limits.vpcs_per_account must be an integer");
  c = load("[aws_service_backends]\nsts = 9000\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), path_ + ":2: aws_service_backends.sts must be a string or a table");
}

TEST_F(ConfigFile, SyntaxErrorNamesTheLine) {
  auto c = load("region = \"us-east-1\"\nlisten = \n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().rfind(path_ + ":2: ", 0), 0u) << c.status().message();
}

TEST_F(ConfigFile, EveryDocumentedKeyIsAccepted) {
  auto c = load(R"(region = "eu-west-1"
zone_ids = ["euw1-az1"]
listen = "127.0.0.1:0"
state_dir = "/tmp/x"
log_level = "debug"
api_threads = 2
dns_listen = ""
dns_upstream = ""
[dataplane]
enabled = false
endpoint_bandwidth_gbps = 2.5
workers = 1
[sns]
[[accounts]]
id = "333333333333"
name = "a"
access_key_id = "AKIAA"
secret_access_key = "s"
[limits]
vpcs_per_account = 7
subnets_per_vpc = 1
security_groups_per_vpc = 1
rules_per_security_group = 1
network_interfaces_per_account = 1
interface_endpoints_per_vpc = 1
load_balancers_per_account = 1
target_groups_per_account = 1
targets_per_target_group = 1
listeners_per_load_balancer = 1
[aws_service_backends]
sts = "127.0.0.1:9000"
)");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->dataplane);
  EXPECT_EQ(c->limits.vpcsPerAccount, 7);
  EXPECT_EQ(c->endpointBandwidthGbps, 2.5);
  EXPECT_EQ(c->region.serviceBackends.at("sts"), "127.0.0.1:9000");
}

TEST_F(ConfigFile, UnknownLogLevelIsRefusedRatherThanSilencingTheLog) {
  auto c = load("log_level = \"verbose\"\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            path_ + ":1: log_level must be one of trace, debug, info, warn, error, critical, off; got 'verbose'");
}

TEST_F(ConfigFile, ConnectionLimitPerInterfaceIsReadAndBounded) {
  auto c = load("[dataplane]\nmax_connections_per_interface = 20\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->maxConnectionsPerInterface, 20);
  EXPECT_EQ(load("")->maxConnectionsPerInterface, 50'000);
  auto bad = load("[dataplane]\nmax_connections_per_interface = -1\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            path_ + ":2: dataplane.max_connections_per_interface must be 0 (no limit) to 10000000");
}

TEST_F(ConfigFile, BpfConnectionTableIsReadAndBounded) {
  auto c = load("[dataplane]\nbpf_connection_table = 1048576\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->bpfConnectionTable, 1'048'576);
  EXPECT_EQ(load("")->bpfConnectionTable, 262'144)
      << "the size the maps had before the key: pinned ones stay adoptable";
  for (const char* v : {"63", "16777217", "-1"}) {
    auto bad = load(std::string("[dataplane]\npath = \"bpf\"\nbpf_connection_table = ") + v + "\n");
    ASSERT_FALSE(bad.ok()) << v;
    EXPECT_EQ(bad.status().code(), "InvalidConfig");
    EXPECT_EQ(bad.status().message(), path_ + ":3: dataplane.bpf_connection_table must be 64 to 16777216 entries");
  }
}

// Issue 20: a value of the right type but out of range named the file and not the line,
// as unknown keys and wrong types already did.
TEST_F(ConfigFile, ValueOutOfRangeNamesItsLine) {
  const std::string head = "region = \"us-east-1\"\n\n";  // the values below start on line 3
  struct Case {
    std::string text, message;
  };
  const Case cases[] = {
      {"[dataplane]\nenabled = false\nworkers = 999\n", ":5: dataplane.workers must be 0 (one per core) to 256"},
      {"[dataplane]\npath = \"fast\"\n", ":4: dataplane.path must be \"auto\", \"kernel\", \"bpf\" or \"splice\""},
      {"[metrics]\n\nsample_seconds = 0\n", ":5: metrics.sample_seconds must be 1 to 60"},
      {"zone_ids = []\n", ":3: zone_ids needs 1 to 26 zones"},
      {"zone_ids = [\"a\",\n  \"\"]\n", ":4: zone_ids must be non-empty strings"},
      {"api_threads = 0\n", ":3: api_threads must be 1 to 1024"},
      {"[limits]\nvpcs_per_account = 5\nsubnets_per_vpc = -1\n", ":5: limits.subnets_per_vpc must be 0 to 2147483647"},
      {"[limits]\nvpcs_per_account = 4294967296\n", ":4: limits.vpcs_per_account must be 0 to 2147483647"},
      {"[throttle]\nread_rate = 0.0\n", ":4: throttle.read_rate must be above 0"},
      {"[audit]\nmax_files = 0\n", ":4: audit.max_files must be 1 to 1000"},
      {"[console]\nsignin_forget_seconds = 5\n", ":4: console.signin_forget_seconds must be 60 to 604800"},
      {"[sns]\nsubscriber_networks = [\"10.0.0.0/8\",\n \"10.0.0.1/8\"]\n", ":5: sns.subscriber_networks must be CIDR"},
      {"[pricing]\ndata_tiers_gb = [10, 5]\ndata_tiers_usd_per_gb = [0.01, 0.02]\n",
       ":4: pricing tiers must be rising GB bounds"},
      {"[[accounts]]\nid = \"12\"\n", ":4: account id must be 12 digits, got '12'"},
      {"[[accounts]]\nid = \"123456789012\"\nname = \"a\"\n", ":3: account 123456789012 needs access_key_id"},
      {"listen = \"127.0.0.1:99999\"\n", ":3: listen: bad port in '127.0.0.1:99999'"},
      {"[metrics]\nprometheus_listen = \"nowhere\"\n",
       ":4: metrics.prometheus_listen: listen address must be ADDR:PORT, got 'nowhere'"},
      {"[aws_service_backends]\nkms = \"nohostport\"\n", ":4: aws_service_backends.kms must be \"HOST:PORT\""},
  };
  for (const auto& c : cases) {
    auto r = load(head + c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().message().rfind(path_ + c.message, 0), 0u) << c.text << "\n" << r.status().message();
  }
}

constexpr const char* kWithSecret =
    "[[accounts]]\nid = \"333333333333\"\nname = \"a\"\naccess_key_id = \"AKIAA\"\nsecret_access_key = \"s\"\n";

// Issue 19: secret keys readable by other users are refused, as ssh refuses such key files.
TEST_F(ConfigFile, SecretKeysReadableByOthersAreRefusedNamingTheFileAndChmod) {
  ASSERT_TRUE(load(kWithSecret).ok());  // 0600
  for (auto extra : {std::filesystem::perms::group_read, std::filesystem::perms::others_read}) {
    std::filesystem::permissions(path_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write | extra);
    auto c = loadConfig(path_);
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.status().message().find(path_ + " holds secret keys"), std::string::npos) << c.status().message();
    EXPECT_NE(c.status().message().find("chmod 600 " + path_), std::string::npos) << c.status().message();
  }
  // Without secrets (the demo accounts' documented keys) the mode is not the daemon's business.
  std::ofstream(path_) << "dataplane = false\n";
  std::filesystem::permissions(path_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                          std::filesystem::perms::others_read);
  EXPECT_TRUE(loadConfig(path_).ok());
}

TEST_F(ConfigFile, SubscriberNetworksAreCidrsAndNoneByDefaultInAFile) {
  EXPECT_EQ(defaultConfig().snsSubscriberNetworks, std::vector<std::string>{"127.0.0.0/8"});
  auto none = load("dataplane = false\n");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->snsSubscriberNetworks.empty());
  auto some = load("[sns]\nsubscriber_networks = [\"127.0.0.0/8\", \"10.0.0.0/8\", \"fd00::/8\"]\n");
  ASSERT_TRUE(some.ok()) << some.status().message();
  EXPECT_EQ(some->snsSubscriberNetworks.size(), 3u);
  for (const char* bad : {"[\"10.0.0.1/8\"]", "[\"nonsense\"]", "[\"10.0.0.0/33\"]"}) {
    auto c = load(std::string("[sns]\nsubscriber_networks = ") + bad + "\n");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("sns.subscriber_networks must be CIDR blocks"), std::string::npos);
  }
}

TEST(ConfigSchema, EditDistanceAndNearestKey) {
  EXPECT_EQ(editDistance("dataplne", "dataplane"), 1u);
  EXPECT_EQ(editDistance("", "abc"), 3u);
  EXPECT_EQ(editDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(nearestKey("regoin", {"region", "listen"}), "region");
  EXPECT_EQ(nearestKey("bogus", {"ca_file"}), "");
  EXPECT_EQ(nearestKey("x", {"id"}), "");  // one letter is not a typo of anything
}

// Issue 18: the BPF fast path is chosen by dataplane.path = "bpf".
TEST_F(ConfigFile, DataplanePathBpfIsAccepted) {
  auto c = load("[dataplane]\npath = \"bpf\"\n");
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->dataplanePath, "bpf");
  EXPECT_EQ(defaultConfig().dataplanePath, "auto");
}

}  // namespace
}  // namespace lp::daemon
