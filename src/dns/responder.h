// Responder: one DNS query in wire format -> the authoritative answer from a zone
// snapshot, in wire format (ldns does the parsing and the writing). Pure: no I/O,
// no state; any thread. This is the whole packet path that untrusted bytes reach,
// and the libFuzzer target tests/fuzz/fuzz_dns_packet.cc drives it.
//
// Behaviour (RFC 1034/1035/2308/6891):
//  - unparseable bytes, or a response (QR set): no answer at all;
//  - opcode other than QUERY: NOTIMP; not exactly one question: FORMERR;
//    EDNS version other than 0: BADVERS;
//  - a name under no zone it owns: REFUSED (it is not a recursive resolver);
//  - a name under an owned zone that does not exist: NXDOMAIN, the zone's SOA in
//    the authority section; a name that exists without the type asked (AAAA:
//    endpoints are IPv4 only): NOERROR, no answer, the SOA in authority;
//  - names compare case-insensitively; the answer echoes the question's spelling;
//  - EDNS0: an OPT record in the answer when the query had one; the UDP answer fits
//    the client's advertised size (at most kMaxUdpSize), 512 without EDNS; larger
//    answers go back empty with TC set, and TCP serves them whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dns/zone_snapshot.h"

namespace lp::dns {

enum class Transport { kUdp, kTcp };

inline constexpr uint16_t kMaxUdpSize = 1232;  // DNS flag day 2020: no IP fragmentation
inline constexpr uint32_t kTtl = 60;           // as AWS gives endpoint names

// The answer to bytes received from a client of `view` ("" = the host), or an
// empty vector when the bytes deserve no answer. *notOwned (when given) is set
// when the answer is REFUSED only because the name is under no zone it owns: a
// well-formed standard query that a configured upstream may answer instead.
std::vector<uint8_t> respond(const ZoneSnapshot& snap, const std::string& view, const uint8_t* data, size_t len,
                             Transport transport, bool* notOwned = nullptr);

}  // namespace lp::dns
