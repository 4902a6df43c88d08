// A RocksDB secondary instance in this process follows a primary in another
// process through segwal: the primary holds the log (its lock), so the
// secondary reads read-only views of it, and TryCatchUpWithPrimary sees what
// the primary appended since, also to the WAL the secondary already reads.
//
// The primary is this binary run again (SecondaryTest.ChildPrimary, which
// skips unless SEGWAL_PRIMARY_DIR is set): a fresh process, as a real
// primary would be. It writes a batch of keys, says so on a pipe, and waits
// for a byte on stdin before the next batch.
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "env/engine/log.h"
#include "env/fs/log_registry.h"
#include "env/fs/segwal_fs.h"
#include "env/fs/wal_path.h"
#include "env/storage/storage.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/segwal_test_util.h"

namespace segwal {
namespace {

constexpr char kDirVar[] = "SEGWAL_PRIMARY_DIR";
constexpr char kFdVar[] = "SEGWAL_PRIMARY_FD";
constexpr int kBatch = 100;
constexpr int kBatches = 3;

std::string Key(int i) { return "key" + std::to_string(1000 + i); }
std::string Value(int i) { return "value" + std::to_string(i); }

std::unique_ptr<rocksdb::Env> SegWalEnv() {
  return NewSegWalEnv(std::make_shared<SegWalFileSystem>(
      rocksdb::FileSystem::Default(), SegWalOptions()));
}

// The primary: kBatches batches of synced Puts, one WAL (no flush).
TEST(SecondaryTest, ChildPrimary) {
  const char* dir = getenv(kDirVar);
  if (dir == nullptr) GTEST_SKIP() << "only run by FollowsAPrimaryInAnotherProcess";
  const int fd = atoi(getenv(kFdVar));
  std::unique_ptr<rocksdb::Env> env = SegWalEnv();
  rocksdb::Options options;
  options.create_if_missing = true;
  options.env = env.get();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) {
    fprintf(stderr, "primary: open failed: %s\n", s.ToString().c_str());
    _exit(2);
  }
  rocksdb::WriteOptions synced;
  synced.sync = true;
  for (int batch = 0; batch < kBatches; ++batch) {
    for (int i = batch * kBatch; i < (batch + 1) * kBatch; ++i) {
      s = raw->Put(synced, Key(i), Value(i));
      if (!s.ok()) {
        fprintf(stderr, "primary: put failed: %s\n", s.ToString().c_str());
        _exit(3);
      }
    }
    if (write(fd, "w", 1) != 1) _exit(4);
    char go = 0;
    if (read(STDIN_FILENO, &go, 1) != 1) _exit(5);
  }
  s = raw->Close();
  delete raw;
  _exit(s.ok() ? 0 : 6);
}

// Waits up to 60 s for the primary's byte saying a batch is written.
bool AwaitBatch(int fd) {
  pollfd p{fd, POLLIN, 0};
  char byte = 0;
  return poll(&p, 1, 60000) == 1 && read(fd, &byte, 1) == 1;
}

// The keys the secondary sees, each checked against its value.
int CountKeys(rocksdb::DB* db) {
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions()));
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const int i = std::stoi(it->key().ToString().substr(3)) - 1000;
    EXPECT_EQ(Value(i), it->value().ToString());
    ++n;
  }
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return n;
}

