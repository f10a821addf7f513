// libFuzzer target: the resolver's whole packet path (dns::respond), from bytes a
// client sends to the bytes it gets back. The first input byte picks the view
// (host / a VPC with private names / an unknown VPC) and the transport; the rest
// is the packet. Beyond "no crash, no leak, no UB", every answer must parse, be
// a response to the same id, and fit the UDP limit.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "dns/ldns_wrap.h"
#include "dns/responder.h"
#include "dns/zone_snapshot.h"

namespace {

const lp::dns::ZoneSnapshot& snapshot() {
  static const lp::dns::ZoneSnapshot snap = [] {
    lp::dns::ZoneSnapshot s;
    s.serial = 42;
    s.shared.zones = {"us-east-1.vpce.amazonaws.com"};
    s.shared.a["vpce-0123456789abcdef0-abcdefgh.ec2.us-east-1.vpce.amazonaws.com"] = {"10.0.1.10", "10.0.2.10"};
    s.shared.a["vpce-0123456789abcdef0-abcdefgh-us-east-1a.ec2.us-east-1.vpce.amazonaws.com"] = {"10.0.1.10"};
    for (int i = 0; i < 120; ++i)
      s.shared.a["big.us-east-1.vpce.amazonaws.com"].push_back("10.9.0." + std::to_string(i));
    lp::dns::NameSet priv;
    priv.zones = {"ec2.us-east-1.amazonaws.com"};
    priv.a["ec2.us-east-1.amazonaws.com"] = {"10.0.1.10"};
    s.views["vpc-a"] = priv;
    return s;
  }();
  return snap;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const char* kViews[] = {"", "vpc-a", "vpc-unknown"};
  const std::string view = kViews[(data[0] & 0x7f) % 3];
  auto transport = (data[0] & 0x80) ? lp::dns::Transport::kTcp : lp::dns::Transport::kUdp;
  const uint8_t* pkt = data + 1;
  size_t len = size - 1;

  auto reply = lp::dns::respond(snapshot(), view, pkt, len, transport);
  if (reply.empty()) return 0;
  if (len < 2 || reply.size() < 12) abort();
  if (reply[0] != pkt[0] || reply[1] != pkt[1]) abort();  // same id
  if (!(reply[2] & 0x80)) abort();                        // QR set
  if (transport == lp::dns::Transport::kUdp && reply.size() > lp::dns::kMaxUdpSize) abort();
  ldns_pkt* parsed = nullptr;
  if (ldns_wire2pkt(&parsed, reply.data(), reply.size()) != LDNS_STATUS_OK) abort();
  ldns_pkt_free(parsed);
  return 0;
}
