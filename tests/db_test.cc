// Whole-DB tests: RocksDB 7.8.3 itself driving SegWalFileSystem through
// every path that touches WAL files.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "env/fs/export.h"
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

namespace segwal {
namespace {

using rocksdb::ColumnFamilyDescriptor;
using rocksdb::ColumnFamilyHandle;
using rocksdb::DB;
using rocksdb::Env;
using rocksdb::FileSystem;
using rocksdb::IOStatus;
using rocksdb::Options;
using rocksdb::ReadOptions;
using rocksdb::Status;
using rocksdb::WALRecoveryMode;
using rocksdb::WriteOptions;
using test::PathExists;
using test::PlainWalsWithData;
using test::TempDir;

std::string Key(int i) {
  char buf[32];
  snprintf(buf, sizeof(buf), "key%08d", i);
  return buf;
}

std::string Value(const std::string& tag, int i) {
  return tag + "-" + std::to_string(i) + std::string(100 + i % 50, 'v');
}

// A SegWalFileSystem that counts the calls a test must see exercised.
class CountingSegWalFs : public SegWalFileSystem {
 public:
  using SegWalFileSystem::SegWalFileSystem;
  IOStatus ReuseWritableFile(const std::string& fname,
                             const std::string& old_fname,
                             const rocksdb::FileOptions& options,
                             std::unique_ptr<rocksdb::FSWritableFile>* result,
                             rocksdb::IODebugContext* dbg) override {
    ++reuse_calls;
    return SegWalFileSystem::ReuseWritableFile(fname, old_fname, options,
                                               result, dbg);
  }
  IOStatus RenameFile(const std::string& src, const std::string& target,
                      const rocksdb::IOOptions& options,
                      rocksdb::IODebugContext* dbg) override {
    if (test::EndsWith(src, ".log") && test::EndsWith(target, ".trash")) {
      ++wal_trash_renames;
    }
    return SegWalFileSystem::RenameFile(src, target, options, dbg);
  }
  std::atomic<int> reuse_calls{0};
  std::atomic<int> wal_trash_renames{0};
};

class SegWalDbTest : public ::testing::Test {
 protected:
  SegWalDbTest() { NewFs(test::SmallSegments()); }
  ~SegWalDbTest() override {
    CloseDb();
    env_.reset();
    fs_.reset();
  }

  void NewFs(const SegWalOptions& options,
             std::shared_ptr<SegWalFileSystem> fs = nullptr) {
    env_.reset();
    fs_ = fs != nullptr ? fs
                        : std::make_shared<SegWalFileSystem>(
                              FileSystem::Default(), options);
    env_ = NewSegWalEnv(fs_);
  }

  Options DbOptions() {
    Options options;
    options.create_if_missing = true;
    options.env = env_.get();
    return options;
  }

  void OpenDb(const Options& options, const std::string& path) {
    CloseDb();
    DB* db = nullptr;
    Status s = DB::Open(options, path, &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    db_.reset(db);
  }

  // DB::OpenForReadOnly reads keys [0, keys) (tag "v") and leaves the log
  // directory byte-identical.
  void ExpectReadOnlyOpenWritesNothing(const Options& options,
                                       const std::string& path,
                                       const std::string& log_dir, int keys) {
    const auto before = test::DirContents(log_dir);
    DB* reader = nullptr;
    Status s = DB::OpenForReadOnly(options, path, &reader);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(keys, CountKeys(reader));
    ExpectPresent(0, keys, "v", reader);
    delete reader;
    EXPECT_TRUE(before == test::DirContents(log_dir))
        << "the read-only open wrote to the log";
  }

  void CloseDb() {
    if (db_ != nullptr) {
      EXPECT_TRUE(db_->Close().ok());
      db_.reset();
    }
  }

  void Put(int from, int to, const std::string& tag, bool sync,
           DB* db = nullptr) {
    if (db == nullptr) db = db_.get();
    WriteOptions wo;
    wo.sync = sync;
    for (int i = from; i < to; ++i) {
      ASSERT_TRUE(db->Put(wo, Key(i), Value(tag, i)).ok());
    }
  }

  void ExpectPresent(int from, int to, const std::string& tag,
                     DB* db = nullptr) {
    if (db == nullptr) db = db_.get();
    int missing = 0;
    for (int i = from; i < to; ++i) {
      std::string v;
      Status s = db->Get(ReadOptions(), Key(i), &v);
      if (!s.ok() || v != Value(tag, i)) ++missing;
    }
    EXPECT_EQ(0, missing) << "of keys [" << from << ", " << to << ") tag "
                          << tag;
  }

  int CountKeys(DB* db = nullptr) {
    if (db == nullptr) db = db_.get();
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ReadOptions()));
    int n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    EXPECT_TRUE(it->status().ok());
    return n;
  }