TEST(SecondaryTest, FollowsAPrimaryInAnotherProcess) {
  test::TempDir tmp;
  const std::string db_path = tmp / "db";
  int done[2], go[2];
  ASSERT_EQ(0, pipe(done));
  ASSERT_EQ(0, pipe(go));
  // Set here, inherited: the child may only make async-signal-safe calls
  // before exec (setenv allocates).
  setenv(kDirVar, db_path.c_str(), 1);
  setenv(kFdVar, std::to_string(done[1]).c_str(), 1);
  const pid_t primary = fork();
  if (primary == 0) {
    close(done[0]);
    close(go[1]);
    dup2(go[0], STDIN_FILENO);
    const char* argv[] = {"secondary_test",
                          "--gtest_filter=SecondaryTest.ChildPrimary", nullptr};
    execv("/proc/self/exe", const_cast<char**>(argv));
    _exit(127);
  }
  unsetenv(kDirVar);
  unsetenv(kFdVar);
  ASSERT_GE(primary, 0);
  close(done[1]);
  close(go[0]);
  ASSERT_TRUE(AwaitBatch(done[0])) << "the primary wrote no first batch";

  std::unique_ptr<rocksdb::Env> env = SegWalEnv();
  rocksdb::Options options;
  options.env = env.get();
  options.max_open_files = -1;  // required of a secondary instance
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenAsSecondary(
      options, db_path, tmp / "secondary", &raw);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::unique_ptr<rocksdb::DB> secondary(raw);
  EXPECT_EQ(kBatch, CountKeys(secondary.get()));

  for (int batch = 1; batch < kBatches; ++batch) {
    ASSERT_EQ(1, write(go[1], "g", 1));
    ASSERT_TRUE(AwaitBatch(done[0])) << "the primary wrote no batch " << batch;
    s = secondary->TryCatchUpWithPrimary();
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ((batch + 1) * kBatch, CountKeys(secondary.get()))
        << "after batch " << batch;
  }
  secondary.reset();

  ASSERT_EQ(1, write(go[1], "g", 1));
  int status = 0;
  ASSERT_EQ(primary, waitpid(primary, &status, 0));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  close(done[0]);
  close(go[1]);
  // Everything is there when the DB is opened again, as a primary.
  rocksdb::Options reopen;
  reopen.env = env.get();
  ASSERT_TRUE(rocksdb::DB::Open(reopen, db_path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  EXPECT_EQ(kBatches * kBatch, CountKeys(db.get()));
}

// ---- A primary writing while the secondary catches up ---------------------
//
// SecondaryTest.ChildStreamingPrimary writes keys 0, 1, 2, ... with
// sync=true, one Put at a time, and after each one writes the number of
// keys acknowledged so far (a uint32_t) to the pipe kFdVar names, until a
// byte arrives on stdin. Its log has 64 KiB segments (the secondary follows
// the WAL across many); with kSmallVar set its memtables are 64 KiB too,
// so that it flushes, deletes WALs, and reclaims and recycles segments all
// the time. Before exiting it writes its log's reclaim counts to the file
// kStatsVar names.

constexpr char kSmallVar[] = "SEGWAL_PRIMARY_SMALL";
// 1 KiB values: a 64 KiB memtable holds some 60 keys, a WAL about a
// segment.
std::string StreamValue(int i) { return Value(i) + std::string(1000, 'x'); }
constexpr char kStatsVar[] = "SEGWAL_PRIMARY_STATS";

std::unique_ptr<rocksdb::Env> StreamEnv() {
  SegWalOptions options;
  options.log.segment_size = 64 << 10;
  return NewSegWalEnv(std::make_shared<SegWalFileSystem>(
      rocksdb::FileSystem::Default(), options));
}

TEST(SecondaryTest, ChildStreamingPrimary) {
  const char* dir = getenv(kDirVar);
  if (dir == nullptr) GTEST_SKIP() << "only run by the streaming tests";
  const int fd = atoi(getenv(kFdVar));
  const bool small = getenv(kSmallVar) != nullptr;
  std::unique_ptr<rocksdb::Env> env = StreamEnv();
  rocksdb::Options options;
  options.create_if_missing = true;
  options.env = env.get();
  if (small) options.write_buffer_size = 64 << 10;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) {
    fprintf(stderr, "primary: open failed: %s\n", s.ToString().c_str());
    _exit(2);
  }
  rocksdb::WriteOptions synced;
  synced.sync = true;
  fcntl(STDIN_FILENO, F_SETFL, O_NONBLOCK);
  char stop = 0;
  for (uint32_t i = 0; read(STDIN_FILENO, &stop, 1) != 1; ++i) {
    s = raw->Put(synced, Key(static_cast<int>(i)),
                 StreamValue(static_cast<int>(i)));
    if (!s.ok()) {
      fprintf(stderr, "primary: put failed: %s\n", s.ToString().c_str());
      _exit(3);
    }
    const uint32_t acked = i + 1;
    if (write(fd, &acked, sizeof(acked)) != sizeof(acked)) _exit(4);
  }
  if (const char* stats_path = getenv(kStatsVar)) {
    std::shared_ptr<Log> log;
    s = LogRegistry::Get()->Acquire(PosixStorage(),
                                    NormalizePath(std::string(dir) + "/segwal"),
                                    LogOptions(), &log);
    if (!s.ok()) _exit(5);
    const LogStats stats = log->GetStats();
    log.reset();
    std::ofstream(stats_path) << stats.segments_reclaimed << " "
                              << stats.segments_recycled << "\n";
  }
  s = raw->Close();
  delete raw;
  _exit(s.ok() ? 0 : 6);
}

class StreamingPrimary {
 public:
  // Starts the primary on `db_path`; waits for its first acknowledged key.
  StreamingPrimary(const std::string& db_path, bool small,
                   const std::string& stats_path) {
    int acks[2], go[2];
    EXPECT_EQ(0, pipe(acks));
    EXPECT_EQ(0, pipe(go));
    setenv(kDirVar, db_path.c_str(), 1);
    setenv(kFdVar, std::to_string(acks[1]).c_str(), 1);
    if (small) setenv(kSmallVar, "1", 1);
    setenv(kStatsVar, stats_path.c_str(), 1);
    pid_ = fork();
    if (pid_ == 0) {
      close(acks[0]);
      close(go[1]);
      dup2(go[0], STDIN_FILENO);
      const char* argv[] = {"secondary_test",
                            "--gtest_filter=SecondaryTest.ChildStreamingPrimary",
                            nullptr};
      execv("/proc/self/exe", const_cast<char**>(argv));
      _exit(127);
    }
    unsetenv(kDirVar);
    unsetenv(kFdVar);
    unsetenv(kSmallVar);
    unsetenv(kStatsVar);
    close(acks[1]);
    close(go[0]);
    acks_ = acks[0];
    go_ = go[1];
    pollfd p{acks_, POLLIN, 0};
    EXPECT_EQ(1, poll(&p, 1, 60000)) << "the primary acknowledged nothing";
  }
  ~StreamingPrimary() { Stop(); }

  // The number of keys acknowledged so far (what the pipe holds now).
  uint32_t Acked() {
    uint32_t buf[1024];
    while (acks_ >= 0) {
      pollfd p{acks_, POLLIN, 0};
      if (poll(&p, 1, 0) != 1) return acked_;
      const ssize_t n = read(acks_, buf, sizeof(buf));
      if (n <= 0) return acked_;
      // Whole values only: a read may end inside one.
      pending_.append(reinterpret_cast<const char*>(buf), n);
      const size_t whole = pending_.size() / sizeof(uint32_t);
      if (whole > 0) {
        std::memcpy(&acked_, pending_.data() + (whole - 1) * sizeof(uint32_t),
                    sizeof(uint32_t));
        pending_.erase(0, whole * sizeof(uint32_t));
      }
    }
    return acked_;
  }

  // Stops it; true if it exited cleanly. Acked() is final then.
  bool Stop() {
    if (pid_ <= 0) return exited_ok_;
    EXPECT_EQ(1, write(go_, "s", 1));
    // Drain the acknowledgements so that it never blocks on a full pipe.
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      Acked();
      usleep(1000);
    }
    Acked();
    close(acks_);
    close(go_);
    acks_ = go_ = -1;
    pid_ = -1;
    exited_ok_ = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return exited_ok_;
  }

 private:
  pid_t pid_ = -1;
  int acks_ = -1;
  int go_ = -1;
  uint32_t acked_ = 0;
  std::string pending_;
  bool exited_ok_ = false;
};

