#include "env/engine/log_options.h"

#include <zstd.h>

#include <vector>

#include "env/format/codec.h"

namespace segwal {
namespace {

using rocksdb::Status;

constexpr SyncMode kSyncModes[] = {SyncMode::kAlways, SyncMode::kGroup,
                                   SyncMode::kInterval, SyncMode::kNone};
constexpr Codec kCodecs[] = {Codec::kNone, Codec::kLz4Group,
                             Codec::kZstdGroup};
constexpr Preallocation kPreallocations[] = {
    Preallocation::kAuto, Preallocation::kZero, Preallocation::kFallocate};
constexpr RecoveryMode kRecoveryModes[] = {
    RecoveryMode::kTolerateCorruptedTailRecords,
    RecoveryMode::kAbsoluteConsistency, RecoveryMode::kPointInTimeRecovery,
    RecoveryMode::kSkipAnyCorruptedRecords};

constexpr uint64_t kSegmentSizeMultiple = 4096;
constexpr uint64_t kMinSyncIntervalMs = 1;
constexpr uint64_t kMaxSyncIntervalMs = 60000;
constexpr uint64_t kMaxGroupCommitWindowUs = 100000;
constexpr uint64_t kMaxRecycleSegments = 1024;
constexpr uint64_t kMaxStatsDumpPeriodSec = 7 * 24 * 3600;
constexpr uint64_t kMaxAppendTimingInterval = 65536;
constexpr uint64_t kMaxMetricsPeriodSec = 24 * 3600;
// LZ4_compress_fast clamps its acceleration to LZ4_ACCELERATION_MAX, which
// lz4.h documents as 65537 but does not export.
constexpr int kMaxLz4Acceleration = 65537;

Status BadValue(const std::string& name, const std::string& value,
                const std::string& allowed) {
  return Status::InvalidArgument("segwal option " + name + "=" + value + ": " +
                                 allowed);
}

// An enum field set in code (not parsed) to a value without a name.
template <typename T, size_t N>
Status CheckEnum(const char* option, T value, const T (&values)[N],
                 const char* (*name_of)(T)) {
  std::string names;
  for (T v : values) {
    if (v == value) return Status::OK();
    names += (names.empty() ? "" : ", ") + std::string(name_of(v));
  }
  return BadValue(option, std::to_string(static_cast<int>(value)),
                  "must be one of " + names);
}

Status CheckCompressionLevel(Codec codec, int level) {
  int min_level = 0;
  int max_level = 0;
  std::string meaning;
  switch (codec) {
    case Codec::kNone:
      meaning = "with compression=none the level must be 0";
      break;
    case Codec::kLz4Group:
      max_level = kMaxLz4Acceleration;
      meaning = "with compression=lz4 the level is LZ4's acceleration, from 0 "
                "(default, 2) to " + std::to_string(max_level);
      break;
    case Codec::kZstdGroup:
      min_level = ZSTD_minCLevel();
      max_level = ZSTD_maxCLevel();
      meaning = "with compression=zstd the level must be from " +
                std::to_string(min_level) + " to " +
                std::to_string(max_level) + " (0: default, 1)";
      break;
    default:
      return BadValue("compression", CodecName(codec),
                      "must be one of none, lz4, zstd");
  }
  if (level < min_level || level > max_level) {
    return BadValue("compression_level", std::to_string(level), meaning);
  }
  return Status::OK();
}

Status CheckMetricsFile(const std::string& path) {
  if (path.empty()) return Status::OK();
  const std::string suffix = ".prom";
  if (path[0] != '/' || path.size() <= suffix.size() ||
      path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return BadValue("metrics_file", path,
                    "must be empty or an absolute path ending in .prom "
                    "(node_exporter's textfile collector reads *.prom)");
  }
  size_t placeholders = 0;
  for (size_t i = path.find('%'); i != std::string::npos;
       i = path.find('%', i + 1)) {
    if (i + 1 >= path.size() || path[i + 1] != 's' || ++placeholders > 1) {
      return BadValue("metrics_file", path,
                      "'%' may appear only once, as %s (the log directory, "
                      "escaped)");
    }
  }
  return Status::OK();
}

}  // namespace

const char* SyncModeName(SyncMode mode) {
  switch (mode) {
    case SyncMode::kAlways: return "always";
    case SyncMode::kGroup: return "group";
    case SyncMode::kInterval: return "interval";
    case SyncMode::kNone: return "none";
  }
  return "unknown";
}

const char* PreallocationName(Preallocation p) {
  switch (p) {
    case Preallocation::kAuto: return "auto";
    case Preallocation::kZero: return "zero";
    case Preallocation::kFallocate: return "fallocate";
  }
  return "unknown";
}

bool ParseSyncMode(const std::string& name, SyncMode* mode) {
  for (SyncMode m : kSyncModes) {
    if (name == SyncModeName(m)) {
      *mode = m;
      return true;
    }
  }
  return false;
}

Status ValidateLogOptions(const LogOptions& o) {
  if (o.segment_size % kSegmentSizeMultiple != 0 ||
      o.segment_size < kMinSegmentSize || o.segment_size > kMaxSegmentSize) {
    return BadValue("segment_size", std::to_string(o.segment_size),
                    "must be a multiple of 4096 from " +
                        std::to_string(kMinSegmentSize) + " (64K) to " +
                        std::to_string(kMaxSegmentSize) + " (4G)");
  }
  Status s = CheckEnum("sync_mode", o.sync_mode, kSyncModes, SyncModeName);
  if (!s.ok()) return s;
  if (o.sync_interval_ms < kMinSyncIntervalMs ||
      o.sync_interval_ms > kMaxSyncIntervalMs) {
    return BadValue("sync_interval_ms", std::to_string(o.sync_interval_ms),
                    "must be from " + std::to_string(kMinSyncIntervalMs) +
                        " to " + std::to_string(kMaxSyncIntervalMs) +
                        " (milliseconds)");
  }
  if (o.group_commit_window_us > kMaxGroupCommitWindowUs) {
    return BadValue("group_commit_window_us",
                    std::to_string(o.group_commit_window_us),
                    "must be at most " +
                        std::to_string(kMaxGroupCommitWindowUs) +
                        " (microseconds; 0 = do not wait)");
  }
  s = CheckEnum("compression", o.compression, kCodecs, CodecName);
  if (!s.ok()) return s;
  s = CheckCompressionLevel(o.compression, o.compression_level);
  if (!s.ok()) return s;
  if (o.compression_group_bytes > kMaxGroupRawBytes) {
    return BadValue("compression_group_bytes",
                    std::to_string(o.compression_group_bytes),
                    "must be at most " + std::to_string(kMaxGroupRawBytes) +
                        " (1M; 0 = every frame compressed alone)");
  }
  s = CheckEnum("recovery_mode", o.recovery_mode, kRecoveryModes,
                RecoveryModeName);
  if (!s.ok()) return s;
  s = CheckEnum("preallocate", o.preallocate, kPreallocations,
                PreallocationName);
  if (!s.ok()) return s;
  if (o.recycle_segments > kMaxRecycleSegments) {
    return BadValue("recycle_segments", std::to_string(o.recycle_segments),
                    "must be at most " + std::to_string(kMaxRecycleSegments));
  }
  if (o.stats_dump_period_sec > kMaxStatsDumpPeriodSec) {
    return BadValue("stats_dump_period_sec",
                    std::to_string(o.stats_dump_period_sec),
                    "must be at most " +
                        std::to_string(kMaxStatsDumpPeriodSec) +
                        " (seconds, one week; 0 = never)");
  }
  if (o.append_timing_interval < 1 ||
      o.append_timing_interval > kMaxAppendTimingInterval) {
    return BadValue("append_timing_interval",
                    std::to_string(o.append_timing_interval),
                    "must be from 1 (time every Append) to " +
                        std::to_string(kMaxAppendTimingInterval));
  }
  s = CheckMetricsFile(o.metrics_file);
  if (!s.ok()) return s;
  if (o.metrics_period_sec < 1 || o.metrics_period_sec > kMaxMetricsPeriodSec) {
    return BadValue("metrics_period_sec", std::to_string(o.metrics_period_sec),
                    "must be from 1 to " +
                        std::to_string(kMaxMetricsPeriodSec) +
                        " (seconds, one day)");
  }
  return Status::OK();
}

}  // namespace segwal
