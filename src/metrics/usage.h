// What interface endpoints cost, as AWS bills them: endpoint-zone hours (one per
// endpoint network interface for every started hour in which the endpoint was
// `available`) and gigabytes processed, priced per account and month.
//
// UsageLedger keeps one record per endpoint and hour (zones seen, bytes), fed by
// the daemon's sampler; closed hours are appended to a JSON-lines file in the
// state directory and read back at start, so the ledger is durable. Thread-safe
// (one mutex). usageReport() is pure: the `linkplane usage` command runs it over
// the file, with prices from the config.
#pragma once

#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace lp::metrics {

struct UsageRecord {
  int64_t hour = 0;  // hours since the epoch (UTC)
  std::string endpointId;
  std::string account;  // the endpoint's owner: who AWS bills
  std::string serviceName;
  int zones = 0;  // endpoint network interfaces while available in that hour (0: not available)
  uint64_t bytes = 0;
  bool operator==(const UsageRecord&) const = default;
};

struct AvailableEndpoint {
  std::string endpointId;
  std::string account;
  std::string serviceName;
  int zones = 0;
};

// Prices in USD. Defaults: AWS's published us-east-1 PrivateLink interface
// endpoint rates (aws.amazon.com/privatelink/pricing, as of 2026-12): $0.01 per
// endpoint per AZ hour; data processed $0.01/GB for the first 1 PB a month, $0.006/GB
// for the next 4 PB, $0.004/GB beyond 5 PB (per account and region).
struct Prices {
  double perEndpointZoneHour = 0.01;
  struct Tier {
    double upToGb;  // cumulative upper bound of the tier, in GB per month
    double perGb;
  };
  std::vector<Tier> dataTiers = {
      {1'000'000, 0.01}, {5'000'000, 0.006}, {std::numeric_limits<double>::infinity(), 0.004}};
};

struct UsageLine {
  std::string account;
  std::string endpointId;
  std::string serviceName;
  int64_t endpointZoneHours = 0;
  double gigabytes = 0;  // 10^9 bytes, as AWS bills
  double hourlyCost = 0;
  double dataCost = 0;
};

struct UsageReport {
  std::string month;  // YYYY-MM
  std::vector<UsageLine> lines;  // by account, then endpoint
  // Per account: totals (the data tiers apply to an account's whole month).
  std::map<std::string, UsageLine> totals;
};

// month "YYYY-MM" -> [first hour, first hour of the next month); error if malformed.
Result<std::pair<int64_t, int64_t>> monthHours(const std::string& month);
std::string monthOf(WallTime t);

UsageReport usageReport(const std::vector<UsageRecord>& records, const Prices& prices, const std::string& month,
                        const std::string& account = "");
std::string formatUsage(const UsageReport& r, const std::string& format);  // table | csv | json

// The ledger: closed hours appended to `path` (usage.jsonl). The hour under way is
// checkpointed to `path`.open (replaced atomically by rename, at most every
// checkpointEvery and only when it changed), so a daemon killed with SIGKILL loses
// at most that interval: at the next start, and in readFile(), the checkpoint is
// merged in (bytes and zones of an hour only grow, so the larger figure wins).
class UsageLedger {
 public:
  UsageLedger(const Clock& clock, std::string path,
              std::chrono::seconds checkpointEvery = std::chrono::seconds(60));  // path "" = memory only
  Status load();
  // The endpoints available now (each with its interface count).
  void observe(const std::vector<AvailableEndpoint>& available);
  // Bytes an endpoint processed since the last call.
  void addBytes(const std::string& endpointId, const std::string& account, const std::string& serviceName,
                uint64_t bytes);
  // Appends closed hours to the file (all hours with openHour: a clean stop), and
  // checkpoints the hour under way when it is due.
  void flush(bool openHour = false);
  // Marks: for counters that outlive the daemon (kernel state a restart adopts),
  // how far they had been added when the bytes were, by counter (an interface).
  // Kept in the checkpoint with the bytes they match (one file, replaced whole),
  // so a run killed with SIGKILL and the next one agree on what was counted:
  // after load(), marks() are those of the bytes the ledger holds. setMarks
  // replaces them all; set them after each round of addBytes.
  void setMarks(std::map<std::string, uint64_t> marks);
  std::map<std::string, uint64_t> marks() const;
  std::vector<UsageRecord> records() const;

  // Reads a ledger file (last line of an endpoint and hour wins), merged with its
  // checkpoint of the hour that was under way.
  static std::vector<UsageRecord> readFile(const std::string& path);
  static std::string checkpointPath(const std::string& path) { return path + ".open"; }

 private:
  UsageRecord& at(int64_t hour, const std::string& endpointId);
  void checkpointLocked();
  const Clock& clock_;
  std::string path_;
  mutable std::mutex mu_;
  std::map<std::pair<int64_t, std::string>, UsageRecord> records_;  // (hour, endpoint)
  int64_t flushedThrough_ = 0;                                       // hours < this are on file
  std::ofstream file_;
  std::chrono::seconds checkpointEvery_;
  WallTime lastCheckpoint_{};
  bool dirty_ = false;  // the hour under way changed since the last checkpoint
  std::map<std::string, uint64_t> marks_;
};

}  // namespace lp::metrics
