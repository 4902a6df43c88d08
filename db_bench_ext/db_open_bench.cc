// DB::Open time with a large unflushed WAL, stock RocksDB against segwal,
// both in this one process, interleaved.
//
// For each side (stock: the default Env; segwal: --segwal_uri) a DB is
// prepared under --dir/<side>/db: --wal_bytes of Puts (--value_size bytes of
// incompressible values, sync=false, then one synced FlushWAL) into a
// memtable large enough that nothing is flushed, then closed. Every timed
// open uses avoid_flush_during_recovery=true, so the recovered data stays
// in the WAL and the same DB can be reopened round after round, each time
// replaying the whole WAL into the memtable. Each open checks that the
// last key written is there.
//
// Rounds alternate the side order (stock, segwal, segwal, stock, ...); per
// round each cache state in --cache runs for both sides:
//   cold  before the open, every file of that DB (and its log directory)
//         is written back and dropped from the page cache with
//         posix_fadvise(DONTNEED): the open reads from the disk
//   warm  before the open, every such file is read once: the open reads
//         from the page cache
//
// Output: one JSON object per line (db_bench_ext/bench parses them); an
// open's also has open_cpu_ms, the CPU time of the process during it.
//
// Usage: db_open_bench --dir=DIR [--wal_bytes=1073741824]
//   [--value_size=4096] [--compressible] [--rounds=3] [--cache=cold,warm]
//   [--segwal_uri=segwal] [--sides=stock,segwal]
#include <gflags/gflags.h>

#include <time.h>

#include <cinttypes>
#include <map>
#include <random>

#include "db_bench_ext/bench_common.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"

DEFINE_string(dir, "", "work directory (its <side>/ subdirectories are replaced)");
DEFINE_uint64(wal_bytes, 1ull << 30, "bytes of key+value written to the WAL");
DEFINE_uint64(value_size, 4096, "value size of each Put");
DEFINE_bool(compressible, false,
            "values as db_bench's at --compression_ratio=0.5 (pieces of 50 "
            "random printable characters, each twice) instead of random bytes");
DEFINE_int32(rounds, 3, "timed opens per side and cache state");
DEFINE_string(cache, "cold,warm", "cache states, comma-separated: cold, warm");
DEFINE_string(segwal_uri, "segwal", "FileSystem URI of the segwal side");
DEFINE_string(sides, "stock,segwal", "sides, comma-separated: stock, segwal");
DEFINE_bool(prepare, true,
            "write the DBs first; false: time opens of the DBs a previous run "
            "with the same --dir, --wal_bytes and --value_size left");

