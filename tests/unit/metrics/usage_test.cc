// Usage: endpoint-zone hours counted per started hour while available, bytes per
// hour, the month's report priced with AWS's tiers, and the ledger file read back.
#include "metrics/usage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace lp::metrics {
namespace {

using namespace std::chrono_literals;

// 2026-12-05T10:50:00Z.
WallTime start() { return WallTime(std::chrono::seconds(1796467800)); }

TEST(UsageTest, ThreeHoursTenMinutesInTwoZonesIsEightEndpointZoneHours) {
  ManualClock clock(start());
  UsageLedger ledger(clock, "");
  ASSERT_TRUE(ledger.load().ok());
  // Available from 10:50 to 14:00 (3 h 10 min): the hours started at 10, 11, 12 and 13.
  for (auto t = 0min; t < 190min; t += 1min) {
    ledger.observe({{"vpce-1", "222222222222", "com.amazonaws.us-east-1.ec2", 2}});
    ledger.addBytes("vpce-1", "222222222222", "com.amazonaws.us-east-1.ec2", 1'000'000);
    clock.advance(1min);
    ledger.flush();
  }
  ledger.observe({});  // 14:00: deleted
  auto report = usageReport(ledger.records(), Prices{}, "2026-12");
  ASSERT_EQ(report.lines.size(), 1u);
  const UsageLine& l = report.lines[0];
  EXPECT_EQ(l.endpointZoneHours, 8);
  EXPECT_DOUBLE_EQ(l.gigabytes, 0.19);  // 190 x 1 MB
  EXPECT_DOUBLE_EQ(l.hourlyCost, 0.08);
  EXPECT_NEAR(l.dataCost, 0.0019, 1e-12);
  EXPECT_EQ(report.totals.at("222222222222").endpointZoneHours, 8);
  // Another month, another account: nothing.
  EXPECT_TRUE(usageReport(ledger.records(), Prices{}, "2026-11").lines.empty());
  EXPECT_TRUE(usageReport(ledger.records(), Prices{}, "2026-12", "111111111111").lines.empty());
}

TEST(UsageTest, DataTiersApplyToTheAccountsMonth) {
  std::vector<UsageRecord> recs;
  const int64_t hour = monthHours("2026-12")->first;
  // 3 PB in one account: 1 PB at $0.01, 2 PB at $0.006 -> $10,000 + $12,000.
  recs.push_back({hour, "vpce-a", "1", "svc", 1, 2'000'000'000'000'000ull});
  recs.push_back({hour + 1, "vpce-b", "1", "svc", 1, 1'000'000'000'000'000ull});
  auto r = usageReport(recs, Prices{}, "2026-12");
  EXPECT_NEAR(r.totals.at("1").dataCost, 22000.0, 1e-6);
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_NEAR(r.lines[0].dataCost + r.lines[1].dataCost, 22000.0, 1e-6);
  EXPECT_NEAR(r.lines[0].dataCost, 22000.0 * 2 / 3, 1e-6);  // its share of the bytes
}

TEST(UsageTest, MonthsAreCalendarMonths) {
  auto dec = monthHours("2026-12");
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(dec->second - dec->first, 31 * 24);
  EXPECT_EQ(monthHours("2028-02")->second - monthHours("2028-02")->first, 29 * 24);
  EXPECT_FALSE(monthHours("2026-13").ok());
  EXPECT_FALSE(monthHours("26-12").ok());
  EXPECT_EQ(monthOf(start()), "2026-12");
}

TEST(UsageTest, TheLedgerFileCarriesClosedHoursAndACleanStop) {
  auto dir = std::filesystem::temp_directory_path() / ("lp-usage-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "usage.jsonl").string();
  ManualClock clock(start());
  {
    UsageLedger l(clock, path);
    ASSERT_TRUE(l.load().ok());
    l.observe({{"vpce-1", "2", "svc", 3}});
    clock.advance(20min);  // 11:10: the 10:00 hour closes
    l.observe({{"vpce-1", "2", "svc", 3}});
    l.addBytes("vpce-1", "2", "svc", 500);
    l.flush();
    l.flush(/*openHour=*/true);  // a clean stop writes the hour under way
  }
  {
    UsageLedger again(clock, path);  // same hour: continues from the file
    ASSERT_TRUE(again.load().ok());
    again.addBytes("vpce-1", "2", "svc", 100);
    again.flush(true);
  }
  auto recs = UsageLedger::readFile(path);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].zones, 3);
  EXPECT_EQ(recs[1].zones, 3);
  EXPECT_EQ(recs[1].bytes, 600u);
  EXPECT_EQ(usageReport(recs, Prices{}, "2026-12").lines[0].endpointZoneHours, 6);
  std::filesystem::remove_all(dir);
}

// A SIGKILL: the ledger is dropped without flush(openHour). The hour under way
// survives through its checkpoint (at most checkpointEvery old), in readFile() at
// once and in the ledger itself at the next start, even when that is hours later.
TEST(UsageTest, TheHourUnderWaySurvivesAKillThroughTheCheckpoint) {
  auto dir = std::filesystem::temp_directory_path() / ("lp-usage-kill-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "usage.jsonl").string();
  ManualClock clock(start());  // 10:50
  {
    UsageLedger l(clock, path, 60s);
    ASSERT_TRUE(l.load().ok());
    l.observe({{"vpce-1", "2", "svc", 2}});
    l.addBytes("vpce-1", "2", "svc", 1000);
    clock.advance(61s);
    l.flush();  // the checkpoint is due: 1000 bytes, 2 zones
    l.addBytes("vpce-1", "2", "svc", 7);
    clock.advance(10s);
    l.flush();  // not due: these 7 bytes are what a kill loses
  }  // killed: no flush(openHour)
  EXPECT_TRUE(std::filesystem::exists(UsageLedger::checkpointPath(path)));
  auto recs = UsageLedger::readFile(path);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].zones, 2);
  EXPECT_EQ(recs[0].bytes, 1000u);
  EXPECT_EQ(recs[0].account, "2");
  // Restarted three hours later: the 10:00 hour goes into the ledger file itself.
  clock.advance(3h);
  {
    UsageLedger l(clock, path, 60s);
    ASSERT_TRUE(l.load().ok());
    l.flush(/*openHour=*/true);
  }
  std::filesystem::remove(UsageLedger::checkpointPath(path));
  recs = UsageLedger::readFile(path);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].bytes, 1000u);
  EXPECT_EQ(usageReport(recs, Prices{}, "2026-12").lines[0].endpointZoneHours, 2);
  std::filesystem::remove_all(dir);
}

// Kernel counters outlive a kill -9 (the BPF path's pinned maps, the conntrack
// path's nft counters): the next run must know how far the killed one had added
// them, as of the bytes the ledger kept, not as of later bytes it lost.
TEST(UsageTest, MarksAreKeptWithTheBytesTheyMatchAcrossAKill) {
  auto dir = std::filesystem::temp_directory_path() / ("lp-usage-marks-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "usage.jsonl").string();
  ManualClock clock(start());  // 10:50
  {
    UsageLedger l(clock, path, 60s);
    ASSERT_TRUE(l.load().ok());
    EXPECT_TRUE(l.marks().empty());
    l.addBytes("vpce-1", "2", "svc", 1000);
    l.setMarks({{"eni-1", 900}});
    clock.advance(61s);
    l.flush();  // due: 1000 bytes and their mark
    l.addBytes("vpce-1", "2", "svc", 7);
    l.setMarks({{"eni-1", 907}});
    clock.advance(10s);
    l.flush();  // not due: lost with their mark
  }             // killed
  {
    UsageLedger l(clock, path, 60s);
    ASSERT_TRUE(l.load().ok());
    EXPECT_EQ(l.marks(), (std::map<std::string, uint64_t>{{"eni-1", 900}}));
    ASSERT_EQ(l.records().size(), 1u);
    EXPECT_EQ(l.records()[0].bytes, 1000u);
    // An hour that closes is appended to the ledger and checkpointed with its marks at once.
    l.addBytes("vpce-1", "2", "svc", 50);
    l.setMarks({{"eni-1", 950}});
    clock.advance(10min);  // 11:01
    l.flush();
  }  // killed
  UsageLedger l(clock, path, 60s);
  ASSERT_TRUE(l.load().ok());
  EXPECT_EQ(l.marks(), (std::map<std::string, uint64_t>{{"eni-1", 950}}));
  auto recs = UsageLedger::readFile(path);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].bytes, 1050u);
  std::filesystem::remove_all(dir);
}

