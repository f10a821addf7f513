// AuditLog: the daemon's record of every mutating call and every refused request,
// as JSON lines in <state_dir>/audit/, rotated by size.
//
// Files: audit.jsonl (being written), audit.jsonl.1 (the one before) ...
// audit.jsonl.<max_files-1> (the oldest kept). A new record that would take the
// current file past max_file_bytes first rotates.
//
// Durability: append(record, durable=true) returns only after fdatasync, so a call
// whose response a client saw is on disk; concurrent callers share one fdatasync
// (group commit: the first to take the sync lock syncs everything written so far).
// Records of refused requests (durable=false) are written at once and synced by the
// next durable record, at most a second later by the next refused one, and at close;
// they are also rate limited (refusedPerSecond), so a flood of bad signatures cannot
// rotate the mutating calls out of the log: the next record kept says how many were
// left out (suppressedBefore).
//
// Owned by the daemon; append() is called from any API thread (thread-safe).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "audit/audit_record.h"
#include "common/status.h"
#include "common/time.h"

namespace lp::audit {

struct AuditOptions {
  std::string dir;                            // created if missing (mode 0700)
  int64_t maxFileBytes = 64LL * 1024 * 1024;  // [audit] max_file_mb
  int maxFiles = 10;                          // [audit] max_files: the current file plus rotated ones
  int refusedPerSecond = 50;                  // [audit] refused_per_second
};

class AuditLog {
 public:
  static Result<std::unique_ptr<AuditLog>> open(const AuditOptions& options, const Clock& clock);
  ~AuditLog();

  // A call that ran (mutating, successful or not): durable says whether to fdatasync
  // before returning.
  Status append(AuditRecord record, bool durable);
  // A refused request (authentication, throttling): rate limited, synced lazily.
  Status appendRefused(AuditRecord record);
  // The same, with the record made by make() only when it is kept: a flood of refused
  // requests costs a counter each beyond refused_per_second, not a record.
  Status appendRefused(const std::function<AuditRecord()>& make);
  int64_t suppressed() const;

 private:
  struct File;
  AuditLog(const AuditOptions& options, const Clock& clock);
  Status openCurrentLocked();
  Status rotateLocked();
  Status syncUpTo(uint64_t seq);

  const AuditOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;  // guards the fields below up to syncMu_
  std::shared_ptr<File> file_;
  int64_t size_ = 0;
  uint64_t written_ = 0;
  int64_t refusedWindow_ = -1;  // the second refusedInWindow_ counts in
  int refusedInWindow_ = 0;
  int64_t suppressed_ = 0;  // left out since the last refused record kept
  int64_t suppressedTotal_ = 0;
  std::mutex syncMu_;  // guards synced_, lastSync_
  uint64_t synced_ = 0;
  std::chrono::steady_clock::time_point lastSync_{};
};

// The files of an audit directory, oldest first.
std::vector<std::string> auditFiles(const std::string& dir);
// Every record in the directory, oldest first, to fn; lines that are not records
// (a torn last line after a crash) are skipped.
Status scanAuditDir(const std::string& dir, const std::function<void(AuditRecord&&)>& fn);

}  // namespace lp::audit
