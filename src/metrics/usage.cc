#include "metrics/usage.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/log.h"

namespace lp::metrics {

namespace {

using std::chrono::duration_cast;
using std::chrono::hours;

int64_t hourOf(WallTime t) { return duration_cast<hours>(t.time_since_epoch()).count(); }

// Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's algorithm).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

nlohmann::json toJson(const UsageRecord& r) {
  return {{"h", r.hour}, {"e", r.endpointId}, {"a", r.account}, {"s", r.serviceName}, {"z", r.zones},
          {"b", r.bytes}};
}

double dataCost(double gb, const Prices& p) {
  double cost = 0, below = 0;
  for (const auto& t : p.dataTiers) {
    if (gb <= below) break;
    cost += (std::min(gb, t.upToGb) - below) * t.perGb;
    below = t.upToGb;
  }
  return cost;
}

}  // namespace

Result<std::pair<int64_t, int64_t>> monthHours(const std::string& month) {
  if (month.size() != 7 || month[4] != '-' || !std::all_of(month.begin(), month.begin() + 4, ::isdigit) ||
      !std::isdigit(static_cast<unsigned char>(month[5])) || !std::isdigit(static_cast<unsigned char>(month[6])))
    return Status("InvalidParameterValue", "a month is YYYY-MM, not '" + month + "'");
  const int64_t y = std::stoi(month.substr(0, 4));
  const unsigned m = static_cast<unsigned>(std::stoi(month.substr(5, 2)));
  if (m < 1 || m > 12) return Status("InvalidParameterValue", "a month is YYYY-MM, not '" + month + "'");
  const int64_t from = daysFromCivil(y, m, 1) * 24;
  const int64_t to = (m == 12 ? daysFromCivil(y + 1, 1, 1) : daysFromCivil(y, m + 1, 1)) * 24;
  return std::make_pair(from, to);
}

std::string monthOf(WallTime t) {
  std::string iso = iso8601Millis(t);
  return iso.substr(0, 7);
}

UsageReport usageReport(const std::vector<UsageRecord>& records, const Prices& prices, const std::string& month,
                        const std::string& account) {
  UsageReport r;
  r.month = month;
  auto range = monthHours(month);
  if (!range.ok()) return r;
  std::map<std::pair<std::string, std::string>, UsageLine> lines;  // (account, endpoint)
  for (const auto& rec : records) {
    if (rec.hour < range->first || rec.hour >= range->second) continue;
    if (!account.empty() && rec.account != account) continue;
    UsageLine& l = lines[{rec.account, rec.endpointId}];
    l.account = rec.account;
    l.endpointId = rec.endpointId;
    l.serviceName = rec.serviceName;
    l.endpointZoneHours += rec.zones;
    l.gigabytes += static_cast<double>(rec.bytes) / 1e9;
  }
  for (auto& [key, l] : lines) {
    l.hourlyCost = static_cast<double>(l.endpointZoneHours) * prices.perEndpointZoneHour;
    UsageLine& t = r.totals[l.account];
    t.account = l.account;
    t.endpointZoneHours += l.endpointZoneHours;
    t.gigabytes += l.gigabytes;
    t.hourlyCost += l.hourlyCost;
  }
  // The data tiers apply to an account's whole month; each endpoint carries its
  // share of that cost in proportion to its bytes.
  for (auto& [acct, t] : r.totals) t.dataCost = dataCost(t.gigabytes, prices);
  for (auto& [key, l] : lines) {
    const UsageLine& t = r.totals[l.account];
    l.dataCost = t.gigabytes > 0 ? t.dataCost * (l.gigabytes / t.gigabytes) : 0;
    r.lines.push_back(l);
  }
  return r;
}

std::string formatUsage(const UsageReport& r, const std::string& format) {
  std::string out;
  if (format == "json") {
    nlohmann::json j = {{"month", r.month}, {"endpoints", nlohmann::json::array()}, {"accounts", nlohmann::json::array()}};
    for (const auto& l : r.lines)
      j["endpoints"].push_back({{"account", l.account}, {"vpcEndpointId", l.endpointId},
                                {"serviceName", l.serviceName}, {"endpointZoneHours", l.endpointZoneHours},
                                {"gigabytesProcessed", l.gigabytes}, {"hourlyCostUsd", l.hourlyCost},
                                {"dataProcessingCostUsd", l.dataCost}, {"totalUsd", l.hourlyCost + l.dataCost}});
    for (const auto& [a, t] : r.totals)
      j["accounts"].push_back({{"account", a}, {"endpointZoneHours", t.endpointZoneHours},
                               {"gigabytesProcessed", t.gigabytes}, {"hourlyCostUsd", t.hourlyCost},
                               {"dataProcessingCostUsd", t.dataCost}, {"totalUsd", t.hourlyCost + t.dataCost}});
    return j.dump(2) + "\n";
  }
  if (format == "csv") {
    out = "month,account,vpc_endpoint_id,service_name,endpoint_zone_hours,gb_processed,hourly_usd,data_usd,total_usd\n";
    for (const auto& l : r.lines)
      out += fmt::format("{},{},{},{},{},{:.9f},{:.4f},{:.4f},{:.4f}\n", r.month, l.account, l.endpointId,
                         l.serviceName, l.endpointZoneHours, l.gigabytes, l.hourlyCost, l.dataCost,
                         l.hourlyCost + l.dataCost);
    return out;
  }
  out = fmt::format("Interface endpoint usage, {}\n", r.month);
  out += fmt::format("{:<14} {:<24} {:>10} {:>14} {:>10} {:>10} {:>10}\n", "ACCOUNT", "VPC ENDPOINT", "AZ-HOURS",
                     "GB PROCESSED", "HOURS $", "DATA $", "TOTAL $");
  for (const auto& l : r.lines)
    out += fmt::format("{:<14} {:<24} {:>10} {:>14.6f} {:>10.4f} {:>10.4f} {:>10.4f}\n", l.account, l.endpointId,
                       l.endpointZoneHours, l.gigabytes, l.hourlyCost, l.dataCost, l.hourlyCost + l.dataCost);
  for (const auto& [a, t] : r.totals)
    out += fmt::format("{:<14} {:<24} {:>10} {:>14.6f} {:>10.4f} {:>10.4f} {:>10.4f}\n", a, "(account total)",
                       t.endpointZoneHours, t.gigabytes, t.hourlyCost, t.dataCost, t.hourlyCost + t.dataCost);
  if (r.lines.empty()) out += "(no interface endpoint usage recorded in this month)\n";
  return out;
}

UsageLedger::UsageLedger(const Clock& clock, std::string path, std::chrono::seconds checkpointEvery)
    : clock_(clock), path_(std::move(path)), flushedThrough_(hourOf(clock.now())), checkpointEvery_(checkpointEvery) {}

namespace {

using RecordMap = std::map<std::pair<int64_t, std::string>, UsageRecord>;

// Lines of one file, the last of an endpoint and hour winning.
RecordMap readLines(const std::string& path) {
  RecordMap byKey;
  std::ifstream in(path);
  std::string line;
  while (in && std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("h") || !j["h"].is_number_integer()) continue;
    UsageRecord r;
    try {
      r.hour = j["h"].get<int64_t>();
      r.endpointId = j.value("e", "");
      r.account = j.value("a", "");
      r.serviceName = j.value("s", "");
      r.zones = j.value("z", 0);
      r.bytes = j.value("b", uint64_t{0});
    } catch (const nlohmann::json::exception&) {
      continue;  // a line cut short by a crash, or not ours
    }
    if (r.endpointId.empty()) continue;
    byKey[{r.hour, r.endpointId}] = r;
  }
  return byKey;
}

// The marks line of a checkpoint ({"marks": {counter: value}}); none: empty.
std::map<std::string, uint64_t> readMarks(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  while (in && std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("marks") || !j["marks"].is_object()) continue;
    try {
      return j["marks"].get<std::map<std::string, uint64_t>>();
    } catch (const nlohmann::json::exception&) {
      return {};
    }
  }
  return {};
}

