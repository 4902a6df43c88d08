#include "env/fs/wal_files.h"

#include <atomic>
#include <mutex>

namespace segwal {
namespace {

using rocksdb::FileOptions;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;

IOStatus Closed(const std::string& path) {
  return IOStatus::IOError(path + ": segwal file used after Close");
}

class LogicalWritableFile : public rocksdb::FSWritableFile {
 public:
  LogicalWritableFile(std::shared_ptr<Log> log, uint64_t handle,
                      std::string path, const FileOptions& options,
                      std::function<void()> on_close)
      : rocksdb::FSWritableFile(options),
        log_(std::move(log)),
        handle_(handle),
        path_(std::move(path)),
        on_close_(std::move(on_close)) {
    size_.Set(log_->Size(handle_));
  }
  ~LogicalWritableFile() override { Release(); }

  IOStatus Append(const Slice& data, const IOOptions&,
                  IODebugContext*) override {
    if (log_ == nullptr) return Closed(path_);
    IOStatus s = log_->Append(handle_, data);
    if (s.ok()) {
      size_.Grow(data.size());
    } else {
      size_.Forget();
    }
    return AnnotatePath(s, path_);
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo&,
                  IODebugContext* dbg) override {
    return Append(data, options, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset,
                            const IOOptions&, IODebugContext*) override {
    if (log_ == nullptr) return Closed(path_);
    IOStatus s = log_->WriteAt(handle_, offset, data);
    if (s.ok()) {
      size_.AtLeast(offset + data.size());
    } else {
      size_.Forget();
    }
    return AnnotatePath(s, path_);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset,
                            const IOOptions& options,
                            const rocksdb::DataVerificationInfo&,
                            IODebugContext* dbg) override {
    return PositionedAppend(data, offset, options, dbg);
  }
  IOStatus Truncate(uint64_t size, const IOOptions&,
                    IODebugContext*) override {
    if (log_ == nullptr) return Closed(path_);
    IOStatus s = log_->Truncate(handle_, size);
    if (s.ok()) {
      size_.Set(size);
    } else {
      size_.Forget();
    }
    return AnnotatePath(s, path_);
  }
  // Appended bytes are already with the OS.
  IOStatus Flush(const IOOptions&, IODebugContext*) override {
    return log_ == nullptr ? Closed(path_) : IOStatus::OK();
  }
  IOStatus Sync(const IOOptions&, IODebugContext*) override {
    if (log_ == nullptr) return Closed(path_);
    return AnnotatePath(log_->Sync(handle_), path_);
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return Sync(options, dbg);
  }
  // A write-back hint for page-cache files; the log syncs whole segments.
  IOStatus RangeSync(uint64_t, uint64_t, const IOOptions&,
                     IODebugContext*) override {
    return IOStatus::OK();
  }
  IOStatus Close(const IOOptions&, IODebugContext*) override {
    Release();
    return IOStatus::OK();
  }
  bool IsSyncThreadSafe() const override { return true; }
  bool use_direct_io() const override { return false; }
  // The size this handle's writes left, as a POSIX writable file keeps
  // it: RocksDB asks before every append of its WAL, and the log's own
  // answer takes the catalog's lock, which every DB sharing the log
  // contends for. Asked of the log at the open and after a failed write
  // (which may have written part of its bytes).
  uint64_t GetFileSize(const IOOptions&, IODebugContext*) override {
    if (log_ == nullptr) return 0;
    uint64_t size = 0;
    if (!size_.Get(&size)) {
      size = log_->Size(handle_);
      size_.Set(size);
    }
    return size;
  }
  // Segments are preallocated: nothing to reserve per file.
  IOStatus Allocate(uint64_t, uint64_t, const IOOptions&,
                    IODebugContext*) override {
    return IOStatus::OK();
  }
  void PrepareWrite(size_t, size_t, const IOOptions&,
                    IODebugContext*) override {}
  void SetPreallocationBlockSize(size_t) override {}
  IOStatus InvalidateCache(size_t, size_t) override { return IOStatus::OK(); }

 private:
  void Release() {
    if (log_ != nullptr) {
      log_->CloseHandle(handle_);
      log_.reset();
      if (on_close_) on_close_();
    }
  }

  // The file's size as this handle's writes left it, or unknown.
  class KnownSize {
   public:
    bool Get(uint64_t* size) const {
      const uint64_t v = value_.load(std::memory_order_relaxed);
      if (v == kUnknown) return false;
      *size = v;
      return true;
    }
    void Set(uint64_t size) { value_.store(size, std::memory_order_relaxed); }
    void Grow(uint64_t by) {
      const uint64_t v = value_.load(std::memory_order_relaxed);
      if (v != kUnknown) Set(v + by);
    }
    void AtLeast(uint64_t end) {
      const uint64_t v = value_.load(std::memory_order_relaxed);
      if (v != kUnknown && end > v) Set(end);
    }
    void Forget() { Set(kUnknown); }

   private:
    static constexpr uint64_t kUnknown = ~uint64_t{0};
    std::atomic<uint64_t> value_{kUnknown};
  };

  std::shared_ptr<Log> log_;  // null once closed
  const uint64_t handle_;
  const std::string path_;
  const std::function<void()> on_close_;
  KnownSize size_;
};

class LogicalSequentialFile : public rocksdb::FSSequentialFile {
 public:
  LogicalSequentialFile(std::shared_ptr<Log> log, uint64_t handle,
                        std::string path)
      : log_(std::move(log)),
        handle_(handle),
        path_(std::move(path)),
        ahead_(log_->NewDecodeAhead(handle_)) {
    cache_.ahead = ahead_.get();
  }
  ~LogicalSequentialFile() override {
    ahead_.reset();  // its thread reads the file: stop it first
    log_->CloseHandle(handle_);
  }

