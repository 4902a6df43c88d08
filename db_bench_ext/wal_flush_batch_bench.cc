// WAL-level group-commit benchmark: N writer threads, each appending to and
// syncing its own logical file through segwal::Log on PosixStorage, across
// group-commit wait windows and batch caps. Writes a Markdown report
// (summary table, per-case details, latency histogram) shaped like the
// raft-log flush-batch benchmark's, and prints it.
//
// It also measures the raw fdatasync latency of the same disk (a
// preallocated, overwritten file) and prints the efficiency
//   QPS / (writers / fdatasync latency)
// i.e. the share of the ideal where every fdatasync acknowledges one
// request of every writer.
//
// Usage: wal_flush_batch_bench [--dir=DIR] [--writers=32]
//   [--operations=20000] [--payload-bytes=256] [--wait-us=0,100,1000,2000,5000]
//   [--batch-sizes=0] [--segment-size=67108864] [--output=FILE]
//   [--raw-syncs=200]
// --operations is per case, shared by the writers.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "env/engine/log.h"
#include "env/storage/storage.h"

namespace {

using segwal::Log;
using segwal::LogOptions;
using segwal::LogStats;

using Clock = std::chrono::steady_clock;

struct Options {
  std::string dir = "build/wal_bench";
  int writers = 32;
  uint64_t operations = 20000;
  size_t payload_bytes = 256;
  std::vector<uint64_t> wait_us = {0, 100, 1000, 2000, 5000};
  std::vector<uint64_t> batch_sizes = {0};
  uint64_t segment_size = 64ull << 20;
  std::string output = "build/wal_bench_report.md";
  int raw_syncs = 200;
};

struct CaseResult {
  std::string name;
  uint64_t wait_us = 0;
  uint64_t batch = 0;
  uint64_t operations = 0;
  double elapsed_s = 0;
  std::vector<uint64_t> latency;  // Append + Sync, microseconds, sorted
  LogStats stats;
  uint64_t errors = 0;
};

uint64_t MicrosSince(Clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() -
                                                            start)
          .count());
}

std::vector<uint64_t> ParseList(const std::string& text) {
  std::vector<uint64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(std::strtoull(item.c_str(), nullptr, 10));
  }
  return out;
}

[[noreturn]] void Usage(const std::string& bad) {
  std::fprintf(stderr,
               "unknown or bad argument: %s\n"
               "usage: wal_flush_batch_bench [--dir=DIR] [--writers=N] "
               "[--operations=N] [--payload-bytes=N] [--wait-us=a,b,..] "
               "[--batch-sizes=a,b,..] [--segment-size=BYTES] "
               "[--output=FILE] [--raw-syncs=N]\n",
               bad.c_str());
  std::exit(2);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0) Usage(arg);
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      Usage(arg);
    }
    if (arg == "--dir") {
      o.dir = value;
    } else if (arg == "--writers") {
      o.writers = std::atoi(value.c_str());
    } else if (arg == "--operations") {
      o.operations = std::strtoull(value.c_str(), nullptr, 10);
    } else if (arg == "--payload-bytes") {
      o.payload_bytes = std::strtoull(value.c_str(), nullptr, 10);
    } else if (arg == "--wait-us") {
      o.wait_us = ParseList(value);
    } else if (arg == "--batch-sizes") {
      o.batch_sizes = ParseList(value);
    } else if (arg == "--segment-size") {
      o.segment_size = std::strtoull(value.c_str(), nullptr, 10);
    } else if (arg == "--output") {
      o.output = value;
    } else if (arg == "--raw-syncs") {
      o.raw_syncs = std::atoi(value.c_str());
    } else {
      Usage(arg);
    }
  }
  if (o.writers < 1 || o.operations < 1 || o.wait_us.empty() ||
      o.batch_sizes.empty() || o.raw_syncs < 1) {
    Usage("(a value out of range)");
  }
  return o;
}

void RemoveTree(const std::string& dir) {
  std::vector<std::string> names;
  if (!segwal::PosixStorage()->ListDir(dir, &names).ok()) return;
  for (const std::string& name : names) {
    segwal::PosixStorage()->Remove(dir + "/" + name).PermitUncheckedError();
  }
  segwal::PosixStorage()->RemoveDir(dir).PermitUncheckedError();
}

