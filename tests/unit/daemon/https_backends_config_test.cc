// [aws_service_backends] entries that are https:// upstreams, as an operator writes
// them: accepted with their CA, refused with the key, the line and the reason
// otherwise (never used unverified), and named by a SIGHUP that changes them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "daemon/config.h"
#include "daemon/reload.h"
#include "tls/local_ca.h"

namespace lp::daemon {
namespace {

class HttpsBackendConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lp-https-config-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(tls::LocalCa::loadOrCreate(dir_).ok());  // dir_/ca.pem: a CA file to name
    ca_ = dir_ + "/ca.pem";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Result<Config> load(const std::string& text) {
    path_ = dir_ + "/linkplane.toml";
    std::ofstream(path_) << text;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return loadConfig(path_);
  }
  std::string dir_, path_, ca_;
};

TEST_F(HttpsBackendConfig, TableFormBesideThePlainOne) {
  auto c = load(
      "[aws_service_backends]\nsts = \"127.0.0.1:9000\"\nkms = { url = \"https://kms.internal:8443\", "
      "ca_file = \"" +
      ca_ + "\" }\n[aws_service_backends.ssm]\nurl = \"https://10.0.0.7\"\nca_file = \"" + ca_ +
      "\"\nserver_name = \"ssm.internal\"\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->region.serviceBackends, (std::map<std::string, std::string>{{"sts", "127.0.0.1:9000"}}));
  ASSERT_EQ(c->httpsBackends.size(), 2u);
  const auto& kms = c->httpsBackends.at("kms");
  EXPECT_EQ(kms.host, "kms.internal");
  EXPECT_EQ(kms.port, 8443);
  EXPECT_EQ(kms.serverName, "kms.internal");
  EXPECT_EQ(kms.caFile, ca_);
  const auto& ssm = c->httpsBackends.at("ssm");
  EXPECT_EQ(ssm.host, "10.0.0.7");
  EXPECT_EQ(ssm.port, 443);
  EXPECT_EQ(ssm.serverName, "ssm.internal");
}

TEST_F(HttpsBackendConfig, NeverWithoutACa) {
  auto c = load("[aws_service_backends]\nkms = \"https://kms.internal:8443\"\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), path_ +
                                      ":2: aws_service_backends.kms: an https:// upstream needs the CA to verify it "
                                      "with: write { url = \"https://kms.internal:8443\", ca_file = "
                                      "\"/path/to/ca.pem\" }");
  c = load("[aws_service_backends]\nkms = { url = \"https://kms.internal:8443\" }\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), path_ +
                                      ":2: aws_service_backends.kms.ca_file is required: the PEM file of the CAs "
                                      "that https://kms.internal:8443's certificate must chain to");
}

TEST_F(HttpsBackendConfig, BadUrlCaFileOrNameIsRefusedWithTheReason) {
  auto c = load("[aws_service_backends]\nkms = { url = \"http://kms:80\", ca_file = \"" + ca_ + "\" }\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), path_ +
                                      ":2: aws_service_backends.kms.url: 'http://kms:80' is not an https:// "
                                      "upstream: the scheme must be https");
  c = load("[aws_service_backends]\nkms = { url = \"https://kms\", ca_file = \"" + dir_ + "/ca.key\" }\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            path_ + ":2: aws_service_backends.kms.ca_file: '" + dir_ + "/ca.key' is not a PEM file of CA certificates");
  c = load("[aws_service_backends]\nkms = { url = \"https://kms\", ca_file = \"" + ca_ +
           "\", server_name = \"a b\" }\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            path_ + ":2: aws_service_backends.kms.server_name 'a b' is not a host name or IP address");
}

TEST_F(HttpsBackendConfig, StrictSchemaInsideTheTable) {
  auto c = load("[aws_service_backends]\nkms = { url = \"https://kms\", cafile = \"" + ca_ + "\" }\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(
      c.status().message(),
      path_ + ":2: unknown key 'aws_service_backends.kms.cafile' (did you mean 'aws_service_backends.kms.ca_file'?)");
  c = load("[aws_service_backends]\nkms = { url = 443, ca_file = \"" + ca_ + "\" }\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), path_ + ":2: aws_service_backends.kms.url must be a string");
  c = load("[aws_service_backends]\nkms = 9000\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), path_ + ":2: aws_service_backends.kms must be a string or a table");
}

TEST(HttpsBackendReload, AChangedUpstreamOrCaIsAppliedAndNamed) {
  Config running = defaultConfig();
  auto up = tls::parseHttpsUrl("https://kms.internal:8443");
  ASSERT_TRUE(up.ok());
  up->caFile = "/etc/ca-a.pem";
  running.httpsBackends["kms"] = *up;
  Config file = running;
  EXPECT_TRUE(diffConfig(running, file).applied.empty());
  file.httpsBackends["kms"].caFile = "/etc/ca-b.pem";
  file.httpsBackends["kms"].serverName = "kms.example";
  auto c = diffConfig(running, file);
  EXPECT_EQ(c.applied, (std::vector<std::string>{
                           "aws_service_backends (https): {kms=https://kms.internal:8443 (ca /etc/ca-a.pem)} -> "
                           "{kms=https://kms.internal:8443 (ca /etc/ca-b.pem, name kms.example)}"}));
  EXPECT_TRUE(c.needsRestart.empty());
  EXPECT_EQ(c.next.httpsBackends.at("kms").caFile, "/etc/ca-b.pem");
}

}  // namespace
}  // namespace lp::daemon