TEST(UsageTest, ACheckpointIsOnlyWrittenWhenDueAndChanged) {
  auto dir = std::filesystem::temp_directory_path() / ("lp-usage-cp-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "usage.jsonl").string();
  ManualClock clock(start());
  UsageLedger l(clock, path, 60s);
  ASSERT_TRUE(l.load().ok());
  const auto cp = UsageLedger::checkpointPath(path);
  l.observe({{"vpce-1", "2", "svc", 1}});
  clock.advance(61s);
  l.flush();
  EXPECT_GT(std::filesystem::file_size(cp), 0u);
  clock.advance(61s);
  l.observe({{"vpce-1", "2", "svc", 1}});  // nothing new
  std::filesystem::remove(cp);
  l.flush();
  EXPECT_FALSE(std::filesystem::exists(cp)) << "unchanged: not rewritten";
  l.addBytes("vpce-1", "2", "svc", 5);
  l.flush();
  EXPECT_TRUE(std::filesystem::exists(cp));
  std::filesystem::remove_all(dir);
}

TEST(UsageTest, FormatsSayTheSameNumbers) {
  std::vector<UsageRecord> recs{{monthHours("2026-12")->first, "vpce-1", "2", "svc", 2, 3'000'000'000ull}};
  auto r = usageReport(recs, Prices{}, "2026-12");
  std::string csv = formatUsage(r, "csv");
  EXPECT_NE(csv.find("2026-12,2,vpce-1,svc,2,3.000000000,0.0200,0.0300,0.0500"), std::string::npos) << csv;
  std::string json = formatUsage(r, "json");
  EXPECT_NE(json.find("\"endpointZoneHours\": 2"), std::string::npos) << json;
  EXPECT_NE(formatUsage(r, "table").find("vpce-1"), std::string::npos);
}

}  // namespace
}  // namespace lp::metrics