// The median of `count` fdatasyncs, each after a `bytes` pwrite at the next
// offset of a preallocated, zero-filled (written and synced) file: what
// one group commit costs on this disk at best. Microseconds.
double RawFdatasyncMedianUs(const std::string& dir, int count, size_t bytes) {
  const std::string path = dir + "/raw_fdatasync.dat";
  const size_t file_size = std::max<size_t>(16 << 20, (count + 1) * 4096);
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0644);
  if (fd < 0) {
    std::perror(path.c_str());
    return 0;
  }
  std::string zeros(1 << 20, '\0');
  for (size_t pos = 0; pos < file_size; pos += zeros.size()) {
    if (::pwrite(fd, zeros.data(), zeros.size(), pos) < 0) std::perror("pwrite");
  }
  ::fsync(fd);
  std::string payload(bytes, 'x');
  std::vector<uint64_t> took;
  const int warmup = std::min(20, count);
  for (int i = 0; i < warmup + count; ++i) {
    const auto start = Clock::now();
    if (::pwrite(fd, payload.data(), payload.size(),
                 static_cast<off_t>(i) * bytes) < 0) {
      std::perror("pwrite");
    }
    ::fdatasync(fd);
    if (i >= warmup) took.push_back(MicrosSince(start));
  }
  ::close(fd);
  ::unlink(path.c_str());
  std::sort(took.begin(), took.end());
  return static_cast<double>(took[took.size() / 2]);
}

std::string CaseName(uint64_t wait_us, uint64_t batch) {
  return "wait_" + std::to_string(wait_us) + "us_batch_" +
         std::to_string(batch);
}

CaseResult RunCase(const Options& o, uint64_t wait_us, uint64_t batch) {
  CaseResult r;
  r.name = CaseName(wait_us, batch);
  r.wait_us = wait_us;
  r.batch = batch;
  r.operations = o.operations;
  const std::string dir = o.dir + "/" + r.name;
  RemoveTree(dir);
  LogOptions options;
  options.segment_size = o.segment_size;
  options.sync_mode = segwal::SyncMode::kGroup;
  options.group_commit_window_us = wait_us;
  options.group_commit_max_batch = batch;
  options.stats_dump_period_sec = 0;
  std::unique_ptr<Log> log;
  segwal::IOStatus s =
      Log::Open(segwal::PosixStorage(), dir, options, &log, nullptr);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: open: %s\n", dir.c_str(), s.ToString().c_str());
    std::exit(1);
  }
  std::vector<uint64_t> ids(o.writers);
  for (int t = 0; t < o.writers; ++t) {
    s = log->Create("w" + std::to_string(t) + ".log", &ids[t]);
    if (!s.ok()) {
      std::fprintf(stderr, "create: %s\n", s.ToString().c_str());
      std::exit(1);
    }
  }
  if (!log->SyncAll().ok()) std::exit(1);
  const LogStats before = log->GetStats();

  std::vector<std::vector<uint64_t>> latencies(o.writers);
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<bool> go{false};
  const std::string payload(o.payload_bytes, 'p');
  std::vector<std::thread> threads;
  for (int t = 0; t < o.writers; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      while (next.fetch_add(1) < o.operations) {
        const auto start = Clock::now();
        segwal::IOStatus st = log->Append(ids[t], payload);
        if (st.ok()) st = log->Sync(ids[t]);
        if (!st.ok()) ++errors;
        latencies[t].push_back(MicrosSince(start));
      }
    });
  }
  const auto start = Clock::now();
  go = true;
  for (std::thread& thread : threads) thread.join();
  r.elapsed_s = MicrosSince(start) / 1e6;
  for (const auto& v : latencies) {
    r.latency.insert(r.latency.end(), v.begin(), v.end());
  }
  std::sort(r.latency.begin(), r.latency.end());
  r.stats = log->GetStats();
  r.errors = errors;
  // Counters of the measured phase only (the creates' SyncAll excluded).
  LogStats& m = r.stats;
  m.write_request_count -= before.write_request_count;
  m.write_bytes -= before.write_bytes;
  m.sync_request_count -= before.sync_request_count;
  m.batch_count -= before.batch_count;
  m.sync_batch_count -= before.sync_batch_count;
  m.sync_us -= before.sync_us;
  log.reset();
  RemoveTree(dir);
  return r;
}

double Divide(double a, double b) { return b == 0 ? 0.0 : a / b; }

