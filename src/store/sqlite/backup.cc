// linkplane backup: a consistent copy of the state through SQLite's online backup,
// from its own read-only connection, so a running daemon keeps writing meanwhile.
#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "store/state_admin.h"

namespace lp::store {

namespace {

Status syncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Status("InternalError", fmt::format("backup: open {}: {}", path, strerror(errno)));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status("InternalError", fmt::format("backup: fsync {}: {}", path, strerror(errno)));
  return Status::Ok();
}

// Closes both connections however the copy ends.
struct Connections {
  sqlite3* src = nullptr;
  sqlite3* dst = nullptr;
  ~Connections() {
    sqlite3_close(src);
    sqlite3_close(dst);
  }
};

int64_t queryInt(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

}  // namespace

Result<BackupInfo> backupSqliteStore(const std::string& dir, const std::string& file) {
  std::string source = dir + "/linkplane.db";
  if (!std::filesystem::exists(source)) return Status("NotFound", fmt::format("backup: no state at {}", source));
  std::string tmp = fmt::format("{}.tmp-{}", file, getpid());
  std::filesystem::remove(tmp);
  Connections c;
  if (sqlite3_open_v2(source.c_str(), &c.src, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    return Status("InternalError", fmt::format("backup: open {}: {}", source, sqlite3_errmsg(c.src)));
  sqlite3_busy_timeout(c.src, 5000);
  if (sqlite3_open_v2(tmp.c_str(), &c.dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
    return Status("InternalError", fmt::format("backup: create {}: {}", tmp, sqlite3_errmsg(c.dst)));
  // All pages in one step: one read transaction on the source, so the copy is one
  // committed revision however many writes the daemon makes meanwhile.
  sqlite3_backup* b = sqlite3_backup_init(c.dst, "main", c.src, "main");
  if (!b) return Status("InternalError", fmt::format("backup: {}", sqlite3_errmsg(c.dst)));
  int rc = SQLITE_OK;
  for (int attempt = 0; attempt < 50; ++attempt) {
    rc = sqlite3_backup_step(b, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    sqlite3_sleep(100);
  }
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) {
    std::filesystem::remove(tmp);
    return Status("InternalError", fmt::format("backup: copying {}: {}", source, sqlite3_errstr(rc)));
  }
  BackupInfo info;
  info.schemaVersion = static_cast<int>(queryInt(c.dst, "SELECT version FROM schema_version"));
  info.revision = queryInt(c.dst, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'revision'");
  info.objects = queryInt(c.dst, "SELECT count(*) FROM objects");
  // The copy is a single file: no WAL beside it to lose when it is moved.
  char* err = nullptr;
  if (sqlite3_exec(c.dst, "PRAGMA journal_mode=DELETE;", nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown";
    sqlite3_free(err);
    return Status("InternalError", "backup: " + msg);
  }
  sqlite3_close(c.dst);
  c.dst = nullptr;
  LP_RETURN_IF_ERROR(syncPath(tmp, O_RDONLY));
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) return Status("InternalError", fmt::format("backup: rename {} to {}: {}", tmp, file, ec.message()));
  std::string parent = std::filesystem::absolute(file).parent_path().string();
  LP_RETURN_IF_ERROR(syncPath(parent, O_RDONLY | O_DIRECTORY));
  info.bytes = static_cast<int64_t>(std::filesystem::file_size(file));
  return info;
}

}  // namespace lp::store
