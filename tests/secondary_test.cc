// A RocksDB secondary instance in this process follows a primary in another
// process through segwal: the primary holds the log (its lock), so the
// secondary reads read-only views of it, and TryCatchUpWithPrimary sees what
// the primary appended since, also to the WAL the secondary already reads.
//
// The primary is this binary run again (SecondaryTest.ChildPrimary, which
// skips unless SEGWAL_PRIMARY_DIR is set): a fresh process, as a real
// primary would be. It writes a batch of keys, says so on a pipe, and waits
// for a byte on stdin before the next batch.
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "env/fs/segwal_fs.h"
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

}  // namespace
}  // namespace segwal
