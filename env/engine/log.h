// The segmented log engine: logical files stored as frames in fixed-size
// segments of one directory.
//
// Durability contract (see README "Durability"):
//  - Append hands the bytes to the OS before it returns: a killed process
//    loses nothing appended.
//  - Sync(file) returns once every byte appended to that file (and every
//    namespace change before it: the log is one sequence) is durable, for
//    sync modes always and group; interval makes them durable within
//    sync_interval_ms; none never makes anything durable.
//  - A failed write or fdatasync is sticky: it is returned by that call, by
//    every waiter of the same group, and by every later write or sync.
//
// Group commit (sync mode group, env/engine/log_sync.cc): the first syncer to find
// no fdatasync in flight leads; others queue as followers. The leader may
// wait up to group_commit_window_us for more syncers, but only while other
// writers are active, and acknowledges at most group_commit_max_batch
// requests (itself included) with one fdatasync.
//
// Space: a segment whose bytes all belong to deleted files is reclaimed (kept
// for recycling or removed). When live files pin old segments, their live
// bytes are copied forward, so the log holds at most
// 2 * ceil(live bytes / segment capacity) + 3 segments, except for bytes of
// deleted files that are still open for reading.
//
// Thread-safe. One Log per directory per process (Open takes a lock file;
// other processes get a read-only view, see Open).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "env/engine/file_table.h"
#include "env/stats/log_metrics.h"
#include "env/engine/log_options.h"
#include "env/stats/log_stats.h"
#include "env/storage/serial_sync.h"
#include "env/storage/storage.h"
#include "env/engine/wake_event.h"

namespace segwal {

struct ScanResult;

// Per-reader cache of the segment bytes and decoded frame last used, so that
// sequential reads do not re-read or re-verify a frame for every call.
// Owned by one reader; not thread-safe.
struct ReadCache {
  uint64_t segment_id = 0;
  uint64_t window_start = 0;
  std::string window;          // segment bytes [window_start, +size)
  uint64_t frame_segment = 0;  // the frame whose payload is in `decoded`
  uint64_t frame_offset = 0;
  bool has_frame = false;
  std::string decoded;
};

class Log {
 public:
  // Opens the log in `dir` (created if missing) and scans what is there:
  // the files as recovery finds them are readable at once, and nothing in
  // the directory changes until the first change (a namespace change, a
  // write, a sync, housekeeping). That one first applies what recovery
  // decided: segments it gave up on set aside, the old head made durable
  // and sealed where its valid frames end (so the torn tail it cut can
  // never be mistaken for data later), a new segment started, repairs
  // written; then the LOG file and the background threads start. Readers
  // (ldb, a read-only DB) thus leave no trace. If that step fails, the
  // change that asked for it and every later one return its error.
  //
  // If another process holds the log's lock, opens a read-only view
  // instead: the files as that process had written them when the scan ran
  // (a torn tail is what it was still writing), readable, never updated;
  // every change (and Sync) returns an error naming the lock. Bytes the
  // writer reclaims and recycles meanwhile read as Corruption. Nothing is
  // written to the directory, not even the LOG file.
  static IOStatus Open(Storage* storage, const std::string& dir,
                       const LogOptions& options, std::unique_ptr<Log>* log,
                       RecoveryInfo* info);
  // The read-only view Open falls back to, whoever holds the lock (never
  // taken); `info` may be null.
  static IOStatus OpenView(Storage* storage, const std::string& dir,
                           const LogOptions& options, std::unique_ptr<Log>* log,
                           RecoveryInfo* info);
  // A view does not grow. For file `id` open in this view: a fresh view of
  // the directory with a handle on the same file open in it (the writer
  // may have appended since); NotFound if the file was deleted or replaced.
  IOStatus ReopenView(uint64_t id, std::unique_ptr<Log>* fresh);
  // Removes an empty log (no logical files) and its directory.
  static IOStatus Destroy(Storage* storage, const std::string& dir);

  ~Log();

