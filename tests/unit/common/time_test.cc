#include "common/time.h"

#include <gtest/gtest.h>

namespace lp {
namespace {

TEST(Time, Iso8601RoundTripsWithMillis) {
  auto t = parseIso8601("2026-12-05T10:06:55.123Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(iso8601Millis(*t), "2026-12-05T10:06:55.123Z");
  EXPECT_EQ(iso8601Millis(*parseIso8601("2026-12-05T10:06:55Z")), "2026-12-05T10:06:55.000Z");
}

TEST(Time, AmzDateParses) {
  auto t = parseAmzDate("20261205T100655Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(iso8601Millis(*t), "2026-12-05T10:06:55.000Z");
}

// A year past 2261 does not fit WallTime's 64-bit nanoseconds: refused, not overflowed
// (fuzz_api_request found GetMetricData with StartTime=5443-11-22T12:00:00Z).
TEST(Time, YearsBeyondWallTimeAreRefused) {
  EXPECT_FALSE(parseIso8601("5443-11-22T12:00:00Z"));
  EXPECT_FALSE(parseIso8601("9999-12-31T23:59:59Z"));
  EXPECT_FALSE(parseAmzDate("99991231T235959Z"));
  EXPECT_TRUE(parseIso8601("2261-12-31T23:59:59Z"));
}

TEST(Time, OutOfRangeFieldsAreRefused) {
  EXPECT_FALSE(parseIso8601("2026-13-01T00:00:00Z"));
  EXPECT_FALSE(parseIso8601("2026-00-01T00:00:00Z"));
  EXPECT_FALSE(parseIso8601("2026-01-01T24:00:00Z"));
  EXPECT_FALSE(parseIso8601("2026-01-01T-1:00:00Z"));
  EXPECT_FALSE(parseIso8601("2026-01-01T00:00:00.Z"));
  EXPECT_FALSE(parseIso8601("1969-12-31T23:59:59Z"));
}

}  // namespace
}  // namespace lp
