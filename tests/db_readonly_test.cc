// Whole-DB tests of readers beside a writer: read-only opens of a DB whose
// log another process holds, of a closed DB, and on a read-only mount.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
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
#include "rocksdb/options.h"
#include "tests/segwal_test_util.h"
#include "tests/support/db_fixture.h"

namespace segwal {
namespace {

using namespace db_test;  // NOLINT: the fixture's names

// Another process holds the DB's log (here: a child that only holds the
// log's lock). A read-only open reads the WAL through a read-only view and
// writes nothing to the log directory; a read-write open fails when RocksDB
// creates its new WAL, saying why; once that process has gone, the same
// FileSystem writes again (it kept no read-only view).
TEST_F(SegWalDbTest, LogHeldByAnotherProcessOpensForReadingOnly) {
  const std::string path = tmp_ / "db";
  const std::string log_dir = path + "/segwal";
  Options options = DbOptions();
  OpenDb(options, path);
  Put(0, 100, "v", true);
  CloseDb();

  const std::string lock_path = log_dir + "/LOCK";
  int ready[2];
  ASSERT_EQ(0, pipe(ready));
  const pid_t holder = fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {  // async-signal-safe calls only (no allocation)
    const int fd = open(lock_path.c_str(), O_RDWR);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) _exit(1);
    if (write(ready[1], "x", 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char byte = 0;
  ASSERT_EQ(1, read(ready[0], &byte, 1)) << "the lock holder failed";
  close(ready[0]);
  ExpectReadOnlyOpenWritesNothing(options, path, log_dir, 100);

  DB* writer = nullptr;
  Status s = DB::Open(options, path, &writer);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.ToString().find("open for reading only"))
      << s.ToString();
  delete writer;

  kill(holder, SIGKILL);
  int status = 0;
  ASSERT_EQ(holder, waitpid(holder, &status, 0));
  OpenDb(options, path);
  ExpectPresent(0, 100, "v");
  Put(100, 110, "v", true);
  CloseDb();
  OpenDb(options, path);
  EXPECT_EQ(110, CountKeys());
}

// ---- Readers in another process -------------------------------------------
//
// The reader is this binary run again (a ReaderChild test, which skips
// unless kDbVar is set): a fresh process, as a monitoring tool would be. It
// reports on the pipe kFdVar names and waits for a byte on stdin.

constexpr char kDbVar[] = "SEGWAL_READER_DB";
constexpr char kFdVar[] = "SEGWAL_READER_FD";

std::unique_ptr<Env> ChildEnv() {
  SegWalOptions options = test::SmallSegments();
  options.log.segment_size = 64 << 10;
  return NewSegWalEnv(
      std::make_shared<SegWalFileSystem>(FileSystem::Default(), options));
}

// Every key the iterator shows has the value the writer gave it (tag "v"
// below kFirstW, else "v" or "w"): the number of keys, or -1 on a wrong
// value or an iterator error (reported on stderr).
constexpr int kFirstW = 100;
int CheckedKeys(DB* db) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ReadOptions()));
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string key = it->key().ToString();
    const int i = std::atoi(key.c_str() + 3);
    const std::string value = it->value().ToString();
    if (key != Key(i) ||
        (value != Value("v", i) && (i < kFirstW || value != Value("w", i)))) {
      fprintf(stderr, "reader: wrong value for %s\n", key.c_str());
      return -1;
    }
    ++n;
  }
  if (!it->status().ok()) {
    fprintf(stderr, "reader: %s\n", it->status().ToString().c_str());
    return -1;
  }
  return n;
}

// Holds the DB open read-only: reads it, says so, waits for the parent (who
// writes meanwhile), reads it again: the same keys and values.
TEST(ReaderChild, HoldsTheDbReadOnly) {
  const char* dir = getenv(kDbVar);
  if (dir == nullptr) GTEST_SKIP() << "run by ReadWriteOpenBesideAReadOnlyProcess";
  const int fd = atoi(getenv(kFdVar));
  std::unique_ptr<Env> env = ChildEnv();
  Options options;
  options.env = env.get();
  DB* raw = nullptr;
  Status s = DB::OpenForReadOnly(options, dir, &raw);
  if (!s.ok()) {
    fprintf(stderr, "reader: open: %s\n", s.ToString().c_str());
    _exit(2);
  }
  std::unique_ptr<DB> db(raw);
  if (CheckedKeys(db.get()) != kFirstW) _exit(3);
  if (write(fd, "r", 1) != 1) _exit(4);
  char go = 0;
  if (read(STDIN_FILENO, &go, 1) != 1) _exit(5);
  const int again = CheckedKeys(db.get());
  if (again != kFirstW) {
    fprintf(stderr, "reader: %d keys after the writer ran\n", again);
    _exit(6);
  }
  db.reset();
  _exit(0);
}

