#include "api/cbor.h"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "common/utf8.h"

namespace lp::api::cbor {

namespace {

enum Major : uint8_t {
  kUnsigned = 0,
  kNegative = 1,
  kBytes = 2,
  kText = 3,
  kArray = 4,
  kMap = 5,
  kTag = 6,
  kSimple = 7
};
constexpr uint8_t kIndefinite = 31;
constexpr uint8_t kBreak = 0xff;

Status malformed(std::string_view what) {
  return Status("SerializationException", fmt::format("The request body is not valid CBOR: {}.", what));
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  Result<Doc> item(int depth) {
    if (depth > kMaxDepth) return malformed("nested too deep");
    if (pos_ >= in_.size()) return malformed("truncated");
    uint8_t head = static_cast<uint8_t>(in_[pos_++]);
    uint8_t major = head >> 5, info = head & 0x1f;
    switch (major) {
      case kUnsigned: {
        LP_ASSIGN_OR_RETURN(uint64_t v, argument(info));
        if (v > static_cast<uint64_t>(INT64_MAX)) return malformed("integer out of range");
        return Doc(static_cast<int64_t>(v));
      }
      case kNegative: {
        LP_ASSIGN_OR_RETURN(uint64_t v, argument(info));
        if (v > static_cast<uint64_t>(INT64_MAX)) return malformed("integer out of range");
        return Doc(-1 - static_cast<int64_t>(v));
      }
      case kBytes: {
        LP_ASSIGN_OR_RETURN(std::string s, string(major, info));
        return Doc(Doc::Blob{std::move(s)});
      }
      case kText: {
        LP_ASSIGN_OR_RETURN(std::string s, string(major, info));
        if (!isValidUtf8(s)) return malformed("text string is not UTF-8");
        return Doc(std::move(s));
      }
      case kArray: {
        Doc::List l;
        if (info == kIndefinite) {
          while (!atBreak()) {
            LP_ASSIGN_OR_RETURN(Doc d, item(depth + 1));
            l.push_back(std::move(d));
          }
          return Doc(std::move(l));
        }
        LP_ASSIGN_OR_RETURN(uint64_t n, argument(info));
        if (n > in_.size() - pos_) return malformed("array longer than the body");  // each item takes a byte
        l.reserve(n);
        for (uint64_t i = 0; i < n; ++i) {
          LP_ASSIGN_OR_RETURN(Doc d, item(depth + 1));
          l.push_back(std::move(d));
        }
        return Doc(std::move(l));
      }
      case kMap: {
        Doc::Map m;
        if (info == kIndefinite) {
          while (!atBreak()) LP_RETURN_IF_ERROR(entry(m, depth));
          return Doc(std::move(m));
        }
        LP_ASSIGN_OR_RETURN(uint64_t n, argument(info));
        if (n > (in_.size() - pos_) / 2) return malformed("map longer than the body");
        for (uint64_t i = 0; i < n; ++i) LP_RETURN_IF_ERROR(entry(m, depth));
        return Doc(std::move(m));
      }
      case kTag: {
        LP_ASSIGN_OR_RETURN(uint64_t tag, argument(info));
        if (tag != 1) return malformed(fmt::format("tag {} is not one Smithy uses", tag));
        LP_ASSIGN_OR_RETURN(Doc v, item(depth + 1));
        if (const auto* i = std::get_if<int64_t>(&v.value)) return Doc(Doc::Timestamp{static_cast<double>(*i)});
        if (const auto* f = std::get_if<double>(&v.value); f && std::isfinite(*f)) return Doc(Doc::Timestamp{*f});
        return malformed("tag 1 must hold a number of seconds");
      }
      default:
        return simple(info);
    }
  }

  bool done() const { return pos_ == in_.size(); }

 private:
  // The argument of a head: the value itself below 24, else the 1, 2, 4 or 8
  // bytes that follow (big-endian).
  Result<uint64_t> argument(uint8_t info) {
    if (info < 24) return uint64_t{info};
    if (info > 27) return malformed("reserved or indefinite length where a count is needed");
    size_t n = size_t{1} << (info - 24);
    if (in_.size() - pos_ < n) return malformed("truncated");
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(in_[pos_++]);
    return v;
  }

  Result<std::string> string(uint8_t major, uint8_t info) {
    if (info != kIndefinite) {
      LP_ASSIGN_OR_RETURN(uint64_t n, argument(info));
      if (n > in_.size() - pos_) return malformed("string longer than the body");
      std::string s(in_.substr(pos_, n));
      pos_ += n;
      return s;
    }
    // Indefinite: definite chunks of the same major type until a break.
    std::string s;
    while (!atBreak()) {
      if (pos_ >= in_.size()) return malformed("truncated");
      uint8_t head = static_cast<uint8_t>(in_[pos_++]);
      if ((head >> 5) != major || (head & 0x1f) == kIndefinite) return malformed("bad chunk in a string");
      LP_ASSIGN_OR_RETURN(std::string chunk, string(major, head & 0x1f));
      s += chunk;
    }
    return s;
  }

  // Consumes a break byte if one is next. An indefinite item that runs off the
  // end is not ended here: the next read reports it truncated.
  bool atBreak() {
    if (pos_ < in_.size() && static_cast<uint8_t>(in_[pos_]) == kBreak) {
      ++pos_;
      return true;
    }
    return false;
  }

  Status entry(Doc::Map& m, int depth) {
    LP_ASSIGN_OR_RETURN(Doc key, item(depth + 1));
    auto* k = std::get_if<std::string>(&key.value);
    if (!k) return malformed("map keys must be text strings");
    LP_ASSIGN_OR_RETURN(Doc v, item(depth + 1));
    m.emplace_back(std::move(*k), std::move(v));
    return Status::Ok();
  }

  Result<Doc> simple(uint8_t info) {
    switch (info) {
      case 20:
        return Doc(false);
      case 21:
        return Doc(true);
      case 22:
      case 23:
        return Doc();
      case 25: {
        LP_ASSIGN_OR_RETURN(uint64_t h, argument(info));
        return Doc(halfToDouble(static_cast<uint16_t>(h)));
      }
      case 26: {
        LP_ASSIGN_OR_RETURN(uint64_t f, argument(info));
        return Doc(static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(f))));
      }
      case 27: {
        LP_ASSIGN_OR_RETURN(uint64_t d, argument(info));
        return Doc(std::bit_cast<double>(d));
      }
      default:
        return malformed(fmt::format("simple value {} is not one Smithy uses", info));
    }
  }

