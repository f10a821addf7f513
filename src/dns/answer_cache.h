// AnswerCache: whole answers from respond() (dns/responder.h), kept for one
// ZoneSnapshot and served to every query that must get the same answer, not only
// to byte-identical ones: real clients make each query unique (dig sends a random
// EDNS cookie every time, resolvers using 0x20 randomise the letter case).
//
// What respond() reads from a query, and so the key (everything else in a query
// that parses does not change the answer):
//  - the view (the VPC, "" = the host listener): private DNS names differ by VPC;
//  - the transport and, over UDP, the size the answer must fit (512 without EDNS,
//    else the client's EDNS size clamped to [512, kMaxUdpSize]): truncation;
//  - header: opcode (NOTIMP), RD and CD (echoed); QR set gets no answer at all;
//  - the one question: its name with ASCII letters lowercased (names compare
//    case-insensitively), its type and class;
//  - EDNS: whether there is an OPT record (OPT back), its version (BADVERS) and DO
//    (echoed, RFC 3225).
// Not in the key, on purpose: the id and the question name's spelling, which are
// copied from the query into the answer served (the answer's other names are
// compression pointers to the question's, the same in every spelling, or the
// zone's own lowercase names); EDNS options (COOKIE, padding, ...), which the
// responder implements none of and ignores (RFC 7873 5.2.1: a server without
// cookies answers as if there were none); the header's AA, TC, Z, AD, RA and
// rcode bits, and bytes after the last record, which respond() ignores.
//
// Only queries of the shape clients send are keyed: exactly one question whose
// name has no compression pointer, no answer or authority records, and nothing or
// one OPT (root owner) in additional. The key is read without ldns and no more
// leniently than ldns parses (a query it keys would parse); a query of any other
// shape is answered by respond() and not kept. Answers respond() refuses to give
// (junk) are never kept.
//
// The owner drops the cache whenever the snapshot changes (clear()), so no answer
// outlives the records it was built from. Not thread-safe: one per DNS thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "dns/responder.h"
#include "dns/zone_snapshot.h"

namespace lp::dns {

class AnswerCache {
 public:
  explicit AnswerCache(size_t maxEntries = 16384) : maxEntries_(maxEntries) {}

  // The answer respond(snap, view, data, len, t, notOwned) gives, from the cache
  // when an equivalent query was answered before. snap must be the snapshot the
  // cache was filled from (clear() on every change). The reference stays valid
  // until the next call.
  const std::vector<uint8_t>& answer(const ZoneSnapshot& snap, const std::string& view, const uint8_t* data, size_t len,
                                     Transport t, bool* notOwned);
  void clear() { entries_.clear(); }
  size_t size() const { return entries_.size(); }

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;       // keyed, built with ldns, kept
    uint64_t uncacheable = 0;  // not of the keyed shape: built with ldns, not kept
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Entry {
    std::vector<uint8_t> bytes;
    bool notOwned = false;
  };
  std::unordered_map<std::string, Entry> entries_;
  size_t maxEntries_;
  std::string key_;
  std::vector<uint8_t> reply_;
  Stats stats_;
};

// The cache key of a query from `view`, as described above, into *key, and the
// length of the question name on the wire (it starts at offset 12) into *nameLen;
// false when the query is not of the keyed shape. Exposed for tests.
bool answerCacheKey(const std::string& view, const uint8_t* data, size_t len, Transport t, std::string* key,
                    size_t* nameLen);

}  // namespace lp::dns
