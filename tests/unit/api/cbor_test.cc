#include "api/cbor.h"

#include <gtest/gtest.h>

#include "api/document.h"

namespace lp::api {
namespace {

std::string hex(std::string_view h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16));
  return out;
}

// RFC 8949 Appendix A examples.
TEST(CborTest, DecodesRfcExamples) {
  EXPECT_EQ(*cbor::decode(hex("00")), Doc(int64_t{0}));
  EXPECT_EQ(*cbor::decode(hex("17")), Doc(int64_t{23}));
  EXPECT_EQ(*cbor::decode(hex("1818")), Doc(int64_t{24}));
  EXPECT_EQ(*cbor::decode(hex("1903e8")), Doc(int64_t{1000}));
  EXPECT_EQ(*cbor::decode(hex("1b000000e8d4a51000")), Doc(int64_t{1000000000000}));
  EXPECT_EQ(*cbor::decode(hex("3863")), Doc(int64_t{-100}));
  EXPECT_EQ(*cbor::decode(hex("f93c00")), Doc(1.0));
  EXPECT_EQ(*cbor::decode(hex("f97bff")), Doc(65504.0));
  EXPECT_EQ(*cbor::decode(hex("fa47c35000")), Doc(100000.0));
  EXPECT_EQ(*cbor::decode(hex("fb3ff199999999999a")), Doc(1.1));
  EXPECT_EQ(*cbor::decode(hex("f4")), Doc(false));
  EXPECT_EQ(*cbor::decode(hex("f5")), Doc(true));
  EXPECT_TRUE(cbor::decode(hex("f6"))->isNull());
  EXPECT_EQ(*cbor::decode(hex("6449455446")), Doc("IETF"));
  EXPECT_EQ(*cbor::decode(hex("4401020304")), Doc(Doc::Blob{hex("01020304")}));
  EXPECT_EQ(*cbor::decode(hex("c11a514b67b0")), Doc(Doc::Timestamp{1363896240}));
  EXPECT_EQ(*cbor::decode(hex("c1fb41d452d9ec200000")), Doc(Doc::Timestamp{1363896240.5}));
  // Indefinite lengths: [_ 1, [2, 3], [_ 4, 5]], {_ "a": 1}, (_ "strea", "ming").
  Doc nested(Doc::List{Doc(int64_t{1}), Doc(Doc::List{Doc(int64_t{2}), Doc(int64_t{3})}),
                       Doc(Doc::List{Doc(int64_t{4}), Doc(int64_t{5})})});
  EXPECT_EQ(*cbor::decode(hex("9f018202039f0405ffff")), nested);
  EXPECT_EQ(*cbor::decode(hex("bf616101ff")), Doc(Doc::Map{{"a", Doc(int64_t{1})}}));
  EXPECT_EQ(*cbor::decode(hex("7f657374726561646d696e67ff")), Doc("streaming"));
}

TEST(CborTest, RoundTripsTheShapesCloudWatchAnswers) {
  Doc out = Doc::map();
  out.add("Label", "BytesProcessed");
  Doc& dps = out.add("Datapoints", Doc::list());
  Doc& d = dps.push(Doc::map());
  d.add("Timestamp", Doc::time(WallTime(std::chrono::seconds(1764921600))));
  d.add("Sum", 6291461.0);
  d.add("Average", 0.25);
  d.add("SampleCount", int64_t{-70000});
  d.add("Unit", "Bytes");
  out.add("Empty", Doc::list());
  out.add("Ok", true);
  std::string bytes = cbor::encode(out);
  auto back = cbor::decode(bytes);
  ASSERT_TRUE(back.ok()) << back.status().toString();
  EXPECT_EQ(*back, out);
  // The timestamp is tag 1 holding an integer (0xc1 0x1a ...), as botocore's parser takes it.
  EXPECT_NE(bytes.find(hex("c11a")), std::string::npos);
}

TEST(CborTest, EncodesShortestHeads) {
  EXPECT_EQ(cbor::encode(Doc(int64_t{23})), hex("17"));
  EXPECT_EQ(cbor::encode(Doc(int64_t{24})), hex("1818"));
  EXPECT_EQ(cbor::encode(Doc(int64_t{-1})), hex("20"));
  EXPECT_EQ(cbor::encode(Doc(int64_t{-1000})), hex("3903e7"));
  EXPECT_EQ(cbor::encode(Doc("a")), hex("6161"));
  EXPECT_EQ(cbor::encode(Doc(1.5)), hex("fb3ff8000000000000"));
  // A null member is left out of a map.
  Doc m = Doc::map();
  m.add("a", Doc());
  m.add("b", false);
  EXPECT_EQ(cbor::encode(m), hex("a16162f4"));
}

