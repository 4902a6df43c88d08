// segwal stats LOG_DIR | --pid=N: a log's metrics in Prometheus text.
#include <cstdio>
#include <fstream>

#include "env/format/file_names.h"
#include "env/fs/wal_path.h"
#include "env/stats/log_metrics.h"
#include "env/stats/metrics_file.h"
#include "tool/command.h"
#include "tool/flags.h"
#include "tool/lock_holder.h"
#include "tool/output.h"
#include "tool/prom_text.h"
#include "tool/report.h"

namespace segwal {
namespace tool {
namespace {

using rocksdb::IOStatus;

// The gauges of the engine's exposition that a scan can give for any log.
const std::vector<std::string> kScanGauges = {
    "segwal_live_bytes", "segwal_active_segments", "segwal_log_bytes",
    "segwal_active_segment_bytes"};

constexpr size_t kMaxMetricsFile = 16 << 20;

// The metrics file process `pid` says (in the log's LOG file) it writes
// for the log in `dir`; empty if none. Lines are read in bounded pieces:
// a LOG file is input from outside too.
std::string MetricsFileOf(const std::string& dir, int64_t pid) {
  constexpr size_t kMaxLine = 64 << 10;
  std::ifstream in(dir + "/" + kInfoLogFileName, std::ios::binary);
  std::string found, line;
  std::string block(kMaxLine, '\0');
  const auto examine = [&] {
    uint64_t line_pid = 0;
    std::string path;
    if (line.find("segwal log ") != std::string::npos &&
        line.find(" opened: ") != std::string::npos) {
      found.clear();  // a new session of the log
    } else if (ParseMetricsFileLine(line, &line_pid, &path) &&
               static_cast<int64_t>(line_pid) == pid) {
      found = path;
    }
    line.clear();
  };
  while (in) {
    in.read(&block[0], static_cast<std::streamsize>(block.size()));
    const size_t got = static_cast<size_t>(in.gcount());
    for (size_t i = 0; i < got; ++i) {
      if (block[i] == '\n') {
        examine();
      } else if (line.size() < kMaxLine) {
        line += block[i];
      }
    }
  }
  if (!line.empty()) examine();
  return found;
}

bool ReadSmallFile(const std::string& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  text->assign(kMaxMetricsFile, '\0');
  in.read(&(*text)[0], static_cast<std::streamsize>(text->size()));
  text->resize(static_cast<size_t>(in.gcount()));
  return true;
}

// The gauges of `dir` from a scan: a log no process is writing, or one
// whose writer publishes no metrics file.
IOStatus ScanGauges(const std::string& dir, PromText* out) {
  ToolScan scan;
  IOStatus s = ScanForTool(dir, RecoveryMode::kTolerateCorruptedTailRecords,
                           ScanPolicy::kKeepGoing, &scan);
  if (!s.ok()) return s;
  const ScanResult& r = scan.result;
  LogStats stats;
  stats.live_bytes = r.table.TotalLiveBytes();
  stats.active_segments = r.segments.size();
  for (const ScannedSegment& seg : r.segments) {
    stats.log_bytes += seg.header.segment_size;
  }
  stats.head_segment_bytes = r.segments.empty() ? 0 : r.segments.back().end;
  out->Add(FormatPrometheus(stats, dir), kScanGauges);
  uint64_t logical = 0;
  const std::vector<FileInfo> files = scan.result.table.List();
  for (const FileInfo& f : files) logical += f.size;
  out->Gauge("segwal_logical_files", "Logical files in the log", dir,
             static_cast<double>(files.size()));
  out->Gauge("segwal_logical_bytes", "Bytes of the logical files", dir,
             static_cast<double>(logical));
  out->Gauge("segwal_free_segments", "Reclaimed segment files kept for reuse",
             dir, static_cast<double>(r.free_segments.size()));
  out->Gauge("segwal_damages", "Problems a full scan finds (segwal verify)",
             dir, static_cast<double>(scan.damages.size()));
  out->Gauge("segwal_torn_tail", "1 if the newest segment ends in a torn frame",
             dir, scan.torn ? 1 : 0);
  return IOStatus::OK();
}

struct Source {
  std::string log_dir;
  int64_t pid = -1;
  std::string metrics_file;  // empty: from a scan
};

IOStatus AddLog(const std::string& dir, int64_t pid, PromText* out,
                Source* source) {
  source->log_dir = dir;
  source->pid = pid;
  if (pid > 0) {
    const std::string path = MetricsFileOf(dir, pid);
    std::string text;
    if (!path.empty() && ReadSmallFile(path, &text)) {
      source->metrics_file = path;
      out->Comment("segwal: " + dir + ": metrics_file " + path +
                   " written by pid " + std::to_string(pid));
      out->Add(text);
      return IOStatus::OK();
    }
    out->Comment("segwal: " + dir + ": no metrics_file of pid " +
                 std::to_string(pid) +
                 " (none named in the LOG, or missing); gauges from a scan "
                 "(the segwal option metrics_file publishes its counters)");
  }
  return ScanGauges(dir, out);
}

int Run(const std::vector<std::string>& args) {
  if ((FLAGS_segwal_pid > 0) == (args.size() == 1)) {
    return Fail("stats", kExitError, "give LOG_DIR or --pid=N (one of them)");
  }
  std::vector<std::string> dirs;
  std::vector<int64_t> pids;
  std::string error;
  if (FLAGS_segwal_pid > 0) {
    IOStatus s = LogDirsOfProcess(FLAGS_segwal_pid, &dirs);
    if (!s.ok()) return Fail("stats", kExitError, s.ToString());
    if (dirs.empty()) {
      return Fail(
          "stats", kExitError,
          "pid " + std::to_string(FLAGS_segwal_pid) + " holds no segwal log");
    }
    pids.assign(dirs.size(), FLAGS_segwal_pid);
  } else {
    const std::string dir = NormalizePath(args[0]);
    if (!IsLogDir(dir, &error)) return Fail("stats", kExitError, error);
    dirs.push_back(dir);
    const LockHolder holder = FindLockHolder(dir + "/" + kLockFileName);
    pids.push_back(holder.held ? holder.pid : -1);
  }
  PromText text;
  Json sources = Json::Array();
  for (size_t i = 0; i < dirs.size(); ++i) {
    Source source;
    IOStatus s = AddLog(dirs[i], pids[i], &text, &source);
    if (!s.ok()) return Fail("stats", kExitError, s.ToString());
    Json o = Json::Object();
    o.Set("log_dir", source.log_dir);
    if (source.pid > 0) o.Set("pid", source.pid);
    o.Set("source", source.metrics_file.empty() ? "scan" : "metrics_file");
    if (!source.metrics_file.empty())
      o.Set("metrics_file", source.metrics_file);
    sources.Push(o);
  }
  if (FLAGS_segwal_json) {
    Json j = text.ToJson();
    j.Set("logs", sources);
    PrintJson(j);
  } else {
    std::fputs(text.str().c_str(), stdout);
  }
  return kExitHealthy;
}

}  // namespace

extern const Command kStatsCommand = {
    "stats",
    "a log's metrics in Prometheus text format",
    "usage: segwal stats LOG_DIR [--json]\n"
    "       segwal stats --pid=N [--json]\n"
    "\n"
    "Prints metrics in Prometheus text exposition format (every sample\n"
    "labelled log_dir), ready for a scraper or node_exporter's textfile\n"
    "collector.\n"
    "\n"
    "A running log's counters (writes, syncs, batches, latencies) live in\n"
    "its process. A process publishes them with the segwal option\n"
    "metrics_file (e.g. \"id=segwal;metrics_file=/var/lib/node_exporter/\n"
    "segwal-%s.prom\"), also under LD_PRELOAD, and notes the file in the\n"
    "log's LOG file. This command prints that file:\n"
    "  --pid=N    every log process N holds (found through /proc/N/fd)\n"
    "  LOG_DIR    the log in LOG_DIR, from the file its holder writes\n"
    "A log no process holds, or whose holder writes no metrics file, gets\n"
    "the gauges a scan can give: live bytes, segments, logical files and\n"
    "bytes, free segments, damage found, torn tail.\n"
    "\n"
    "Exit status: 0 done, 2 usage or I/O error (or pid N holds no log).\n"
    "\n"
    "example: segwal stats --pid=$(pidof my_server)\n",
    {"json", "pid"},
    0,
    1,
    Run,
};

}  // namespace tool
}  // namespace segwal
