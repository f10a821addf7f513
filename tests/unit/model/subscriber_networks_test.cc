// model/subscriber_networks: where SNS may deliver (issue 19: any account could
// make the daemon post to the metadata service, its own API or into VPCs).
#include "model/subscriber_networks.h"

#include <gtest/gtest.h>

namespace lp::model {
namespace {

IpAddress ip(const char* s) { return IpAddress::parse(s).value(); }
IpNetwork net(const char* s) { return IpNetwork::parse(s).value(); }

TEST(IpAddress, ParsesBothFamiliesAndFoldsMappedV6ToV4) {
  EXPECT_EQ(ip("10.1.2.3").toString(), "10.1.2.3");
  EXPECT_EQ(ip("::1").toString(), "::1");
  EXPECT_EQ(ip("::ffff:169.254.169.254"), ip("169.254.169.254"));
  EXPECT_FALSE(IpAddress::parse("1.2.3"));
  EXPECT_FALSE(IpAddress::parse("example.com"));
  EXPECT_TRUE(net("fd00::/8").contains(ip("fd12::1")));
  EXPECT_FALSE(net("fd00::/8").contains(ip("fe00::1")));
  EXPECT_FALSE(net("10.0.0.0/8").contains(ip("::a00:1")));  // not the same family
  EXPECT_FALSE(IpNetwork::parse("10.0.0.1/8"));              // host bits
  EXPECT_FALSE(IpNetwork::parse("10.0.0.0/33"));
  EXPECT_EQ(net("::ffff:127.0.0.0/104"), net("127.0.0.0/8"));
}

TEST(SubscriberRefusal, NeverLinkLocalMulticastUnspecifiedWhateverTheConfigAllows) {
  SubscriberNetworkPolicy p;
  p.allowed = {net("0.0.0.0/0"), net("::/0")};
  for (const char* a : {"169.254.169.254", "fe80::1", "224.0.0.1", "ff02::1", "255.255.255.255", "0.0.0.0", "::",
                        "::ffff:169.254.169.254"})
    EXPECT_TRUE(subscriberRefusal(ip(a), 80, p, {})) << a;
  EXPECT_EQ(*subscriberRefusal(ip("169.254.169.254"), 80, p, {}),
            "169.254.169.254 is link-local (169.254.0.0/16)");
}

TEST(SubscriberRefusal, LoopbackAndPrivateOnlyWhenTheConfigNamesThem) {
  SubscriberNetworkPolicy p;
  for (const char* a : {"127.0.0.1", "::1", "10.0.0.5", "172.16.3.4", "192.168.1.1", "100.64.0.1", "fd00::1"})
    EXPECT_TRUE(subscriberRefusal(ip(a), 80, p, {})) << a;
  EXPECT_EQ(*subscriberRefusal(ip("127.0.0.1"), 80, p, {}),
            "127.0.0.1 is loopback (127.0.0.0/8) and not in [sns] subscriber_networks");
  EXPECT_FALSE(subscriberRefusal(ip("203.0.113.7"), 443, p, {}));  // public: as AWS delivers
  EXPECT_FALSE(subscriberRefusal(ip("2001:db8::1"), 443, p, {}));
  p.allowed = {net("127.0.0.0/8")};
  EXPECT_FALSE(subscriberRefusal(ip("127.0.0.1"), 80, p, {}));
  EXPECT_TRUE(subscriberRefusal(ip("10.0.0.5"), 80, p, {}));
}

TEST(SubscriberRefusal, OwnListenersAndVpcRangesEvenWhenAllowed) {
  SubscriberNetworkPolicy p;
  p.allowed = {net("127.0.0.0/8"), net("10.0.0.0/8"), net("192.168.0.0/16")};
  p.ownListeners = {{ip("127.0.0.1"), 4566}, {ip("0.0.0.0"), 4567}};
  p.hostAddresses = {ip("192.168.1.20")};
  EXPECT_EQ(*subscriberRefusal(ip("127.0.0.1"), 4566, p, {}), "127.0.0.1:4566 is one of linkplane's own listeners");
  EXPECT_FALSE(subscriberRefusal(ip("127.0.0.1"), 8080, p, {}));
  EXPECT_FALSE(subscriberRefusal(ip("127.0.0.2"), 4566, p, {}));  // bound to 127.0.0.1 only
  EXPECT_TRUE(subscriberRefusal(ip("127.0.0.2"), 4567, p, {}));   // the wildcard listener
  EXPECT_TRUE(subscriberRefusal(ip("192.168.1.20"), 4567, p, {}));
  EXPECT_FALSE(subscriberRefusal(ip("192.168.1.21"), 4567, p, {}));
  std::vector<IpNetwork> vpcs = {net("10.20.0.0/16")};
  EXPECT_EQ(*subscriberRefusal(ip("10.20.1.10"), 80, p, vpcs),
            "10.20.1.10 is inside a VPC's CIDR block (10.20.0.0/16)");
  EXPECT_FALSE(subscriberRefusal(ip("10.21.1.10"), 80, p, vpcs));
}

}  // namespace
}  // namespace lp::model
