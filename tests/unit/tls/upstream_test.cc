// https:// upstreams as an operator writes them in [aws_service_backends]: what
// parses, what is refused and why, the names a relay's certificate carries, and
// which CA files load.
#include "tls/upstream.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tls/local_ca.h"

namespace lp::tls {
namespace {

TEST(HttpsUpstreamUrl, HostPortAndDefaults) {
  auto u = parseHttpsUrl("https://KMS.internal.example:8443/");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->host, "kms.internal.example");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->serverName, "kms.internal.example");
  EXPECT_EQ(u->url, "https://KMS.internal.example:8443/");
  u = parseHttpsUrl("https://10.0.0.5");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "10.0.0.5");
  EXPECT_EQ(u->port, 443);
  EXPECT_TRUE(isIpLiteral(u->serverName));
  u = parseHttpsUrl("https://[fd00::5]:9443");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->host, "fd00::5");
  EXPECT_EQ(u->port, 9443);
  EXPECT_TRUE(isIpLiteral(u->host));
  EXPECT_FALSE(isIpLiteral("kms.internal"));
}

TEST(HttpsUpstreamUrl, RefusedWithTheReason) {
  struct Case {
    const char* url;
    const char* why;
  };
  for (const Case& c :
       {Case{"http://kms:80", "the scheme must be https"}, Case{"kms.internal:443", "the scheme must be https"},
        Case{"https://", "the host is missing"}, Case{"https://:443", "the host is missing"},
        Case{"https://kms:0", "the port must be a number from 1 to 65535"},
        Case{"https://kms:65536", "the port must be a number from 1 to 65535"},
        Case{"https://kms:44x", "the port must be a number from 1 to 65535"}, Case{"https://kms:", "the port is empty"},
        Case{"https://kms/v1", "a path, query or fragment is not taken"},
        Case{"https://kms?a=b", "a path, query or fragment is not taken"},
        Case{"https://user@kms", "user information is not taken"},
        Case{"https://[fd00::5", "an IPv6 address needs its closing ']'"},
        Case{"https://[kms]:443", "'kms' is not an IPv6 address"}, Case{"https://km s", "'km s' is not a host name"},
        Case{"https://kms..internal", "'kms..internal' is not a host name"}}) {
    auto u = parseHttpsUrl(c.url);
    ASSERT_FALSE(u.ok()) << c.url;
    EXPECT_EQ(u.status().code(), "InvalidConfig");
    EXPECT_EQ(u.status().message(), std::string("'") + c.url + "' is not an https:// upstream: " + c.why);
  }
}

TEST(HttpsUpstreamNames, DefaultAndEndpointSpecificNames) {
  EXPECT_EQ(serviceCertificateNames("kms", "eu-west-1"),
            (std::vector<std::string>{"kms.eu-west-1.amazonaws.com", "*.kms.eu-west-1.vpce.amazonaws.com"}));
  EXPECT_EQ(serviceCertificateNames("kinesis-streams", "us-east-1").front(), "kinesis.us-east-1.amazonaws.com");
  EXPECT_EQ(serviceCertificateNames("sagemaker.runtime", "us-east-1").front(),
            "runtime.sagemaker.us-east-1.amazonaws.com");
}

TEST(HttpsUpstreamCaFile, LoadsCertificatesOnly) {
  char tmpl[] = "/tmp/lp-upstream-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  ASSERT_TRUE(LocalCa::loadOrCreate(dir).ok());
  EXPECT_TRUE(checkCaFile(dir + "/ca.pem").ok());
  auto st = checkCaFile(dir + "/ca.key");  // a key, not a certificate
  EXPECT_EQ(st.message(), "'" + dir + "/ca.key' is not a PEM file of CA certificates");
  std::ofstream(dir + "/junk.pem") << "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  EXPECT_FALSE(checkCaFile(dir + "/junk.pem").ok());
  EXPECT_EQ(checkCaFile(dir + "/missing.pem").message(), "'" + dir + "/missing.pem' cannot be read");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lp::tls