std::string Fmt(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string Fmt(const char* format, ...) {
  char buf[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof(buf), format, args);
  va_end(args);
  return buf;
}

// Histogram rows with the seed report's bounds (microseconds), exact.
std::vector<std::pair<std::string, uint64_t>> HistogramRows(
    const std::vector<uint64_t>& latencies) {
  static const uint64_t kBounds[] = {100,    250,    500,     1000,   2000,
                                     5000,   10000,  20000,   50000,  100000,
                                     250000, 500000, 1000000};
  constexpr size_t kN = sizeof(kBounds) / sizeof(kBounds[0]);
  std::vector<uint64_t> counts(kN + 1, 0);
  for (uint64_t us : latencies) {
    counts[std::lower_bound(kBounds, kBounds + kN, us) - kBounds]++;
  }
  std::vector<std::pair<std::string, uint64_t>> rows;
  uint64_t lower = 0;
  for (size_t i = 0; i < kN; ++i) {
    rows.emplace_back(std::to_string(lower) + ".." +
                          std::to_string(kBounds[i]) + " us",
                      counts[i]);
    lower = kBounds[i] + 1;
  }
  rows.emplace_back(">" + std::to_string(kBounds[kN - 1]) + " us",
                    counts[kN]);
  return rows;
}

// Nearest-rank percentile of sorted values, as the seed report computes it.
uint64_t Pct(const std::vector<uint64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[static_cast<size_t>(
      static_cast<double>(sorted.size() - 1) * p + 0.5)];
}

double Mean(const std::vector<uint64_t>& v) {
  double sum = 0;
  for (uint64_t x : v) sum += static_cast<double>(x);
  return v.empty() ? 0.0 : sum / v.size();
}

std::string JoinList(const std::vector<uint64_t>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    out += (i ? ", " : "") + std::to_string(v[i]);
  }
  return out + "]";
}

