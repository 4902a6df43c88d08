// Settings of one log.
#pragma once

#include <cstdint>
#include <string>

#include "env/format/format.h"
#include "env/recovery/recovery_mode.h"
#include "rocksdb/status.h"

namespace segwal {

class Clock;  // env/engine/clock.h

// When a Sync returns, and what makes bytes durable.
enum class SyncMode {
  kAlways,    // every Sync issues its own fdatasync
  kGroup,     // concurrent Syncs share one fdatasync (leader/follower)
  kInterval,  // Sync returns once bytes reach the OS; a background fdatasync
              // makes them durable within sync_interval_ms
  kNone,      // Sync never runs an fdatasync (only sealing and reclaiming
              // segments do): a power loss may lose anything (unsafe)
};

// How a new segment file gets its blocks (recycled segments have them).
enum class Preallocation {
  // Zero-fill when the log sees frequent syncs, else fallocate: see
  // env/engine/zero_fill_policy.h.
  kAuto,
  // Write zeros over the whole segment: no extent conversion is left for
  // the fdatasyncs that follow (the cheapest sync), at the cost of writing
  // the segment twice.
  kZero,
  // fallocate only: nothing written up front; each fdatasync also commits
  // the conversion of the unwritten extents it covers.
  kFallocate,
};

const char* SyncModeName(SyncMode mode);
const char* PreallocationName(Preallocation p);
bool ParseSyncMode(const std::string& name, SyncMode* mode);

struct LogOptions {
  uint64_t segment_size = 64ull << 20;
  SyncMode sync_mode = SyncMode::kGroup;
  uint64_t sync_interval_ms = 100;        // kInterval
  uint64_t group_commit_window_us = 0;    // kGroup: wait for more syncers
  uint64_t group_commit_max_batch = 0;    // kGroup: 0 = unlimited
  Codec compression = Codec::kNone;
  int compression_level = 0;              // 0: the codec's default
  uint64_t compression_min_bytes = 128;   // smaller appends stay raw
  // Decoded bytes of one compression group (appends to one file that
  // learn from each other; 0: every frame alone), at most 1 MiB.
  uint64_t compression_group_bytes = 256 * 1024;
  RecoveryMode recovery_mode = RecoveryMode::kTolerateCorruptedTailRecords;
  uint64_t recycle_segments = 4;          // dead segments kept for reuse
  Preallocation preallocate = Preallocation::kAuto;
  // Time one Append/WriteAt in this many for append_latency_us and
  // write_max_us (1: every one): reading a precise clock twice per call is
  // a noticeable share of a cached append where the hypervisor traps
  // rdtsc. Every call is still counted.
  uint64_t append_timing_interval = 16;
  // Seconds between stats blocks appended to the LOG file of the log
  // directory by the housekeeper thread; 0: never (the recovery summary is
  // written at Open either way).
  uint64_t stats_dump_period_sec = 60;
  // The log's metrics as a Prometheus text file (env/stats/metrics_file.h),
  // rewritten every metrics_period_sec and when the log closes. Empty:
  // none. Else an absolute path ending in ".prom"; "%s" in it stands for
  // the log directory, escaped (one file per log).
  std::string metrics_file;
  uint64_t metrics_period_sec = 10;
  // Prepare the next segment on a background thread, once the head is half
  // full. Off: prepared inline at rotation (tests that need determinism).
  bool background_prepare = true;
  // Reclaim and relocate segments on a background thread. Off: only
  // Log::Housekeep() does (tests that need determinism).
  bool background_housekeeping = true;
  // The clock the log reads (mtimes, periods, windows); null: the
  // system's. Tests put one they advance by hand. Not an option string.
  Clock* clock = nullptr;
};

// Checks every field's range and the fields against one another: the one
// place options are validated (the options string parser, the FileSystem
// and Log::Open all call it). InvalidArgument names the option, the value
// and what is allowed: "segwal option sync_interval_ms=0: must be from 1
// to 60000 (milliseconds)".
rocksdb::Status ValidateLogOptions(const LogOptions& options);

}  // namespace segwal
