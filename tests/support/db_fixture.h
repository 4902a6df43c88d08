// The fixture of the whole-DB tests (db_*_test.cc): RocksDB 7.8.3 itself
// driving a SegWalFileSystem, with helpers to write, read back and count
// keys.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "env/fs/segwal_fs.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "tests/segwal_test_util.h"

namespace segwal {
namespace db_test {

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

inline std::string Key(int i) {
  char buf[32];
  snprintf(buf, sizeof(buf), "key%08d", i);
  return buf;
}

inline std::string Value(const std::string& tag, int i) {
  return tag + "-" + std::to_string(i) + std::string(100 + i % 50, 'v');
}

// ~600 bytes unique per key that compress as db_bench's values at
// --compression_ratio=0.5 do (50 random characters, each run twice):
// what a compressed WAL must hold in groups of many frames.
inline std::string CompressibleValue(const std::string& tag, int i) {
  uint32_t x = 2654435761u * static_cast<uint32_t>(i + 1);
  std::string half;
  for (int k = 0; k < 50; ++k) {
    x = x * 1103515245u + 12345u;
    half += static_cast<char>(' ' + (x >> 16) % 95);
  }
  std::string v = tag + "-" + std::to_string(i) + ":";
  for (int k = 0; k < 6; ++k) v += half + half;
  return v;
}

using ValueOf = std::string (*)(const std::string& tag, int i);

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
           DB* db = nullptr, ValueOf value = Value) {
    if (db == nullptr) db = db_.get();
    WriteOptions wo;
    wo.sync = sync;
    for (int i = from; i < to; ++i) {
      ASSERT_TRUE(db->Put(wo, Key(i), value(tag, i)).ok());
    }
  }

  void ExpectPresent(int from, int to, const std::string& tag,
                     DB* db = nullptr, ValueOf value = Value) {
    if (db == nullptr) db = db_.get();
    int missing = 0;
    for (int i = from; i < to; ++i) {
      std::string v;
      Status s = db->Get(ReadOptions(), Key(i), &v);
      if (!s.ok() || v != value(tag, i)) ++missing;
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

}  // namespace db_test
}  // namespace segwal
