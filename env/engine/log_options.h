// Settings of one log and what its recovery found.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "env/format/format.h"

namespace segwal {

// When a Sync returns, and what makes bytes durable.
enum class SyncMode {
  kAlways,    // every Sync issues its own fdatasync
  kGroup,     // concurrent Syncs share one fdatasync (leader/follower)
  kInterval,  // Sync returns once bytes reach the OS; a background fdatasync
              // makes them durable within sync_interval_ms
  kNone,      // never fdatasync: a power loss may lose anything (unsafe)
};

// What recovery does with damage, mirroring RocksDB's WALRecoveryMode.
// A torn tail (damage past every durable point of the newest segment) is
// cut in every mode except kAbsoluteConsistency, where a torn frame of our
// own at the tail is an error too.
enum class RecoveryMode {
  kTolerateCorruptedTailRecords,  // damage before the tail: fail to open
  kAbsoluteConsistency,           // any damage: fail to open
  kPointInTimeRecovery,           // stop at the first damage, keep the prefix
  kSkipAnyCorruptedRecords,       // skip damaged frames, zero-fill their bytes
};

// How a new segment file gets its blocks (recycled segments have them).
enum class Preallocation {
  // Zero-fill when the log sees frequent syncs, else fallocate: see
  // Log::ChooseZeroFillLocked.
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
const char* RecoveryModeName(RecoveryMode mode);
bool ParseRecoveryMode(const std::string& name, RecoveryMode* mode);

struct LogOptions {
  uint64_t segment_size = 64ull << 20;
  SyncMode sync_mode = SyncMode::kGroup;
  uint64_t sync_interval_ms = 100;        // kInterval
  uint64_t group_commit_window_us = 0;    // kGroup: wait for more syncers
  uint64_t group_commit_max_batch = 0;    // kGroup: 0 = unlimited
  Codec compression = Codec::kNone;
  int compression_level = 0;              // 0: the codec's default
  uint64_t compression_min_bytes = 128;   // smaller appends stay raw
  RecoveryMode recovery_mode = RecoveryMode::kTolerateCorruptedTailRecords;
  uint64_t recycle_segments = 4;          // dead segments kept for reuse
  Preallocation preallocate = Preallocation::kAuto;
  // Time one Append/WriteAt in this many for append_latency_us and
  // write_max_us (1: every one). Two reads of a precise clock cost ~0.35 us
  // where the hypervisor traps rdtsc, a third of a cached append; every
  // call is still counted.
  uint64_t append_timing_interval = 16;
  // Seconds between stats blocks appended to the LOG file of the log
  // directory by the housekeeper thread; 0: never (the recovery summary is
  // written at Open either way).
  uint64_t stats_dump_period_sec = 60;
  // Prepare the next segment on a background thread, once the head is half
  // full. Off: prepared inline at rotation (tests that need determinism).
  bool background_prepare = true;
  // Reclaim and relocate segments on a background thread. Off: only
  // Log::Housekeep() does (tests that need determinism).
  bool background_housekeeping = true;
};

// One place where recovery found damage.
struct Damage {
  uint64_t segment_id = 0;
  uint64_t offset = 0;   // segment offset
  uint64_t bytes = 0;    // bytes not replayed because of it (0: unknown)
  std::string reason;
  std::string ToString() const;
};

struct RecoveryInfo {
  uint64_t segments_scanned = 0;
  uint64_t frames = 0;             // valid frames replayed
  uint64_t valid_bytes = 0;        // bytes of valid frames
  uint64_t bytes_scanned = 0;      // bytes read from segments
  uint64_t bytes_cut = 0;          // torn-tail bytes discarded
  uint64_t files = 0;              // logical files after recovery
  uint64_t elapsed_micros = 0;
  bool torn_tail = false;
  std::vector<Damage> damages;     // damage tolerated by the recovery mode
  std::string ToString() const;
};

}  // namespace segwal
