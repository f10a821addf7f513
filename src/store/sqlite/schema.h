// The SQLite state's schema: numbered migrations and the upgrade of an older state
// directory at open. Internal to src/store/sqlite.
#pragma once

#include <sqlite3.h>

#include <string>

#include "common/status.h"

namespace lp::store::sqlite {

// Brings the database at `path` (open as `db`, WAL mode) to the latest schema version:
// every migration due runs in one transaction, after a copy of the database is written
// to `path + ".pre-migration"`, removed once the transaction commits (kept, and named in
// the error, if it does not). A state of a newer schema than this build's is refused
// with code "StateTooNew" and left untouched.
Status migrateSchema(sqlite3* db, const std::string& path);

}  // namespace lp::store::sqlite