  size_t LiveSstFiles() {
    std::vector<rocksdb::LiveFileMetaData> files;
    db_->GetLiveFilesMetaData(&files);
    return files.size();
  }

  // WAL files RocksDB sees in `dir` through the segwal Env.
  std::vector<std::string> WalsSeen(const std::string& dir) {
    std::vector<std::string> children;
    EXPECT_TRUE(env_->GetChildren(dir, &children).ok());
    std::vector<std::string> wals;
    for (const std::string& c : children) {
      if (test::EndsWith(c, ".log") && c != "LOG") wals.push_back(c);
    }
    return wals;
  }

  TempDir tmp_;
  std::shared_ptr<SegWalFileSystem> fs_;
  std::unique_ptr<Env> env_;
  std::unique_ptr<DB> db_;
};

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
  const WALRecoveryMode modes[] = {
      WALRecoveryMode::kTolerateCorruptedTailRecords,
      WALRecoveryMode::kAbsoluteConsistency,
      WALRecoveryMode::kPointInTimeRecovery,
      WALRecoveryMode::kSkipAnyCorruptedRecords};
  int n = 0;
  for (WALRecoveryMode mode : modes) {
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

// A DB written by stock RocksDB (plain WALs with unflushed data) opens
// through segwal and recovers them.
TEST_F(SegWalDbTest, StockDbOpensThroughSegWal) {
  const std::string db = tmp_ / "db";
  {
    Options stock;
    stock.create_if_missing = true;
    DB* raw = nullptr;
    ASSERT_TRUE(DB::Open(stock, db, &raw).ok());
    std::unique_ptr<DB> sdb(raw);
    Put(0, 100, "s", false, sdb.get());
    Put(100, 200, "s", true, sdb.get());
    ASSERT_TRUE(sdb->Close().ok());
  }
  ASSERT_EQ(1u, PlainWalsWithData(db).size());
  EXPECT_EQ(1u, WalsSeen(db).size());  // the plain WAL is listed

  OpenDb(DbOptions(), db);
  ExpectPresent(0, 200, "s");
  Put(200, 300, "s", false);
  CloseDb();
  // The plain WAL was recovered and retired; new WALs are logical.
  EXPECT_TRUE(PlainWalsWithData(db).empty());
  OpenDb(DbOptions(), db);
  ExpectPresent(0, 300, "s");
}

// ExportLogicalWals turns the logical WALs back into plain files: stock
// RocksDB then recovers the unflushed writes.
TEST_F(SegWalDbTest, ExportThenStockOpen) {
  const std::string db = tmp_ / "db";
  Options options = DbOptions();
  options.WAL_ttl_seconds = 3600;
  OpenDb(options, db);
  Put(0, 100, "e", true);
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  Put(100, 200, "e", false);
  CloseDb();
  env_.reset();
  fs_.reset();

  std::vector<std::string> exported;
  IOStatus s = ExportLogicalWals(db, test::SmallSegments(), &exported);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GE(exported.size(), 2u);  // the live WAL and the archived one
  EXPECT_FALSE(PathExists(db + "/segwal"));
  EXPECT_FALSE(PlainWalsWithData(db).empty());

  Options stock;
  stock.WAL_ttl_seconds = 3600;
  DB* raw = nullptr;
  Status st = DB::Open(stock, db, &raw);
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::unique_ptr<DB> sdb(raw);
  ExpectPresent(0, 200, "e", sdb.get());
  rocksdb::VectorLogPtr wals;
  ASSERT_TRUE(sdb->GetSortedWalFiles(wals).ok());
  EXPECT_FALSE(wals.empty());
  ASSERT_TRUE(sdb->Close().ok());
}

// The risk of opening a segwal DB with stock RocksDB, pinned: stock
// RocksDB sees no WAL files.
//  - track_and_verify_wals_in_manifest=true: RocksDB 7.8.3 records a WAL's
//    synced size in the MANIFEST only once the WAL is closed (a newer WAL
//    exists) and synced. Such a WAL still holding unflushed data (another
//    column family was flushed) makes stock RocksDB refuse to open
//    ("Missing WAL"). Unflushed data only in the active WAL is not
//    protected: stock RocksDB opens and it is gone.
//  - without it: stock RocksDB opens and every unflushed write is gone.
// Through segwal the same DBs recover everything, even after a stock open
// that wrote nothing.
class StockRiskTest : public SegWalDbTest {
 protected:
  // Writes flushed keys [0, 100) and unflushed synced keys [100, 200) to
  // the default family; with `closed_wal`, another family is then flushed
  // so that the unflushed keys sit in a closed, synced, tracked WAL.
  void Prepare(const std::string& db, bool track, bool closed_wal) {
    Options options = DbOptions();
    options.track_and_verify_wals_in_manifest = track;
    options.create_missing_column_families = true;
    std::vector<ColumnFamilyHandle*> handles;
    DB* raw = nullptr;
    ASSERT_TRUE(DB::Open(options, db, Families(options), &handles, &raw).ok());
    Put(0, 100, "f", true, raw);
    ASSERT_TRUE(raw->Flush(rocksdb::FlushOptions(), handles[0]).ok());
    Put(100, 200, "u", /*sync=*/true, raw);
    if (closed_wal) {
      ASSERT_TRUE(raw->Put(WriteOptions(), handles[1], "x", "y").ok());
      ASSERT_TRUE(raw->Flush(rocksdb::FlushOptions(), handles[1]).ok());
    }
    for (ColumnFamilyHandle* h : handles) {
      ASSERT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
    }
    ASSERT_TRUE(raw->Close().ok());
    delete raw;
    EXPECT_TRUE(PlainWalsWithData(db).empty());
  }

  static std::vector<ColumnFamilyDescriptor> Families(const Options& o) {
    return {{rocksdb::kDefaultColumnFamilyName, o}, {"other", o}};
  }

  // Opens `db` with `options`; on success returns how many of the
  // unflushed keys are missing, and checks the flushed ones are there.
  Status OpenAndCountLost(const std::string& db, Options options, int* lost) {
    std::vector<ColumnFamilyHandle*> handles;
    DB* raw = nullptr;
    Status s = DB::Open(options, db, Families(options), &handles, &raw);
    if (!s.ok()) return s;
    ExpectPresent(0, 100, "f", raw);
    *lost = 0;
    for (int i = 100; i < 200; ++i) {
      std::string v;
      if (!raw->Get(ReadOptions(), Key(i), &v).ok() || v != Value("u", i)) {
        ++*lost;
      }
    }
    for (ColumnFamilyHandle* h : handles) {
      EXPECT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
    }
    EXPECT_TRUE(raw->Close().ok());
    delete raw;
    return s;
  }

  static Options Stock(bool track) {
    Options o;
    o.track_and_verify_wals_in_manifest = track;
    return o;
  }
};

TEST_F(StockRiskTest, TrackedClosedWalMakesStockRocksDbRefuse) {
  const std::string db = tmp_ / "db";
  Prepare(db, /*track=*/true, /*closed_wal=*/true);
  int lost = -1;
  Status s = OpenAndCountLost(db, Stock(true), &lost);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("Missing WAL")) << s.ToString();
  // Refusing changed nothing: segwal recovers everything, and RocksDB's
  // own check (sizes in the MANIFEST) passes on the logical WALs.
  Options options = DbOptions();
  options.track_and_verify_wals_in_manifest = true;
  s = OpenAndCountLost(db, options, &lost);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(0, lost);
}

TEST_F(StockRiskTest, TrackedActiveWalIsLostSilently) {
  const std::string db = tmp_ / "db";
  Prepare(db, /*track=*/true, /*closed_wal=*/false);
  int lost = -1;
  Status s = OpenAndCountLost(db, Stock(true), &lost);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(100, lost);
}

TEST_F(StockRiskTest, UntrackedWalsAreLostSilently) {
  for (bool closed_wal : {false, true}) {
    SCOPED_TRACE(closed_wal);
    const std::string db = tmp_ / (closed_wal ? "closed" : "active");
    const std::string control = db + "-control";
    Prepare(db, /*track=*/false, closed_wal);
    Prepare(control, /*track=*/false, closed_wal);
    // The same DB opened through segwal loses nothing.
    int lost = -1;
    Status s = OpenAndCountLost(control, DbOptions(), &lost);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(0, lost);
    s = OpenAndCountLost(db, Stock(false), &lost);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(100, lost);
    // Stock RocksDB wrote nothing here, so it did not move the DB past
    // those WALs: opened through segwal again, the writes come back. (Had
    // it written, its new writes would reuse their sequence numbers.)
    s = OpenAndCountLost(db, DbOptions(), &lost);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(0, lost);
  }
}

}  // namespace
}  // namespace segwal