// The ledger and its checkpoint: within an hour bytes and zones only grow, so the
// larger of the two figures is the later one.
RecordMap readMerged(const std::string& path) {
  RecordMap out = readLines(path);
  for (auto& [k, c] : readLines(UsageLedger::checkpointPath(path))) {
    auto [it, made] = out.try_emplace(k, c);
    if (made) continue;
    UsageRecord& r = it->second;
    r.bytes = std::max(r.bytes, c.bytes);
    r.zones = std::max(r.zones, c.zones);
    if (r.account.empty()) r.account = c.account;
    if (r.serviceName.empty()) r.serviceName = c.serviceName;
  }
  return out;
}

}  // namespace

std::vector<UsageRecord> UsageLedger::readFile(const std::string& path) {
  std::vector<UsageRecord> out;
  for (auto& [k, r] : readMerged(path)) out.push_back(std::move(r));
  return out;
}

Status UsageLedger::load() {
  std::lock_guard lock(mu_);
  flushedThrough_ = hourOf(clock_.now());
  if (path_.empty()) return Status::Ok();
  const RecordMap onFile = readLines(path_);
  marks_ = readMarks(checkpointPath(path_));
  std::vector<UsageRecord> recovered;  // closed hours known only from a checkpoint (a SIGKILL)
  for (auto& [k, r] : readMerged(path_)) {
    // The hour under way continues from what a clean stop or a checkpoint kept of it.
    if (r.hour >= flushedThrough_) {
      records_[k] = r;
      continue;
    }
    auto it = onFile.find(k);
    if (it == onFile.end() || it->second.bytes != r.bytes || it->second.zones != r.zones) recovered.push_back(r);
  }
  file_.open(path_, std::ios::app);
  if (!file_) return Status("InternalError", "cannot append to " + path_);
  for (const auto& r : recovered) file_ << toJson(r).dump() << '\n';
  file_.flush();
  if (!recovered.empty()) LP_LOG_INFO("usage: {} endpoint-hours recovered from {}", recovered.size(), checkpointPath(path_));
  dirty_ = true;
  checkpointLocked();  // the old hour's checkpoint is in the ledger now
  return Status::Ok();
}

