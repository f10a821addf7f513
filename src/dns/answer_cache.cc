#include "dns/answer_cache.h"

#include <algorithm>
#include <cstring>

namespace lp::dns {

namespace {

constexpr size_t kHeader = 12;
constexpr uint8_t kQr = 0x80;
constexpr uint16_t kTypeOpt = 41;
constexpr size_t kMaxName = 255;  // wire length, root label included (RFC 1035 3.1, as ldns checks)

uint16_t read16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

void put16(std::string* s, uint16_t v) {
  s->push_back(static_cast<char>(v >> 8));
  s->push_back(static_cast<char>(v & 0xff));
}

}  // namespace

bool answerCacheKey(const std::string& view, const uint8_t* data, size_t len, Transport t, std::string* key,
                    size_t* nameLen) {
  if (len < kHeader || (data[2] & kQr)) return false;
  if (read16(data + 4) != 1 || read16(data + 6) != 0 || read16(data + 8) != 0 || read16(data + 10) > 1) return false;

  // The question name: plain labels only (a pointer or an extended label type
  // sends the query to the slow path), within the length ldns accepts.
  size_t pos = kHeader;
  for (;;) {
    if (pos >= len) return false;
    uint8_t label = data[pos];
    if (label == 0) {
      ++pos;
      break;
    }
    if (label > 63 || pos + 1 + label > len) return false;
    pos += 1 + label;
    if (pos - kHeader + 1 > kMaxName) return false;
  }
  size_t name = pos - kHeader;
  if (pos + 4 > len) return false;
  uint16_t qtype = read16(data + pos);
  uint16_t qclass = read16(data + pos + 2);
  pos += 4;

  bool edns = false, dnssecOk = false;
  uint8_t version = 0;
  uint16_t udpSize = 0;
  if (read16(data + 10) == 1) {
    // OPT: root owner, type, class (= UDP size), TTL (= extended rcode, version,
    // flags), rdata length, rdata (options: read by nobody, so not checked further).
    if (pos + 11 > len || data[pos] != 0 || read16(data + pos + 1) != kTypeOpt) return false;
    udpSize = read16(data + pos + 3);
    version = data[pos + 6];
    dnssecOk = (data[pos + 7] & 0x80) != 0;
    if (pos + 11 + read16(data + pos + 9) > len) return false;
    edns = true;
  }
  // Bytes after the last record: ignored, as ldns does.

  size_t limit = 65535;
  if (t == Transport::kUdp) limit = edns ? std::clamp<size_t>(udpSize, 512, kMaxUdpSize) : 512;

  key->assign(view);
  key->push_back('\0');
  key->push_back(t == Transport::kTcp ? 't' : 'u');
  put16(key, static_cast<uint16_t>(limit));
  key->push_back(static_cast<char>(data[2] & 0x79));  // opcode, RD
  key->push_back(static_cast<char>(data[3] & 0x10));  // CD
  key->push_back(static_cast<char>((edns ? 1 : 0) | (dnssecOk ? 2 : 0)));
  key->push_back(static_cast<char>(version));
  put16(key, qtype);
  put16(key, qclass);
  size_t at = key->size();
  key->append(reinterpret_cast<const char*>(data) + kHeader, name);
  // Lowercase the label bytes (length bytes are at most 63, never letters).
  for (size_t i = at; i < key->size(); ++i) {
    char& c = (*key)[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  *nameLen = name;
  return true;
}

const std::vector<uint8_t>& AnswerCache::answer(const ZoneSnapshot& snap, const std::string& view, const uint8_t* data,
                                                size_t len, Transport t, bool* notOwned) {
  *notOwned = false;
  reply_.clear();
  if (len < kHeader || (data[2] & kQr)) return reply_;  // respond() gives these nothing either

  size_t nameLen = 0;
  if (!answerCacheKey(view, data, len, t, &key_, &nameLen)) {
    stats_.uncacheable++;
    reply_ = respond(snap, view, data, len, t, notOwned);
    return reply_;
  }
  auto it = entries_.find(key_);
  if (it == entries_.end()) {
    Entry fresh;
    fresh.bytes = respond(snap, view, data, len, t, &fresh.notOwned);
    if (fresh.bytes.empty()) return reply_;  // junk is never kept
    // The answer repeats the question first, at the same offset, as it came (the
    // first name written is never compressed); an answer of any other shape is
    // served but not kept, since it could not be patched for the next asker.
    if (fresh.bytes.size() < kHeader + nameLen ||
        std::memcmp(fresh.bytes.data() + kHeader, data + kHeader, nameLen) != 0) {
      stats_.uncacheable++;
      *notOwned = fresh.notOwned;
      reply_ = std::move(fresh.bytes);
      return reply_;
    }
    stats_.misses++;
    if (entries_.size() >= maxEntries_) entries_.clear();
    it = entries_.emplace(key_, std::move(fresh)).first;
  } else {
    stats_.hits++;
  }
  *notOwned = it->second.notOwned;
  reply_ = it->second.bytes;
  reply_[0] = data[0];  // the asker's id
  reply_[1] = data[1];
  std::memcpy(reply_.data() + kHeader, data + kHeader, nameLen);  // and its spelling of the name
  return reply_;
}

}  // namespace lp::dns
