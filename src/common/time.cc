#include "common/time.h"

#include <ctime>

#include <fmt/format.h>

#include "common/strings.h"

namespace lp {

std::string iso8601Millis(WallTime t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

static std::optional<WallTime> fromFields(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s, int64_t ms) {
  // WallTime counts nanoseconds in 64 bits, which ends in April 2262: a later year would
  // overflow the conversion below (found by fuzz_api_request: GetMetricData StartTime=5443-...).
  if (y < 1970 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      s < 0 || s > 60 || ms < 0 || ms > 999)
    return std::nullopt;
  struct tm tm{};
  tm.tm_year = static_cast<int>(y - 1900);
  tm.tm_mon = static_cast<int>(mo - 1);
  tm.tm_mday = static_cast<int>(d);
  tm.tm_hour = static_cast<int>(h);
  tm.tm_min = static_cast<int>(mi);
  tm.tm_sec = static_cast<int>(s);
  time_t secs = timegm(&tm);
  return WallTime(std::chrono::seconds(secs)) + std::chrono::milliseconds(ms);
}

std::optional<WallTime> parseAmzDate(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  auto num = [&](size_t pos, size_t len) { return parseInt(s.substr(pos, len)); };
  auto y = num(0, 4), mo = num(4, 2), d = num(6, 2), h = num(9, 2), mi = num(11, 2), se = num(13, 2);
  if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
  return fromFields(*y, *mo, *d, *h, *mi, *se, 0);
}

std::optional<WallTime> parseIso8601(std::string_view s) {
  // YYYY-MM-DDThh:mm:ss[.fff]Z
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s.back() != 'Z')
    return std::nullopt;
  auto num = [&](size_t pos, size_t len) { return parseInt(s.substr(pos, len)); };
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), se = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
  int64_t ms = 0;
  if (s.size() > 20) {
    if (s[19] != '.') return std::nullopt;
    auto frac = s.substr(20, s.size() - 21);
    if (frac.empty() || frac.size() > 9) return std::nullopt;
    auto f = parseInt(frac);
    if (!f) return std::nullopt;
    ms = *f;
    for (size_t i = frac.size(); i < 3; ++i) ms *= 10;
    for (size_t i = 3; i < frac.size(); ++i) ms /= 10;
  }
  return fromFields(*y, *mo, *d, *h, *mi, *se, ms);
}

}  // namespace lp
