// Whole-DB tests: RocksDB 7.8.3 itself driving SegWalFileSystem through
// every path that touches WAL files: writes and reopens, column families,
// shared logs, recycling, archives, checkpoints and backups, recovery
// modes, directories.
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <set>
#include <string>
#include <vector>
#include "env/format/codec.h"
#include "env/fs/log_registry.h"
#include "env/fs/segwal_fs.h"
#include "env/storage/storage.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_manager.h"
#include "rocksdb/transaction_log.h"
#include "rocksdb/utilities/backup_engine.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"
#include "tests/segwal_test_util.h"
#include "tests/support/db_fixture.h"

namespace segwal {
namespace {

using namespace db_test;  // NOLINT: the fixture's names

const WALRecoveryMode kWalRecoveryModes[] = {
    WALRecoveryMode::kTolerateCorruptedTailRecords,
    WALRecoveryMode::kAbsoluteConsistency,
    WALRecoveryMode::kPointInTimeRecovery,
    WALRecoveryMode::kSkipAnyCorruptedRecords};

// Open, write with and without sync, close, reopen, read back; the WAL
// really is logical.
TEST_F(SegWalDbTest, WriteCloseReopenReadBack) {
  NewFs(SegWalOptions());  // default options: 64 MiB segments
  const std::string db = tmp_ / "db";
  OpenDb(DbOptions(), db);
  Put(0, 200, "a", /*sync=*/false);
  Put(200, 400, "a", /*sync=*/true);
  // Nothing flushed: after reopen the data can only come from the WAL.
  EXPECT_EQ(0u, LiveSstFiles());
  EXPECT_TRUE(PlainWalsWithData(db).empty());
  EXPECT_EQ(1u, WalsSeen(db).size());
  EXPECT_GE(test::CountSegmentFiles(db + "/segwal"), 1u);
  CloseDb();

  OpenDb(DbOptions(), db);
  ExpectPresent(0, 400, "a");
  EXPECT_EQ(400, CountKeys());
  Put(400, 500, "a", false);
  CloseDb();

  // A new FileSystem instance: the log is recovered from disk.
  NewFs(SegWalOptions());
  OpenDb(DbOptions(), db);
  ExpectPresent(0, 500, "a");
  EXPECT_EQ(500, CountKeys());
  EXPECT_TRUE(PlainWalsWithData(db).empty());
  for (const std::string& name : test::ListDir(db)) {
    EXPECT_FALSE(test::EndsWith(name, ".log") &&
                 test::RealFileSize(db + "/" + name) > 0)
        << name;
  }
}

// Unsynced WAL writes have their writeback started a MiB at a time (so
// that sealing a segment does not write it all at once); synced ones are
// durable already and get none. The LOG's closing stats block counts them.
TEST_F(SegWalDbTest, UnsyncedWalWritesStartWritebackEarly) {
  const std::string db = tmp_ / "db";
  auto writeback_starts = [&] {
    const std::string log = test::ReadFileToString(db + "/segwal/LOG");
    const std::string key = "writeback_starts=";
    const size_t at = log.rfind(key);
    EXPECT_NE(std::string::npos, at) << log;
    return at == std::string::npos
               ? uint64_t{0}
               : std::stoull(log.substr(at + key.size()));
  };
  auto put = [&](int from, int to, bool sync) {  // 4 KiB values
    WriteOptions wo;
    wo.sync = sync;
    for (int i = from; i < to; ++i) {
      ASSERT_TRUE(db_->Put(wo, Key(i), std::string(4096, 'a' + i % 26)).ok());
    }
  };
  NewFs(SegWalOptions());  // 64 MiB segments: no rotation in between
  OpenDb(DbOptions(), db);
  put(0, 768, /*sync=*/true);  // 3 MiB, each write synced
  CloseDb();
  EXPECT_EQ(0u, writeback_starts());

  OpenDb(DbOptions(), db);
  put(768, 1536, /*sync=*/false);  // 3 MiB, never synced
  CloseDb();
  EXPECT_GE(writeback_starts(), 2u);
  OpenDb(DbOptions(), db);
  std::string value;
  for (int i : {0, 767, 768, 1535}) {
    ASSERT_TRUE(db_->Get(ReadOptions(), Key(i), &value).ok()) << i;
    EXPECT_EQ(std::string(4096, 'a' + i % 26), value) << i;
  }
}

// The log is open while the DB is, and closed (its lock free for another
// process) once the DB closes, though the FileSystem lives on. Logs made
// for a checkpoint's copies close when the copies are done.
TEST_F(SegWalDbTest, LogClosesWithTheDb) {
  const std::string db = tmp_ / "db";
  const std::string lock_path = db + "/segwal/LOCK";
  auto lockable = [&](const std::string& path) {
    std::unique_ptr<StorageLock> lock;
    return PosixStorage()->Lock(path, &lock).ok();
  };
  OpenDb(DbOptions(), db);
  Put(0, 10, "l", true);
  EXPECT_FALSE(lockable(lock_path));
  rocksdb::Checkpoint* raw = nullptr;
  ASSERT_TRUE(rocksdb::Checkpoint::Create(db_.get(), &raw).ok());
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  ASSERT_TRUE(checkpoint->CreateCheckpoint(tmp_ / "ckpt", UINT64_MAX).ok());
  EXPECT_TRUE(lockable(tmp_ / "ckpt/segwal/LOCK"));
  CloseDb();
  EXPECT_TRUE(lockable(lock_path));
  // Queries reopen it lazily; the data is all there.
  OpenDb(DbOptions(), db);
  ExpectPresent(0, 10, "l");
}

// A closed DB's log keeps the segments holding its WALs and nothing spare:
// the reclaimed files kept for reuse while it was open are removed.
TEST_F(SegWalDbTest, AClosedDbsLogKeepsNoSpareSegments) {
  const std::string db = tmp_ / "db";
  const std::string log_dir = db + "/segwal";
  const auto spare_files = [&] {
    int n = 0;
    for (const std::string& name : test::ListDir(log_dir)) {
      n += test::EndsWith(name, ".free");
    }
    return n;
  };
  Options options = DbOptions();
  options.write_buffer_size = 256 << 10;  // WALs switch and are deleted
  OpenDb(options, db);
  for (int round = 0; round < 8; ++round) {
    Put(round * 1000, (round + 1) * 1000, "s", false);
    ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  }
  std::shared_ptr<Log> log;
  ASSERT_TRUE(LogRegistry::Get()
                  ->Acquire(PosixStorage(), log_dir, LogOptions(), &log)
                  .ok());
  ASSERT_TRUE(log->Housekeep().ok());
  log.reset();
  ASSERT_GT(spare_files(), 0) << "nothing reclaimed: the test proves nothing";
  CloseDb();
  EXPECT_EQ(0, spare_files());
  OpenDb(options, db);
  ExpectPresent(0, 8000, "s");
}

TEST_F(SegWalDbTest, ColumnFamilies) {
  const std::string db = tmp_ / "db";
  Options options = DbOptions();
  options.create_missing_column_families = true;
  std::vector<ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, options},
      {"one", options},
      {"two", options},
      {"three", options}};
  std::vector<ColumnFamilyHandle*> handles;
  DB* raw = nullptr;
  ASSERT_TRUE(DB::Open(options, db, cfs, &handles, &raw).ok());
  WriteOptions wo;
  for (size_t c = 0; c < handles.size(); ++c) {
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(raw->Put(wo, handles[c], Key(i),
                           Value("cf" + std::to_string(c), i))
                      .ok());
    }
  }
  // One family flushed, the others only in the WAL.
  ASSERT_TRUE(raw->Flush(rocksdb::FlushOptions(), handles[1]).ok());
  rocksdb::WriteBatch batch;
  for (size_t c = 0; c < handles.size(); ++c) {
    batch.Put(handles[c], "batch", "cf" + std::to_string(c));
  }
  wo.sync = true;
  ASSERT_TRUE(raw->Write(wo, &batch).ok());
  for (ColumnFamilyHandle* h : handles) {
    ASSERT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
  }
  ASSERT_TRUE(raw->Close().ok());
  delete raw;
  EXPECT_TRUE(PlainWalsWithData(db).empty());

  handles.clear();
  ASSERT_TRUE(DB::Open(options, db, cfs, &handles, &raw).ok());
  for (size_t c = 0; c < handles.size(); ++c) {
    int missing = 0;
    for (int i = 0; i < 100; ++i) {
      std::string v;
      if (!raw->Get(ReadOptions(), handles[c], Key(i), &v).ok() ||
          v != Value("cf" + std::to_string(c), i)) {
        ++missing;
      }
    }
    EXPECT_EQ(0, missing) << "column family " << c;
    std::string v;
    ASSERT_TRUE(raw->Get(ReadOptions(), handles[c], "batch", &v).ok());
    EXPECT_EQ("cf" + std::to_string(c), v);
  }
  for (ColumnFamilyHandle* h : handles) {
    ASSERT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
  }
  ASSERT_TRUE(raw->Close().ok());
  delete raw;
}

