// The metrics file of a log (options metrics_file, metrics_period_sec): the
// log's Prometheus text exposition (FormatPrometheus), rewritten by the
// housekeeper every metrics_period_sec and once more when the log closes, so
// that node_exporter's textfile collector (or any scraper of files) sees a
// process that never exposes a port, one that loaded segwal by LD_PRELOAD
// included.
//
// Each write goes to "<path>.tmp", which is then renamed over the path: a
// reader sees the old file or the new one, never half of one. No fsync: the
// file describes a running process. Best effort: a failure is written once
// to the LOG file (and again after a success) and never fails the log.
//
// The path is metrics_file with "%s" replaced by the log directory escaped
// as `systemd-escape --path` does ("/data/db/segwal" -> "data-db-segwal"),
// so every log of a process (a log per WAL directory) gets its own file.
// Two logs of one process never share a file: the second to claim a path
// writes none and says why in its LOG.
//
// The LOG line written when the log starts (FormatMetricsFileLine) names the
// file and the process, so that `segwal stats --pid N` finds it.
//
// Thread-safe. Its lock is a leaf: held over the file's own I/O only, never
// while the LOG is written or another lock is taken.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "env/engine/log_options.h"
#include "env/stats/info_log.h"
#include "env/stats/log_stats.h"
#include "env/storage/storage.h"

namespace segwal {

// `systemd-escape --path` of a directory: "/" separators become "-", bytes
// other than [A-Za-z0-9:_.] (and a "." first) become "\xNN".
std::string EscapeLogDir(const std::string& dir);
// The metrics file of the log in `log_dir` for option value `pattern`.
std::string MetricsFilePath(const std::string& pattern,
                            const std::string& log_dir);

// "segwal metrics_file: pid=N period_sec=P path=PATH", the LOG line naming
// the file a process writes; Parse finds it anywhere in a LOG line.
std::string FormatMetricsFileLine(uint64_t pid, uint64_t period_sec,
                                  const std::string& path);
bool ParseMetricsFileLine(const std::string& line, uint64_t* pid,
                          std::string* path);

class MetricsFile {
 public:
  // Nothing happens until Start.
  MetricsFile(Storage* storage, const std::string& log_dir,
              const LogOptions& options, InfoLog* info_log);
  ~MetricsFile();  // releases the path for another log of the process
  MetricsFile(const MetricsFile&) = delete;
  MetricsFile& operator=(const MetricsFile&) = delete;

  // Claims the path (the log has just started writing) and writes the LOG
  // line saying where the metrics go, or why they go nowhere. The first
  // write is due at once.
  void Start(uint64_t now_us);
  bool active();
  // True once per period, when a write is due at `now_us`.
  bool Due(uint64_t now_us);
  // Writes `exposition` over the file.
  void Write(const std::string& exposition);

 private:
  Storage* const storage_;
  InfoLog* const info_log_;
  const std::string path_;  // empty: the option is off
  const uint64_t period_us_;
  std::mutex mu_;
  bool claimed_ = false;
  bool failing_ = false;  // the last write failed (and was logged)
  uint64_t next_us_ = 0;
};

}  // namespace segwal
