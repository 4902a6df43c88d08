// What a RocksDB secondary instance's catch-up costs, stock RocksDB against
// segwal, while its primary writes.
//
// Each run: a primary (this process) fills a DB's WAL with --writes Puts
// (no flush: the WAL holds them all), then writes synced Puts (sync=true,
// one thread, as fast as the disk allows) while a secondary in another
// process (this program again, --role=secondary) opens with
// DB::OpenAsSecondary and calls TryCatchUpWithPrimary every
// --interval_ms for --seconds, timing each call. Runs alternate stock
// (the default FileSystem) and segwal (the same DB options with the WAL in
// a segwal log), --runs pairs, interleaved, so that both sides see the same
// machine. It prints each run's median, p99 and max catch-up time and, at
// the end, the median over runs of each side and the segwal/stock ratios
// (the median of the per-pair ratios).
//
// Usage: secondary_catchup_bench [--dir=DIR] [--writes=300000] [--runs=3]
//   [--seconds=10] [--interval_ms=20] [--value_size=100] [--write_rate=0]
//   [--segwal_options="sync_mode=group"]
// --write_rate caps the primary's synced Puts per second, so that both
// sides catch up on as many writes (by default each primary writes as fast
// as its WAL syncs).
#include <gflags/gflags.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/options.h"

DEFINE_string(dir, "/tmp/secondary_catchup_bench",
              "Working directory (each run's DB is made anew beneath it)");
DEFINE_int64(writes, 300000, "Puts in the WAL before the measurement");
DEFINE_int32(runs, 3, "Pairs of runs (stock, segwal), interleaved");
DEFINE_int32(seconds, 10, "Measured seconds per run");
DEFINE_int32(interval_ms, 20, "The secondary catches up this often");
DEFINE_int32(value_size, 100, "Bytes per value");
DEFINE_int32(write_rate, 0,
             "The primary's synced Puts per second (0: as fast as it can)");
DEFINE_string(segwal_options, "",
              "segwal options for the segwal side (after id=segwal;)");
DEFINE_string(role, "", "Internal: 'secondary' for the child process");
DEFINE_string(side, "", "Internal: the child's side, stock or segwal");
DEFINE_string(db, "", "Internal: the child's primary DB");
DEFINE_int32(report_fd, -1, "Internal: where the child reports");

namespace {

using Clock = std::chrono::steady_clock;

std::string Key(uint64_t i) {
  char buf[32];
  snprintf(buf, sizeof(buf), "key%016" PRIu64, i);
  return buf;
}

// The Env of a side: the default one, or a segwal one (registered by the
// segwal library linked into this program).
std::unique_ptr<rocksdb::Env> SideEnv(const std::string& side) {
  if (side != "segwal") return nullptr;
  rocksdb::ConfigOptions config;
  config.ignore_unsupported_options = false;
  std::shared_ptr<rocksdb::FileSystem> fs;
  std::string spec = "id=segwal";
  if (!FLAGS_segwal_options.empty()) spec += ";" + FLAGS_segwal_options;
  rocksdb::Status s = rocksdb::FileSystem::CreateFromString(config, spec, &fs);
  if (!s.ok() || fs == nullptr) {
    fprintf(stderr, "segwal FileSystem %s: %s\n", spec.c_str(),
            s.ToString().c_str());
    exit(1);
  }
  return rocksdb::NewCompositeEnv(fs);
}

rocksdb::Options BaseOptions(rocksdb::Env* env) {
  rocksdb::Options options;
  if (env != nullptr) options.env = env;
  options.create_if_missing = true;
  // Nothing is flushed: the WAL holds every write.
  options.write_buffer_size = 1ull << 30;
  options.max_total_wal_size = 4ull << 30;
  return options;
}

struct Stats {
  size_t calls = 0;
  double median_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
};

Stats Summarize(std::vector<double> ms) {
  Stats s;
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  s.calls = ms.size();
  s.median_ms = ms[ms.size() / 2];
  s.p99_ms = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  s.max_ms = ms.back();
  double sum = 0;
  for (double v : ms) sum += v;
  s.mean_ms = sum / ms.size();
  return s;
}

// ---- The secondary (child) --------------------------------------------------

int RunSecondary() {
  std::unique_ptr<rocksdb::Env> env = SideEnv(FLAGS_side);
  rocksdb::Options options = BaseOptions(env.get());
  options.max_open_files = -1;  // required of a secondary instance
  rocksdb::DB* raw = nullptr;
  const auto open_start = Clock::now();
  rocksdb::Status s = rocksdb::DB::OpenAsSecondary(
      options, FLAGS_db, FLAGS_db + ".secondary", &raw);
  if (!s.ok()) {
    fprintf(stderr, "secondary: open: %s\n", s.ToString().c_str());
    return 2;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  const double open_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - open_start)
          .count();
  s = db->TryCatchUpWithPrimary();
  if (!s.ok()) {
    fprintf(stderr, "secondary: catch-up: %s\n", s.ToString().c_str());
    return 3;
  }
  const uint64_t seq_start = db->GetLatestSequenceNumber();
  if (write(FLAGS_report_fd, "r", 1) != 1) return 4;  // the primary writes now

  std::vector<double> ms;
  const auto end = Clock::now() + std::chrono::seconds(FLAGS_seconds);
  auto next = Clock::now();
  while (Clock::now() < end) {
    next += std::chrono::milliseconds(FLAGS_interval_ms);
    const auto t0 = Clock::now();
    s = db->TryCatchUpWithPrimary();
    ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!s.ok()) {
      fprintf(stderr, "secondary: catch-up: %s\n", s.ToString().c_str());
      return 5;
    }
    std::this_thread::sleep_until(next);
  }
  const uint64_t seq_end = db->GetLatestSequenceNumber();
  const Stats st = Summarize(ms);
  char line[256];
  const int n = snprintf(line, sizeof(line),
                         "%zu %.4f %.4f %.4f %.4f %.1f %" PRIu64 "\n", st.calls,
                         st.median_ms, st.p99_ms, st.max_ms, st.mean_ms,
                         open_ms, seq_end - seq_start);
  if (write(FLAGS_report_fd, line, n) != n) return 6;
  return 0;
}

