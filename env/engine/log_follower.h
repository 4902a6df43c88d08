// Following a log that another process writes.
//
// A process opens a log without its lock (Log::Open) and reads it; it takes
// the lock only at its first change. Until then another process may write
// the log: the follower keeps this process's catalog up to date with what
// that process writes, the way its own writer would:
//
//  - incrementally: from where the last scan stopped in the newest
//    segment, it reads the frames written since, then any later segments
//    the writer started (each must name its predecessor and where that one
//    ended), and applies each frame to the catalog in log order, with the
//    recovery scan's own frame check (env/recovery/tail_scan.h). A step
//    costs what was written since, not the size of the log. Whatever is not
//    a valid frame yet (the writer is writing it, or it is torn) is where
//    the log ends for now: a follower never judges or repairs anything;
//  - by a full rescan when a step cannot go on: the newest segment it knew
//    was reclaimed, a successor does not chain, a sealed segment ends
//    elsewhere than its successor says, or the catalog refuses a frame.
//    The catalog is then replaced, every open handle kept valid
//    (Catalog::Replace): file ids are stable within a log.
//
// Segments the writer reclaimed leave the catalog; those still holding
// bytes of a file open here (deleted by the writer) stay readable until
// recycled, then such reads report the file deleted (Reader).
//
// At the first change (this process took the lock: no other writes now),
// StopForWriting ends following and tells whether the directory changed
// since the scan the log was opened with: segment and free files come or
// gone, an unused segment started, frames past where the scan ended the
// newest segment, or anything a refresh applied. If so it rescans, and
// recovery is applied to that rescan instead (WritableLog::EnsureWritable).
//
// Thread-safe. Its lock serialises refreshes and is held across their I/O;
// it is taken before the catalog's, and while holding no other but, at the
// first change, WritableLog's (docs/architecture.md, lock order).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "env/engine/catalog.h"
#include "env/engine/segment.h"
#include "env/recovery/recovery_mode.h"
#include "env/recovery/scanner.h"
#include "env/stats/log_stats.h"
#include "env/storage/storage.h"

namespace segwal {

// The catalog's view of a segment a scan kept.
std::shared_ptr<Segment> SegmentFromScan(const ScannedSegment& scanned);

class LogFollower {
 public:
  LogFollower(Storage* storage, std::string dir, RecoveryMode mode,
              Catalog* catalog);

  // The scan the catalog was built from, with the segments made of it (in
  // the catalog); before any other call.
  void Init(const ScanResult& scan,
            const std::vector<std::shared_ptr<Segment>>& segments);

  // False once StopForWriting ran.
  bool following() const { return !stopped_.load(std::memory_order_acquire); }

  // Brings the catalog up to date with what the writing process wrote
  // (see above); OK and nothing once following stopped. An error (a
  // rescan failed: damage, I/O) leaves the catalog as it was.
  IOStatus Refresh();

  // The first change, with the lock held: stops following. If the log
  // changed since it was opened, rescans it as an open would (`mode`),
  // rebuilds the catalog and returns the rescan in *rescan (its table
  // moved into the catalog) and its summary in *info; else *rescan stays
  // null.
  IOStatus StopForWriting(std::unique_ptr<ScanResult>* rescan,
                          RecoveryInfo* info);

  // follow_refreshes, follow_rescans, follow_bytes_read.
  void AddStatsTo(LogStats* stats) const;

 private:
  // What Log::Open's scan saw, for StopForWriting to compare with.
  struct Opened {
    std::set<uint64_t> segment_files;  // every *.seg
    std::set<uint64_t> free_files;     // every *.free
    std::set<uint64_t> inactive;       // *.seg not active: unused, damaged
    uint64_t log_uid = 0;
    std::shared_ptr<Segment> head;     // null: no active segment
    uint64_t head_end = 0;
  };
  // How a segment file past the newest one stands.
  enum class Next { kChained, kNotYet, kUnexpected };

  IOStatus RefreshLocked();
  // One incremental step; *fall_back if it cannot go on.
  IOStatus StepLocked(bool* fall_back);
  // Reads the header of segment file `id` (kept open in next_file_).
  IOStatus ExamineNextLocked(uint64_t id, SegmentHeader* header, Next* next);
  // Rescans the whole log (tried a few times: the writer may reclaim or
  // recycle a segment under the scan) and replaces the catalog.
  IOStatus RescanLocked(int attempts, ScanResult* scan, RecoveryInfo* info);
  IOStatus ChangedSinceOpenLocked(bool* changed);
  void FollowFromLocked(const ScanResult& scan,
                        const std::vector<std::shared_ptr<Segment>>& segments);
  // Opens segment file `id` into *file and decodes its header (*valid:
  // whether it checks out).
  IOStatus ReadSegmentHeader(uint64_t id, std::unique_ptr<StorageFile>* file,
                             SegmentHeader* header, bool* valid);
  IOStatus ListSegmentFiles(std::set<uint64_t>* segments,
                            std::set<uint64_t>* free);
  std::string PathOf(const std::string& name) const {
    return dir_ + "/" + name;
  }

  Storage* const storage_;
  const std::string dir_;
  const RecoveryMode mode_;
  Catalog* const catalog_;

  std::mutex mu_;
  std::atomic<bool> stopped_{false};
  Opened opened_;               // fixed by Init
  bool changed_since_open_ = false;
  // Where following stands.
  uint64_t log_uid_ = 0;
  std::shared_ptr<Segment> head_;  // the newest segment known; null: none
  uint64_t head_created_ = 0;      // its header's time (the files' mtimes)
  // The file past the head, kept open while it waits to be started.
  uint64_t next_id_ = 0;
  std::shared_ptr<StorageFile> next_file_;

  std::atomic<uint64_t> refreshes_{0};
  std::atomic<uint64_t> rescans_{0};
  std::atomic<uint64_t> bytes_read_{0};
};

}  // namespace segwal
