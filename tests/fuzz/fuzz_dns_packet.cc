// libFuzzer target: the resolver's whole packet path (dns::respond), from bytes a
// client sends to the bytes it gets back. The first input byte picks the view
// (host / a VPC with private names / an unknown VPC) and the transport; the rest
// is the packet. Beyond "no crash, no leak, no UB", every answer must parse, be
// a response to the same id, and fit the UDP limit. The answer cache must give
// exactly respond()'s bytes: for the packet itself, and for the same packet with
// another id and its question name in other letter case served from the entry
// the first one filled.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "dns/answer_cache.h"
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

// The packet with another id and the ASCII letters of its first name (at offset 12)
// in the other case; bytes that are not a well-formed label sequence stay as they are.
std::vector<uint8_t> otherSpelling(const uint8_t* pkt, size_t len) {
  std::vector<uint8_t> v(pkt, pkt + len);
  if (len >= 2) {
    v[0] ^= 0x5a;
    v[1] ^= 0xa5;
  }
  size_t i = 12;
  while (i < len && v[i] != 0 && v[i] < 64) {
    size_t end = i + 1 + v[i];
    for (size_t j = i + 1; j < end && j < len; ++j)
      if ((v[j] | 0x20) >= 'a' && (v[j] | 0x20) <= 'z') v[j] ^= 0x20;
    i = end;
  }
  return v;
}

void cacheMustMatch(lp::dns::AnswerCache& cache, const std::string& view, const uint8_t* pkt, size_t len,
                    lp::dns::Transport t) {
  bool ownedA = false, ownedB = false;
  auto want = lp::dns::respond(snapshot(), view, pkt, len, t, &ownedA);
  const auto& got = cache.answer(snapshot(), view, pkt, len, t, &ownedB);
  if (got != want || ownedA != ownedB) abort();
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
  static lp::dns::AnswerCache cache;
  cache.clear();  // each input on its own: a crash reproduces from its input alone
  cacheMustMatch(cache, view, pkt, len, transport);
  auto other = otherSpelling(pkt, len);
  cacheMustMatch(cache, view, other.data(), other.size(), transport);
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