  // Namespace. Names are opaque to the log. Create replaces a file of the
  // same name, Rename replaces the target, as POSIX does.
  IOStatus Create(const std::string& name, uint64_t* id);
  IOStatus Rename(const std::string& from, const std::string& to);
  // With only_id != 0, deletes `name` only while it is still that logical
  // file; else does nothing and returns OK.
  IOStatus Delete(const std::string& name, uint64_t only_id = 0);
  // `to` becomes a new file holding `from`'s bytes as they are now.
  IOStatus Link(const std::string& from, const std::string& to);
  bool Lookup(const std::string& name, FileInfo* info);
  std::vector<FileInfo> List();

  // An open handle keeps a deleted file readable until it is closed.
  IOStatus OpenHandle(const std::string& name, uint64_t* id);
  void CloseHandle(uint64_t id);

  // Data.
  IOStatus Append(uint64_t id, const Slice& data);
  // Writes at `offset` (at most the current size; the bytes replace what
  // was there).
  IOStatus WriteAt(uint64_t id, uint64_t offset, const Slice& data);
  IOStatus Truncate(uint64_t id, uint64_t size);
  // Reads up to n bytes at offset; *read < n only at the end of the file.
  IOStatus Read(uint64_t id, uint64_t offset, size_t n, char* scratch,
                size_t* read, ReadCache* cache);
  uint64_t Size(uint64_t id);

  // Durability, as the sync mode says (see above).
  IOStatus Sync(uint64_t id);
  // Makes everything written so far durable whatever the sync mode, except
  // none (namespace changes made durable by a directory fsync).
  IOStatus SyncAll();

  // Reclaims dead segments and relocates live bytes that pin old ones, now
  // (the background housekeeper does the same unless
  // background_housekeeping is off).
  IOStatus Housekeep();

  const std::string& dir() const { return dir_; }
  // Opened while another process held the lock (see Open).
  bool read_only() const { return read_only_; }
  const LogOptions& options() const { return options_; }
  // Best effort: appends lines to the LOG file of the log directory.
  void InfoLogWrite(const std::string& text);
  LogStats GetStats();

 private:
  struct Segment {
    uint64_t id = 0;
    uint64_t size = 0;
    uint32_t seed = 0;
    uint64_t end = 0;  // where the next frame goes (head) or frames end
    uint64_t writeback_end = 0;  // StartWriteback was asked up to here
    bool recycled = false;  // prepared from a reclaimed segment file
    bool zero_filled = false;  // created and zero-filled
    std::shared_ptr<StorageFile> file;
    // Every fdatasync of the segment once it is shared (head or sealed).
    SerialSync syncs;
  };
  // A data payload ready to be framed: compressed when that helps, else a
  // view of the caller's bytes (valid while they are: no copy on the hot
  // path).
  struct EncodedChunk {
    Codec codec = Codec::kNone;
    Slice raw;
    std::string compressed;  // when codec != kNone
    uint32_t raw_len() const { return static_cast<uint32_t>(raw.size()); }
    Slice stored() const {
      return codec == Codec::kNone ? raw : Slice(compressed);
    }
  };

  Log(Storage* storage, std::string dir, const LogOptions& options);
  // Scans the directory: the table, segments and LSNs as recovery found
  // them; what it decided to change waits in pending_recovery_.
  IOStatus Recover(RecoveryInfo* info);
  // Called first by every change: applies pending_recovery_ once (see
  // Open). Cheap once done (one atomic load).
  IOStatus EnsureWritable();
  IOStatus ApplyRecovery();
  void StartThreads();
  // Splits `data` into frame-sized chunks; they refer to `data`.
  std::vector<EncodedChunk> EncodeData(const Slice& data) const;

