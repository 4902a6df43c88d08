// A log's statistics for people and monitoring systems: Prometheus text
// exposition and the human-readable blocks of the LOG file of a log
// directory (env/stats/info_log.h).
#pragma once

#include <cstdint>
#include <string>

#include "env/engine/log_options.h"
#include "env/stats/log_stats.h"
#include "env/recovery/damage.h"

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

// The first lines a log writes to its LOG file: its directory and options.
std::string FormatOptionsLine(const std::string& log_dir,
                              const LogOptions& options);

// The warning written when a log opens with sync_mode=none.
extern const char kSyncModeNoneWarning[];

}  // namespace segwal
