// PROXY protocol version 2 header (haproxy.org proxy-protocol.txt section 2.2) as
// an AWS Network Load Balancer sends it for PrivateLink: PROXY command, TCP over
// IPv4, the client's address and port, the endpoint address and port, and TLV
// 0xEA (PP2_TYPE_AWS) whose value is subtype 0x01 (PP2_SUBTYPE_AWS_VPCE_ID)
// followed by the endpoint id in ASCII. Pure; any thread.
#pragma once

#include <netinet/in.h>

#include <string>

namespace lp::dataplane {

inline constexpr unsigned char kPp2TypeAws = 0xEA;
inline constexpr unsigned char kPp2SubtypeAwsVpceId = 0x01;

// src = the client (as the target should see it), dst = the address it connected to.
std::string encodeProxyV2(const sockaddr_in& src, const sockaddr_in& dst, const std::string& vpceId);

}  // namespace lp::dataplane