// Several DBs in one process sharing one log: each recovers exactly its
// own data.
void SharedLogDirTest(TempDir& tmp, int dbs) {
  const std::string log_dir = tmp / "shared-wal";
  auto make_fs = [&] {
    return std::make_shared<SegWalFileSystem>(FileSystem::Default(),
                                              test::SmallSegments(log_dir));
  };
  auto fs = make_fs();
  auto env = NewSegWalEnv(fs);
  Options options;
  options.create_if_missing = true;
  options.env = env.get();
  std::vector<std::unique_ptr<DB>> open(dbs);
  auto path = [&](int d) { return tmp / ("db" + std::to_string(d)); };
  for (int d = 0; d < dbs; ++d) {
    DB* raw = nullptr;
    ASSERT_TRUE(DB::Open(options, path(d), &raw).ok());
    open[d].reset(raw);
  }
  // Interleaved writes, every DB its own key range and tag.
  for (int round = 0; round < 5; ++round) {
    for (int d = 0; d < dbs; ++d) {
      WriteOptions wo;
      wo.sync = (round % 2) == 1;
      for (int i = 0; i < 20; ++i) {
        const int k = d * 1000 + round * 20 + i;
        ASSERT_TRUE(
            open[d]->Put(wo, Key(k), Value("db" + std::to_string(d), k)).ok());
      }
    }
  }
  for (int d = 0; d < dbs; ++d) {
    ASSERT_TRUE(open[d]->Close().ok());
    open[d].reset();
    EXPECT_TRUE(PlainWalsWithData(path(d)).empty());
    EXPECT_FALSE(PathExists(path(d) + "/segwal"));
  }
  EXPECT_GE(test::CountSegmentFiles(log_dir), 1u);
  env.reset();
  fs.reset();

  // Reopen through a new FileSystem: recovery from the shared log on disk.
  fs = make_fs();
  env = NewSegWalEnv(fs);
  options.env = env.get();
  for (int d = 0; d < dbs; ++d) {
    DB* raw = nullptr;
    ASSERT_TRUE(DB::Open(options, path(d), &raw).ok());
    std::unique_ptr<DB> db(raw);
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ReadOptions()));
    int n = 0;
    int foreign = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++n) {
      const int k = std::stoi(it->key().ToString().substr(3));
      if (k / 1000 != d ||
          it->value().ToString() != Value("db" + std::to_string(d), k)) {
        ++foreign;
      }
    }
    EXPECT_TRUE(it->status().ok());
    it.reset();
    EXPECT_EQ(100, n) << "db " << d;
    EXPECT_EQ(0, foreign) << "db " << d;
    ASSERT_TRUE(db->Close().ok());
  }
}