// Which of keys [0, n) the secondary shows, each checked against its value;
// returns how many of them, and *total the keys it shows in all.
int VisibleBelow(rocksdb::DB* db, uint32_t n, int* total) {
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions()));
  int below = 0;
  *total = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const int i = std::stoi(it->key().ToString().substr(3)) - 1000;
    EXPECT_TRUE(StreamValue(i) == it->value().ToString()) << "key " << i;
    if (static_cast<uint32_t>(i) < n) ++below;
    ++*total;
  }
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return below;
}

// Runs for 3 s and at least 1500 acknowledged keys (at most 60 s: a busy
// machine writes slowly).
bool Running(std::chrono::steady_clock::time_point start, uint32_t acked) {
  const auto elapsed = std::chrono::steady_clock::now() - start;
  return elapsed < std::chrono::seconds(60) &&
         (elapsed < std::chrono::seconds(3) || acked < 1500);
}

std::unique_ptr<rocksdb::DB> OpenSecondary(rocksdb::Env* env,
                                           const std::string& db_path,
                                           const std::string& secondary_path) {
  rocksdb::Options options;
  options.env = env;
  options.max_open_files = -1;  // required of a secondary instance
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::OpenAsSecondary(options, db_path, secondary_path, &raw);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::unique_ptr<rocksdb::DB>(raw);
}