  IOStatus Read(size_t n, const IOOptions&, Slice* result, char* scratch,
                IODebugContext*) override {
    size_t got = 0;
    IOStatus s = log_->Read(handle_, offset_, n, scratch, &got, &cache_);
    if (s.ok() && got == 0 && n > 0 && log_->following()) {
      // At the end, in a log another process may be writing (a RocksDB
      // secondary instance catching up comes back here): read on in what
      // it wrote since. A refresh reads only what is new.
      s = log_->Refresh();
      if (s.ok()) s = log_->Read(handle_, offset_, n, scratch, &got, &cache_);
    }
    if (!s.ok()) {
      *result = Slice();
      return AnnotatePath(s, path_);
    }
    offset_ += got;
    *result = Slice(scratch, got);
    return IOStatus::OK();
  }
  IOStatus PositionedRead(uint64_t offset, size_t n, const IOOptions&,
                          Slice* result, char* scratch,
                          IODebugContext*) override {
    size_t got = 0;
    IOStatus s = log_->Read(handle_, offset, n, scratch, &got, &cache_);
    *result = s.ok() ? Slice(scratch, got) : Slice();
    return AnnotatePath(s, path_);
  }
  IOStatus Skip(uint64_t n) override {
    offset_ += n;
    return IOStatus::OK();
  }
  IOStatus InvalidateCache(size_t, size_t) override { return IOStatus::OK(); }

 private:
  const std::shared_ptr<Log> log_;
  const uint64_t handle_;
  const std::string path_;
  uint64_t offset_ = 0;
  // Decodes the next compressed frames on a thread of its own while the
  // caller works on what it read (RocksDB replaying a WAL).
  std::unique_ptr<DecodeAhead> ahead_;
  ReadCache cache_;
};

class LogicalRandomAccessFile : public rocksdb::FSRandomAccessFile {
 public:
  LogicalRandomAccessFile(std::shared_ptr<Log> log, uint64_t handle,
                          std::string path)
      : log_(std::move(log)), handle_(handle), path_(std::move(path)) {}
  ~LogicalRandomAccessFile() override { log_->CloseHandle(handle_); }

  IOStatus Read(uint64_t offset, size_t n, const IOOptions&, Slice* result,
                char* scratch, IODebugContext*) const override {
    size_t got = 0;
    IOStatus s;
    {
      // Reads may come from many threads; the cache is per reader.
      std::lock_guard<std::mutex> guard(mu_);
      s = log_->Read(handle_, offset, n, scratch, &got, &cache_);
    }
    *result = s.ok() ? Slice(scratch, got) : Slice();
    return AnnotatePath(s, path_);
  }
  IOStatus InvalidateCache(size_t, size_t) override { return IOStatus::OK(); }