TEST_F(SegWalDbTest, TwoDbsShareOneLogDir) { SharedLogDirTest(tmp_, 2); }

TEST_F(SegWalDbTest, EightDbsShareOneLogDir) {
  SharedLogDirTest(tmp_, 8);
}

// RocksDB 7.8.3 keeps recycle_log_file_num only with
// kSkipAnyCorruptedRecords; then WALs are recycled through
// ReuseWritableFile.
TEST_F(SegWalDbTest, RecycledLogFiles) {
  auto counting = std::make_shared<CountingSegWalFs>(FileSystem::Default(),
                                                     test::SmallSegments());
  NewFs(SegWalOptions(), counting);
  const std::string db = tmp_ / "db";
  Options options = DbOptions();
  options.recycle_log_file_num = 2;
  options.wal_recovery_mode = WALRecoveryMode::kSkipAnyCorruptedRecords;
  OpenDb(options, db);
  for (int round = 0; round < 5; ++round) {
    Put(round * 100, round * 100 + 100, "r", round % 2 == 0);
    ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  }
  Put(500, 700, "r", false);  // unflushed, in a recycled WAL
  EXPECT_GT(counting->reuse_calls.load(), 0);
  EXPECT_LE(WalsSeen(db).size(), 3u);
  CloseDb();
  EXPECT_TRUE(PlainWalsWithData(db).empty());

  OpenDb(options, db);
  ExpectPresent(0, 700, "r");
  EXPECT_EQ(700, CountKeys());
  Put(700, 800, "r", true);
  CloseDb();
  OpenDb(options, db);
  ExpectPresent(0, 800, "r");
}

