// Doc: one request or response as the JSON protocols see it (the Smithy data
// model: structures, lists, strings, numbers, booleans, timestamps, blobs), so
// one handler can answer in three protocols. A Query handler's output written
// as XML members (lists as <member>), as JSON (awsJson1_0) or as CBOR (Smithy
// RPC v2). A JSON or CBOR request is flattened to Query-style Params
// ("Dimensions.member.1.Name") so the handlers parse one form only.
// Value type; not thread-safe to mutate.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "api/params.h"
#include "api/xml_writer.h"
#include "common/status.h"
#include "common/time.h"

namespace lp::api {

struct Doc {
  struct Timestamp {
    double epochSeconds = 0;
  };
  struct Blob {
    std::string bytes;
  };
  using List = std::vector<Doc>;
  // Members in the order written (XML answers keep the model's member order).
  using Map = std::vector<std::pair<std::string, Doc>>;
  std::variant<std::monostate, bool, int64_t, double, std::string, Blob, Timestamp, List, Map> value;

  Doc() = default;
  Doc(bool b) : value(b) {}                      // NOLINT(google-explicit-constructor): literals read as the data
  Doc(int64_t i) : value(i) {}                   // NOLINT
  Doc(double d) : value(d) {}                    // NOLINT
  Doc(std::string s) : value(std::move(s)) {}    // NOLINT
  Doc(const char* s) : value(std::string(s)) {}  // NOLINT
  Doc(Timestamp t) : value(t) {}                 // NOLINT
  Doc(Blob b) : value(std::move(b)) {}           // NOLINT
  Doc(List l) : value(std::move(l)) {}           // NOLINT
  Doc(Map m) : value(std::move(m)) {}            // NOLINT

  static Doc time(WallTime t);
  static Doc map() { return Doc(Map{}); }
  static Doc list() { return Doc(List{}); }

  bool isNull() const { return std::holds_alternative<std::monostate>(value); }
  bool isMap() const { return std::holds_alternative<Map>(value); }
  bool isList() const { return std::holds_alternative<List>(value); }
  // Appends a member (a map) or an item (a list); returns the new element.
  Doc& add(std::string name, Doc v);
  Doc& push(Doc v);
  // The member named name of a map, or null.
  const Doc* member(std::string_view name) const;

  bool operator==(const Doc& o) const;
};
inline bool operator==(const Doc::Timestamp& a, const Doc::Timestamp& b) { return a.epochSeconds == b.epochSeconds; }
inline bool operator==(const Doc::Blob& a, const Doc::Blob& b) { return a.bytes == b.bytes; }

// Writes a map's members as the children of the Query <ActionResult>: lists as
// <Name><member>..</member></Name> (an empty list as <Name/>), timestamps as
// ISO 8601, doubles as CloudWatch writes them ("3.0", "0.5").
void writeQueryXml(XmlWriter& out, const Doc& members);

// A JSON or CBOR request body as Params: map members by name, list items as
// Name.member.N, booleans "true"/"false", timestamps ISO 8601 with millis.
// Numbers under a member named in timestampMembers are epoch seconds (JSON has no
// timestamp type). SerializationException when the body is not a structure.
Result<Params> flattenToParams(const Doc& body, const std::set<std::string, std::less<>>& timestampMembers);

// awsJson1_0 bodies (nlohmann under the hood; timestamps as epoch seconds).
Result<Doc> parseJsonDocument(std::string_view body);
std::string toJson(const Doc& d);

}  // namespace lp::api