 private:
  std::shared_ptr<Log> log_;
  const uint64_t handle_;
  const std::string path_;
  mutable std::mutex mu_;
  mutable ReadCache cache_;
};

class SegWalDirectory : public rocksdb::FSDirectory {
 public:
  SegWalDirectory(std::unique_ptr<rocksdb::FSDirectory> base,
                  std::function<IOStatus()> sync_logs)
      : base_(std::move(base)), sync_logs_(std::move(sync_logs)) {}

  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = base_->Fsync(options, dbg);
    return s.ok() ? sync_logs_() : s;
  }
  IOStatus FsyncWithDirOptions(
      const IOOptions& options, IODebugContext* dbg,
      const rocksdb::DirFsyncOptions& dir_fsync_options) override {
    IOStatus s = base_->FsyncWithDirOptions(options, dbg, dir_fsync_options);
    return s.ok() ? sync_logs_() : s;
  }
  IOStatus Close(const IOOptions& options, IODebugContext* dbg) override {
    return base_->Close(options, dbg);
  }
  size_t GetUniqueId(char* id, size_t max_size) const override {
    return base_->GetUniqueId(id, max_size);
  }

 private:
  std::unique_ptr<rocksdb::FSDirectory> base_;
  std::function<IOStatus()> sync_logs_;
};

}  // namespace

IOStatus AnnotatePath(const IOStatus& s, const std::string& path) {
  if (s.ok() || s.ToString().find(path) != std::string::npos) return s;
  const std::string msg = path + ": " + s.ToString();
  IOStatus out;
  if (s.IsPathNotFound()) {
    out = IOStatus::PathNotFound(msg);
  } else if (s.IsNotFound()) {
    out = IOStatus::NotFound(msg);
  } else if (s.IsCorruption()) {
    out = IOStatus::Corruption(msg);
  } else if (s.IsInvalidArgument()) {
    out = IOStatus::InvalidArgument(msg);
  } else if (s.IsNotSupported()) {
    out = IOStatus::NotSupported(msg);
  } else if (s.IsNoSpace()) {
    out = IOStatus::NoSpace(msg);
  } else {
    out = IOStatus::IOError(msg);
  }
  out.SetRetryable(s.GetRetryable());
  out.SetDataLoss(s.GetDataLoss());
  out.SetScope(s.GetScope());
  return out;
}

std::unique_ptr<rocksdb::FSWritableFile> NewLogicalWritableFile(
    std::shared_ptr<Log> log, uint64_t handle, const std::string& path,
    const rocksdb::FileOptions& options, std::function<void()> on_close) {
  return std::make_unique<LogicalWritableFile>(std::move(log), handle, path,
                                               options, std::move(on_close));
}

IOStatus CopyLogicalFile(Log* log, uint64_t handle,
                         rocksdb::FSWritableFile* out, const IOOptions& io) {
  constexpr size_t kCopyBufferSize = 1 << 20;
  IOStatus s;
  ReadCache cache;
  std::string buffer(kCopyBufferSize, '\0');
  for (uint64_t offset = 0; s.ok();) {
    size_t got = 0;
    s = log->Read(handle, offset, buffer.size(), &buffer[0], &got, &cache);
    if (!s.ok() || got == 0) break;
    s = out->Append(Slice(buffer.data(), got), io, nullptr);
    offset += got;
  }
  return s;
}

std::unique_ptr<rocksdb::FSSequentialFile> NewLogicalSequentialFile(
    std::shared_ptr<Log> log, uint64_t handle, const std::string& path) {
  return std::make_unique<LogicalSequentialFile>(std::move(log), handle, path);
}

std::unique_ptr<rocksdb::FSRandomAccessFile> NewLogicalRandomAccessFile(
    std::shared_ptr<Log> log, uint64_t handle, const std::string& path) {
  return std::make_unique<LogicalRandomAccessFile>(std::move(log), handle,
                                                   path);
}

std::unique_ptr<rocksdb::FSDirectory> NewSegWalDirectory(
    std::unique_ptr<rocksdb::FSDirectory> base,
    std::function<IOStatus()> sync_logs) {
  return std::make_unique<SegWalDirectory>(std::move(base),
                                           std::move(sync_logs));
}

}  // namespace segwal