TEST(CborTest, RefusesMalformedInput) {
  for (std::string_view h : {
           "",                            // nothing
           "18",                          // truncated argument
           "62 61",                       // string longer than the body
           "9f01",                        // indefinite array never ended
           "bf6161",                      // indefinite map never ended
           "a1 01 02",                    // integer map key
           "c2 41 01",                    // tag 2 (bignum)
           "c1 6161",                     // tag 1 holding text
           "1bffffffffffffffff",          // past int64
           "0000",                        // bytes after the item
           "62 c3 28",                    // invalid UTF-8 text
           "7f 41 61 ff",                 // byte chunk in a text string
           "1c",                          // reserved additional info
           "f8 20",                       // simple value 32
           "9b 00 00 00 00 ff ff ff ff",  // array count beyond the body
       }) {
    std::string compact;
    for (char c : h)
      if (c != ' ') compact += c;
    auto r = cbor::decode(hex(compact));
    ASSERT_FALSE(r.ok()) << h;
    EXPECT_EQ(r.status().code(), "SerializationException") << h;
  }
}

TEST(CborTest, RefusesDeepNesting) {
  std::string deep(cbor::kMaxDepth + 2, static_cast<char>(0x81));  // [[[[...
  deep += static_cast<char>(0x01);
  EXPECT_FALSE(cbor::decode(deep).ok());
  std::string ok(10, static_cast<char>(0x81));
  ok += static_cast<char>(0x01);
  EXPECT_TRUE(cbor::decode(ok).ok());
}

TEST(DocumentTest, FlattensToQueryParams) {
  Doc body = Doc::map();
  body.add("StartTime", Doc(Doc::Timestamp{1764921600}));
  body.add("EndTime", int64_t{1764925200});  // JSON: a number, known by name
  body.add("Period", int64_t{60});
  Doc& q = body.add("MetricDataQueries", Doc::list()).push(Doc::map());
  q.add("Id", "m1");
  q.add("ReturnData", true);
  Doc& ms = q.add("MetricStat", Doc::map());
  Doc& dims = ms.add("Metric", Doc::map()).add("Dimensions", Doc::list());
  dims.push(Doc(Doc::Map{{"Name", Doc("VPC Endpoint Id")}, {"Value", Doc("vpce-1")}}));
  body.add("Statistics", Doc::list());
  auto p = flattenToParams(body, {"StartTime", "EndTime"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->get("StartTime"), "2025-12-05T08:00:00.000Z");
  EXPECT_EQ(p->get("EndTime"), "2025-12-05T09:00:00.000Z");
  EXPECT_EQ(p->get("Period"), "60");
  EXPECT_EQ(p->get("MetricDataQueries.member.1.Id"), "m1");
  EXPECT_EQ(p->get("MetricDataQueries.member.1.ReturnData"), "true");
  EXPECT_EQ(p->get("MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name"), "VPC Endpoint Id");
  EXPECT_TRUE(p->has("Statistics"));
  EXPECT_TRUE(p->memberList("Statistics").empty());
  EXPECT_FALSE(flattenToParams(Doc(Doc::List{}), {}).ok());
  Doc dotted = Doc::map();
  dotted.add("A.member.1", "x");  // a key cannot forge another member's path
  EXPECT_FALSE(flattenToParams(dotted, {}).ok());
}

TEST(DocumentTest, WritesQueryXmlAndJson) {
  Doc out = Doc::map();
  out.add("Label", "L");
  Doc& dps = out.add("Datapoints", Doc::list());
  Doc& d = dps.push(Doc::map());
  d.add("Timestamp", Doc::time(WallTime(std::chrono::seconds(1764921600))));
  d.add("Sum", 3.0);
  out.add("Messages", Doc::list());
  XmlWriter x;
  writeQueryXml(x, out);
  EXPECT_EQ(x.str(),
            "<Label>L</Label><Datapoints><member><Timestamp>2025-12-05T08:00:00Z</Timestamp><Sum>3.0</Sum></member>"
            "</Datapoints><Messages/>");
  EXPECT_EQ(toJson(out), R"({"Datapoints":[{"Sum":3.0,"Timestamp":1764921600.0}],"Label":"L","Messages":[]})");
  auto back = parseJsonDocument(R"({"StartTime": 1764921600.5, "N": [1, "x", true, null]})");
  ASSERT_TRUE(back.ok());
  auto p = flattenToParams(*back, {"StartTime"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->get("StartTime"), "2025-12-05T08:00:00.500Z");
  EXPECT_EQ(p->get("N.member.2"), "x");
  EXPECT_FALSE(p->has("N.member.4"));
  EXPECT_FALSE(parseJsonDocument("{").ok());
  EXPECT_FALSE(parseJsonDocument(std::string(100, '[') + std::string(100, ']')).ok());
}

}  // namespace
}  // namespace lp::api
