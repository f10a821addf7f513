// LocalCa: made once with its key readable by root only, reused after, refuses a
// half-present CA, and issues a server certificate that OpenSSL verifies against
// it for the AWS names (wildcards included) and for no other name.
#include "tls/local_ca.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace lp::tls {
namespace {

X509* parse(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  return x;
}

bool verifies(const std::string& caPem, const std::string& certPem, const std::string& host) {
  X509* ca = parse(caPem);
  X509* cert = parse(certPem);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), host.c_str(), host.size());
  bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(cert);
  X509_free(ca);
  return ok;
}

class LocalCaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("lp-ca-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(LocalCaTest, MadeOnceKeyPrivateThenReused) {
  auto ca = LocalCa::loadOrCreate(dir_.string());
  ASSERT_TRUE(ca.ok()) << ca.status().toString();
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "ca.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = LocalCa::loadOrCreate(dir_.string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->certificatePem(), ca->certificatePem());
  std::filesystem::remove(dir_ / "ca.key");
  EXPECT_FALSE(LocalCa::loadOrCreate(dir_.string()).ok());  // never silently replaced
}

TEST_F(LocalCaTest, ServerCertificateVerifiesForTheAwsNamesOnly) {
  auto ca = LocalCa::loadOrCreate(dir_.string());
  ASSERT_TRUE(ca.ok());
  auto cert = ca->issue(apiCertificateNames("us-east-1"));
  ASSERT_TRUE(cert.ok()) << cert.status().toString();
  for (const char* host : {"ec2.us-east-1.amazonaws.com", "sts.us-east-1.amazonaws.com",
                           "monitoring.us-east-1.amazonaws.com", "elasticloadbalancing.us-east-1.amazonaws.com",
                           "vpce-0123456789abcdef0-abcd1234.ec2.us-east-1.vpce.amazonaws.com", "localhost"})
    EXPECT_TRUE(verifies(ca->certificatePem(), cert->certificatePem, host)) << host;
  EXPECT_FALSE(verifies(ca->certificatePem(), cert->certificatePem, "s3.us-east-1.amazonaws.com"));
  EXPECT_FALSE(verifies(ca->certificatePem(), cert->certificatePem, "ec2.us-west-2.amazonaws.com"));
  // Another CA's certificate is not trusted by this one.
  auto otherDir = dir_ / "other";
  std::filesystem::create_directories(otherDir);
  auto other = LocalCa::loadOrCreate(otherDir.string());
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(verifies(other->certificatePem(), cert->certificatePem, "ec2.us-east-1.amazonaws.com"));
}

}  // namespace
}  // namespace lp::tls
