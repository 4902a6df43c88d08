// The state and helpers behind SegWalFileSystem (env/fs/segwal_fs.h):
// finding a path's logical file, the logical files of a directory, and
// the operations that span the base FileSystem and the logs (a directory
// created anew, a copy out of a log). Internal to env/fs/.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "env/engine/log.h"
#include "env/fs/open_logs.h"
#include "env/fs/segwal_fs.h"
#include "env/fs/wal_router.h"

namespace segwal {

struct SegWalFileSystem::Impl {
  Impl(SegWalFileSystem* owner, Storage* log_storage);

  SegWalFileSystem* const fs;
  OpenLogs logs;

  // Options may change until the FileSystem is first used: the router is
  // made from them at each call.
  WalRouter router() const { return WalRouter(fs->options_.log_dir); }
  bool shared_log() const { return !fs->options_.log_dir.empty(); }
  bool Locate(const std::string& fname, WalLocation* where) const {
    return router().Locate(fname, where);
  }

  // Finds the logical file at `where`; false (and *log may be null) if
  // there is none.
  IOStatus FindLogical(const WalLocation& where, std::shared_ptr<Log>* log,
                       FileInfo* info, bool* found);

  // A logical WAL by path: *found is false for a path that is not a WAL
  // name or a WAL its log does not hold (e.g. a plain file).
  struct FoundWal {
    WalLocation where;
    std::shared_ptr<Log> log;
    FileInfo info;
  };
  IOStatus FindWal(const std::string& path, FoundWal* wal, bool* found);

  // As open(2) or rename(2) would: a logical WAL goes only into a
  // directory that exists. (So a directory that does not exist holds no
  // logical files; see CreateDirAnew.)
  IOStatus CheckParentDir(const std::string& path, const std::string& what,
                          rocksdb::IODebugContext* dbg);

  // The logical files whose paths lie at or beneath directory `dir`, with
  // the directory of the log that would hold them and that log (null if
  // it does not exist).
  struct FilesUnder {
    struct File {
      std::string name;  // in the log
      std::string path;
      uint64_t id;
    };
    std::string log_dir;
    std::shared_ptr<Log> log;
    std::vector<File> files;
  };
  IOStatus LogicalFilesUnder(const std::string& dir, FilesUnder* out);

  // The logical files listed in directory `dir`, as base names with their
  // sizes.
  IOStatus ListLogical(const std::string& dir,
                       std::vector<std::pair<std::string, uint64_t>>* out);

  // The base FileSystem's CreateDir (CreateDirIfMissing if `if_missing`),
  // which also deletes logical files left beneath a directory removed
  // outside segwal (see the definition).
  IOStatus CreateDirAnew(const std::string& dirname,
                         const rocksdb::IOOptions& options,
                         rocksdb::IODebugContext* dbg, bool if_missing);

  // Copies logical file `name` of `log` to `target` through this
  // FileSystem (so the target is logical or plain as its name says),
  // synced.
  IOStatus CopyOut(const std::shared_ptr<Log>& log, const std::string& name,
                   const std::string& source_path, const std::string& target,
                   const rocksdb::IOOptions& io);
};

}  // namespace segwal
