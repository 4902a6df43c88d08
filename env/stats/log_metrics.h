// A Log's statistics for people and monitoring systems: Prometheus text
// exposition, human-readable blocks for the LOG file of a log directory,
// and that LOG file itself.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "env/engine/log_options.h"
#include "env/stats/log_stats.h"
#include "env/storage/storage.h"

namespace segwal {

// Prometheus text exposition format (version 0.0.4) of `stats`, every
// sample labelled log_dir="<log_dir>": counters end in _total, gauges are
// plain, latencies are summaries in seconds (quantiles 0.5, 0.9, 0.99,
// 0.999 and 1 = max, with _sum and _count).
std::string FormatPrometheus(const LogStats& stats, const std::string& log_dir);

// The periodic block for the LOG file: a few lines "segwal stats ...".
std::string FormatStatsDump(const LogStats& stats);

// One line summing up a recovery: segments scanned, frames, valid bytes,
// bytes scanned, bytes cut, elapsed time and scan throughput (GiB/s).
std::string FormatRecoverySummary(const RecoveryInfo& info);

// The warning written when a log opens with sync_mode=none.
extern const char kSyncModeNoneWarning[];

// An append-only text file (the LOG of a log directory) written through a
// Storage. Each line gets a UTC timestamp. Not synced: it is informational.
// Not thread-safe.
class InfoLog {
 public:
  static constexpr char kFileName[] = "LOG";
  static IOStatus Open(Storage* storage, const std::string& path,
                       std::unique_ptr<InfoLog>* log);
  // Writes every line of `text` (a final newline is added if missing).
  IOStatus Write(const std::string& text);

 private:
  std::unique_ptr<StorageFile> file_;
  uint64_t size_ = 0;
};

}  // namespace segwal
