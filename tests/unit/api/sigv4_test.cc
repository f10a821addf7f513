#include "api/sigv4.h"

#include <gtest/gtest.h>

namespace lp::api {
namespace {

// The request the AWS CLI 2.9.19 sent, captured verbatim (reference section 5.3).
constexpr char kBody[] =
    "Action=CreateVpcEndpoint&Version=2016-11-15&VpcEndpointType=Interface&VpcId=vpc-0abc&ServiceName=com.amazonaws."
    "vpce.us-east-1.vpce-svc-0123&SubnetId.1=subnet-1&SubnetId.2=subnet-2&SecurityGroupId.1=sg-1&SecurityGroupId.2=sg-"
    "2&IpAddressType=ipv4&DnsOptions.DnsRecordIpType=ipv4&PrivateDnsEnabled=false&TagSpecification.1.ResourceType="
    "vpc-endpoint&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=x";
constexpr char kAuth[] =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date, "
    "Signature=2c10fabe2e9efa54e265a92d76a0cb83faad6995cc09c271e15ee8a4456488f3";

TEST(SigV4, CapturedCliRequestVerifies) {
  auto auth = parseAuthorization(kAuth);
  ASSERT_TRUE(auth.ok()) << auth.status().toString();
  EXPECT_EQ(auth->credential.accessKeyId, "AKIDEXAMPLE");
  EXPECT_EQ(auth->credential.service, "ec2");
  HeaderList headers = {{"Host", "127.0.0.1:18080"},
                        {"Accept-Encoding", "identity"},
                        {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                        {"X-Amz-Date", "20261122T125531Z"}};
  EXPECT_EQ(sha256Hex(kBody), "c0709a96e0275f310f74eb2edd32d0613617448222ce6c072b45fd1b4cd85f85");
  std::string creq = canonicalRequest("POST", "/", "", headers, auth->signedHeaders, sha256Hex(kBody));
  EXPECT_EQ(sha256Hex(creq), "d332a631acf0f956c9d28d5c41c5937688790c70f6bd04178991ac04eca08cc4");
  EXPECT_EQ(computeSignature("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", *auth, "20261122T125531Z", creq),
            auth->signature);
}

TEST(SigV4, OneChangedBodyByteFailsVerification) {
  auto auth = parseAuthorization(kAuth);
  ASSERT_TRUE(auth.ok());
  HeaderList headers = {{"host", "127.0.0.1:18080"},
                        {"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
                        {"x-amz-date", "20261122T125531Z"}};
  std::string body = kBody;
  body.back() = 'y';
  std::string creq = canonicalRequest("POST", "/", "", headers, auth->signedHeaders, sha256Hex(body));
  EXPECT_NE(computeSignature("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", *auth, "20261122T125531Z", creq),
            auth->signature);
}

TEST(SigV4, MalformedHeadersAreIncompleteSignature) {
  for (const char* bad : {"", "AWS4-HMAC-SHA256", "Basic abc", "AWS4-HMAC-SHA256 Credential=a/b/c/d/e",
                          "AWS4-HMAC-SHA256 Credential=AK/20261122/us-east-1/ec2/aws4_request, SignedHeaders=host",
                          "AWS4-HMAC-SHA256 Credential=AK/2026112/us-east-1/ec2/aws4_request, SignedHeaders=host, "
                          "Signature=00"}) {
    auto r = parseAuthorization(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), "IncompleteSignature");
  }
}

}  // namespace
}  // namespace lp::api
