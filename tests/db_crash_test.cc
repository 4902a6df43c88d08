// A writer process killed with SIGKILL at a random moment loses no write
// RocksDB acknowledged, synced or not: segwal hands every flushed WAL byte
// to the OS before Append returns.
//
// The parent runs this binary again as the writer (DbCrashTest.ChildWriter,
// which skips unless SEGWAL_CRASH_DIR is set): a fresh process, so no
// thread pool or lock of the parent leaks into it. The writer reports each
// acknowledged key through a pipe.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "env/fs/segwal_fs.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/segwal_test_util.h"

namespace segwal {
namespace {

constexpr char kDirVar[] = "SEGWAL_CRASH_DIR";
constexpr char kFdVar[] = "SEGWAL_CRASH_FD";
constexpr char kStartVar[] = "SEGWAL_CRASH_START";
constexpr char kSyncEveryVar[] = "SEGWAL_CRASH_SYNC_EVERY";

std::string Key(uint64_t i) {
  char buf[32];
  snprintf(buf, sizeof(buf), "key%012llu", static_cast<unsigned long long>(i));
  return buf;
}

std::string Value(uint64_t i) {
  return std::to_string(i * 7919) + std::string(64 + i % 200, 'a' + i % 26);
}

rocksdb::Options WriterOptions(rocksdb::Env* env) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.env = env;
  // Small memtables: WAL switches and flushes happen while writing.
  options.write_buffer_size = 256 << 10;
  return options;
}

// The writer: runs until killed.
TEST(DbCrashTest, ChildWriter) {
  const char* dir = getenv(kDirVar);
  if (dir == nullptr) GTEST_SKIP() << "only run by KillMidWrite";
  const int fd = atoi(getenv(kFdVar));
  uint64_t i = strtoull(getenv(kStartVar), nullptr, 10);
  const uint64_t sync_every = strtoull(getenv(kSyncEveryVar), nullptr, 10);
  auto fs = std::make_shared<SegWalFileSystem>(rocksdb::FileSystem::Default(),
                                               test::SmallSegments());
  auto env = NewSegWalEnv(fs);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(WriterOptions(env.get()), dir, &raw);
  if (!s.ok()) {
    fprintf(stderr, "writer: open failed: %s\n", s.ToString().c_str());
    _exit(2);
  }
  for (;; ++i) {
    rocksdb::WriteOptions wo;
    // Mostly unsynced runs, so a kill often lands between syncs.
    wo.sync = (i % sync_every) == 0;
    s = raw->Put(wo, Key(i), Value(i));
    if (!s.ok()) {
      fprintf(stderr, "writer: put failed: %s\n", s.ToString().c_str());
      _exit(3);
    }
    const std::string ack = std::to_string(i) + "\n";
    if (write(fd, ack.data(), ack.size()) != static_cast<ssize_t>(ack.size())) {
      _exit(4);
    }
  }
}

// Starts the writer; returns its pid and the read end of its ack pipe.
pid_t StartWriter(const std::string& dir, uint64_t start, uint64_t sync_every,
                  int* read_fd) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  // Set here, inherited: the child may only make async-signal-safe calls
  // before exec (setenv allocates).
  setenv(kDirVar, dir.c_str(), 1);
  setenv(kFdVar, std::to_string(fds[1]).c_str(), 1);
  setenv(kStartVar, std::to_string(start).c_str(), 1);
  setenv(kSyncEveryVar, std::to_string(sync_every).c_str(), 1);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
    const char* argv[] = {"db_crash_test",
                          "--gtest_filter=DbCrashTest.ChildWriter", nullptr};
    execv("/proc/self/exe", const_cast<char**>(argv));
    _exit(127);
  }
  for (const char* var : {kDirVar, kFdVar, kStartVar, kSyncEveryVar}) {
    unsetenv(var);
  }
  close(fds[1]);
  *read_fd = fds[0];
  return pid;
}

// Reads acks until `deadline`, or until EOF; appends to *buffer.
void ReadAcks(int fd, std::chrono::steady_clock::time_point deadline,
              std::string* buffer) {
  char chunk[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    const ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n <= 0) return;
    buffer->append(chunk, static_cast<size_t>(n));
  }
}

// Kills the writer three times at random moments, syncing every
// `sync_every` writes, and checks every acknowledged write after each.
void KillMidWrite(uint64_t sync_every) {
  test::TempDir tmp;
  const std::string dir = tmp / "db";
  std::random_device device;
  const unsigned seed = device();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  uint64_t next = 0;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int fd = -1;
    const pid_t pid = StartWriter(dir, next, sync_every, &fd);
    ASSERT_GT(pid, 0);
    // Wait for the first ack (the DB is open), then kill at a random moment.
    std::string acks;
    const auto start = std::chrono::steady_clock::now();
    while (acks.empty() &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(30)) {
      ReadAcks(fd, std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(10),
               &acks);
    }
    ASSERT_FALSE(acks.empty()) << "the writer never acknowledged a write";
    const int delay_ms = std::uniform_int_distribution<int>(100, 1200)(rng);
    ReadAcks(fd, std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(delay_ms),
             &acks);
    ASSERT_EQ(0, kill(pid, SIGKILL));
    int status = 0;
    ASSERT_EQ(pid, waitpid(pid, &status, 0));
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer exited by itself, status "
                                     << status;
    // Acks written before the kill are still in the pipe.
    ReadAcks(fd, std::chrono::steady_clock::now() + std::chrono::seconds(5),
             &acks);
    close(fd);

    std::vector<uint64_t> acked;
    size_t pos = 0;
    for (size_t nl; (nl = acks.find('\n', pos)) != std::string::npos;
         pos = nl + 1) {
      acked.push_back(std::stoull(acks.substr(pos, nl - pos)));
    }
    ASSERT_FALSE(acked.empty());
    EXPECT_EQ(next, acked.front());
    EXPECT_EQ(acked.back() - acked.front() + 1, acked.size());

    // Reopen in this process (a fresh FileSystem) and check every
    // acknowledged write.
    auto fs = std::make_shared<SegWalFileSystem>(
        rocksdb::FileSystem::Default(), test::SmallSegments());
    auto env = NewSegWalEnv(fs);
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(WriterOptions(env.get()), dir, &raw);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::unique_ptr<rocksdb::DB> db(raw);
    uint64_t missing = 0;
    for (uint64_t i = 0; i <= acked.back(); ++i) {
      std::string v;
      if (!db->Get(rocksdb::ReadOptions(), Key(i), &v).ok() || v != Value(i)) {
        if (missing++ < 5) ADD_FAILURE() << "acknowledged key " << i << " lost";
      }
    }
    EXPECT_EQ(0u, missing) << "of " << acked.back() + 1 << " acknowledged";
    EXPECT_TRUE(test::PlainWalsWithData(dir).empty());
    ASSERT_TRUE(db->Close().ok());
    printf("round %d: killed after %d ms, %zu writes acknowledged, %llu in "
           "the DB so far\n",
           round, delay_ms, acked.size(),
           static_cast<unsigned long long>(acked.back() + 1));
    next = acked.back() + 1;
    // db, env and fs go here: the next writer takes the log's lock.
  }
}

TEST(DbCrashTest, KillMidWriteKeepsAcknowledgedWrites) { KillMidWrite(256); }

// Hardly ever synced: the writer stores frames through the head's mapping
// (MappedWriteTest checks that it does), whose bytes are the file's at
// once, so a kill loses none of them either.
TEST(DbCrashTest, KillMidMappedWritesKeepsAcknowledgedWrites) {
  KillMidWrite(1 << 30);
}

}  // namespace
}  // namespace segwal