namespace {

using segwal_bench::Check;
using segwal_bench::Clock;
using segwal_bench::JsonLine;
using segwal_bench::MillisSince;

struct Side {
  std::string name;
  std::string db;
  std::unique_ptr<segwal_bench::SideEnv> env;
};

// CPU time of the whole process (every thread): on a shared machine it
// varies less than the wall time.
double ProcessCpuMillis() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

std::string Key(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%016" PRIu64, i);
  return buf;
}

rocksdb::Options DbOptions(const Side& side) {
  rocksdb::Options options;
  options.env = side.env->env();
  options.create_if_missing = true;
  options.avoid_flush_during_recovery = true;
  options.avoid_flush_during_shutdown = true;
  options.disable_auto_compactions = true;
  // Room for everything written, so neither writing nor recovery flushes.
  options.write_buffer_size = FLAGS_wal_bytes * 2 + (64ull << 20);
  options.max_write_buffer_number = 2;
  options.max_total_wal_size = FLAGS_wal_bytes * 8;
  return options;
}

uint64_t Keys() {
  const uint64_t per_put = FLAGS_value_size + Key(0).size();
  return std::max<uint64_t>(1, FLAGS_wal_bytes / per_put);
}

void Prepare(Side& side) {
  rocksdb::Options options = DbOptions(side);
  rocksdb::DestroyDB(side.db, options).PermitUncheckedError();
  const auto start = Clock::now();
  rocksdb::DB* raw = nullptr;
  Check(rocksdb::DB::Open(options, side.db, &raw), "open " + side.db);
  std::unique_ptr<rocksdb::DB> db(raw);
  std::mt19937_64 rng(42);
  std::string value(FLAGS_value_size, '\0');
  const uint64_t keys = Keys();
  rocksdb::WriteOptions wo;
  for (uint64_t i = 0; i < keys; ++i) {
    if (FLAGS_compressible) {
      for (size_t j = 0; j < value.size(); j += 100) {
        for (size_t k = 0; k < 50 && j + k < value.size(); ++k) {
          value[j + k] = static_cast<char>(' ' + rng() % 95);
          if (j + k + 50 < value.size()) value[j + k + 50] = value[j + k];
        }
      }
    } else {
      for (size_t j = 0; j + 8 <= value.size(); j += 8) {
        const uint64_t r = rng();
        std::memcpy(&value[j], &r, 8);
      }
    }
    Check(db->Put(wo, Key(i), value), "put");
  }
  Check(db->FlushWAL(/*sync=*/true), "FlushWAL");
  db.reset();
  JsonLine()
      .Str("what", "prepare")
      .Str("side", side.name)
      .Str("db", side.db)
      .Int("keys", keys)
      .Int("bytes", keys * (FLAGS_value_size + Key(0).size()))
      .Num("ms", MillisSince(start))
      .Print();
}

void TimedOpen(Side& side, const std::string& cache, int round) {
  const std::vector<std::string> dirs = {side.db};
  uint64_t cache_bytes = 0;
  if (cache == "cold") {
    cache_bytes = segwal_bench::EvictFromCache(dirs);
  } else if (cache == "warm") {
    cache_bytes = segwal_bench::LoadIntoCache(dirs);
  } else {
    segwal_bench::Die("unknown cache state " + cache);
  }
  rocksdb::Options options = DbOptions(side);
  options.create_if_missing = false;
  const double cpu_start = ProcessCpuMillis();
  const auto start = Clock::now();
  rocksdb::DB* raw = nullptr;
  Check(rocksdb::DB::Open(options, side.db, &raw), "reopen " + side.db);
  const double open_ms = MillisSince(start);
  const double open_cpu_ms = ProcessCpuMillis() - cpu_start;
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string got;
  Check(db->Get(rocksdb::ReadOptions(), Key(Keys() - 1), &got),
        side.name + ": the last key written is missing after recovery");
  if (got.size() != FLAGS_value_size) {
    segwal_bench::Die(side.name + ": the last value has the wrong size");
  }
  const auto close_start = Clock::now();
  db.reset();
  JsonLine()
      .Str("what", "open")
      .Str("side", side.name)
      .Str("cache", cache)
      .Int("round", round)
      .Int("cache_bytes", cache_bytes)
      .Num("open_ms", open_ms)
      .Num("open_cpu_ms", open_cpu_ms)
      .Num("close_ms", MillisSince(close_start))
      .Print();
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "DB::Open time with a large unflushed WAL, stock vs segwal");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_dir.empty()) segwal_bench::Die("--dir is required");
  ::mkdir(FLAGS_dir.c_str(), 0755);

  std::vector<Side> sides;
  for (const std::string& name : segwal_bench::SplitComma(FLAGS_sides)) {
    if (name != "stock" && name != "segwal") {
      segwal_bench::Die("unknown side " + name);
    }
    Side side;
    side.name = name;
    const std::string root = FLAGS_dir + "/" + name;
    ::mkdir(root.c_str(), 0755);
    side.db = root + "/db";
    side.env.reset(new segwal_bench::SideEnv(
        name == "segwal" ? FLAGS_segwal_uri : ""));
    sides.push_back(std::move(side));
  }
  if (FLAGS_prepare) {
    for (Side& side : sides) Prepare(side);
  }

  const std::vector<std::string> caches = segwal_bench::SplitComma(FLAGS_cache);
  for (int round = 0; round < FLAGS_rounds; ++round) {
    for (const std::string& cache : caches) {
      for (size_t k = 0; k < sides.size(); ++k) {
        const size_t i = round % 2 == 0 ? k : sides.size() - 1 - k;
        TimedOpen(sides[i], cache, round + 1);
      }
    }
  }
  for (Side& side : sides) {
    const segwal_bench::DiskUsage u = segwal_bench::Usage(side.db);
    JsonLine()
        .Str("what", "usage")
        .Str("side", side.name)
        .Int("allocated", u.allocated)
        .Int("apparent", u.apparent)
        .Int("files", u.files)
        .Print();
  }
  return 0;
}