TEST_F(SegWalDbTest, ArchivedWalsAndGetUpdatesSince) {
  const std::string db = tmp_ / "db";
  Options options = DbOptions();
  options.WAL_ttl_seconds = 3600;
  OpenDb(options, db);
  Put(0, 50, "t", false);
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  Put(50, 100, "t", true);
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  Put(100, 150, "t", false);

  rocksdb::VectorLogPtr wals;
  ASSERT_TRUE(db_->GetSortedWalFiles(wals).ok());
  int archived = 0;
  int alive = 0;
  for (const auto& wal : wals) {
    if (wal->Type() == rocksdb::kArchivedLogFile) {
      ++archived;
      EXPECT_GT(wal->SizeFileBytes(), 0u);
    } else {
      ++alive;
    }
  }
  EXPECT_EQ(2, archived);
  EXPECT_EQ(1, alive);
  EXPECT_EQ(2u, WalsSeen(db + "/archive").size());
  EXPECT_TRUE(PlainWalsWithData(db + "/archive").empty());

  auto count_updates = [&](uint64_t* last_seq) {
    std::unique_ptr<rocksdb::TransactionLogIterator> iter;
    Status s = db_->GetUpdatesSince(1, &iter);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) return -1;
    int updates = 0;
    for (; iter->Valid(); iter->Next()) {
      rocksdb::BatchResult batch = iter->GetBatch();
      EXPECT_EQ(*last_seq + 1, batch.sequence);
      *last_seq = batch.sequence + batch.writeBatchPtr->Count() - 1;
      updates += batch.writeBatchPtr->Count();
    }
    EXPECT_TRUE(iter->status().ok()) << iter->status().ToString();
    return updates;
  };
  uint64_t last = 0;
  EXPECT_EQ(150, count_updates(&last));
  EXPECT_EQ(150u, last);

  // Across a reopen, archived and live WALs still serve every update.
  CloseDb();
  OpenDb(options, db);
  last = 0;
  EXPECT_GE(count_updates(&last), 150);
  ExpectPresent(0, 150, "t");
}

// WAL_ttl_seconds: archived logical WALs older than the TTL (by their
// modification time) are deleted by RocksDB's purge.
TEST_F(SegWalDbTest, ArchiveTtlPurgesOldWals) {
  const std::string db = tmp_ / "db";
  Options options = DbOptions();
  options.WAL_ttl_seconds = 1;
  OpenDb(options, db);
  Put(0, 50, "p", false);
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  std::vector<std::string> archived = WalsSeen(db + "/archive");
  ASSERT_EQ(1u, archived.size());
  uint64_t mtime = 0;
  ASSERT_TRUE(
      env_->GetFileModificationTime(db + "/archive/" + archived[0], &mtime)
          .ok());
  EXPECT_LE(static_cast<uint64_t>(time(nullptr)) - mtime, 60u);
  env_->SleepForMicroseconds(2200 * 1000);
  Put(50, 100, "p", false);
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  std::vector<std::string> now = WalsSeen(db + "/archive");
  EXPECT_TRUE(std::find(now.begin(), now.end(), archived[0]) == now.end())
      << archived[0] << " outlived its TTL";
  EXPECT_TRUE(
      env_->FileExists(db + "/archive/" + archived[0]).IsNotFound());
  ExpectPresent(0, 100, "p");
}

