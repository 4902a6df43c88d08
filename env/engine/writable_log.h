// The log: a thin facade over the engine's units, each owning one concern
// and its own lock
// (docs/architecture.md draws them and gives the lock order):
//  - Catalog: the logical files and active segments;
//  - SegmentWriter: frames at the head, rotation;
//  - SegmentPreparer: the next segment, on its own thread; recycling;
//  - Durability and GroupCommit: when a Sync returns;
//  - IntervalSyncer: sync_mode=interval's timer;
//  - Reader: reads and their retry;
//  - SpaceReclaimer: reclaim and relocation;
//  - Housekeeper: the periodic thread (reclaim, LOG statistics);
//  - StickyError: the first failure, kept;
//  - InfoLog: the LOG file; MetricsFile: the Prometheus text file;
//  - LogFollower (in Log): what another process writes, until this one
//    writes.
// Opening only scans, without the lock. The first change takes the lock
// (the directory's LOCK file), rescans if another process wrote the log
// since the scan, applies what recovery decided
// (env/engine/recovery_apply.h), opens the LOG file and starts the threads.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "env/engine/durability.h"
#include "env/engine/housekeeper.h"
#include "env/engine/interval_syncer.h"
#include "env/engine/log.h"
#include "env/engine/log_context.h"
#include "env/engine/payload_encoder.h"
#include "env/engine/segment_preparer.h"
#include "env/engine/segment_writer.h"
#include "env/engine/space_reclaimer.h"
#include "env/engine/sticky_error.h"
#include "env/recovery/scanner.h"
#include "env/stats/info_log.h"
#include "env/stats/metrics_file.h"

namespace segwal {

class WritableLog : public Log {
 public:
  // The log in `dir` as `scan` (made without the lock) found it; see
  // Log::Open.
  WritableLog(Storage* storage, const std::string& dir,
              const LogOptions& options, std::unique_ptr<ScanResult> scan,
              const RecoveryInfo& info);
  ~WritableLog() override;

  IOStatus Create(const std::string& name, uint64_t* id) override;
  IOStatus CreateOrTruncate(const std::string& name, uint64_t* id) override;
  IOStatus Rename(const std::string& from, const std::string& to) override;
  IOStatus Delete(const std::string& name, uint64_t only_id) override;
  IOStatus Link(const std::string& from, const std::string& to) override;
  void CloseHandle(uint64_t id) override;
  IOStatus Append(uint64_t id, const Slice& data) override;
  IOStatus WriteAt(uint64_t id, uint64_t offset, const Slice& data) override;
  IOStatus Truncate(uint64_t id, uint64_t size) override;
  IOStatus Sync(uint64_t id) override;
  IOStatus SyncAll() override;
  IOStatus Housekeep() override;
  // Called first by every change: takes the lock and applies the pending
  // recovery, once (see Log::Open). Cheap once done (one atomic load).
  // While another process holds the lock, fails naming it (and tries again
  // at the next change).
  IOStatus EnsureWritable() override;
  void InfoLogWrite(const std::string& text) override;
  LogStats GetStats() override;

 private:
  void OpenInfoLog();
  // The housekeeper's work: statistics to the LOG when due, reclaiming.
  void HousekeepingTasks();
  // True if this Append/WriteAt is one that append_timing_interval times.
  SegmentWriter::WriteStats StartWrite(size_t bytes);
  static IOStatus CheckName(const std::string& name);
  // Under the writer's lock: makes *frame the create frame of `name` with a
  // new file id, which it returns.
  uint64_t CreateFrame(const std::string& name, FrameHeader* frame,
                       Slice* payload);

  // Fixed from the first change on (the log uid may come from a rescan
  // then); the units keep references to it.
  LogContext context_;
  const IOStatus read_only_error_;  // the lock is another process's
  std::unique_ptr<StorageLock> dir_lock_;  // taken by the first change
  StickyError error_;
  PayloadEncoder encoder_;  // its per-file streams change
  InfoLog info_log_;
  SegmentPreparer preparer_;
  SegmentWriter writer_;
  Durability durability_;
  SpaceReclaimer reclaimer_;
  IntervalSyncer interval_syncer_;
  Housekeeper housekeeper_;

  // Set once the pending recovery is applied; writable_mu_ serialises the
  // attempt, whose failure is the sticky error (not so a lock held by
  // another process). The two below change under writable_mu_ only.
  std::atomic<bool> writable_{false};
  std::mutex writable_mu_;
  std::unique_ptr<ScanResult> pending_recovery_;  // until writable_
  RecoveryInfo recovered_info_;                   // for the LOG file
  std::atomic<uint64_t> appends_started_{0};      // picks the timed writes
  uint64_t next_stats_dump_us_ = 0;               // housekeeper thread only
  MetricsFile metrics_file_;                      // option metrics_file
};

}  // namespace segwal