  static double halfToDouble(uint16_t h) {
    int exp = (h >> 10) & 0x1f;
    double mant = h & 0x3ff;
    double v = exp == 0    ? std::ldexp(mant, -24)
               : exp == 31 ? (mant == 0 ? INFINITY : NAN)
                           : std::ldexp(mant + 1024, exp - 25);
    return (h & 0x8000) ? -v : v;
  }

  std::string_view in_;
  size_t pos_ = 0;
};

void head(std::string& out, uint8_t major, uint64_t v) {
  uint8_t m = static_cast<uint8_t>(major << 5);
  if (v < 24) {
    out += static_cast<char>(m | v);
    return;
  }
  int bytes = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffULL ? 4 : 8;
  out += static_cast<char>(m | (bytes == 1 ? 24 : bytes == 2 ? 25 : bytes == 4 ? 26 : 27));
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

void integer(std::string& out, int64_t v) {
  if (v >= 0) return head(out, kUnsigned, static_cast<uint64_t>(v));
  head(out, kNegative, static_cast<uint64_t>(-(v + 1)));
}

void float64(std::string& out, double d) {
  out += static_cast<char>((kSimple << 5) | 27);
  uint64_t bits = std::bit_cast<uint64_t>(d);
  for (int i = 7; i >= 0; --i) out += static_cast<char>((bits >> (8 * i)) & 0xff);
}

void write(std::string& out, const Doc& d) {
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out += static_cast<char>(0xf6);
        } else if constexpr (std::is_same_v<T, bool>) {
          out += static_cast<char>(v ? 0xf5 : 0xf4);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          integer(out, v);
        } else if constexpr (std::is_same_v<T, double>) {
          float64(out, v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          head(out, kText, v.size());
          out += v;
        } else if constexpr (std::is_same_v<T, Doc::Blob>) {
          head(out, kBytes, v.bytes.size());
          out += v.bytes;
        } else if constexpr (std::is_same_v<T, Doc::Timestamp>) {
          head(out, kTag, 1);
          double whole = std::trunc(v.epochSeconds);
          if (whole == v.epochSeconds && std::fabs(whole) < 9.0e15)
            integer(out, static_cast<int64_t>(whole));
          else
            float64(out, v.epochSeconds);
        } else if constexpr (std::is_same_v<T, Doc::List>) {
          head(out, kArray, v.size());
          for (const Doc& item : v) write(out, item);
        } else {
          size_t n = 0;
          for (const auto& [k, m] : v) n += !m.isNull();  // a null member is left out, as the SDKs do
          head(out, kMap, n);
          for (const auto& [k, m] : v) {
            if (m.isNull()) continue;
            head(out, kText, k.size());
            out += k;
            write(out, m);
          }
        }
      },
      d.value);
}

}  // namespace

Result<Doc> decode(std::string_view body) {
  Reader r(body);
  LP_ASSIGN_OR_RETURN(Doc d, r.item(0));
  if (!r.done()) return malformed("bytes after the data item");
  return d;
}

std::string encode(const Doc& d) {
  std::string out;
  write(out, d);
  return out;
}

}  // namespace lp::api::cbor