  // All *Locked methods need mu_ held; those taking the lock may release
  // it while they wait or do I/O.
  IOStatus EnsureRoomLocked(std::unique_lock<std::mutex>& lock,
                            uint64_t footprint);
  IOStatus WriteFrameLocked(FrameHeader header, const Slice& payload);
  // Offset in the head up to which its frames are durable.
  uint64_t HeadDurableOffsetLocked() const;
  void MaybeStartWritebackLocked();
  // Writes one data frame (kData or kRelocatedData) of `chunk` at `offset`
  // of file `id` (as WriteFrameLocked: room ensured, the write valid for
  // the table).
  IOStatus WriteChunkLocked(FrameType type, uint64_t id, uint64_t offset,
                            const EncodedChunk& chunk);
  IOStatus WriteDataLocked(std::unique_lock<std::mutex>& lock, uint64_t id,
                           uint64_t offset,
                           const std::vector<EncodedChunk>& chunks);
  // Writes zeros over [start, end) of a file (at most its size at start).
  IOStatus WriteZerosLocked(std::unique_lock<std::mutex>& lock, uint64_t id,
                            uint64_t start, uint64_t end);
  IOStatus RotateLocked(std::unique_lock<std::mutex>& lock);
  bool HeadHalfFullLocked() const;
  IOStatus StartSegmentLocked(std::shared_ptr<Segment> next);
  uint64_t PopFreeSegmentLocked();
  // Prepares the next segment into prepared_, with mu_ released meanwhile
  // (preparing_ set: one preparer at a time).
  IOStatus PrepareNextLocked(std::unique_lock<std::mutex>& lock);
  bool ChooseZeroFillLocked();
  // Needs no lock; recycles free segment `recycle_from` if non-zero, else
  // creates the file, fallocated and zero-filled if `zero_fill` (or if the
  // file system cannot fallocate).
  IOStatus PrepareSegment(uint64_t id, uint64_t recycle_from, bool zero_fill,
                          std::shared_ptr<Segment>* segment);
  // Who needs a sync: the sync mode decides what a caller's Sync (kFile) or
  // SyncAll (kAll) does, never what the engine needs for its own
  // consistency (kEngine).
  enum class SyncFor { kFile, kAll, kEngine };
  IOStatus SyncToLocked(std::unique_lock<std::mutex>& lock, uint64_t target,
                        SyncFor why);
  // A follower of a sync group, on its own stack while it waits. Each
  // follower is woken by its own signal, only when its round is decided
  // (acknowledged, failed, or handed leadership): no herd of followers
  // wakes on every round to find it is still not theirs.
  struct SyncWaiter {
    uint64_t target = 0;
    // Set with mu_ held before the signal.
    bool done = false;  // acknowledged by a leader, with `status`
    bool lead = false;  // handed leadership of the next round
    IOStatus status;
    // Followers acknowledged by the same round that this one signals on
    // waking (a tree), so that a leader wakes only the first.
    SyncWaiter* wakes[2] = {nullptr, nullptr};
    WakeEvent wake;  // set once the round is decided
  };
  class SyncLeadership;  // RAII: leadership for one round, then handed on
  IOStatus GroupSyncLocked(std::unique_lock<std::mutex>& lock,
                           uint64_t target, SyncFor why);
  // The leader's optional wait for more syncers (commit_delay).
  void WaitForGroupLocked(std::unique_lock<std::mutex>& lock);
  // One fdatasync of the head (a batch), covering everything written
  // before it started (*upto). Returns with mu_ held, error_ on failure.
  IOStatus SyncHeadLocked(std::unique_lock<std::mutex>& lock, uint64_t* upto,
                          uint64_t* took_us);
  // Records a sync batch that acknowledged `requests` sync requests.
  void RecordSyncBatchLocked(uint64_t requests, uint64_t took_us);
  void SetErrorLocked(const IOStatus& s);
  // Opens the LOG file and writes the options and the recovery summary.
  void OpenInfoLog(const RecoveryInfo& info);
  void MaybeDumpStatsLocked(std::unique_lock<std::mutex>& lock);
  // True if this Append/WriteAt is one that append_timing_interval times;
  // then *start_us is now.
  bool StartAppendTiming(uint64_t* start_us);
  void RecordWriteLocked(uint64_t id, uint64_t bytes, bool timed,
                         uint64_t start_us);
  LogicalFile* WritableFileLocked(uint64_t id, IOStatus* s);
  static IOStatus CheckName(const std::string& name);
  IOStatus NoFile(const std::string& name) const;

