// libFuzzer target: arbitrary bytes as a Smithy RPC v2 CBOR request body (what
// CloudWatch's CBOR route decodes before authentication is checked against the
// operation), through cbor::decode() and the flattening to Query Params. A body
// it accepts must encode and decode back to the same document.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/cbor.h"
#include "api/document.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto doc = lp::api::cbor::decode(in);
  if (!doc.ok()) return 0;
  (void)lp::api::flattenToParams(*doc, {"StartTime", "EndTime"});
  auto again = lp::api::cbor::decode(lp::api::cbor::encode(*doc));
  // NaN != NaN: compare the encodings, which are canonical for a decoded document.
  if (!again.ok() || lp::api::cbor::encode(*again) != lp::api::cbor::encode(*doc)) abort();
  return 0;
}
