// SegWalFileSystem: a FileSystemWrapper that stores RocksDB's WAL files
// ("<digits>.log", also under "archive/") as logical files of a segmented log
// (env/engine/log.h) and passes every other file straight to the base FileSystem.
//
// Where the logs live: one shared log (options.log_dir set) or a log per
// WAL directory; env/fs/wal_router.h maps paths to logs and names. Logs
// open lazily, on the first call that needs one, and are shared
// process-wide (env/fs/log_registry.h): several FileSystem instances or DBs
// naming the same log directory use one Log. A log closes when the last
// WAL writer on it closes and no other file is open on it (a DB closing):
// then another process may open it (env/fs/open_logs.h).
//
// WAL files that are not in the log (written without segwal) keep working:
// reads, sizes, renames, deletes and listings fall through to the base.
//
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "options/segwal_options.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace segwal {

class Storage;  // env/storage/storage.h

class SegWalFileSystem : public rocksdb::FileSystemWrapper {
 public:
  static const char* kClassName() { return "segwal"; }
  const char* Name() const override { return kClassName(); }

  // Registers SegWalOptions with RocksDB's option machinery
  // (RegisterOptions(&options_, &SegWalOptionTypeInfo())), so
  // ConfigureFromString / GetOptionString work.
  explicit SegWalFileSystem(
      const std::shared_ptr<rocksdb::FileSystem>& base =
          rocksdb::FileSystem::Default(),
      const SegWalOptions& options = SegWalOptions());
  // The same, with the logs on `storage` instead of PosixStorage() (tests:
  // an in-memory, fault-injecting, crash-simulating Storage). `storage`
  // must outlive this FileSystem and every log opened through it. Logs are
  // shared process-wide by directory (env/fs/log_registry.h): give each
  // Storage its own log directories.
  SegWalFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base,
                   const SegWalOptions& options, Storage* storage);
  ~SegWalFileSystem() override;

  // Validates (ValidateSegWalOptions) then calls the wrapper's
  // PrepareOptions.
  rocksdb::Status PrepareOptions(const rocksdb::ConfigOptions& config) override;

 protected:
  // An unknown option is an InvalidArgument naming it and the segwal
  // options; a failed configuration leaves the options as they were.
  rocksdb::Status ConfigureOptions(
      const rocksdb::ConfigOptions& config,
      const std::unordered_map<std::string, std::string>& opts,
      std::unordered_map<std::string, std::string>* unused) override;

 public:

  const SegWalOptions& options() const { return options_; }

  // Files.
  rocksdb::IOStatus NewSequentialFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSSequentialFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomAccessFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewWritableFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& fname, const std::string& old_fname,
      const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSRandomRWFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewMemoryMappedFileBuffer(
      const std::string& fname,
      std::unique_ptr<rocksdb::MemoryMappedFileBuffer>* result) override;
  rocksdb::IOStatus NewDirectory(const std::string& name,
                                 const rocksdb::IOOptions& io_opts,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;

  // Namespace.
  rocksdb::IOStatus FileExists(const std::string& fname,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetChildren(const std::string& dir,
                                const rocksdb::IOOptions& options,
                                std::vector<std::string>* result,
                                rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetChildrenFileAttributes(
      const std::string& dir, const rocksdb::IOOptions& options,
      std::vector<rocksdb::FileAttributes>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  // Creating a directory where none was also deletes logical WALs left
  // listed beneath it (removed outside segwal; see Impl::CreateDirAnew).
  rocksdb::IOStatus CreateDir(const std::string& dirname,
                              const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDirIfMissing(const std::string& dirname,
                                       const rocksdb::IOOptions& options,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteDir(const std::string& dirname,
                              const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetFileSize(const std::string& fname,
                                const rocksdb::IOOptions& options,
                                uint64_t* file_size,
                                rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetFileModificationTime(
      const std::string& fname, const rocksdb::IOOptions& options,
      uint64_t* file_mtime, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src,
                               const std::string& target,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NumFileLinks(const std::string& fname,
                                 const rocksdb::IOOptions& options,
                                 uint64_t* count,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus AreFilesSame(const std::string& first,
                                 const std::string& second,
                                 const rocksdb::IOOptions& options, bool* res,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& fname, size_t size,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus IsDirectory(const std::string& path,
                                const rocksdb::IOOptions& options,
                                bool* is_dir,
                                rocksdb::IODebugContext* dbg) override;

 private:
  struct Impl;
  SegWalOptions options_;
  std::shared_ptr<Impl> impl_;
};

// An Env whose FileSystem is `fs` (a SegWalFileSystem, normally over the
// default POSIX one), built with rocksdb::NewCompositeEnv. The Env keeps
// `fs` alive.
std::unique_ptr<rocksdb::Env> NewSegWalEnv(
    const std::shared_ptr<SegWalFileSystem>& fs);

}  // namespace segwal
