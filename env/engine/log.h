// A segmented log: logical files stored as frames in fixed-size segments of
// one directory. This is the interface the RocksDB adapter (env/fs/) and
// the tests use; WritableLog (env/engine/writable_log.h) implements it, a
// facade over the engine's units (catalog, segment writer and preparer,
// durability and group commit, reader, space reclaimer, housekeeper, and
// the follower); docs/architecture.md draws them.
//
// One process at a time writes a log: the one holding the lock file of its
// directory. Opening takes no lock: a log opens for reading, and the
// process takes the lock at the log's first change. Until then another
// process may be writing the log; this one reads it and follows what that
// process writes (LogFollower, env/engine/log_follower.h), and a change
// fails with an error naming the lock while that process holds it.
// docs/read-only-views.md has the details.
//
// Durability contract (docs/group-commit.md has the details):
//  - Append hands the bytes to the OS before it returns: a killed process
//    loses nothing appended.
//  - Sync(file) returns once every byte appended to that file (and every
//    namespace change before it: the log is one sequence) is durable, for
//    sync modes always and group; interval makes them durable within
//    sync_interval_ms; none never syncs for callers.
//  - A failed write or fdatasync is sticky: it is returned by that call, by
//    every waiter of the same group, and by every later write or sync.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "env/engine/catalog.h"
#include "env/engine/decode_ahead.h"
#include "env/engine/log_follower.h"
#include "env/engine/log_options.h"
#include "env/engine/reader.h"
#include "env/recovery/damage.h"
#include "env/recovery/scanner.h"
#include "env/stats/log_stats.h"
#include "env/storage/storage.h"

namespace segwal {

class Log {
 public:
  // Opens the log in `dir` (created if missing) and scans what is there,
  // taking no lock: the files as recovery finds them are readable at once,
  // and nothing in the directory changes until the first change (a
  // namespace change, a write, a sync, housekeeping). That change takes the
  // lock (or fails, naming it, while another process holds it), rescans if
  // another process wrote the log meanwhile, and carries out what recovery
  // decided (env/engine/recovery_apply.h); then the LOG file and the
  // background threads start. Readers (ldb, a read-only DB) thus leave no
  // trace and never keep a writer out. If applying recovery fails, the
  // change that asked for it and every later one return its error.
  // Options are checked first (ValidateLogOptions).
  static IOStatus Open(Storage* storage, const std::string& dir,
                       const LogOptions& options, std::unique_ptr<Log>* log,
                       RecoveryInfo* info);
  // Removes an empty log (no logical files) and its directory.
  static IOStatus Destroy(Storage* storage, const std::string& dir);

  virtual ~Log();

  // Namespace. Names are opaque to the log. Create makes a new file in
  // place of one of the same name (as a new file renamed over it would);
  // Rename replaces the target, as POSIX does.
  virtual IOStatus Create(const std::string& name, uint64_t* id) = 0;
  // As open(2) with O_CREAT | O_TRUNC: an existing file `name` is cut to
  // size 0 and stays the same file (its id, and every handle open on it,
  // stay valid); else a new file is created.
  virtual IOStatus CreateOrTruncate(const std::string& name, uint64_t* id) = 0;
  virtual IOStatus Rename(const std::string& from, const std::string& to) = 0;
  // With only_id != 0, deletes `name` only while it is still that logical
  // file; else does nothing and returns OK.
  virtual IOStatus Delete(const std::string& name, uint64_t only_id = 0) = 0;
  // `to` becomes a new file holding `from`'s bytes as they are now.
  virtual IOStatus Link(const std::string& from, const std::string& to) = 0;
  // While following (see Refresh), these three look at the directory
  // first.
  bool Lookup(const std::string& name, FileInfo* info);
  std::vector<FileInfo> List();

  // An open handle keeps a deleted file readable until it is closed.
  IOStatus OpenHandle(const std::string& name, uint64_t* id);
  virtual void CloseHandle(uint64_t id);

  // Data.
  virtual IOStatus Append(uint64_t id, const Slice& data) = 0;
  // Writes at `offset` (at most the current size; the bytes replace what
  // was there).
  virtual IOStatus WriteAt(uint64_t id, uint64_t offset,
                           const Slice& data) = 0;
  // Sets the file's size. Growing writes zeros into the log, so it is
  // refused (InvalidArgument) past SegmentWriter::kMaxTruncateGrowth at
  // once: RocksDB never grows a WAL this way, and a mistaken size must not
  // fill the disk.
  virtual IOStatus Truncate(uint64_t id, uint64_t size) = 0;
  // Reads up to n bytes at offset; *read < n only at the end of the file.
  IOStatus Read(uint64_t id, uint64_t offset, size_t n, char* scratch,
                size_t* read, ReadCache* cache);
  uint64_t Size(uint64_t id);
  // Decode-ahead for a sequential reader of file `id` (put it in the
  // reader's ReadCache::ahead); destroy it before closing the handle.
  std::unique_ptr<DecodeAhead> NewDecodeAhead(uint64_t id);

  // Durability, as the sync mode says (see above).
  virtual IOStatus Sync(uint64_t id) = 0;
  // Makes everything written so far durable whatever the sync mode, except
  // none (namespace changes made durable by a directory fsync).
  virtual IOStatus SyncAll() = 0;

  // Reclaims dead segments and relocates live bytes that pin old ones, now
  // (the background housekeeper does the same unless
  // background_housekeeping is off).
  virtual IOStatus Housekeep() = 0;

  // Makes this process the log's writer now, as its first change would:
  // takes the lock, rescanning if another process wrote the log since the
  // scan. Fails, naming the LOCK file, while another process holds it.
  virtual IOStatus EnsureWritable() = 0;

  // Following: until its first change this process does not write the
  // log, and another process may. Refresh brings the files up to date with
  // what that process wrote since the last look, reading only what is new
  // (LogFollower). A read that fails meanwhile is retried after one; a
  // sequential reader at the end of a file asks for one. OK and nothing
  // once this process writes the log.
  IOStatus Refresh();
  bool following() const { return follower_.following(); }

  const std::string& dir() const { return dir_; }
  const LogOptions& options() const { return options_; }
  // Best effort: appends lines to the LOG file of the log directory.
  virtual void InfoLogWrite(const std::string& text) = 0;
  virtual LogStats GetStats() = 0;

 protected:
  // The catalog is `scan`'s (its table moved out).
  Log(Storage* storage, std::string dir, const LogOptions& options,
      ScanResult* scan);
  Catalog* catalog() { return &catalog_; }
  Reader* reader() { return &reader_; }
  LogFollower* follower() { return &follower_; }

 private:
  // Refresh, while following; an error leaves the files as they were.
  void Follow();

  const std::string dir_;
  const LogOptions options_;
  Catalog catalog_;
  LogFollower follower_;
  Reader reader_;
};

}  // namespace segwal