// Opens the DB read-only again and again, reading every key, until the
// parent sends a byte; a Corruption (or a wrong value) fails it, as a
// failure to open because the writer deleted a WAL meanwhile does not (as
// with stock RocksDB: docs/read-only-views.md). Reports "opens tolerated".
TEST(ReaderChild, ReopensReadOnlyInALoop) {
  const char* dir = getenv(kDbVar);
  if (dir == nullptr) GTEST_SKIP() << "run by ReadOnlyReopensBesideAWriterThatReclaims";
  const int fd = atoi(getenv(kFdVar));
  std::unique_ptr<Env> env = ChildEnv();
  Options options;
  options.env = env.get();
  fcntl(STDIN_FILENO, F_SETFL, O_NONBLOCK);
  int opens = 0, tolerated = 0;
  for (char stop = 0; read(STDIN_FILENO, &stop, 1) != 1;) {
    DB* raw = nullptr;
    Status s = DB::OpenForReadOnly(options, dir, &raw);
    if (!s.ok()) {
      if (s.IsCorruption()) {
        fprintf(stderr, "reader: open: %s\n", s.ToString().c_str());
        _exit(2);
      }
      if (tolerated++ == 0) {
        fprintf(stderr, "reader: open (tolerated): %s\n", s.ToString().c_str());
      }
      continue;
    }
    std::unique_ptr<DB> db(raw);
    // (Not necessarily more keys than the last time: as with stock
    // RocksDB, an open that read the MANIFEST just before a flush ended,
    // and listed the WALs just after the flushed one was deleted, misses
    // the keys of that flush.)
    if (CheckedKeys(db.get()) < 0) _exit(3);
    ++opens;
  }
  const std::string report =
      std::to_string(opens) + " " + std::to_string(tolerated) + "\n";
  if (write(fd, report.data(), report.size()) !=
      static_cast<ssize_t>(report.size())) {
    _exit(5);
  }
  _exit(0);
}

// Starts this binary as `child_test` reading the DB at `db`; *to_child is
// its stdin, *from_child the pipe it reports on.
pid_t StartReader(const std::string& db, const char* child_test,
                  int* to_child, int* from_child) {
  int report[2], go[2];
  if (pipe(report) != 0 || pipe(go) != 0) return -1;
  // Set here, inherited: the child may only make async-signal-safe calls
  // before exec (setenv allocates).
  const std::string filter = std::string("--gtest_filter=") + child_test;
  setenv(kDbVar, db.c_str(), 1);
  setenv(kFdVar, std::to_string(report[1]).c_str(), 1);
  const pid_t pid = fork();
  if (pid == 0) {
    close(report[0]);
    close(go[1]);
    dup2(go[0], STDIN_FILENO);
    const char* argv[] = {"db_readonly_test", filter.c_str(), nullptr};
    execv("/proc/self/exe", const_cast<char**>(argv));
    _exit(127);
  }
  unsetenv(kDbVar);
  unsetenv(kFdVar);
  close(report[1]);
  close(go[0]);
  *to_child = go[1];
  *from_child = report[0];
  return pid;
}

// Up to 60 s for the child to write to `fd`; what it wrote.
std::string AwaitReport(int fd) {
  std::string out;
  pollfd p{fd, POLLIN, 0};
  char buf[256];
  while (poll(&p, 1, 60000) == 1) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, n);
    if (out.back() == '\n' || out == "r") break;
  }
  return out;
}

// Stock RocksDB's read-only instance takes no lock: a read-write open in
// another process succeeds while it is open, and neither disturbs the
// other. So too with segwal: a read-only open takes no lock on the log
// (the first change does), the writer opens, writes (synced), flushes and
// deletes WALs, closes; the read-only process still reads what it read.
TEST_F(SegWalDbTest, ReadWriteOpenBesideAReadOnlyProcess) {
  const std::string path = tmp_ / "db";
  Options options = DbOptions();
  OpenDb(options, path);
  Put(0, kFirstW, "v", true);  // in the WAL only
  CloseDb();

  int to_child = -1, from_child = -1;
  const pid_t reader =
      StartReader(path, "ReaderChild.HoldsTheDbReadOnly", &to_child,
                  &from_child);
  ASSERT_GE(reader, 0);
  ASSERT_EQ("r", AwaitReport(from_child)) << "the read-only process failed";

  OpenDb(options, path);  // failed before: the reader held the log's lock
  Put(0, 50, "w", true);
  Put(kFirstW, 300, "w", true);
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  Put(300, 400, "w", true);
  CloseDb();

  ASSERT_EQ(1, write(to_child, "g", 1));
  int status = 0;
  ASSERT_EQ(reader, waitpid(reader, &status, 0));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the read-only process saw other keys or values, status " << status;
  close(to_child);
  close(from_child);

  OpenDb(options, path);
  ExpectPresent(0, 50, "w");
  ExpectPresent(50, kFirstW, "v");
  ExpectPresent(kFirstW, 400, "w");
}

