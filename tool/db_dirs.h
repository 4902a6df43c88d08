// The directories of a DB as export and import see them: the DB, its WAL
// directory, the log holding its WALs (a per-directory log or a shared
// log_dir), and the checks both make before changing anything: the DB is
// closed (RocksDB's LOCK) and no process holds the log.
#pragma once

#include <string>

#include "env/fs/wal_router.h"

namespace segwal {
namespace tool {

struct DbDirs {
  std::string db;              // normalized
  std::string wal_dir;         // normalized; the DB directory unless --wal_dir
  std::string log_dir;         // the log holding the DB's WALs
  std::string shared_log_dir;  // --log_dir, normalized, or empty
};

// From --db, --wal_dir and --log_dir. Returns an exit code other than
// kExitHealthy (having reported why) if the DB is open in a process, the
// log is held by one, or the flags are wrong; `command` names the
// subcommand in messages.
int ResolveDbDirs(const char* command, DbDirs* dirs);

}  // namespace tool
}  // namespace segwal