UsageRecord& UsageLedger::at(int64_t hour, const std::string& endpointId) {
  UsageRecord& r = records_[{hour, endpointId}];
  r.hour = hour;
  r.endpointId = endpointId;
  return r;
}

void UsageLedger::observe(const std::vector<AvailableEndpoint>& available) {
  std::lock_guard lock(mu_);
  const int64_t hour = hourOf(clock_.now());
  for (const auto& e : available) {
    UsageRecord& r = at(hour, e.endpointId);
    r.account = e.account;
    r.serviceName = e.serviceName;
    if (e.zones > r.zones || r.account != e.account) dirty_ = true;
    r.zones = std::max(r.zones, e.zones);  // a started hour in each zone it had
  }
}

void UsageLedger::addBytes(const std::string& endpointId, const std::string& account, const std::string& serviceName,
                           uint64_t bytes) {
  if (bytes == 0) return;
  std::lock_guard lock(mu_);
  UsageRecord& r = at(hourOf(clock_.now()), endpointId);
  if (r.account.empty()) r.account = account;
  if (r.serviceName.empty()) r.serviceName = serviceName;
  r.bytes += bytes;
  dirty_ = true;
}

void UsageLedger::flush(bool openHour) {
  std::lock_guard lock(mu_);
  const int64_t now = hourOf(clock_.now());
  if (now > flushedThrough_ || openHour) {
    const int64_t through = openHour ? now + 1 : now;
    if (file_.is_open()) {
      for (auto it = records_.lower_bound({flushedThrough_, ""}); it != records_.end() && it->first.first < through;
           ++it)
        file_ << toJson(it->second).dump() << '\n';
      file_.flush();
    }
    // Closed hours are on file; keep only the hour under way in memory.
    if (file_.is_open()) records_.erase(records_.begin(), records_.lower_bound({now, ""}));
    if (now > flushedThrough_) dirty_ = true;  // the checkpoint must drop the hours just closed
    flushedThrough_ = now;
    // At once: the marks must be those of the bytes just appended.
    checkpointLocked();
    return;
  }
  if (openHour || clock_.now() - lastCheckpoint_ >= checkpointEvery_) checkpointLocked();
}

void UsageLedger::setMarks(std::map<std::string, uint64_t> marks) {
  std::lock_guard lock(mu_);
  if (marks == marks_) return;
  marks_ = std::move(marks);
  dirty_ = true;
}

std::map<std::string, uint64_t> UsageLedger::marks() const {
  std::lock_guard lock(mu_);
  return marks_;
}

void UsageLedger::checkpointLocked() {
  if (!file_.is_open() || !dirty_) return;
  const std::string cp = checkpointPath(path_), tmp = cp + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (auto it = records_.lower_bound({flushedThrough_, ""}); it != records_.end(); ++it)
      out << toJson(it->second).dump() << '\n';
    if (!marks_.empty()) out << nlohmann::json{{"marks", marks_}}.dump() << '\n';
    if (!out) {
      LP_LOG_WARN("usage: cannot write {}", tmp);
      return;
    }
  }
  // rename() replaces the checkpoint whole: a process killed at any point leaves the
  // old one or the new one (a crash of the machine may need an fsync; not done).
  std::error_code ec;
  std::filesystem::rename(tmp, cp, ec);
  if (ec) {
    LP_LOG_WARN("usage: cannot replace {}: {}", cp, ec.message());
    return;
  }
  lastCheckpoint_ = clock_.now();
  dirty_ = false;
}

std::vector<UsageRecord> UsageLedger::records() const {
  std::lock_guard lock(mu_);
  std::vector<UsageRecord> out;
  for (const auto& [k, r] : records_) out.push_back(r);
  return out;
}

}  // namespace lp::metrics