// With a rate-limited SstFileManager RocksDB deletes obsolete WALs by
// renaming them to "*.log.trash" first: the logical bytes become a plain
// trash file, which the DeleteScheduler then removes.
TEST_F(SegWalDbTest, RateLimitedDeletionThroughTrash) {
  auto counting = std::make_shared<CountingSegWalFs>(FileSystem::Default(),
                                                     test::SmallSegments());
  NewFs(SegWalOptions(), counting);
  const std::string db = tmp_ / "db";
  Options options = DbOptions();
  options.sst_file_manager.reset(rocksdb::NewSstFileManager(
      env_.get(), nullptr, "", /*rate_bytes_per_sec=*/64 << 20));
  OpenDb(options, db);
  for (int round = 0; round < 3; ++round) {
    Put(round * 100, round * 100 + 100, "z", true);
    ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  }
  Put(300, 400, "z", false);
  // Obsolete WALs went (through trash); only the live one is left.
  for (int i = 0; i < 100 && WalsSeen(db).size() > 1; ++i) {
    env_->SleepForMicroseconds(20 * 1000);
  }
  EXPECT_EQ(1u, WalsSeen(db).size());
  EXPECT_GT(counting->wal_trash_renames.load(), 0);
  CloseDb();
  OpenDb(options, db);
  ExpectPresent(0, 400, "z");
  CloseDb();
  options.sst_file_manager.reset();
  for (int i = 0; i < 100; ++i) {
    bool trash = false;
    for (const std::string& name : test::ListDir(db)) {
      trash |= test::EndsWith(name, ".trash");
    }
    if (!trash) break;
    env_->SleepForMicroseconds(20 * 1000);
  }
  for (const std::string& name : test::ListDir(db)) {
    EXPECT_FALSE(test::EndsWith(name, ".trash")) << name;
  }
}

TEST_F(SegWalDbTest, CheckpointHoldsUnflushedWrites) {
  const std::string db = tmp_ / "db";
  const std::string ckpt = tmp_ / "ckpt";
  OpenDb(DbOptions(), db);
  Put(0, 100, "c", false);
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  Put(100, 200, "c", false);
  rocksdb::Checkpoint* raw = nullptr;
  ASSERT_TRUE(rocksdb::Checkpoint::Create(db_.get(), &raw).ok());
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // No flush: the unflushed writes reach the checkpoint through its WAL.
  Status s = checkpoint->CreateCheckpoint(ckpt, UINT64_MAX);
  ASSERT_TRUE(s.ok()) << s.ToString();
  Put(200, 300, "after", false);  // not in the checkpoint
  EXPECT_TRUE(PlainWalsWithData(ckpt).empty());
  EXPECT_FALSE(WalsSeen(ckpt).empty());
  EXPECT_FALSE(PathExists(ckpt + ".tmp"));

  DB* cdb = nullptr;
  ASSERT_TRUE(DB::Open(DbOptions(), ckpt, &cdb).ok());
  std::unique_ptr<DB> opened(cdb);
  ExpectPresent(0, 200, "c", cdb);
  EXPECT_EQ(200, CountKeys(cdb));
  ASSERT_TRUE(cdb->Close().ok());
}

