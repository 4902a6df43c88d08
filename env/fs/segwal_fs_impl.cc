#include "env/fs/segwal_fs_impl.h"

#include "env/fs/wal_files.h"
#include "env/fs/wal_path.h"

namespace segwal {

using rocksdb::FileOptions;
using rocksdb::FileSystem;
using rocksdb::FSWritableFile;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;

SegWalFileSystem::Impl::Impl(SegWalFileSystem* owner, Storage* log_storage)
    : fs(owner),
      logs(log_storage != nullptr ? log_storage : PosixStorage(),
           owner->options_.log) {}

IOStatus SegWalFileSystem::Impl::FindLogical(const WalLocation& where,
                                             std::shared_ptr<Log>* log,
                                             FileInfo* info, bool* found) {
  *found = false;
  IOStatus s = logs.Get(where.log_dir, /*create=*/false, log);
  if (!s.ok()) return AnnotatePath(s, where.path);
  if (*log != nullptr) *found = (*log)->Lookup(where.name, info);
  return IOStatus::OK();
}

IOStatus SegWalFileSystem::Impl::FindWal(const std::string& path,
                                         FoundWal* wal, bool* found) {
  *found = false;
  if (!Locate(path, &wal->where)) return IOStatus::OK();
  return FindLogical(wal->where, &wal->log, &wal->info, found);
}

IOStatus SegWalFileSystem::Impl::CheckParentDir(const std::string& path,
                                                const std::string& what,
                                                IODebugContext* dbg) {
  const std::string dir = DirName(NormalizePath(path));
  bool is_dir = false;
  IOStatus s = fs->target()->IsDirectory(dir, IOOptions(), &is_dir, dbg);
  if (s.ok() && is_dir) return s;
  return IOStatus::PathNotFound(what + ": " + path + ": no directory " + dir);
}

IOStatus SegWalFileSystem::Impl::LogicalFilesUnder(const std::string& dir,
                                                   FilesUnder* out) {
  const WalRouter route = router();
  const DirectoryInLog directory = route.Directory(dir);
  out->log_dir = directory.log_dir;
  IOStatus s = logs.Get(out->log_dir, /*create=*/false, &out->log);
  if (!s.ok()) return AnnotatePath(s, dir);
  if (out->log == nullptr) return IOStatus::OK();
  for (const FileInfo& info : out->log->List()) {
    if (info.name.compare(0, directory.prefix.size(), directory.prefix) == 0) {
      out->files.push_back(
          {info.name, route.PathOf(directory, info.name), info.id});
    }
  }
  return IOStatus::OK();
}

IOStatus SegWalFileSystem::Impl::ListLogical(
    const std::string& dir,
    std::vector<std::pair<std::string, uint64_t>>* out) {
  out->clear();
  const DirectoryInLog directory = router().Directory(dir);
  std::shared_ptr<Log> log;
  IOStatus s = logs.Get(directory.log_dir, /*create=*/false, &log);
  if (!s.ok()) return AnnotatePath(s, dir);
  if (log == nullptr) return IOStatus::OK();
  std::string base;
  for (const FileInfo& info : log->List()) {
    if (WalRouter::InDirectory(directory, info.name, &base)) {
      out->emplace_back(base, info.size);
    }
  }
  return IOStatus::OK();
}

// A logical file listed beneath a directory that does not exist was left
// behind when the directory was removed outside this FileSystem (rm -rf of
// a DB whose WALs are in a shared log_dir): WALs go only into existing
// directories (CheckParentDir). Left, RocksDB would refuse to create a DB
// there ("wal_dir contains existing log file"), or replay another DB's
// WALs. So when this call makes the directory where none was, the files
// listed beneath it just before are deleted, durably, and the log's LOG
// names them. When it cannot tell (the directory exists, its existence
// cannot be checked, or someone else made it meanwhile), nothing is
// deleted.
IOStatus SegWalFileSystem::Impl::CreateDirAnew(const std::string& dirname,
                                               const IOOptions& options,
                                               IODebugContext* dbg,
                                               bool if_missing) {
  FileSystem* base = fs->target();
  if (!base->FileExists(dirname, options, dbg).IsNotFound()) {
    return if_missing ? base->CreateDirIfMissing(dirname, options, dbg)
                      : base->CreateDir(dirname, options, dbg);
  }
  const std::string dir = NormalizePath(dirname);
  FilesUnder orphans;
  IOStatus s = LogicalFilesUnder(dir, &orphans);
  if (!s.ok()) return s;
  // mkdir itself tells whether this call made the directory.
  s = base->CreateDir(dirname, options, dbg);
  if (!s.ok()) {
    return if_missing ? base->CreateDirIfMissing(dirname, options, dbg) : s;
  }
  if (orphans.files.empty()) return IOStatus::OK();
  std::string list;
  for (const FilesUnder::File& file : orphans.files) {
    s = orphans.log->Delete(file.name, /*only_id=*/file.id);
    if (!s.ok()) return AnnotatePath(s, file.path);
    list += "\n  " + file.path;
  }
  s = orphans.log->SyncAll();
  if (!s.ok()) return AnnotatePath(s, dir);
  orphans.log->InfoLogWrite(
      "directory " + dir + " was created anew: deleted " +
      std::to_string(orphans.files.size()) +
      " logical WAL files left from when it was removed outside segwal:" +
      list);
  return IOStatus::OK();
}

IOStatus SegWalFileSystem::Impl::CopyOut(const std::shared_ptr<Log>& log,
                                         const std::string& name,
                                         const std::string& source_path,
                                         const std::string& target,
                                         const IOOptions& io) {
  uint64_t handle = 0;
  IOStatus s = log->OpenHandle(name, &handle);
  if (!s.ok()) return AnnotatePath(s, source_path);
  std::unique_ptr<FSWritableFile> out;
  s = fs->NewWritableFile(target, FileOptions(), &out, nullptr);
  if (s.ok()) {
    s = AnnotatePath(CopyLogicalFile(log.get(), handle, out.get(), io),
                     source_path);
  }
  log->CloseHandle(handle);
  if (s.ok()) s = out->Sync(io, nullptr);
  if (out != nullptr) {
    IOStatus c = out->Close(io, nullptr);
    if (s.ok()) s = c;
  }
  return s;
}

}  // namespace segwal