  void HousekeeperLoop();
  void IntervalSyncLoop();
  IOStatus HousekeepLocked(std::unique_lock<std::mutex>& lock);
  IOStatus ReclaimLocked(std::unique_lock<std::mutex>& lock);
  IOStatus RelocateLocked(std::unique_lock<std::mutex>& lock);
  // A run of a file's bytes within one frame (or a hole), as a Read
  // resolved it.
  struct ReadPiece {
    Extent extent;
    uint64_t skip_into = 0;  // bytes of the run before the requested start
    size_t len = 0;
    std::shared_ptr<Segment> segment;  // none for a hole
    uint64_t valid_end = 0;
  };
  IOStatus ResolveReadLocked(uint64_t id, uint64_t offset, size_t n,
                             std::vector<ReadPiece>* pieces,
                             std::string* file_name);
  IOStatus ReadFramePayload(const Extent& extent, const Segment& segment,
                            uint64_t valid_end, ReadCache* cache,
                            const std::string& file_name);

  std::string PathOf(const std::string& name) const { return dir_ + "/" + name; }

  Storage* const storage_;
  const std::string dir_;
  const LogOptions options_;
  const uint32_t max_frame_payload_;
  std::unique_ptr<StorageLock> dir_lock_;  // null when read_only_
  // Opened while another process held the lock: a snapshot for reading,
  // error_ set from the start (see Open).
  bool read_only_ = false;
  // Set once ApplyRecovery succeeded; writable_mu_ serializes the attempt,
  // whose failure stays in error_.
  std::atomic<bool> writable_{false};
  std::mutex writable_mu_;
  std::unique_ptr<ScanResult> pending_recovery_;  // until writable_
  RecoveryInfo recovered_info_;                   // for the LOG file

  std::mutex mu_;
  // Separate condition variables (and a signal per sync follower) so that
  // the hot path wakes only the threads a change concerns, never the
  // background threads: one spurious wake-up per sync costs a context
  // switch and a contended mu_ on every synced write.
  std::condition_variable prepare_cv_;  // a segment being prepared is ready
  std::condition_variable housekeeper_cv_;  // reclaimable work; shutdown
  IOStatus error_;              // sticky
  FileTable table_;
  uint64_t log_uid_ = 0;
  std::map<uint64_t, std::shared_ptr<Segment>> segments_;  // ascending
  std::shared_ptr<Segment> head_;
  std::shared_ptr<Segment> prepared_;
  std::vector<uint64_t> free_segments_;  // reclaimed files awaiting reuse
  uint64_t next_segment_id_ = 1;
  uint64_t written_lsn_ = 0;  // (segment id << 32) | offset
  uint64_t durable_lsn_ = 0;
  // A leader holds leadership (or it was handed to a follower not yet
  // running).
  bool sync_in_progress_ = false;
  std::deque<SyncWaiter*> sync_queue_;  // followers, oldest first
  std::vector<SyncWaiter*> acknowledged_;  // a leader's, reused per round
  std::condition_variable group_cv_;    // a follower joined (wakes the leader)
  // Logical files appended since the last sync batch started, and in the
  // round before: the writers a leader's window may wait for (two rounds,
  // because writers acknowledged by the last batch append again while the
  // next one is being gathered).
  std::unordered_set<uint64_t> active_files_;
  std::unordered_set<uint64_t> previous_active_files_;
  bool preparing_ = false;  // a segment is being prepared outside mu_
  // kAuto's last decision and the counters when it was made.
  bool made_first_choice_ = false;
  bool zero_fill_choice_ = false;
  uint64_t choice_sync_batches_ = 0;
  uint64_t choice_frame_bytes_ = 0;
  bool stop_ = false;
  std::string frame_buffer_;  // reused by WriteFrameLocked
  std::atomic<uint64_t> appends_started_{0};  // picks the timed appends
  LogStats stats_;

  std::mutex info_mu_;  // the LOG file; never taken with mu_ held
  std::unique_ptr<InfoLog> info_log_;
  uint64_t next_stats_dump_us_ = 0;  // housekeeper thread only

  std::thread housekeeper_;
  std::thread interval_syncer_;
};

}  // namespace segwal
