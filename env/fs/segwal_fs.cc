#include "env/fs/segwal_fs.h"

#include <algorithm>
#include <map>
#include <set>

#include "env/engine/log.h"
#include "env/fs/log_registry.h"
#include "env/fs/segwal_fs_impl.h"
#include "env/fs/wal_files.h"
#include "env/fs/wal_path.h"
#include "env/fs/wal_router.h"
#include "env/storage/storage.h"

namespace segwal {

using rocksdb::FileAttributes;
using rocksdb::FileOptions;
using rocksdb::FSDirectory;
using rocksdb::FSRandomAccessFile;
using rocksdb::FSRandomRWFile;
using rocksdb::FSSequentialFile;
using rocksdb::FSWritableFile;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;

SegWalFileSystem::SegWalFileSystem(
    const std::shared_ptr<rocksdb::FileSystem>& base,
    const SegWalOptions& options)
    : SegWalFileSystem(base, options, nullptr) {}

SegWalFileSystem::SegWalFileSystem(
    const std::shared_ptr<rocksdb::FileSystem>& base,
    const SegWalOptions& options, Storage* storage)
    : FileSystemWrapper(base),
      options_(options),
      impl_(std::make_shared<Impl>(this, storage)) {
  RegisterOptions(&options_, &SegWalOptionTypeInfo());
}

SegWalFileSystem::~SegWalFileSystem() = default;

rocksdb::Status SegWalFileSystem::PrepareOptions(
    const rocksdb::ConfigOptions& config) {
  rocksdb::Status s = ValidateSegWalOptions(options_);
  if (!s.ok()) return s;
  return FileSystemWrapper::PrepareOptions(config);
}

rocksdb::Status SegWalFileSystem::ConfigureOptions(
    const rocksdb::ConfigOptions& config,
    const std::unordered_map<std::string, std::string>& opts,
    std::unordered_map<std::string, std::string>* unused) {
  return ConfigureOrRestore(&options_, [&] {
    return FileSystemWrapper::ConfigureOptions(config, opts, unused);
  });
}

// ---- Files --------------------------------------------------------------

// Opens a logical WAL for reading with `open_logical`; a path that is not a
// logical file (not a WAL, or a plain WAL) goes to the base FileSystem.
template <typename Impl, typename File, typename OpenLogical,
          typename OpenBase>
IOStatus OpenForRead(Impl* impl, const std::string& fname,
                     std::unique_ptr<File>* result, OpenLogical open_logical,
                     OpenBase open_base) {
  WalLocation where;
  if (impl->Locate(fname, &where)) {
    std::shared_ptr<Log> log;
    IOStatus s = impl->logs.Get(where.log_dir, /*create=*/false, &log);
    if (!s.ok()) return AnnotatePath(s, fname);
    uint64_t handle = 0;
    if (log != nullptr && log->OpenHandle(where.name, &handle).ok()) {
      *result = open_logical(std::move(log), handle, where.path);
      return IOStatus::OK();
    }
  }
  return open_base();
}

IOStatus SegWalFileSystem::NewSequentialFile(
    const std::string& fname, const FileOptions& options,
    std::unique_ptr<FSSequentialFile>* result, IODebugContext* dbg) {
  return OpenForRead(impl_.get(), fname, result, NewLogicalSequentialFile,
                     [&] {
                       return target()->NewSequentialFile(fname, options,
                                                          result, dbg);
                     });
}

IOStatus SegWalFileSystem::NewRandomAccessFile(
    const std::string& fname, const FileOptions& options,
    std::unique_ptr<FSRandomAccessFile>* result, IODebugContext* dbg) {
  return OpenForRead(impl_.get(), fname, result, NewLogicalRandomAccessFile,
                     [&] {
                       return target()->NewRandomAccessFile(fname, options,
                                                            result, dbg);
                     });
}

IOStatus SegWalFileSystem::NewWritableFile(
    const std::string& fname, const FileOptions& options,
    std::unique_ptr<FSWritableFile>* result, IODebugContext* dbg) {
  WalLocation where;
  if (!impl_->Locate(fname, &where)) {
    return target()->NewWritableFile(fname, options, result, dbg);
  }
  IOStatus s =
      impl_->CheckParentDir(fname, "While open a file for appending", dbg);
  if (!s.ok()) return s;
  std::shared_ptr<Log> log;
  s = impl_->logs.Get(where.log_dir, /*create=*/true, &log);
  if (!s.ok()) return AnnotatePath(s, fname);
  // As open(2) with O_CREAT | O_TRUNC: a WAL that exists stays the same
  // file, cut to size 0, and every handle open on it stays valid (a tool
  // rewriting a live WAL).
  uint64_t id = 0;
  uint64_t handle = 0;
  s = log->CreateOrTruncate(where.name, &id);
  if (s.ok()) s = log->OpenHandle(where.name, &handle);
  if (s.ok() && handle != id) {
    log->CloseHandle(handle);
    s = IOStatus::IOError("segwal: " + fname +
                          " was replaced while it was being created");
  }
  if (!s.ok()) return AnnotatePath(s, fname);
  // The logical file replaces a plain one of the same name.
  if (target()->FileExists(fname, IOOptions(), dbg).ok()) {
    s = target()->DeleteFile(fname, IOOptions(), dbg);
    if (!s.ok()) {
      log->CloseHandle(handle);
      return s;
    }
  }
  *result = NewLogicalWritableFile(std::move(log), handle, where.path, options,
                             impl_->logs.OnWriterClose(where.log_dir));
  return IOStatus::OK();
}

IOStatus SegWalFileSystem::ReopenWritableFile(
    const std::string& fname, const FileOptions& options,
    std::unique_ptr<FSWritableFile>* result, IODebugContext* dbg) {
  WalLocation where;
  if (!impl_->Locate(fname, &where)) {
    return target()->ReopenWritableFile(fname, options, result, dbg);
  }
  std::shared_ptr<Log> log;
  FileInfo info;
  bool found = false;
  IOStatus s = impl_->FindLogical(where, &log, &info, &found);
  if (!s.ok()) return s;
  if (found) {
    uint64_t handle = 0;
    s = log->OpenHandle(where.name, &handle);
    if (!s.ok()) return AnnotatePath(s, fname);
    // RocksDB reopens its last WAL during DB::Open only to truncate it,
    // just before it creates the next one: closing that writer must not
    // close the log.
    *result = NewLogicalWritableFile(std::move(log), handle, where.path,
                                     options, /*on_close=*/nullptr);
    return IOStatus::OK();
  }
  if (target()->FileExists(fname, IOOptions(), dbg).ok()) {
    return target()->ReopenWritableFile(fname, options, result, dbg);
  }
  return NewWritableFile(fname, options, result, dbg);
}

// RocksDB recycles a WAL (recycle_log_file_num) by renaming the old file
// and writing it from the start; a log never needs the old bytes, so the
// renamed file starts empty.
IOStatus SegWalFileSystem::ReuseWritableFile(
    const std::string& fname, const std::string& old_fname,
    const FileOptions& options, std::unique_ptr<FSWritableFile>* result,
    IODebugContext* dbg) {
  WalLocation where;
  if (!impl_->Locate(fname, &where)) {
    return target()->ReuseWritableFile(fname, old_fname, options, result,
                                       dbg);
  }
  WalLocation old_where;
  if (impl_->Locate(old_fname, &old_where) &&
      old_where.log_dir == where.log_dir) {
    std::shared_ptr<Log> log;
    FileInfo info;
    bool found = false;
    IOStatus s = impl_->FindLogical(old_where, &log, &info, &found);
    if (!s.ok()) return s;
    if (found) {
      uint64_t handle = 0;
      s = log->Rename(old_where.name, where.name);
      if (s.ok()) s = log->OpenHandle(where.name, &handle);
      if (!s.ok()) return AnnotatePath(s, fname);
      s = log->Truncate(handle, 0);
      if (!s.ok()) {
        log->CloseHandle(handle);
        return AnnotatePath(s, fname);
      }
      *result =
          NewLogicalWritableFile(std::move(log), handle, where.path, options,
                             impl_->logs.OnWriterClose(where.log_dir));
      return IOStatus::OK();
    }
  }
  // The old file is plain or in another log: the new one starts empty
  // anyway, so drop the old one and create.
  IOStatus s = DeleteFile(old_fname, IOOptions(), dbg);
  if (!s.ok()) return s;
  return NewWritableFile(fname, options, result, dbg);
}

IOStatus SegWalFileSystem::NewRandomRWFile(
    const std::string& fname, const FileOptions& options,
    std::unique_ptr<FSRandomRWFile>* result, IODebugContext* dbg) {
  WalLocation where;
  if (impl_->Locate(fname, &where) &&
      !target()->FileExists(fname, IOOptions(), dbg).ok()) {
    return IOStatus::NotSupported(
        "segwal: " + fname +
        " is a WAL file kept in the segwal log; random read-write access "
        "to it is not supported");
  }
  return target()->NewRandomRWFile(fname, options, result, dbg);
}

IOStatus SegWalFileSystem::NewMemoryMappedFileBuffer(
    const std::string& fname,
    std::unique_ptr<rocksdb::MemoryMappedFileBuffer>* result) {
  WalLocation where;
  if (impl_->Locate(fname, &where) &&
      !target()->FileExists(fname, IOOptions(), nullptr).ok()) {
    return IOStatus::NotSupported(
        "segwal: " + fname +
        " is a WAL file kept in the segwal log; it cannot be memory-mapped");
  }
  return target()->NewMemoryMappedFileBuffer(fname, result);
}

IOStatus SegWalFileSystem::NewDirectory(const std::string& name,
                                        const IOOptions& io_opts,
                                        std::unique_ptr<FSDirectory>* result,
                                        IODebugContext* dbg) {
  std::unique_ptr<FSDirectory> base;
  IOStatus s = target()->NewDirectory(name, io_opts, &base, dbg);
  if (!s.ok()) return s;
  const std::string dir = NormalizePath(name);
  Impl* impl = impl_.get();
  // The log holding the logical files of this directory, if it is open.
  *result = NewSegWalDirectory(std::move(base), [impl, dir]() {
    std::shared_ptr<Log> log =
        impl->logs.Find(impl->router().Directory(dir).log_dir);
    IOStatus synced = log != nullptr ? log->SyncAll() : IOStatus::OK();
    return AnnotatePath(synced, dir);
  });
  return IOStatus::OK();
}

// ---- Namespace ----------------------------------------------------------

IOStatus SegWalFileSystem::FileExists(const std::string& fname,
                                      const IOOptions& options,
                                      IODebugContext* dbg) {
  Impl::FoundWal wal;
  bool found = false;
  IOStatus s = impl_->FindWal(fname, &wal, &found);
  if (!s.ok()) return s;
  if (found) return IOStatus::OK();
  return target()->FileExists(fname, options, dbg);
}

IOStatus SegWalFileSystem::GetChildren(const std::string& dir,
                                       const IOOptions& options,
                                       std::vector<std::string>* result,
                                       IODebugContext* dbg) {
  IOStatus s = target()->GetChildren(dir, options, result, dbg);
  if (!s.ok()) return s;
  const std::string normalized = NormalizePath(dir);
  std::vector<std::pair<std::string, uint64_t>> logical;
  s = impl_->ListLogical(normalized, &logical);
  if (!s.ok()) return s;
  const std::string hidden = impl_->router().HiddenEntry(normalized);
  if (!hidden.empty()) {
    result->erase(std::remove(result->begin(), result->end(), hidden),
                  result->end());
  }
  std::set<std::string> present(result->begin(), result->end());
  for (const auto& entry : logical) {
    if (present.insert(entry.first).second) result->push_back(entry.first);
  }
  return IOStatus::OK();
}

IOStatus SegWalFileSystem::GetChildrenFileAttributes(
    const std::string& dir, const IOOptions& options,
    std::vector<FileAttributes>* result, IODebugContext* dbg) {
  IOStatus s = target()->GetChildrenFileAttributes(dir, options, result, dbg);
  if (!s.ok()) return s;
  const std::string normalized = NormalizePath(dir);
  std::vector<std::pair<std::string, uint64_t>> logical;
  s = impl_->ListLogical(normalized, &logical);
  if (!s.ok()) return s;
  const std::string hidden = impl_->router().HiddenEntry(normalized);
  std::map<std::string, uint64_t> logical_sizes(logical.begin(),
                                                logical.end());
  std::vector<FileAttributes> merged;
  for (FileAttributes& attr : *result) {
    if (!hidden.empty() && attr.name == hidden) continue;
    if (logical_sizes.count(attr.name) > 0) continue;  // the logical one wins
    merged.push_back(std::move(attr));
  }
  for (const auto& [name, size] : logical_sizes) {
    FileAttributes attr;
    attr.name = name;
    attr.size_bytes = size;
    merged.push_back(std::move(attr));
  }
  *result = std::move(merged);
  return IOStatus::OK();
}

IOStatus SegWalFileSystem::DeleteFile(const std::string& fname,
                                      const IOOptions& options,
                                      IODebugContext* dbg) {
  Impl::FoundWal wal;
  bool found = false;
  IOStatus s = impl_->FindWal(fname, &wal, &found);
  if (!s.ok()) return s;
  if (found) return AnnotatePath(wal.log->Delete(wal.where.name), fname);
  return target()->DeleteFile(fname, options, dbg);
}

IOStatus SegWalFileSystem::CreateDir(const std::string& dirname,
                                     const IOOptions& options,
                                     IODebugContext* dbg) {
  return impl_->CreateDirAnew(dirname, options, dbg, /*if_missing=*/false);
}

IOStatus SegWalFileSystem::CreateDirIfMissing(const std::string& dirname,
                                              const IOOptions& options,
                                              IODebugContext* dbg) {
  return impl_->CreateDirAnew(dirname, options, dbg, /*if_missing=*/true);
}

IOStatus SegWalFileSystem::DeleteDir(const std::string& dirname,
                                     const IOOptions& options,
                                     IODebugContext* dbg) {
  const std::string dir = NormalizePath(dirname);
  Impl::FilesUnder under;
  IOStatus s = impl_->LogicalFilesUnder(dir, &under);
  if (!s.ok()) return s;
  // A DB directory whose own log holds nothing: the log goes with it.
  if (!impl_->shared_log() && under.files.empty() &&
      BaseName(dir) != kArchiveDir && under.log != nullptr) {
    under.log.reset();
    impl_->logs.ForgetUnder(under.log_dir);
    Storage* storage = impl_->logs.storage();
    const std::string log_dir = under.log_dir;
    s = LogRegistry::Get()->WithNoneOpenUnder(
        log_dir, [&] { return Log::Destroy(storage, log_dir); });
    if (!s.ok()) return AnnotatePath(s, dirname);
  }
  if (!under.files.empty()) {
    std::string list;
    for (size_t i = 0; i < under.files.size() && i < 8; ++i) {
      list += (i == 0 ? "" : ", ") + under.files[i].path;
    }
    if (under.files.size() > 8) list += ", ...";
    return IOStatus::IOError("segwal: cannot delete directory " + dirname +
                             ": directory not empty, it holds logical WAL "
                             "files " +
                             list);
  }
  return target()->DeleteDir(dirname, options, dbg);
}

IOStatus SegWalFileSystem::GetFileSize(const std::string& fname,
                                       const IOOptions& options,
                                       uint64_t* file_size,
                                       IODebugContext* dbg) {
  Impl::FoundWal wal;
  bool found = false;
  IOStatus s = impl_->FindWal(fname, &wal, &found);
  if (!s.ok()) return s;
  if (found) {
    *file_size = wal.info.size;
    return IOStatus::OK();
  }
  return target()->GetFileSize(fname, options, file_size, dbg);
}

IOStatus SegWalFileSystem::GetFileModificationTime(const std::string& fname,
                                                   const IOOptions& options,
                                                   uint64_t* file_mtime,
                                                   IODebugContext* dbg) {
  Impl::FoundWal wal;
  bool found = false;
  IOStatus s = impl_->FindWal(fname, &wal, &found);
  if (!s.ok()) return s;
  if (found) {
    *file_mtime = wal.info.mtime;
    return IOStatus::OK();
  }
  return target()->GetFileModificationTime(fname, options, file_mtime, dbg);
}

IOStatus SegWalFileSystem::RenameFile(const std::string& src,
                                      const std::string& target_name,
                                      const IOOptions& options,
                                      IODebugContext* dbg) {
  WalLocation from;
  WalLocation to;
  const bool src_wal = impl_->Locate(src, &from);
  const bool dst_wal = impl_->Locate(target_name, &to);
  if (src_wal) {
    std::shared_ptr<Log> log;
    FileInfo info;
    bool found = false;
    IOStatus s = impl_->FindLogical(from, &log, &info, &found);
    if (!s.ok()) return s;
    if (found) {
      s = impl_->CheckParentDir(target_name, "While renaming " + src, dbg);
      if (!s.ok()) return s;
      if (dst_wal && to.log_dir == from.log_dir) {
        s = AnnotatePath(log->Rename(from.name, to.name), src);
        if (s.ok() && target()->FileExists(target_name, options, dbg).ok()) {
          s = target()->DeleteFile(target_name, options, dbg);
        }
        return s;
      }
      // Another log, or a name that is not a WAL's: copy, then delete.
      s = impl_->CopyOut(log, from.name, from.path, target_name, options);
      if (s.ok()) s = AnnotatePath(log->Delete(from.name), src);
      return s;
    }
  }
  if (!src_wal) {
    // A directory being moved (Checkpoint and BackupEngine rename their
    // staging directories) carries the logical files beneath it.
    const std::string src_dir = NormalizePath(src);
    const std::string dst_dir = NormalizePath(target_name);
    if (impl_->shared_log()) {
      Impl::FilesUnder moving;
      IOStatus s = impl_->LogicalFilesUnder(src_dir, &moving);
      if (!s.ok()) return s;
      s = target()->RenameFile(src, target_name, options, dbg);
      for (size_t i = 0; s.ok() && i < moving.files.size(); ++i) {
        const std::string& name = moving.files[i].name;
        s = AnnotatePath(
            moving.log->Rename(name, dst_dir + name.substr(src_dir.size())),
            name);
      }
      return s;
    }
    impl_->logs.ForgetUnder(src_dir);
    return LogRegistry::Get()->WithNoneOpenUnder(src_dir, [&] {
      return target()->RenameFile(src, target_name, options, dbg);
    });
  }
  IOStatus s = target()->RenameFile(src, target_name, options, dbg);
  if (s.ok() && dst_wal) {
    // The plain file replaced the target name: a logical file there goes.
    std::shared_ptr<Log> log;
    FileInfo info;
    bool found = false;
    s = impl_->FindLogical(to, &log, &info, &found);
    if (s.ok() && found) s = AnnotatePath(log->Delete(to.name), target_name);
  }
  return s;
}

IOStatus SegWalFileSystem::LinkFile(const std::string& src,
                                    const std::string& target_name,
                                    const IOOptions& options,
                                    IODebugContext* dbg) {
  WalLocation from;
  if (impl_->Locate(src, &from)) {
    std::shared_ptr<Log> log;
    FileInfo info;
    bool found = false;
    IOStatus s = impl_->FindLogical(from, &log, &info, &found);
    if (!s.ok()) return s;
    if (found) {
      if (FileExists(target_name, options, dbg).ok()) {
        return IOStatus::IOError("segwal: cannot link " + src + " to " +
                                 target_name + ": File exists");
      }
      s = impl_->CheckParentDir(target_name, "While linking " + src, dbg);
      if (!s.ok()) return s;
      WalLocation to;
      if (impl_->Locate(target_name, &to) && to.log_dir == from.log_dir) {
        return AnnotatePath(log->Link(from.name, to.name), src);
      }
      // A link across logs is a copy: the bytes are fixed from now on, as
      // they would be for a hard link that no one writes to.
      return impl_->CopyOut(log, from.name, from.path, target_name, options);
    }
  }
  return target()->LinkFile(src, target_name, options, dbg);
}

IOStatus SegWalFileSystem::NumFileLinks(const std::string& fname,
                                        const IOOptions& options,
                                        uint64_t* count, IODebugContext* dbg) {
  Impl::FoundWal wal;
  bool found = false;
  IOStatus s = impl_->FindWal(fname, &wal, &found);
  if (!s.ok()) return s;
  if (found) {
    *count = 1;
    return IOStatus::OK();
  }
  return target()->NumFileLinks(fname, options, count, dbg);
}

IOStatus SegWalFileSystem::AreFilesSame(const std::string& first,
                                        const std::string& second,
                                        const IOOptions& options, bool* res,
                                        IODebugContext* dbg) {
  WalLocation a;
  WalLocation b;
  const bool a_wal = impl_->Locate(first, &a);
  const bool b_wal = impl_->Locate(second, &b);
  if (a_wal || b_wal) {
    std::shared_ptr<Log> log;
    FileInfo info_a;
    FileInfo info_b;
    bool found_a = false;
    bool found_b = false;
    IOStatus s;
    if (a_wal) s = impl_->FindLogical(a, &log, &info_a, &found_a);
    if (s.ok() && b_wal) s = impl_->FindLogical(b, &log, &info_b, &found_b);
    if (!s.ok()) return s;
    if (found_a || found_b) {
      *res = found_a && found_b && a.log_dir == b.log_dir &&
             info_a.id == info_b.id;
      return IOStatus::OK();
    }
  }
  return target()->AreFilesSame(first, second, options, res, dbg);
}

IOStatus SegWalFileSystem::Truncate(const std::string& fname, size_t size,
                                    const IOOptions& options,
                                    IODebugContext* dbg) {
  Impl::FoundWal wal;
  bool found = false;
  IOStatus s = impl_->FindWal(fname, &wal, &found);
  if (!s.ok()) return s;
  if (found) {
    uint64_t handle = 0;
    s = wal.log->OpenHandle(wal.where.name, &handle);
    if (!s.ok()) return AnnotatePath(s, fname);
    s = wal.log->Truncate(handle, size);
    wal.log->CloseHandle(handle);
    return AnnotatePath(s, fname);
  }
  return target()->Truncate(fname, size, options, dbg);
}

IOStatus SegWalFileSystem::IsDirectory(const std::string& path,
                                       const IOOptions& options, bool* is_dir,
                                       IODebugContext* dbg) {
  Impl::FoundWal wal;
  bool found = false;
  IOStatus s = impl_->FindWal(path, &wal, &found);
  if (!s.ok()) return s;
  if (found) {
    if (is_dir != nullptr) *is_dir = false;
    return IOStatus::OK();
  }
  return target()->IsDirectory(path, options, is_dir, dbg);
}

std::unique_ptr<rocksdb::Env> NewSegWalEnv(
    const std::shared_ptr<SegWalFileSystem>& fs) {
  return rocksdb::NewCompositeEnv(fs);
}

}  // namespace segwal