TEST_F(SegWalDbTest, BackupAndRestore) {
  const std::string db = tmp_ / "db";
  const std::string backup_dir = tmp_ / "backup";
  const std::string restore_dir = tmp_ / "restored";
  OpenDb(DbOptions(), db);
  Put(0, 100, "b", false);
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  Put(100, 200, "b", true);

  rocksdb::BackupEngine* raw = nullptr;
  rocksdb::BackupEngineOptions bopts(backup_dir, Env::Default());
  ASSERT_TRUE(rocksdb::BackupEngine::Open(bopts, env_.get(), &raw).ok());
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);
  IOStatus s = engine->CreateNewBackup(db_.get(), /*flush_before_backup=*/false);
  ASSERT_TRUE(s.ok()) << s.ToString();
  Put(200, 300, "after", false);  // not in the backup
  CloseDb();

  s = engine->RestoreDBFromLatestBackup(restore_dir, restore_dir);
  ASSERT_TRUE(s.ok()) << s.ToString();
  // The restored WAL was written through segwal: logical.
  EXPECT_TRUE(PlainWalsWithData(restore_dir).empty());
  OpenDb(DbOptions(), restore_dir);
  ExpectPresent(0, 200, "b");
  EXPECT_EQ(200, CountKeys());
}

// Backups kept through segwal too: the backup's WAL copies are logical,
// in the backup's private directories, which BackupEngine renames
// ("private/1.tmp" -> "private/1") and deletes when purging.
TEST_F(SegWalDbTest, BackupEngineOverSegWal) {
  const std::string db = tmp_ / "db";
  const std::string backup_dir = tmp_ / "backup";
  OpenDb(DbOptions(), db);
  rocksdb::BackupEngine* raw = nullptr;
  rocksdb::BackupEngineOptions bopts(backup_dir, env_.get());
  ASSERT_TRUE(rocksdb::BackupEngine::Open(bopts, env_.get(), &raw).ok());
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);
  for (int b = 0; b < 3; ++b) {
    Put(b * 100, b * 100 + 100, "g", b % 2 == 0);
    IOStatus s = engine->CreateNewBackup(db_.get(), false);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  CloseDb();
  EXPECT_TRUE(PlainWalsWithData(backup_dir + "/private/3").empty());
  EXPECT_FALSE(WalsSeen(backup_dir + "/private/3").empty());
  EXPECT_FALSE(PathExists(backup_dir + "/private/3.tmp"));

  IOStatus s = engine->PurgeOldBackups(1);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(PathExists(backup_dir + "/private/1"));
  EXPECT_FALSE(PathExists(backup_dir + "/private/2"));

  const std::string restore_dir = tmp_ / "restored";
  s = engine->RestoreDBFromLatestBackup(restore_dir, restore_dir);
  ASSERT_TRUE(s.ok()) << s.ToString();
  OpenDb(DbOptions(), restore_dir);
  ExpectPresent(0, 300, "g");
  EXPECT_EQ(300, CountKeys());
}

// Checkpoint with one shared log: the checkpoint's WALs are names in the
// shared log, moved by the staging directory's rename.
TEST_F(SegWalDbTest, CheckpointWithSharedLog) {
  const std::string log_dir = tmp_ / "shared";
  NewFs(test::SmallSegments(log_dir));
  const std::string db = tmp_ / "db";
  const std::string ckpt = tmp_ / "ckpt";
  OpenDb(DbOptions(), db);
  Put(0, 100, "k", false);
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  Put(100, 200, "k", true);
  rocksdb::Checkpoint* raw = nullptr;
  ASSERT_TRUE(rocksdb::Checkpoint::Create(db_.get(), &raw).ok());
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  Status s = checkpoint->CreateCheckpoint(ckpt, UINT64_MAX);
  ASSERT_TRUE(s.ok()) << s.ToString();
  CloseDb();
  EXPECT_TRUE(PlainWalsWithData(ckpt).empty());
  EXPECT_FALSE(PathExists(ckpt + "/segwal"));
  EXPECT_FALSE(WalsSeen(ckpt).empty());
  EXPECT_FALSE(PathExists(ckpt + ".tmp"));

  NewFs(test::SmallSegments(log_dir));  // recovered from disk
  OpenDb(DbOptions(), ckpt);
  ExpectPresent(0, 200, "k");
  EXPECT_EQ(200, CountKeys());
}

