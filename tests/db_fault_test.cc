// DB-level fault injection: RocksDB 7.8.3 over a SegWalFileSystem whose logs
// sit on a MemStorage (tests/support/mem_storage.h) rooted at real paths,
// while SST, MANIFEST and the rest go to the POSIX base FileSystem.
//
// For EIO and ENOSPC on segment writes, fdatasync, preallocation, writes to
// a segment being zero-filled, and renames (recycling): RocksDB must see an
// IOError (a failing sync=true Put, or a background error failing later
// writes), no Put that returned OK may be lost once the fault clears and
// the DB is reopened through a fresh FileSystem on the same MemStorage, and
// the reopened DB must take new writes.
//
// And a power loss: MemStorage::Crash(kDropUnsynced) under a DB whose data
// is all in the WAL (no flush, no compaction: the SST/MANIFEST side on the
// real disk is not crashed, so only then is the test sound); every sync=true
// write acknowledged before the crash must survive.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "env/format/file_names.h"
#include "env/format/format.h"
#include "env/fs/segwal_fs.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "tests/segwal_test_util.h"
#include "tests/support/mem_storage.h"

namespace segwal {
namespace {

using rocksdb::DB;
using rocksdb::Env;
using rocksdb::FileSystem;
using rocksdb::Options;
using rocksdb::ReadOptions;
using rocksdb::Status;
using rocksdb::WriteOptions;
using testing::CrashMode;
using testing::FaultOp;
using testing::MemStorage;
using test::TempDir;

std::string Key(int i) {
  char buf[32];
  snprintf(buf, sizeof(buf), "key%08d", i);
  return buf;
}

// ~4 KiB values: a 1 MiB segment fills in about 250 writes.
std::string Value(int i) {
  return "v" + std::to_string(i) + std::string(4000 + i % 97, 'x');
}

class DbFaultTest : public ::testing::Test {
 protected:
  DbFaultTest()
      : db_dir_(tmp_ / "db"), log_dir_(tmp_ / "wal-log") {
    EXPECT_TRUE(mem_.CreateDirIfMissing(log_dir_).ok());
    options_ = test::SmallSegments(log_dir_);
  }
  ~DbFaultTest() override { CloseAll(); }

  // A fresh FileSystem (and so fresh logs) on the same MemStorage.
  void NewFs() {
    CloseAll();
    fs_ = std::make_shared<SegWalFileSystem>(FileSystem::Default(), options_,
                                             &mem_);
    env_ = NewSegWalEnv(fs_);
  }

  Options DbOptions() {
    Options o;
    o.create_if_missing = true;
    o.env = env_.get();
    return o;
  }

