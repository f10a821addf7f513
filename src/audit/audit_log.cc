#include "audit/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace lp::audit {

namespace {

constexpr const char* kCurrent = "audit.jsonl";

Status ioError(const std::string& what, const std::string& path) {
  return Status("InternalError", what + " " + path + ": " + std::strerror(errno));
}

void syncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

// An open file; closed when the last holder lets go (a syncer may still hold the
// file that rotation just replaced).
struct AuditLog::File {
  int fd = -1;
  ~File() {
    if (fd >= 0) ::close(fd);
  }
};

AuditLog::AuditLog(const AuditOptions& options, const Clock& clock) : options_(options), clock_(clock) {}

AuditLog::~AuditLog() {
  std::lock_guard lock(mu_);
  if (file_) ::fdatasync(file_->fd);
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(const AuditOptions& options, const Clock& clock) {
  if (options.maxFileBytes < 4096 || options.maxFiles < 1)
    return Status("InvalidConfig", "audit files need at least 4096 bytes and max_files of 1 or more");
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return Status("InternalError", "cannot create audit directory " + options.dir + ": " + ec.message());
  ::chmod(options.dir.c_str(), 0700);  // who did what from where is for the host's admin
  std::unique_ptr<AuditLog> log(new AuditLog(options, clock));
  std::lock_guard lock(log->mu_);
  LP_RETURN_IF_ERROR(log->openCurrentLocked());
  return log;
}

Status AuditLog::openCurrentLocked() {
  std::string path = options_.dir + "/" + kCurrent;
  auto f = std::make_shared<File>();
  f->fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (f->fd < 0) return ioError("cannot open", path);
  struct stat st {};
  if (::fstat(f->fd, &st) != 0) return ioError("cannot stat", path);
  size_ = st.st_size;
  // A crash mid-write leaves a torn last line: end it, so the next record is whole.
  char last = '\n';
  if (size_ > 0 && ::pread(f->fd, &last, 1, size_ - 1) == 1 && last != '\n' && ::write(f->fd, "\n", 1) == 1) ++size_;
  file_ = std::move(f);
  return Status();
}

Status AuditLog::rotateLocked() {
  ::fdatasync(file_->fd);  // what was written before rotation stays durable
  std::string base = options_.dir + "/" + kCurrent;
  std::error_code ec;
  if (options_.maxFiles == 1) {
    std::filesystem::remove(base, ec);
  } else {
    std::filesystem::remove(base + "." + std::to_string(options_.maxFiles - 1), ec);
    for (int k = options_.maxFiles - 2; k >= 1; --k)
      std::filesystem::rename(base + "." + std::to_string(k), base + "." + std::to_string(k + 1), ec);
    if (::rename(base.c_str(), (base + ".1").c_str()) != 0) return ioError("cannot rotate", base);
  }
  LP_RETURN_IF_ERROR(openCurrentLocked());
  syncDir(options_.dir);
  return Status();
}

Status AuditLog::append(AuditRecord record, bool durable) {
  std::string line = toJsonLine(record) + "\n";
  uint64_t seq = 0;
  {
    std::lock_guard lock(mu_);
    if (size_ > 0 && size_ + static_cast<int64_t>(line.size()) > options_.maxFileBytes)
      LP_RETURN_IF_ERROR(rotateLocked());
    size_t off = 0;
    while (off < line.size()) {
      ssize_t n = ::write(file_->fd, line.data() + off, line.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return ioError("cannot write", options_.dir + "/" + kCurrent);
      off += static_cast<size_t>(n);
    }
    size_ += static_cast<int64_t>(line.size());
    seq = ++written_;
  }
  if (durable) return syncUpTo(seq);
  // Refused and failed calls changed nothing: synced by the next record written more
  // than a second after the last sync. Never waits for another caller's fdatasync
  // (that one, or the next, covers this record): refusals are written from the HTTP
  // server's I/O threads (ApiService::answerAtOnce), which must not block on a write's sync.
  bool due = false;
  {
    std::unique_lock lock(syncMu_, std::try_to_lock);
    due = lock && clock_.steadyNow() - lastSync_ > std::chrono::seconds(1);
  }
  return due ? syncUpTo(seq) : Status();
}

Status AuditLog::syncUpTo(uint64_t seq) {
  std::lock_guard sync(syncMu_);
  if (synced_ >= seq) return Status();  // another caller's fdatasync covered this record
  std::shared_ptr<File> f;
  uint64_t target = 0;
  {
    std::lock_guard lock(mu_);
    f = file_;
    target = written_;
  }
  if (::fdatasync(f->fd) != 0) return ioError("cannot sync", options_.dir + "/" + kCurrent);
  synced_ = target;
  lastSync_ = clock_.steadyNow();
  return Status();
}

Status AuditLog::appendRefused(AuditRecord record) {
  return appendRefused([&record] { return std::move(record); });
}

Status AuditLog::appendRefused(const std::function<AuditRecord()>& make) {
  int64_t suppressedBefore = 0;
  {
    std::lock_guard lock(mu_);
    int64_t second = std::chrono::duration_cast<std::chrono::seconds>(clock_.steadyNow().time_since_epoch()).count();
    if (second != refusedWindow_) {
      refusedWindow_ = second;
      refusedInWindow_ = 0;
    }
    if (refusedInWindow_ >= options_.refusedPerSecond) {
      ++suppressed_;
      ++suppressedTotal_;
      return Status();
    }
    ++refusedInWindow_;
    suppressedBefore = suppressed_;
    suppressed_ = 0;
  }
  AuditRecord record = make();
  record.suppressedBefore = suppressedBefore;
  return append(std::move(record), false);
}

int64_t AuditLog::suppressed() const {
  std::lock_guard lock(mu_);
  return suppressedTotal_;
}

std::vector<std::string> auditFiles(const std::string& dir) {
  std::vector<std::string> files;
  std::string base = dir + "/" + kCurrent;
  std::error_code ec;
  for (int k = 1; std::filesystem::exists(base + "." + std::to_string(k), ec); ++k)
    files.insert(files.begin(), base + "." + std::to_string(k));
  if (std::filesystem::exists(base, ec)) files.push_back(base);
  return files;
}

Status scanAuditDir(const std::string& dir, const std::function<void(AuditRecord&&)>& fn) {
  for (auto& path : auditFiles(dir)) {
    std::ifstream in(path);
    if (!in) continue;  // rotated away between listing and opening
    std::string line;
    while (std::getline(in, line)) {
      if (auto r = parseJsonLine(line)) fn(std::move(*r));
    }
  }
  return Status();
}

}  // namespace lp::audit