// WALs in their own directory (options.wal_dir): the log lives there.
TEST_F(SegWalDbTest, SeparateWalDir) {
  const std::string db = tmp_ / "db";
  const std::string wal_dir = tmp_ / "wal";
  Options options = DbOptions();
  options.wal_dir = wal_dir;
  options.WAL_ttl_seconds = 3600;
  OpenDb(options, db);
  Put(0, 100, "s", true);
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  Put(100, 200, "s", false);
  EXPECT_TRUE(PathExists(wal_dir + "/segwal"));
  EXPECT_FALSE(PathExists(db + "/segwal"));
  EXPECT_FALSE(WalsSeen(wal_dir + "/archive").empty());
  CloseDb();
  OpenDb(options, db);
  ExpectPresent(0, 200, "s");
  CloseDb();
  Status s = rocksdb::DestroyDB(db, options);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(PathExists(db));
  EXPECT_FALSE(PathExists(wal_dir));
}

TEST_F(SegWalDbTest, ManualWalFlush) {
  const std::string db = tmp_ / "db";
  Options options = DbOptions();
  options.manual_wal_flush = true;
  OpenDb(options, db);
  Put(0, 100, "m", false);
  std::vector<std::string> wals = WalsSeen(db);
  ASSERT_EQ(1u, wals.size());
  uint64_t before = 0;
  ASSERT_TRUE(env_->GetFileSize(db + "/" + wals[0], &before).ok());
  ASSERT_TRUE(db_->FlushWAL(/*sync=*/true).ok());
  uint64_t after = 0;
  ASSERT_TRUE(env_->GetFileSize(db + "/" + wals[0], &after).ok());
  // The writes reached the logical file only with FlushWAL.
  EXPECT_GT(after, before + 100 * 100);
  CloseDb();
  OpenDb(options, db);
  ExpectPresent(0, 100, "m");
}

TEST_F(SegWalDbTest, EveryWalRecoveryMode) {
  int n = 0;
  for (WALRecoveryMode mode : kWalRecoveryModes) {
    SCOPED_TRACE(static_cast<int>(mode));
    const std::string db = tmp_ / ("db" + std::to_string(n++));
    Options options = DbOptions();
    options.wal_recovery_mode = mode;
    OpenDb(options, db);
    Put(0, 50, "w", false);
    Put(50, 100, "w", true);
    CloseDb();
    OpenDb(options, db);
    ExpectPresent(0, 100, "w");
    Put(100, 150, "w", false);
    CloseDb();
    OpenDb(options, db);
    ExpectPresent(0, 150, "w");
    EXPECT_EQ(150, CountKeys());
    CloseDb();
  }
}

// Compressed WALs (lz4 and zstd groups) of more than the decode-ahead
// holds, replayed by DB::Open under each recovery mode: every acknowledged
// key comes back, over several WAL files and reopens.
TEST_F(SegWalDbTest, CompressedWalsRecoverEveryKey) {
  // Synced every 500 keys, the rest left to the log.
  const auto put = [&](int from, int to) {
    for (int i = from; i < to; i += 500) {
      Put(i, i + 1, "v", /*sync=*/true, nullptr, CompressibleValue);
      Put(i + 1, std::min(i + 500, to), "v", /*sync=*/false, nullptr,
          CompressibleValue);
    }
  };
  const auto expect = [&](int to) {
    ExpectPresent(0, to, "v", nullptr, CompressibleValue);
    EXPECT_EQ(to, CountKeys());
  };
  int n = 0;
  for (Codec codec : {Codec::kLz4Group, Codec::kZstdGroup}) {
    for (WALRecoveryMode mode : kWalRecoveryModes) {
      SCOPED_TRACE(std::string(CodecName(codec)) + " mode " +
                   std::to_string(static_cast<int>(mode)));
      SegWalOptions so = test::SmallSegments();
      so.log.compression = codec;
      NewFs(so);
      const std::string db = tmp_ / ("db" + std::to_string(n++));
      Options options = DbOptions();
      options.wal_recovery_mode = mode;
      // Nothing is flushed: each open replays every WAL so far.
      options.avoid_flush_during_shutdown = true;
      options.avoid_flush_during_recovery = true;
      OpenDb(options, db);
      put(0, 8000);  // ~5 MiB of WAL
      CloseDb();
      OpenDb(options, db);
      EXPECT_EQ(0u, LiveSstFiles()) << "the keys come from the WALs";
      expect(8000);
      put(8000, 12000);
      CloseDb();
      OpenDb(options, db);
      EXPECT_EQ(0u, LiveSstFiles()) << "the keys come from the WALs";
      expect(12000);
      CloseDb();
    }
  }
}

