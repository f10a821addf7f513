#include "dns/responder.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "dns/ldns_wrap.h"

namespace lp::dns {

namespace {

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;

constexpr uint8_t kExtRcodeBadVers = 1;  // BADVERS (16) = extended rcode 1, rcode 0

ldns_rr* soaRecord(const std::string& zone, uint32_t serial) {
  ldns_rr* rr = ldns_rr_new();
  ldns_rr_set_owner(rr, ldns_dname_new_frm_str((zone + ".").c_str()));
  ldns_rr_set_type(rr, LDNS_RR_TYPE_SOA);
  ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
  ldns_rr_set_ttl(rr, kTtl);
  ldns_rr_push_rdf(rr, ldns_dname_new_frm_str(("ns." + zone + ".").c_str()));
  ldns_rr_push_rdf(rr, ldns_dname_new_frm_str(("hostmaster." + zone + ".").c_str()));
  ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32, serial));
  ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, 7200));
  ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, 900));
  ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, 1209600));
  ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, kTtl));  // negative TTL
  return rr;
}

ldns_rr* aRecord(const ldns_rdf* owner, const std::string& address) {
  in_addr a{};
  if (inet_pton(AF_INET, address.c_str(), &a) != 1) return nullptr;
  ldns_rr* rr = ldns_rr_new();
  ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
  ldns_rr_set_type(rr, LDNS_RR_TYPE_A);
  ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
  ldns_rr_set_ttl(rr, kTtl);
  ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, sizeof a, &a));
  return rr;
}

std::vector<uint8_t> toWire(const ldns_pkt* p) {
  uint8_t* buf = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&buf, p, &size) != LDNS_STATUS_OK) {
    free(buf);
    return {};
  }
  std::vector<uint8_t> out(buf, buf + size);
  free(buf);
  return out;
}

// Drops every record but the question (and OPT) and sets TC.
void truncate(ldns_pkt* p) {
  ldns_rr_list_deep_free(ldns_pkt_answer(p));
  ldns_pkt_set_answer(p, ldns_rr_list_new());
  ldns_pkt_set_ancount(p, 0);
  ldns_rr_list_deep_free(ldns_pkt_authority(p));
  ldns_pkt_set_authority(p, ldns_rr_list_new());
  ldns_pkt_set_nscount(p, 0);
  ldns_rr_list_deep_free(ldns_pkt_additional(p));
  ldns_pkt_set_additional(p, ldns_rr_list_new());
  ldns_pkt_set_arcount(p, 0);
  ldns_pkt_set_tc(p, true);
}

// Fills the answer to a well-formed single question.
void answer(const ZoneSnapshot& snap, const std::string& view, const ldns_rr* question, ldns_pkt* r, bool* notOwned) {
  const ldns_rdf* qname = ldns_rr_owner(question);
  ldns_rr_type qtype = ldns_rr_get_type(question);
  ldns_rr_class qclass = ldns_rr_get_class(question);
  if ((qclass != LDNS_RR_CLASS_IN && qclass != LDNS_RR_CLASS_ANY) || qtype == LDNS_RR_TYPE_AXFR ||
      qtype == LDNS_RR_TYPE_IXFR || !qname) {
    ldns_pkt_set_rcode(r, LDNS_RCODE_REFUSED);
    return;
  }
  char* text = ldns_rdf2str(qname);
  if (!text) {
    ldns_pkt_set_rcode(r, LDNS_RCODE_SERVFAIL);
    return;
  }
  std::string name = canonicalName(text);
  free(text);

  Lookup l = lookup(snap, view, name);
  if (l.kind == Lookup::Kind::kRefused) {
    ldns_pkt_set_rcode(r, LDNS_RCODE_REFUSED);
    *notOwned = true;
    return;
  }
  ldns_pkt_set_aa(r, true);
  if (name == l.zone && (qtype == LDNS_RR_TYPE_SOA || qtype == LDNS_RR_TYPE_ANY)) {
    ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, soaRecord(l.zone, snap.serial));
  }
  if (l.kind == Lookup::Kind::kFound && (qtype == LDNS_RR_TYPE_A || qtype == LDNS_RR_TYPE_ANY)) {
    for (const auto& addr : *l.a) {
      if (ldns_rr* rr = aRecord(qname, addr)) ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
    }
  }
  if (l.kind == Lookup::Kind::kNxDomain) ldns_pkt_set_rcode(r, LDNS_RCODE_NXDOMAIN);
  // Negative answers (RFC 2308) carry the zone's SOA for caching.
  if (ldns_pkt_ancount(r) == 0) ldns_pkt_push_rr(r, LDNS_SECTION_AUTHORITY, soaRecord(l.zone, snap.serial));
}

}  // namespace

std::vector<uint8_t> respond(const ZoneSnapshot& snap, const std::string& view, const uint8_t* data, size_t len,
                             Transport transport, bool* notOwned) {
  bool unused = false;
  if (!notOwned) notOwned = &unused;
  *notOwned = false;
  if (len < LDNS_HEADER_SIZE) return {};
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, data, len) != LDNS_STATUS_OK) {
    if (raw) ldns_pkt_free(raw);
    return {};
  }
  PktPtr q(raw);
  if (ldns_pkt_qr(q.get())) return {};  // never answer an answer (reflection loops)

  PktPtr r(ldns_pkt_new());
  if (!r) return {};
  ldns_pkt_set_id(r.get(), ldns_pkt_id(q.get()));
  ldns_pkt_set_qr(r.get(), true);
  ldns_pkt_set_opcode(r.get(), ldns_pkt_get_opcode(q.get()));
  ldns_pkt_set_rd(r.get(), ldns_pkt_rd(q.get()));
  ldns_pkt_set_cd(r.get(), ldns_pkt_cd(q.get()));

  bool edns = ldns_pkt_edns(q.get());
  size_t limit = 512;
  if (edns) {
    ldns_pkt_set_edns_udp_size(r.get(), kMaxUdpSize);
    ldns_pkt_set_edns_do(r.get(), ldns_pkt_edns_do(q.get()));  // RFC 3225 3: DO is copied into the answer
    limit = std::clamp<size_t>(ldns_pkt_edns_udp_size(q.get()), 512, kMaxUdpSize);
  }
  if (transport == Transport::kTcp) limit = 65535;

  const ldns_rr_list* questions = ldns_pkt_question(q.get());
  size_t qcount = questions ? ldns_rr_list_rr_count(questions) : 0;
  if (qcount == 1) ldns_pkt_push_rr(r.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(questions, 0)));

  if (ldns_pkt_get_opcode(q.get()) != LDNS_PACKET_QUERY) {
    ldns_pkt_set_rcode(r.get(), LDNS_RCODE_NOTIMPL);
  } else if (qcount != 1) {
    ldns_pkt_set_rcode(r.get(), LDNS_RCODE_FORMERR);
  } else if (edns && ldns_pkt_edns_version(q.get()) != 0) {
    ldns_pkt_set_edns_extended_rcode(r.get(), kExtRcodeBadVers);
  } else {
    answer(snap, view, ldns_rr_list_rr(questions, 0), r.get(), notOwned);
  }

  std::vector<uint8_t> wire = toWire(r.get());
  if (wire.size() > limit) {
    truncate(r.get());
    wire = toWire(r.get());
    if (wire.size() > limit) return {};  // cannot happen: a question fits in 512
  }
  return wire;
}

}  // namespace lp::dns
