// CBOR (RFC 8949) as Smithy RPC v2 uses it: the subset that carries the Smithy
// data model. Decodes integers, byte and text strings (definite and indefinite
// length), arrays, maps with text keys, tag 1 (epoch-seconds timestamps), half,
// single and double floats, false/true/null/undefined. Encodes a Doc with the
// shortest integer heads, doubles as float64 and timestamps as tag 1.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "api/document.h"
#include "common/status.h"

namespace lp::api::cbor {

// The one data item of body (nothing may follow it). SerializationException on
// malformed input, other tags, non-text map keys, invalid UTF-8, integers past
// int64, nesting deeper than kMaxDepth.
Result<Doc> decode(std::string_view body);
std::string encode(const Doc& d);

inline constexpr int kMaxDepth = 64;

}  // namespace lp::api::cbor
