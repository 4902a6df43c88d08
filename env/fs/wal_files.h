// The file objects a SegWalFileSystem hands out for logical WAL files, and
// its directory wrapper. Each file object keeps its log open (a reference
// from the LogRegistry) and an open handle on its logical file, so a file
// deleted or renamed while open stays readable, as on POSIX.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "env/engine/log.h"
#include "rocksdb/file_system.h"

namespace segwal {

// `s` with `path` in its message (log errors name the log directory and the
// logical name, callers want the path they used); code, subcode and the
// retryable / data-loss / scope flags are kept.
IOStatus AnnotatePath(const IOStatus& s, const std::string& path);

// A logical file being written. `handle` is an open handle (Log::OpenHandle)
// that the file releases on Close or destruction, after which it drops its
// log reference and calls `on_close` (may be empty). Appends go to the end,
// PositionedAppend writes in place; Sync and Fsync make the file durable as
// the log's sync mode says; Close does not sync.
std::unique_ptr<rocksdb::FSWritableFile> NewLogicalWritableFile(
    std::shared_ptr<Log> log, uint64_t handle, const std::string& path,
    const rocksdb::FileOptions& options, std::function<void()> on_close);

// Appends every byte of the logical file open as `handle` in `log` (as it
// is now) to `out`; syncs nothing.
IOStatus CopyLogicalFile(Log* log, uint64_t handle,
                         rocksdb::FSWritableFile* out,
                         const rocksdb::IOOptions& io);

// Readers of a logical file; same handle ownership as above.
std::unique_ptr<rocksdb::FSSequentialFile> NewLogicalSequentialFile(
    std::shared_ptr<Log> log, uint64_t handle, const std::string& path);
std::unique_ptr<rocksdb::FSRandomAccessFile> NewLogicalRandomAccessFile(
    std::shared_ptr<Log> log, uint64_t handle, const std::string& path);

// A directory whose Fsync also runs `sync_logs` (Log::SyncAll of the logs
// holding logical files of that directory), so that creates, renames and
// deletes of logical files become durable as those of real files do.
std::unique_ptr<rocksdb::FSDirectory> NewSegWalDirectory(
    std::unique_ptr<rocksdb::FSDirectory> base,
    std::function<rocksdb::IOStatus()> sync_logs);

}  // namespace segwal