// ---- The primary (parent) ---------------------------------------------------

struct RunResult {
  Stats stats;
  double open_ms = 0;
  uint64_t seen = 0;       // sequence numbers the secondary caught up on
  double writes_per_s = 0;  // the primary's synced Puts
};

bool ReadLine(int fd, std::string* out, int timeout_ms) {
  out->clear();
  char c;
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    const int ready = poll(&p, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready != 1) return false;
    const ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n != 1) return false;
    out->push_back(c);
    if (c == '\n' || *out == "r") return true;
  }
}

void RemoveRun(const std::string& db_path, const rocksdb::Options& options) {
  rocksdb::DestroyDB(db_path, options).PermitUncheckedError();
  std::error_code ignored;
  std::filesystem::remove_all(db_path, ignored);
  std::filesystem::remove_all(db_path + ".secondary", ignored);
}

RunResult RunOnce(const std::string& side, int run, const char* self) {
  const std::string db_path = FLAGS_dir + "/" + side + "-" +
                              std::to_string(run);
  std::unique_ptr<rocksdb::Env> env = SideEnv(side);
  rocksdb::Options options = BaseOptions(env.get());
  RemoveRun(db_path, options);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, db_path, &raw);
  if (!s.ok()) {
    fprintf(stderr, "primary: open: %s\n", s.ToString().c_str());
    exit(1);
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  const std::string value(FLAGS_value_size, 'v');
  rocksdb::WriteOptions unsynced;
  uint64_t next_key = 0;
  for (; next_key < static_cast<uint64_t>(FLAGS_writes); ++next_key) {
    s = db->Put(unsynced, Key(next_key), value);
    if (!s.ok()) {
      fprintf(stderr, "primary: fill: %s\n", s.ToString().c_str());
      exit(1);
    }
  }
  s = db->FlushWAL(/*sync=*/true);
  if (!s.ok()) exit(1);

  int report[2];
  if (pipe(report) != 0) exit(1);
  const std::string a_role = "--role=secondary";
  const std::string a_side = "--side=" + side;
  const std::string a_db = "--db=" + db_path;
  const std::string a_fd = "--report_fd=" + std::to_string(report[1]);
  const std::string a_seconds = "--seconds=" + std::to_string(FLAGS_seconds);
  const std::string a_interval =
      "--interval_ms=" + std::to_string(FLAGS_interval_ms);
  const std::string a_opts = "--segwal_options=" + FLAGS_segwal_options;
  const char* argv[] = {self,           a_role.c_str(),     a_side.c_str(),
                        a_db.c_str(),   a_fd.c_str(),       a_seconds.c_str(),
                        a_interval.c_str(), a_opts.c_str(), nullptr};
  const pid_t child = fork();
  if (child == 0) {
    close(report[0]);
    execv("/proc/self/exe", const_cast<char**>(argv));
    _exit(127);
  }
  close(report[1]);
  std::string line;
  if (!ReadLine(report[0], &line, 600000) || line != "r") {
    fprintf(stderr, "secondary failed to open\n");
    exit(1);
  }

  // Synced writes until the secondary reports.
  std::atomic<bool> stop{false};
  uint64_t synced_writes = 0;
  const auto write_start = Clock::now();
  std::thread writer([&] {
    rocksdb::WriteOptions synced;
    synced.sync = true;
    auto due = Clock::now();
    const auto gap = std::chrono::nanoseconds(
        FLAGS_write_rate > 0 ? 1000000000 / FLAGS_write_rate : 0);
    while (!stop.load(std::memory_order_relaxed)) {
      if (FLAGS_write_rate > 0) {
        due += gap;
        std::this_thread::sleep_until(due);
      }
      rocksdb::Status ws = db->Put(synced, Key(next_key++), value);
      if (!ws.ok()) {
        fprintf(stderr, "primary: put: %s\n", ws.ToString().c_str());
        exit(1);
      }
      ++synced_writes;
    }
  });
  const bool reported = ReadLine(report[0], &line, 600000);
  stop = true;
  writer.join();
  const double write_seconds =
      std::chrono::duration<double>(Clock::now() - write_start).count();
  int status = 0;
  waitpid(child, &status, 0);
  close(report[0]);
  if (!reported || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "secondary failed (status %d)\n", status);
    exit(1);
  }
  RunResult r;
  if (sscanf(line.c_str(), "%zu %lf %lf %lf %lf %lf %" SCNu64, &r.stats.calls,
             &r.stats.median_ms, &r.stats.p99_ms, &r.stats.max_ms,
             &r.stats.mean_ms, &r.open_ms, &r.seen) != 7) {
    fprintf(stderr, "bad report: %s\n", line.c_str());
    exit(1);
  }
  r.writes_per_s = synced_writes / write_seconds;
  db->Close().PermitUncheckedError();
  db.reset();
  RemoveRun(db_path, options);
  return r;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void Print(const char* side, int run, const RunResult& r) {
  printf("run %d %-6s catch-ups=%zu median=%.3f ms p99=%.3f ms max=%.3f ms "
         "mean=%.3f ms | secondary open %.0f ms, caught up on %" PRIu64
         " writes; primary %.0f synced writes/s\n",
         run, side, r.stats.calls, r.stats.median_ms, r.stats.p99_ms,
         r.stats.max_ms, r.stats.mean_ms, r.open_ms, r.seen, r.writes_per_s);
  fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "TryCatchUpWithPrimary latency, stock RocksDB vs segwal, while the "
      "primary writes");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_role == "secondary") return RunSecondary();
  std::filesystem::create_directories(FLAGS_dir);
  printf("secondary catch-up: %" PRId64 " writes in the WAL, a catch-up "
         "every %d ms for %d s per run, %d run pairs, primary write rate %s\n",
         FLAGS_writes, FLAGS_interval_ms, FLAGS_seconds, FLAGS_runs,
         FLAGS_write_rate > 0 ? std::to_string(FLAGS_write_rate).c_str()
                              : "unlimited");
  std::vector<double> stock_median, stock_p99, segwal_median, segwal_p99;
  std::vector<double> ratio_median, ratio_p99;
  for (int run = 1; run <= FLAGS_runs; ++run) {
    // Alternate which side goes first.
    const bool stock_first = run % 2 == 1;
    RunResult stock, segwal;
    for (int i = 0; i < 2; ++i) {
      if ((i == 0) == stock_first) {
        stock = RunOnce("stock", run, argv[0]);
        Print("stock", run, stock);
      } else {
        segwal = RunOnce("segwal", run, argv[0]);
        Print("segwal", run, segwal);
      }
    }
    stock_median.push_back(stock.stats.median_ms);
    stock_p99.push_back(stock.stats.p99_ms);
    segwal_median.push_back(segwal.stats.median_ms);
    segwal_p99.push_back(segwal.stats.p99_ms);
    ratio_median.push_back(segwal.stats.median_ms / stock.stats.median_ms);
    ratio_p99.push_back(segwal.stats.p99_ms / stock.stats.p99_ms);
  }
  printf("\nmedian over runs   stock: median %.3f ms, p99 %.3f ms\n",
         Median(stock_median), Median(stock_p99));
  printf("median over runs  segwal: median %.3f ms, p99 %.3f ms\n",
         Median(segwal_median), Median(segwal_p99));
  printf("segwal/stock (median of per-pair ratios): median %.2f, p99 %.2f\n",
         Median(ratio_median), Median(ratio_p99));
  return 0;
}