// A process opening the DB read-only again and again (each open reads the
// WALs) while the writer, with 64 KiB segments and small memtables,
// flushes, deletes WALs, and so reclaims and recycles the segments those
// reads go to: no Corruption and no wrong value, ever.
TEST_F(SegWalDbTest, ReadOnlyReopensBesideAWriterThatReclaims) {
  SegWalOptions small = test::SmallSegments();
  small.log.segment_size = 64 << 10;
  NewFs(small);
  const std::string path = tmp_ / "db";
  Options options = DbOptions();
  options.write_buffer_size = 64 << 10;
  OpenDb(options, path);
  Put(0, kFirstW, "v", true);

  int to_child = -1, from_child = -1;
  const pid_t reader = StartReader(path, "ReaderChild.ReopensReadOnlyInALoop",
                                   &to_child, &from_child);
  ASSERT_GE(reader, 0);
  for (int i = kFirstW; i < 4000; ++i) Put(i, i + 1, "w", true);

  std::shared_ptr<Log> log;
  ASSERT_TRUE(LogRegistry::Get()
                  ->Acquire(PosixStorage(), NormalizePath(path + "/segwal"),
                            LogOptions(), &log)
                  .ok());
  const LogStats stats = log->GetStats();
  log.reset();
  CloseDb();
  ASSERT_EQ(1, write(to_child, "s", 1));
  const std::string report = AwaitReport(from_child);
  int status = 0;
  ASSERT_EQ(reader, waitpid(reader, &status, 0));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the reader failed, status " << status;
  close(to_child);
  close(from_child);
  int opens = 0, tolerated = 0;
  ASSERT_EQ(2, sscanf(report.c_str(), "%d %d", &opens, &tolerated)) << report;
  EXPECT_GT(opens, 0) << report;
  EXPECT_GT(stats.segments_reclaimed, 5u);
  EXPECT_GT(stats.segments_recycled, 0u);
  std::printf("read-only opens: %d, tolerated failures: %d; the writer "
              "reclaimed %llu segments, recycled %llu\n",
              opens, tolerated,
              static_cast<unsigned long long>(stats.segments_reclaimed),
              static_cast<unsigned long long>(stats.segments_recycled));
}

// A read-only open of a closed DB reads its WALs and writes nothing to the
// log (stock RocksDB's read-only instance writes nothing either); the next
// read-write open writes as usual.
TEST_F(SegWalDbTest, ReadOnlyOpenOfAClosedDbLeavesTheLogUntouched) {
  const std::string path = tmp_ / "db";
  const std::string log_dir = path + "/segwal";
  Options options = DbOptions();
  OpenDb(options, path);
  Put(0, 100, "v", true);  // in the WAL only: nothing is flushed
  CloseDb();
  const auto before = test::DirContents(log_dir);
  ExpectReadOnlyOpenWritesNothing(options, path, log_dir, 100);

  OpenDb(options, path);
  ExpectPresent(0, 100, "v");
  Put(100, 110, "v", true);
  CloseDb();
  EXPECT_FALSE(before == test::DirContents(log_dir));
  OpenDb(options, path);
  EXPECT_EQ(110, CountKeys());
}

// A DB on a read-only mount (a snapshot, a backup medium) opens read-only
// through segwal as with stock RocksDB: the log's lock file is locked
// through a read-only descriptor and nothing is written; a read-write open
// fails naming the read-only file system.
TEST_F(SegWalDbTest, ReadOnlyOpenOnAReadOnlyMount) {
  const std::string src = tmp_ / "src";
  const std::string mnt = tmp_ / "mnt";
  ASSERT_EQ(0, mkdir(src.c_str(), 0755));
  ASSERT_EQ(0, mkdir(mnt.c_str(), 0755));
  OpenDb(DbOptions(), src + "/db");
  Put(0, 100, "v", true);
  CloseDb();
  if (mount(src.c_str(), mnt.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    GTEST_SKIP() << "cannot bind-mount (needs CAP_SYS_ADMIN): "
                 << std::strerror(errno);
  }
  struct Unmount {
    std::string dir;
    ~Unmount() { umount2(dir.c_str(), MNT_DETACH); }
  } unmount{mnt};
  ASSERT_EQ(0, mount(nullptr, mnt.c_str(), nullptr,
                     MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr))
      << std::strerror(errno);
  NewFs(test::SmallSegments());  // one that has not seen the DB

  ExpectReadOnlyOpenWritesNothing(DbOptions(), mnt + "/db",
                                  mnt + "/db/segwal", 100);
  DB* writer = nullptr;
  Status s = DB::Open(DbOptions(), mnt + "/db", &writer);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.ToString().find("Read-only file system"))
      << s.ToString();
  delete writer;
  // The log's own first change fails the same way.
  std::unique_ptr<rocksdb::FSWritableFile> wal;
  rocksdb::IOStatus io = fs_->NewWritableFile(
      mnt + "/db/999999.log", rocksdb::FileOptions(), &wal, nullptr);
  EXPECT_TRUE(io.IsIOError()) << io.ToString();
  EXPECT_NE(std::string::npos, io.ToString().find("Read-only file system"))
      << io.ToString();
}

}  // namespace
}  // namespace segwal
