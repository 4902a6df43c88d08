// Whole-DB tests of readers beside a writer: read-only opens of a DB whose
// log another process holds, of a closed DB, and on a read-only mount.
#include <fcntl.h>
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
#include "env/fs/segwal_fs.h"
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
