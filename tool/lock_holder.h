// Who holds a log or a DB: segwal's log LOCK (flock) and RocksDB's DB LOCK
// (fcntl), named by process id and command line from /proc.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rocksdb/io_status.h"

namespace segwal {
namespace tool {

struct LockHolder {
  bool held = false;
  int64_t pid = -1;     // -1: held, but /proc/locks does not say by whom
  std::string cmdline;  // of pid, spaces between arguments; may be empty
  // "held by pid N (cmdline)".
  std::string Describe() const;
};

// Who holds a lock on `path`, as /proc/locks lists it. Passive: takes no
// lock, so a process starting at the same moment never finds it taken
// (for commands that only read).
LockHolder FindLockHolder(const std::string& path);

// Whether another process holds the log in `log_dir` (flock probe of its
// LOCK, released at once; a missing LOCK is not held). For commands about
// to change the log, which take the lock anyway.
rocksdb::IOStatus ProbeLogLock(const std::string& log_dir, LockHolder* holder);

// Whether a process has the DB in `db_dir` open (RocksDB's fcntl lock on
// its LOCK file; F_GETLK takes nothing).
rocksdb::IOStatus ProbeDbLock(const std::string& db_dir, LockHolder* holder);

// The command line of `pid` (NULs as spaces, at most `max` bytes).
std::string ProcessCmdline(int64_t pid, size_t max = 200);

// The log directories process `pid` has the LOCK of open (it is their
// writer, or the reader that keeps the lock): /proc/<pid>/fd.
rocksdb::IOStatus LogDirsOfProcess(int64_t pid, std::vector<std::string>* dirs);

}  // namespace tool
}  // namespace segwal
