// Decoding of a PROXY protocol version 2 header (haproxy.org proxy-protocol.txt
// section 2.2) at the start of a connection to the HTTPS API listener: the data
// plane sends one when it forwards a connection that came through an interface
// endpoint, so the API knows the client address and the endpoint (TLV 0xEA,
// subtype 0x01, PP2_SUBTYPE_AWS_VPCE_ID). Pure; any thread; fuzzed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lp::api {

struct ProxyHeader {
  std::string sourceIp;  // "" for a LOCAL header or a family other than TCP over IPv4
  int sourcePort = 0;
  std::string vpceId;    // "" when the header has no AWS VPC endpoint TLV
};

enum class ProxyParse {
  kNotProxy,    // the bytes do not start with the v2 signature (a plain TLS client)
  kIncomplete,  // a header, not all of it here yet
  kInvalid,     // a header that breaks the format
  kOk,
};

// Bytes needed to tell: the signature and the fixed part.
inline constexpr size_t kProxyV2FixedBytes = 16;

// Looks at the start of data. kOk sets out and consumed (the header's length).
ProxyParse parseProxyV2(std::string_view data, ProxyHeader& out, size_t& consumed);

}  // namespace lp::api
