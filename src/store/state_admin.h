// Administration of the SQLite state beside the Store interface: the schema version
// this build writes and online backups. openSqliteStore (store.h) refuses a state of
// a newer schema with code "StateTooNew" and migrates an older one in one
// transaction (store/sqlite/schema.h). Free functions; any thread.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace lp::store {

// The state schema version this build writes.
int stateSchemaVersion();

// What a backup holds.
struct BackupInfo {
  int schemaVersion = 0;
  int64_t revision = 0;
  int64_t objects = 0;
  int64_t bytes = 0;
};

// Writes a consistent copy of dir/linkplane.db to `file` (SQLite's online backup, one
// read transaction), also while a daemon is writing it; the copy is fsync'd and then
// renamed into place, so `file` is either the whole copy or untouched. A restored copy
// is that file put back as STATE_DIR/linkplane.db.
Result<BackupInfo> backupSqliteStore(const std::string& dir, const std::string& file);

}  // namespace lp::store
