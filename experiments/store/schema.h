#pragma once
// The run log's schema and its migrations. The schema version lives in SQLite's `PRAGMA user_version`, so
// any SQLite tool can tell which incept build a file needs.
#include "experiments/store/sqlite_db.h"

namespace incept::store_schema {

// The newest schema this build knows (the version of its last migration).
int latest_version();

// For read-write connections: refuses files this build cannot interpret (a newer schema, another
// application's database) without modifying them, switches to WAL (or, with `wal` false, to SQLite's rollback
// journal), then applies every pending migration in one transaction, so concurrent first opens of a fresh file
// cannot both create the tables.
void upgrade(sqlite::Connection& db, bool wal = true);

// For read-only connections: refuses anything but a database at exactly the latest schema.
void check_readable(sqlite::Connection& db);

}  // namespace incept::store_schema