std::string Report(const Options& o, const std::vector<CaseResult>& results,
                   double raw_sync_us) {
  std::string out;
  out += "# WAL Flush Batch Benchmark Report (segwal)\n\n";
  out += Fmt("- Generated at Unix time: %lld\n",
             static_cast<long long>(std::time(nullptr)));
#ifdef NDEBUG
  out += "- Build profile: release (NDEBUG)\n";
#else
  out += "- Build profile: optimized, assertions on\n";
#endif
  out += "- Directory: " + o.dir + "\n";
  out += Fmt("- Writers: %d (each its own logical file)\n", o.writers);
  out += Fmt("- Operations per case: %" PRIu64 "\n", o.operations);
  out += Fmt("- Payload bytes: %zu\n", o.payload_bytes);
  out += "- Wait windows: " + JoinList(o.wait_us) + " us\n";
  out += "- Batch sizes: " + JoinList(o.batch_sizes) + " (0 = unlimited)\n";
  out += Fmt("- Segment size: %" PRIu64 " bytes\n", o.segment_size);
  out += Fmt("- Raw fdatasync latency (median of %d after 20 warm-up, "
             "%zu-byte sequential pwrite on a preallocated zero-filled file; "
             "the smaller of the runs before and after the cases): %.0f us\n",
             o.raw_syncs, o.payload_bytes, raw_sync_us);
  out += Fmt("- Ideal QPS (writers / fdatasync latency): %.0f\n\n",
             Divide(o.writers, raw_sync_us / 1e6));
  out += "## Methodology\n\n";
  out += "- Each case opens a fresh segwal::Log (sync_mode=group) on "
         "PosixStorage in its own directory, creates one logical file per "
         "writer and syncs the creates before timing starts.\n";
  out += "- Each operation is Append(payload) + Sync of the writer's own "
         "file; latency is measured around both calls, so it includes the "
         "group wait window, queueing behind the leader and fdatasync.\n";
  out += "- QPS is operations divided by the wall-clock time of the case.\n";
  out += "- batches = fdatasyncs of the head segment (all causes); sync "
         "batches = fdatasyncs that acknowledged Sync requests; writes/batch "
         "= Appends per batch; max batch = most Sync requests one fdatasync "
         "acknowledged.\n";
  out += "- efficiency = QPS / (writers / raw fdatasync latency).\n";
  out += "- in-run efficiency = QPS / (writers / the case's own average "
         "fdatasync latency): how close the batching comes to every "
         "fdatasync acknowledging one request of every writer, at the "
         "fdatasync latency the case actually saw (CPU contention of the "
         "writer threads included).\n\n";
  out += "## Summary\n\n";
  out += "| case | wait | configured batch | elapsed ms | qps | efficiency | "
         "in-run efficiency | avg us | p50 us | p90 us | p99 us | max us | batches | sync "
         "batches | writes/batch | max batch | sync avg us | sync max us | "
         "group avg us | group max us |\n";
  out += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
         "---:|---:|---:|---:|---:|---:|---:|\n";
  const double ideal = Divide(o.writers, raw_sync_us / 1e6);
  for (const CaseResult& r : results) {
    const LogStats& m = r.stats;
    const double qps = Divide(r.operations, r.elapsed_s);
    const double in_run_ideal =
        Divide(o.writers, Divide(m.sync_us, m.sync_batch_count) / 1e6);
    out += Fmt(
        "| %s | %" PRIu64 "us | %" PRIu64 " | %.2f | %.0f | %.0f%% | %.0f%% | "
        "%.0f | "
        "%" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64
        " | %" PRIu64 " | %.2f | %" PRIu64 " | %.2f | %" PRIu64
        " | %.2f | %" PRIu64 " |\n",
        r.name.c_str(), r.wait_us, r.batch, r.elapsed_s * 1e3, qps,
        100.0 * Divide(qps, ideal), 100.0 * Divide(qps, in_run_ideal),
        Mean(r.latency), Pct(r.latency, 0.5), Pct(r.latency, 0.9),
        Pct(r.latency, 0.99), Pct(r.latency, 1.0), m.batch_count,
        m.sync_batch_count,
        Divide(m.write_request_count, m.batch_count), m.batch_size_max,
        Divide(m.sync_us, m.sync_batch_count), m.sync_max_us,
        Divide(m.group_wait_us, m.group_wait_count), m.group_wait_max_us);
  }
  for (const CaseResult& r : results) {
    const LogStats& m = r.stats;
    out += "\n## " + r.name + "\n\n";
    out += Fmt("- wait: %" PRIu64 "us\n", r.wait_us);
    out += Fmt("- configured batch: %" PRIu64 "\n", r.batch);
    out += Fmt("- operations: %" PRIu64 "\n", r.operations);
    out += Fmt("- payload bytes: %zu\n", o.payload_bytes);
    out += Fmt("- elapsed: %.2f ms\n", r.elapsed_s * 1e3);
    out += Fmt("- errors: %" PRIu64 "\n", r.errors);
    out += Fmt("- write bytes: %" PRIu64 "\n", m.write_bytes);
    out += Fmt("- group waits: %" PRIu64 "\n", m.group_wait_count);
    out += Fmt("- queued wait max: %" PRIu64 " us\n", m.queued_wait_max_us);
    out += Fmt("- write max: %" PRIu64 " us\n", m.write_max_us);
    out += Fmt("- batch max: %" PRIu64 " us\n", m.batch_max_us);
    out += Fmt("- p99.9: %" PRIu64 " us\n\n", Pct(r.latency, 0.999));
    out += "### Append + Sync Latency Histogram\n\n";
    out += "| bucket | count | percent |\n";
    out += "|---:|---:|---:|\n";
    for (const auto& [label, count] : HistogramRows(r.latency)) {
      out += Fmt("| %s | %" PRIu64 " | %.2f%% |\n", label.c_str(), count,
                 100.0 * Divide(count, r.latency.size()));
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  if (!segwal::PosixStorage()->CreateDirIfMissing(o.dir).ok()) {
    std::fprintf(stderr, "cannot create %s\n", o.dir.c_str());
    return 1;
  }
  // Measured before and after the cases (the disk drifts); the smaller
  // median is the one the efficiency is computed against.
  const double raw_before =
      RawFdatasyncMedianUs(o.dir, o.raw_syncs, o.payload_bytes);
  std::fprintf(stderr, "raw fdatasync median (before): %.0f us\n",
               raw_before);
  std::vector<CaseResult> results;
  for (uint64_t batch : o.batch_sizes) {
    for (uint64_t wait : o.wait_us) {
      results.push_back(RunCase(o, wait, batch));
      const CaseResult& r = results.back();
      std::fprintf(stderr, "%s: %.0f qps, p50 %" PRIu64 " us\n",
                   r.name.c_str(), Divide(r.operations, r.elapsed_s),
                   Pct(r.latency, 0.5));
    }
  }
  const double raw_after =
      RawFdatasyncMedianUs(o.dir, o.raw_syncs, o.payload_bytes);
  std::fprintf(stderr, "raw fdatasync median (after): %.0f us\n", raw_after);
  const double raw_us = std::min(raw_before, raw_after);
  const std::string report = Report(o, results, raw_us);
  std::ofstream(o.output) << report;
  std::cout << report;
  const double ideal = Divide(o.writers, raw_us / 1e6);
  for (const CaseResult& r : results) {
    std::printf("efficiency %s: QPS %.0f / (%d writers / %.0f us fdatasync "
                "= %.0f) = %.0f%%\n",
                r.name.c_str(), Divide(r.operations, r.elapsed_s), o.writers,
                raw_us, ideal,
                100.0 * Divide(Divide(r.operations, r.elapsed_s), ideal));
  }
  std::printf("report written to %s\n", o.output.c_str());
  return 0;
}