// The secondary catches up every few milliseconds while the primary writes
// synced keys, one WAL growing across many segments: every key the primary
// had acknowledged before a catch-up is there after it, with its value.
// (How long a catch-up takes is for db_bench_ext/secondary_catchup_bench.)
TEST(SecondaryTest, EveryAcknowledgedKeyIsVisibleAfterACatchUp) {
  test::TempDir tmp;
  const std::string db_path = tmp / "db";
  StreamingPrimary primary(db_path, /*small=*/false, tmp / "stats");
  std::unique_ptr<rocksdb::Env> env = StreamEnv();
  std::unique_ptr<rocksdb::DB> secondary =
      OpenSecondary(env.get(), db_path, tmp / "secondary");
  ASSERT_NE(nullptr, secondary);
  const auto start = std::chrono::steady_clock::now();
  int catch_ups = 0;
  uint32_t acked = 0;
  while (Running(start, acked)) {
    acked = primary.Acked();
    rocksdb::Status s = secondary->TryCatchUpWithPrimary();
    ASSERT_TRUE(s.ok()) << s.ToString();
    int total = 0;
    ASSERT_EQ(static_cast<int>(acked), VisibleBelow(secondary.get(), acked, &total))
        << "after catch-up " << catch_ups << " of " << acked
        << " acknowledged keys";
    ++catch_ups;
    usleep(5000);
  }
  ASSERT_TRUE(primary.Stop()) << "the primary failed";
  ASSERT_TRUE(secondary->TryCatchUpWithPrimary().ok());
  int total = 0;
  acked = primary.Acked();
  EXPECT_EQ(static_cast<int>(acked), VisibleBelow(secondary.get(), acked, &total));
  EXPECT_EQ(static_cast<int>(acked), total);
  EXPECT_GT(catch_ups, 10);
  EXPECT_GT(acked, 100u);
  std::printf("%d catch-ups, %u keys\n", catch_ups, acked);
}

// The same with 64 KiB segments and memtables: the primary flushes and
// deletes WALs, and so reclaims and recycles segments, while the secondary
// reads them. No catch-up fails (a WAL the primary purged is, as with stock
// RocksDB, skipped), no value is wrong, and once the primary stops the
// secondary has every key.
TEST(SecondaryTest, CatchUpsBesideAPrimaryThatReclaimsSegments) {
  test::TempDir tmp;
  const std::string db_path = tmp / "db";
  const std::string stats_path = tmp / "stats";
  StreamingPrimary primary(db_path, /*small=*/true, stats_path);
  std::unique_ptr<rocksdb::Env> env = StreamEnv();
  std::unique_ptr<rocksdb::DB> secondary =
      OpenSecondary(env.get(), db_path, tmp / "secondary");
  ASSERT_NE(nullptr, secondary);
  const auto start = std::chrono::steady_clock::now();
  int catch_ups = 0;
  while (Running(start, primary.Acked())) {
    rocksdb::Status s = secondary->TryCatchUpWithPrimary();
    ASSERT_TRUE(s.ok()) << s.ToString();
    int total = 0;
    VisibleBelow(secondary.get(), 0, &total);
    ++catch_ups;
    usleep(5000);
  }
  ASSERT_TRUE(primary.Stop()) << "the primary failed";
  const uint32_t acked = primary.Acked();
  int below = 0, total = 0;
  for (int i = 0; i < 3 && below < static_cast<int>(acked); ++i) {
    ASSERT_TRUE(secondary->TryCatchUpWithPrimary().ok());
    below = VisibleBelow(secondary.get(), acked, &total);
  }
  EXPECT_EQ(static_cast<int>(acked), below);
  uint64_t reclaimed = 0, recycled = 0;
  std::ifstream(stats_path) >> reclaimed >> recycled;
  EXPECT_GT(reclaimed, 5u) << "the primary reclaimed too little to test";
  EXPECT_GT(recycled, 0u);
  EXPECT_GT(catch_ups, 10);
  std::printf("%d catch-ups, %u keys; the primary reclaimed %llu segments, "
              "recycled %llu\n",
              catch_ups, acked, static_cast<unsigned long long>(reclaimed),
              static_cast<unsigned long long>(recycled));
}

}  // namespace
}  // namespace segwal
