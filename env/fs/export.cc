#include "env/fs/export.h"

#include "env/engine/log.h"
#include "env/fs/log_registry.h"
#include "env/fs/wal_files.h"
#include "env/storage/storage.h"
#include "env/fs/wal_path.h"
#include "env/fs/wal_router.h"
#include "rocksdb/file_system.h"

namespace segwal {
namespace {

using rocksdb::FileOptions;
using rocksdb::FileSystem;
using rocksdb::IOOptions;

IOStatus WritePlainCopy(Log* log, const FileInfo& info,
                        const std::string& path) {
  FileSystem* fs = FileSystem::Default().get();
  const std::string temp = path + kExportTempSuffix;
  uint64_t handle = 0;
  IOStatus s = log->OpenHandle(info.name, &handle);
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::FSWritableFile> out;
  s = fs->NewWritableFile(temp, FileOptions(), &out, nullptr);
  if (s.ok()) s = CopyLogicalFile(log, handle, out.get(), IOOptions());
  log->CloseHandle(handle);
  if (s.ok()) s = out->Fsync(IOOptions(), nullptr);
  if (out != nullptr) {
    IOStatus c = out->Close(IOOptions(), nullptr);
    if (s.ok()) s = c;
  }
  if (s.ok()) s = fs->RenameFile(temp, path, IOOptions(), nullptr);
  if (!s.ok()) {
    fs->DeleteFile(temp, IOOptions(), nullptr).PermitUncheckedError();
    return IOStatus::IOError("segwal export of " + path + ": " + s.ToString());
  }
  std::unique_ptr<rocksdb::FSDirectory> dir;
  s = fs->NewDirectory(DirName(path), IOOptions(), &dir, nullptr);
  if (s.ok()) s = dir->Fsync(IOOptions(), nullptr);
  return s;
}

}  // namespace

IOStatus ExportLogicalWals(const std::string& wal_dir,
                           const SegWalOptions& options,
                           std::vector<std::string>* exported) {
  if (exported != nullptr) exported->clear();
  Storage* storage = PosixStorage();
  const std::string dir = NormalizePath(wal_dir);
  const WalRouter router(options.log_dir);
  const DirectoryInLog directory = router.Directory(dir);
  const std::string& log_dir = directory.log_dir;
  IOStatus s = storage->FileExists(log_dir);
  if (s.IsNotFound()) return IOStatus::OK();  // nothing was ever logical
  if (!s.ok()) return s;

  std::shared_ptr<Log> log;
  s = LogRegistry::Get()->Acquire(storage, log_dir, options.log, &log);
  if (!s.ok()) return s;
  // Become the writer before copying: while another process writes the
  // log, a plain copy would go stale at once, and the logical file could
  // not be deleted.
  s = log->EnsureWritable();
  if (!s.ok()) {
    return IOStatus::IOError("segwal export of " + dir + ": " + s.ToString() +
                             "; close the DB first");
  }
  for (const FileInfo& info : log->List()) {
    const std::string path = router.PathOf(directory, info.name);
    if (!IsWalFileName(path) || WalOwnerDir(path) != dir) continue;
    s = WritePlainCopy(log.get(), info, path);
    if (s.ok()) s = log->Delete(info.name);
    if (!s.ok()) return s;
    if (exported != nullptr) exported->push_back(path);
  }
  s = log->SyncAll();
  if (!s.ok()) return s;
  const bool empty = log->List().empty();
  log.reset();
  if (!router.shared() && empty) {
    // Removed only if no one else in this process has it open.
    IOStatus destroyed = LogRegistry::Get()->WithNoneOpenUnder(
        log_dir, [&] { return Log::Destroy(storage, log_dir); });
    destroyed.PermitUncheckedError();
  }
  return IOStatus::OK();
}

}  // namespace segwal