TEST_F(SegWalDbTest, TrackAndVerifyWalsInManifest) {
  const std::string db = tmp_ / "db";
  Options options = DbOptions();
  options.track_and_verify_wals_in_manifest = true;
  for (int cycle = 0; cycle < 4; ++cycle) {
    SCOPED_TRACE(cycle);
    OpenDb(options, db);
    ExpectPresent(0, cycle * 100, "v");
    Put(cycle * 100, cycle * 100 + 50, "v", /*sync=*/true);
    if (cycle % 2 == 1) {
      ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
    }
    Put(cycle * 100 + 50, cycle * 100 + 100, "v", /*sync=*/false);
    ASSERT_TRUE(db_->SyncWAL().ok());
    CloseDb();
  }
  OpenDb(options, db);
  ExpectPresent(0, 400, "v");
  EXPECT_EQ(400, CountKeys());
}

TEST_F(SegWalDbTest, DestroyDbLeavesNothing) {
  const std::string db = tmp_ / "db";
  Options options = DbOptions();
  options.WAL_ttl_seconds = 3600;  // an archive/ with logical files too
  OpenDb(options, db);
  Put(0, 100, "d", true);
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  Put(100, 200, "d", false);
  EXPECT_FALSE(WalsSeen(db + "/archive").empty());
  CloseDb();
  Status s = rocksdb::DestroyDB(db, options);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(PathExists(db));

  // Shared log: the DB's names leave the log, the DB directory goes.
  const std::string log_dir = tmp_ / "shared";
  NewFs(test::SmallSegments(log_dir));
  options = DbOptions();
  const std::string db2 = tmp_ / "db2";
  OpenDb(options, db2);
  Put(0, 100, "d", true);
  CloseDb();
  s = rocksdb::DestroyDB(db2, options);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(PathExists(db2));
  std::vector<std::string> children;
  EXPECT_FALSE(fs_->GetChildren(db2, rocksdb::IOOptions(), &children, nullptr)
                   .ok());
}

// rm -rf of a DB whose WALs live in a shared log_dir: a new DB at the same
// path opens empty (RocksDB would otherwise refuse it, "wal_dir contains
// existing log file", or replay the old WALs), and a DB beside it keeps its
// unflushed writes.
TEST_F(SegWalDbTest, DbRemovedOutsideRocksDbIsCreatedAnewWithSharedLog) {
  NewFs(test::SmallSegments(tmp_ / "shared"));
  const std::string gone = tmp_ / "gone";
  const std::string kept = tmp_ / "kept";
  Options options = DbOptions();
  DB* kept_db = nullptr;
  ASSERT_TRUE(DB::Open(options, kept, &kept_db).ok());
  std::unique_ptr<DB> kept_owner(kept_db);
  Put(0, 50, "k", true, kept_db);
  OpenDb(options, gone);
  Put(0, 100, "old", true);
  CloseDb();
  ASSERT_EQ(0, system(("rm -rf " + gone).c_str()));

  OpenDb(options, gone);
  EXPECT_EQ(0, CountKeys());
  Put(0, 10, "new", true);
  CloseDb();
  OpenDb(options, gone);
  EXPECT_EQ(10, CountKeys());
  ExpectPresent(0, 10, "new");
  CloseDb();
  ExpectPresent(0, 50, "k", kept_db);
  ASSERT_TRUE(kept_db->Close().ok());
  kept_owner.reset();
  OpenDb(options, kept);
  ExpectPresent(0, 50, "k");
}

}  // namespace
}  // namespace segwal