  void OpenDb(const Options& o) {
    DB* db = nullptr;
    Status s = DB::Open(o, db_dir_, &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    db_.reset(db);
  }

  // Closes the DB (its status may be an error after a fault) and the
  // FileSystem, so its logs close.
  void CloseAll() {
    if (db_ != nullptr) {
      db_->Close().PermitUncheckedError();
      db_.reset();
    }
    env_.reset();
    fs_.reset();
  }

  // Puts keys [from, to) with sync=true until `stop_after_failures` have
  // failed; returns the keys acknowledged.
  std::vector<int> PutSynced(int from, int to, int stop_after_failures,
                             Status* first_error) {
    std::vector<int> acked;
    WriteOptions wo;
    wo.sync = true;
    int failures = 0;
    for (int i = from; i < to && failures < stop_after_failures; ++i) {
      Status s = db_->Put(wo, Key(i), Value(i));
      if (s.ok()) {
        acked.push_back(i);
      } else {
        if (failures == 0) *first_error = s;
        ++failures;
      }
    }
    return acked;
  }

  void ExpectAll(const std::vector<int>& keys) {
    int missing = 0;
    for (int i : keys) {
      std::string v;
      Status s = db_->Get(ReadOptions(), Key(i), &v);
      if (!s.ok() || v != Value(i)) {
        if (missing < 5) {
          ADD_FAILURE() << "acknowledged " << Key(i) << " lost: "
                        << s.ToString();
        }
        ++missing;
      }
    }
    EXPECT_EQ(0, missing) << "of " << keys.size() << " acknowledged writes";
  }

  // The largest segment id in the log directory now.
  uint64_t MaxSegmentId() {
    std::vector<std::string> names;
    EXPECT_TRUE(mem_.ListDir(log_dir_, &names).ok());
    uint64_t max_id = 0, id = 0;
    for (const std::string& n : names) {
      if (ParseSegmentFileName(n, &id)) max_id = std::max(max_id, id);
    }
    return max_id;
  }

  // The whole fault scenario. `arm` injects the fault once the DB is open
  // and has acknowledged writes; `expect_error`: the fault must surface.
  void RunFault(const std::function<void()>& arm, bool expect_error) {
    NewFs();
    OpenDb(DbOptions());
    Status unused;
    std::vector<int> acked = PutSynced(0, 50, 1, &unused);
    ASSERT_EQ(50u, acked.size()) << unused.ToString();

    arm();
    Status first_error;
    std::vector<int> more = PutSynced(50, 1500, 3, &first_error);
    acked.insert(acked.end(), more.begin(), more.end());
    if (expect_error) {
      ASSERT_FALSE(first_error.ok()) << "the fault never reached RocksDB";
      EXPECT_TRUE(first_error.IsIOError()) << first_error.ToString();
      // The error is sticky: later writes fail too (RocksDB's background
      // error, or segwal's sticky log error).
      WriteOptions wo;
      wo.sync = true;
      EXPECT_FALSE(db_->Put(wo, "after-fault", "x").ok());
      std::string bg;
      EXPECT_TRUE(db_->GetProperty("rocksdb.background-errors", &bg));
    }
    // Whatever happened, everything acknowledged is readable now...
    ExpectAll(acked);

    // ...and after the fault clears, through a fresh FileSystem.
    mem_.ClearFaults();
    NewFs();
    OpenDb(DbOptions());
    ExpectAll(acked);
    Status s;
    std::vector<int> after = PutSynced(5000, 5300, 1, &s);
    EXPECT_EQ(300u, after.size()) << s.ToString();
    acked.insert(acked.end(), after.begin(), after.end());
    // And once more, so the recovered log is recovered again.
    NewFs();
    OpenDb(DbOptions());
    ExpectAll(acked);
  }

  TempDir tmp_;
  const std::string db_dir_, log_dir_;
  MemStorage mem_;
  SegWalOptions options_;
  std::shared_ptr<SegWalFileSystem> fs_;
  std::unique_ptr<Env> env_;
  std::unique_ptr<DB> db_;
};

rocksdb::IOStatus Eio() { return rocksdb::IOStatus::IOError("injected EIO"); }
rocksdb::IOStatus Enospc() {
  return rocksdb::IOStatus::NoSpace("injected ENOSPC");
}

TEST_F(DbFaultTest, WriteEio) {
  RunFault([&] { mem_.InjectFault(FaultOp::kWrite, ".seg", Eio(), -1); },
           true);
}

TEST_F(DbFaultTest, WriteEnospc) {
  RunFault([&] { mem_.InjectFault(FaultOp::kWrite, ".seg", Enospc(), -1); },
           true);
}

TEST_F(DbFaultTest, WriteFailsOnce) {
  // A single failure is sticky all the same: no later false success.
  // Segments prepared inline: a background preparer zero-filling the next
  // window could take the one failure itself (not sticky: the writer then
  // extends inline), and the frame writes would never see it.
  options_.log.background_prepare = false;
  RunFault([&] { mem_.InjectFault(FaultOp::kWrite, ".seg", Eio(), 1); },
           true);
}

TEST_F(DbFaultTest, SyncEio) {
  RunFault([&] { mem_.InjectFault(FaultOp::kSync, ".seg", Eio(), -1); },
           true);
}

TEST_F(DbFaultTest, SyncEnospc) {
  RunFault([&] { mem_.InjectFault(FaultOp::kSync, ".seg", Enospc(), -1); },
           true);
}

TEST_F(DbFaultTest, SyncFailsOnce) {
  RunFault([&] { mem_.InjectFault(FaultOp::kSync, ".seg", Eio(), 1); },
           true);
}

// Preparing the next segments (inline: deterministic) fails to reserve
// space: the rotation fails and the Put that needed it.
TEST_F(DbFaultTest, AllocateEnospc) {
  options_.log.background_prepare = false;
  RunFault([&] { mem_.InjectFault(FaultOp::kAllocate, "", Enospc(), -1); },
           true);
}

TEST_F(DbFaultTest, AllocateEio) {
  options_.log.background_prepare = false;
  RunFault([&] { mem_.InjectFault(FaultOp::kAllocate, "", Eio(), -1); },
           true);
}

// Zero-filling a new segment fails: the writes to segments not yet
// prepared fail, the current head's frame writes do not.
TEST_F(DbFaultTest, ZeroFillEnospc) {
  options_.log.background_prepare = false;
  RunFault(
      [&] {
        const uint64_t next = MaxSegmentId() + 1;
        for (uint64_t id = next; id < next + 8; ++id) {
          mem_.InjectFault(FaultOp::kWrite, SegmentFileName(id), Enospc(), -1);
        }
      },
      true);
}

// The same with background preparation: the background thread retries
// under a new segment id each time (the failed id is skipped), and once a
// writer needs the segment it prepares one inline and sees the error.
TEST_F(DbFaultTest, ZeroFillEioBackground) {
  RunFault(
      [&] {
        const uint64_t next = MaxSegmentId() + 1;
        for (uint64_t id = next; id < next + 4000; ++id) {
          mem_.InjectFault(FaultOp::kWrite, SegmentFileName(id), Eio(), -1);
        }
      },
      true);
}

// Renames happen when a reclaimed segment is recycled; a failed rename
// falls back to a fresh segment, so the DB need not see an error, but
// nothing may be lost either way. Flushes make old WALs (and segments) dead.
TEST_F(DbFaultTest, RenameEio) {
  options_.log.recycle_segments = 4;
  NewFs();
  Options o = DbOptions();
  o.write_buffer_size = 256 << 10;
  OpenDb(o);
  Status s;
  std::vector<int> acked = PutSynced(0, 400, 1, &s);
  ASSERT_EQ(400u, acked.size()) << s.ToString();
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  const uint64_t fired_before = mem_.FaultsFired();
  mem_.InjectFault(FaultOp::kRename, "", Eio(), -1);
  std::vector<int> more = PutSynced(400, 1400, 3, &s);
  acked.insert(acked.end(), more.begin(), more.end());
  if (db_->Flush(rocksdb::FlushOptions()).ok()) {
    more = PutSynced(1400, 1800, 3, &s);
    acked.insert(acked.end(), more.begin(), more.end());
  }
  ExpectAll(acked);
  // The fault really hit a rename (reclaiming or recycling a segment).
  EXPECT_GT(mem_.FaultsFired(), fired_before);
  mem_.ClearFaults();
  NewFs();
  o.env = env_.get();
  OpenDb(o);
  ExpectAll(acked);
  std::vector<int> after = PutSynced(5000, 5100, 1, &s);
  EXPECT_EQ(100u, after.size()) << s.ToString();
}

// Power loss with every acknowledged write in the WAL only.
TEST_F(DbFaultTest, PowerLossKeepsSyncedWrites) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 3; ++round) {
    NewFs();
    Options o = DbOptions();
    o.write_buffer_size = 512 << 20;  // never flushes
    o.db_write_buffer_size = 0;
    o.max_write_buffer_number = 4;
    o.disable_auto_compactions = true;
    o.avoid_flush_during_recovery = true;
    o.avoid_flush_during_shutdown = true;
    OpenDb(o);
    std::vector<int> acked;
    WriteOptions synced;
    synced.sync = true;
    WriteOptions unsynced;
    const int base = round * 1000;
    for (int i = base; i < base + 300; ++i) {
      // Every third write unsynced: it may or may not survive.
      Status s = db_->Put(i % 3 == 2 ? unsynced : synced, Key(i), Value(i));
      ASSERT_TRUE(s.ok()) << s.ToString();
      if (i % 3 != 2) acked.push_back(i);
    }
    // Power off: nothing reaches the storage after this point.
    mem_.PowerOff();
    CloseAll();
    mem_.Crash(round == 0 ? CrashMode::kDropUnsynced
                          : (round == 1 ? CrashMode::kTearLastWrite
                                        : CrashMode::kRandomSectors),
               &rng);
    NewFs();
    o.env = env_.get();
    OpenDb(o);
    ExpectAll(acked);
    // Every earlier round's synced writes too.
    for (int r = 0; r < round; ++r) {
      std::vector<int> older;
      for (int i = r * 1000; i < r * 1000 + 300; ++i) {
        if (i % 3 != 2) older.push_back(i);
      }
      ExpectAll(older);
    }
    std::string v;
    Status s = db_->Put(synced, "alive", "yes");
    EXPECT_TRUE(s.ok()) << s.ToString();
    CloseAll();
  }
}

}  // namespace
}  // namespace segwal
