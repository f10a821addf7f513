#include "store/sqlite/schema.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <iterator>

#include "common/log.h"
#include "store/state_admin.h"

#ifndef LP_VERSION
#define LP_VERSION "0.0.0"
#endif

namespace lp::store {

namespace {

// Index i moves the schema from version i to i+1. Append only: a released step is
// never edited, since state directories in the field went through it. A step that
// reshapes stored documents goes here too (SQL over the objects table, json_* functions).
const char* const kMigrations[] = {
    // 1: the objects and the global revision.
    "CREATE TABLE objects (kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, revision INTEGER NOT NULL,"
    " PRIMARY KEY (kind, id)) WITHOUT ROWID;"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "INSERT INTO meta VALUES ('revision', '0');",
    // 2: which release brought the state to each version, and when (linkplane status
    // shows the last one; an operator tracing an upgrade reads them all).
    "CREATE TABLE migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL,"
    " linkplane_version TEXT NOT NULL);",
    // 3: an instance's root volume becomes its own object (kind "volume", so it can
    // be tagged and outlive its instance); until now it was fields of the instance.
    // Instances not yet terminated get theirs, as RunInstances makes it (gp2, 8 GiB
    // unless the instance recorded another size, deleted on termination).
    "INSERT OR IGNORE INTO objects (kind, id, body, revision)"
    " SELECT 'volume', json_extract(body, '$.rootVolumeId'), json_object("
    "  'id', json_extract(body, '$.rootVolumeId'), 'ownerId', json_extract(body, '$.ownerId'),"
    "  'zoneId', json_extract(body, '$.zoneId'),"
    "  'sizeGiB', coalesce(json_extract(body, '$.rootVolumeSizeGiB'), 8), 'volumeType', 'gp2',"
    "  'iops', max(100, min(16000, 3 * coalesce(json_extract(body, '$.rootVolumeSizeGiB'), 8))),"
    "  'throughput', 0, 'encrypted', json('false'),"
    "  'snapshotId', 'snap-' || substr(json_extract(body, '$.imageId'), 5),"
    "  'createTime', json_extract(body, '$.launchTime'), 'state', 'in-use', 'instanceId', id,"
    "  'device', '/dev/xvda', 'attachTime', json_extract(body, '$.launchTime'),"
    "  'deleteOnTermination', json('true'), 'tags', json(coalesce(json_extract(body, '$.volumeTags'), '[]'))),"
    " revision FROM objects WHERE kind = 'instance' AND coalesce(json_extract(body, '$.rootVolumeId'), '') <> ''"
    " AND coalesce(json_extract(body, '$.state'), '') <> 'terminated';",
};
constexpr int kLatest = static_cast<int>(std::size(kMigrations));

}  // namespace

int stateSchemaVersion() { return kLatest; }

namespace sqlite {

namespace {

Status exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return Status("InternalError", "store: " + msg);
  }
  return Status::Ok();
}

// The recorded version; 0 for a database that has none yet (new, or empty).
Result<int> readVersion(sqlite3* db, bool& haveRow) {
  haveRow = false;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = 'schema_version'", -1, &s, nullptr) !=
      SQLITE_OK)
    return Status("InternalError", fmt::format("store: {}", sqlite3_errmsg(db)));
  bool table = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
  sqlite3_finalize(s);
  if (!table) return 0;
  if (sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &s, nullptr) != SQLITE_OK)
    return Status("InternalError", fmt::format("store: {}", sqlite3_errmsg(db)));
  int version = 0;
  if (sqlite3_step(s) == SQLITE_ROW) {
    haveRow = true;
    version = sqlite3_column_int(s, 0);
  }
  sqlite3_finalize(s);
  return version;
}

}  // namespace

Status migrateSchema(sqlite3* db, const std::string& path) {
  bool haveRow = false;
  LP_ASSIGN_OR_RETURN(int version, readVersion(db, haveRow));
  if (version > kLatest) {
    return Status("StateTooNew",
                  fmt::format("{} holds state of schema version {}, written by a newer linkplane; this linkplane ({}) "
                              "reads versions up to {}. Run the newer release, or restore a backup made by this one.",
                              path, version, LP_VERSION, kLatest));
  }
  if (version == kLatest) return Status::Ok();

  // An existing state is copied first: if the migration or the machine fails, the
  // transaction rolls back, and the copy is there for whoever looks.
  std::string copy;
  if (version > 0) {
    copy = path + ".pre-migration";
    std::error_code ec;
    std::filesystem::remove(copy, ec);
    char* sql = sqlite3_mprintf("VACUUM INTO %Q;", copy.c_str());
    Status vacuum = exec(db, sql);
    sqlite3_free(sql);
    LP_RETURN_IF_ERROR(vacuum);
    LP_LOG_INFO("store: migrating {} from schema version {} to {} (copy kept at {} until it commits)", path, version,
                kLatest, copy);
  }
  auto failed = [&](const Status& st) {
    (void)exec(db, "ROLLBACK;");
    std::string where = copy.empty() ? "" : fmt::format("; the state is unchanged, and a copy is at {}", copy);
    return Status("InternalError", fmt::format("store: migrating {} from schema version {} to {} failed: {}{}", path,
                                               version, kLatest, st.message(), where));
  };
  LP_RETURN_IF_ERROR(exec(db, "BEGIN IMMEDIATE;"));
  Status st = exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);");
  for (int v = version; st.ok() && v < kLatest; ++v) st = exec(db, kMigrations[v]);
  if (st.ok()) {
    st = exec(db, haveRow ? fmt::format("UPDATE schema_version SET version = {};", kLatest)
                          : fmt::format("INSERT INTO schema_version VALUES ({});", kLatest));
  }
  // The migrations table exists from version 2 on: record every version this run reached.
  for (int v = std::max(version + 1, 2); st.ok() && v <= kLatest; ++v) {
    st = exec(db, fmt::format("INSERT OR REPLACE INTO migrations VALUES ({}, strftime('%Y-%m-%dT%H:%M:%SZ','now'), "
                              "'{}');",
                              v, LP_VERSION));
  }
  if (!st.ok()) return failed(st);
  if (Status c = exec(db, "COMMIT;"); !c.ok()) return failed(c);
  if (!copy.empty()) {
    std::error_code ec;
    std::filesystem::remove(copy, ec);
    LP_LOG_INFO("store: {} is at schema version {}", path, kLatest);
  }
  return Status::Ok();
}

}  // namespace sqlite
}  // namespace lp::store
