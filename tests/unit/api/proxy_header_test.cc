// parseProxyV2: what the data plane sends (dataplane::encodeProxyV2) decodes to
// the client address and the endpoint id; partial, foreign and broken headers are
// told apart.
#include "api/http/proxy_header.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "dataplane/proxy_protocol.h"

namespace lp::api {
namespace {

sockaddr_in addr(const char* ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

TEST(ProxyHeaderTest, DecodesWhatTheDataPlaneSends) {
  std::string h = dataplane::encodeProxyV2(addr("10.161.1.10", 40000), addr("10.161.1.50", 443),
                                           "vpce-0123456789abcdef0");
  std::string wire = h + "\x16\x03\x01";  // the TLS ClientHello follows
  ProxyHeader out;
  size_t used = 0;
  ASSERT_EQ(parseProxyV2(wire, out, used), ProxyParse::kOk);
  EXPECT_EQ(used, h.size());
  EXPECT_EQ(out.sourceIp, "10.161.1.10");
  EXPECT_EQ(out.sourcePort, 40000);
  EXPECT_EQ(out.vpceId, "vpce-0123456789abcdef0");
  for (size_t n = 1; n < h.size(); ++n)
    EXPECT_EQ(parseProxyV2(std::string_view(h).substr(0, n), out, used), ProxyParse::kIncomplete) << n;
}

TEST(ProxyHeaderTest, ATlsClientIsNotProxy) {
  ProxyHeader out;
  size_t used = 0;
  EXPECT_EQ(parseProxyV2(std::string_view("\x16\x03\x01\x02\x00", 5), out, used), ProxyParse::kNotProxy);
  EXPECT_EQ(parseProxyV2("GET / HTTP/1.1\r\n", out, used), ProxyParse::kNotProxy);
}

TEST(ProxyHeaderTest, BrokenHeadersAreInvalid) {
  std::string h = dataplane::encodeProxyV2(addr("10.0.0.1", 1), addr("10.0.0.2", 2), "vpce-1");
  ProxyHeader out;
  size_t used = 0;
  std::string badVersion = h;
  badVersion[12] = 0x11;
  EXPECT_EQ(parseProxyV2(badVersion, out, used), ProxyParse::kInvalid);
  std::string tlvOverrun = h;
  tlvOverrun[16 + 12 + 2] = 0x7f;  // the TLV claims more than the header holds
  EXPECT_EQ(parseProxyV2(tlvOverrun, out, used), ProxyParse::kInvalid);
}

}  // namespace
}  // namespace lp::api
