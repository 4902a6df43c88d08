// The few file operations the log engine needs, behind an interface so that
// tests can put an in-memory, crash-simulating store beneath the engine
// (tests/support/mem_storage.h) and the engine itself stays free of RocksDB's
// FileSystem.
//
// All methods are thread-safe. Errors are IOStatus values whose message names
// the path; ENOSPC is reported as IOStatus::NoSpace.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rocksdb/io_status.h"

namespace segwal {

using rocksdb::IOStatus;

class StorageFile {
 public:
  virtual ~StorageFile() = default;
  // Reads up to n bytes at offset into scratch; *read < n only at end of file.
  virtual IOStatus Read(uint64_t offset, size_t n, char* scratch,
                        size_t* read) = 0;
  // Writes all n bytes at offset (the bytes reach the OS: a killed process
  // loses nothing written).
  virtual IOStatus Write(uint64_t offset, const char* data, size_t n) = 0;
  // Makes every written byte and the file size durable (fdatasync).
  virtual IOStatus Sync() = 0;
  // A hint: start writing [offset, offset + n) back to the disk without
  // waiting (sync_file_range with SYNC_FILE_RANGE_WRITE only), so that a
  // later Sync has less to wait for. Durability still needs Sync; a
  // writeback error is left for Sync to report (no wait, so nothing
  // consumes it here).
  virtual void StartWriteback(uint64_t /*offset*/, uint64_t /*n*/) {}
  // Reserves blocks for [offset, offset + n) and makes the file at least
  // offset + n bytes long, the new bytes reading as zeros (fallocate
  // without KEEP_SIZE; the new size is durable after Sync). NotSupported
  // where the file system cannot reserve blocks: the caller then writes
  // the zeros itself.
  virtual IOStatus Allocate(uint64_t offset, uint64_t n) = 0;
  virtual IOStatus Truncate(uint64_t size) = 0;
  // Maps [0, n) of the file shared and writable (n at most its size): a
  // byte stored there is the file's at once, as if written by Write (a
  // killed process loses nothing), and Sync makes it durable. Stores go
  // through GuardedCopy (env/storage/guarded_copy.h) into pages faulted in
  // with Prefault, never past the file's size. The mapping lives until
  // Unmap or the file's destruction. NotSupported where files are not
  // mapped: the caller writes with Write.
  virtual IOStatus Map(uint64_t /*n*/, char** /*address*/) {
    return IOStatus::NotSupported("segwal storage: no mapped files");
  }
  // Faults in [offset, offset + n) of the mapping for writing, ahead of
  // the stores, so that they fault no more; an error (no memory, an I/O
  // error) is returned here, not raised as a signal. `offset` is
  // page-aligned.
  virtual IOStatus Prefault(uint64_t /*offset*/, uint64_t /*n*/) {
    return IOStatus::NotSupported("segwal storage: no mapped files");
  }
  // The caller stores nothing more through the mapping below `end`: the
  // whole pages there may be unmapped, so that writing them back does not
  // have to write-protect them in this process first (a hint: the bytes
  // stay the file's).
  virtual void UnmapStoredBelow(uint64_t /*end*/) {}
  virtual void Unmap() {}
  virtual IOStatus Size(uint64_t* size) = 0;
};

// Held while a log directory is open; released on destruction.
class StorageLock {
 public:
  virtual ~StorageLock() = default;
};

class Storage {
 public:
  virtual ~Storage() = default;
  virtual IOStatus CreateDirIfMissing(const std::string& dir) = 0;
  // Base names of the entries in dir (no "." or "..").
  virtual IOStatus ListDir(const std::string& dir,
                           std::vector<std::string>* names) = 0;
  virtual IOStatus OpenFile(const std::string& path, bool create,
                            std::unique_ptr<StorageFile>* file) = 0;
  virtual IOStatus FileExists(const std::string& path) = 0;
  // Atomic replacement of `to`, as rename(2).
  virtual IOStatus Rename(const std::string& from, const std::string& to) = 0;
  virtual IOStatus Remove(const std::string& path) = 0;
  virtual IOStatus RemoveDir(const std::string& dir) = 0;
  // Makes creates, renames and removes in dir durable.
  virtual IOStatus SyncDir(const std::string& dir) = 0;
  // Exclusive lock on `path` (created if missing) against other processes
  // and other Lock calls: Busy if another process holds it, IOError if this
  // process does (each naming the path).
  virtual IOStatus Lock(const std::string& path,
                        std::unique_ptr<StorageLock>* lock) = 0;
};

// The process-wide POSIX storage.
Storage* PosixStorage();

}  // namespace segwal
