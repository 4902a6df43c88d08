#include "tool/db_dirs.h"

#include <sys/stat.h>

#include "env/fs/wal_path.h"
#include "tool/command.h"
#include "tool/flags.h"
#include "tool/lock_holder.h"
#include "tool/output.h"

namespace segwal {
namespace tool {
namespace {

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

int ResolveDbDirs(const char* command, DbDirs* dirs) {
  if (FLAGS_segwal_db.empty()) {
    return Fail(command, kExitError, "--db=DB_DIR is required");
  }
  if (!FLAGS_segwal_log_dir.empty() && FLAGS_segwal_log_dir[0] != '/') {
    return Fail(command, kExitError,
                "--log_dir must be an absolute path, as the segwal option "
                "log_dir is");
  }
  dirs->db = NormalizePath(FLAGS_segwal_db);
  dirs->wal_dir = FLAGS_segwal_wal_dir.empty()
                      ? dirs->db
                      : NormalizePath(FLAGS_segwal_wal_dir);
  if (!IsDir(dirs->db)) {
    return Fail(command, kExitError, dirs->db + " is not a directory");
  }
  if (!IsDir(dirs->wal_dir)) {
    return Fail(command, kExitError, dirs->wal_dir + " is not a directory");
  }
  const WalRouter router(FLAGS_segwal_log_dir);
  dirs->shared_log_dir = router.shared_log_dir();
  dirs->log_dir = router.Directory(dirs->wal_dir).log_dir;

  LockHolder holder;
  rocksdb::IOStatus s = ProbeDbLock(dirs->db, &holder);
  if (!s.ok()) return Fail(command, kExitError, s.ToString());
  if (holder.held) {
    return Fail(command, kExitError,
                "the DB " + dirs->db + " is open (its LOCK is " +
                    holder.Describe() + "); close it first");
  }
  if (IsDir(dirs->log_dir)) {
    s = ProbeLogLock(dirs->log_dir, &holder);
    if (!s.ok()) return Fail(command, kExitError, s.ToString());
    if (holder.held) {
      return Fail(command, kExitError,
                  "the log " + dirs->log_dir + " is " + holder.Describe() +
                      "; a live process owns it: stop it first");
    }
  }
  return kExitHealthy;
}

}  // namespace tool
}  // namespace segwal
