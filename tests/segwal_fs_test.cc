// FileSystem-level behaviour of SegWalFileSystem on logical WAL files: every
// call RocksDB makes on a WAL must behave as it does on a real file.
#include "env/fs/segwal_fs.h"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "env/fs/export.h"
#include "gtest/gtest.h"
#include "rocksdb/convenience.h"
#include "tests/segwal_test_util.h"

namespace segwal {
namespace {

using rocksdb::FileOptions;
using rocksdb::FileSystem;
using rocksdb::FSRandomAccessFile;
using rocksdb::FSSequentialFile;
using rocksdb::FSWritableFile;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;
using test::ListDir;
using test::PathExists;
using test::TempDir;

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

class SegWalFsTest : public ::testing::Test {
 protected:
  void SetUp() override { Reset(test::SmallSegments()); }

  void Reset(const SegWalOptions& options) {
    fs_.reset();
    fs_ = std::make_shared<SegWalFileSystem>(FileSystem::Default(), options);
  }

  void WriteFile(const std::string& path, const std::string& data,
                 bool sync = true) {
    std::unique_ptr<FSWritableFile> f;
    ASSERT_TRUE(fs_->NewWritableFile(path, FileOptions(), &f, nullptr).ok());
    ASSERT_TRUE(f->Append(data, io_, nullptr).ok());
    ASSERT_TRUE(f->Flush(io_, nullptr).ok());
    if (sync) {
      ASSERT_TRUE(f->Sync(io_, nullptr).ok());
    }
    ASSERT_TRUE(f->Close(io_, nullptr).ok());
  }

  std::string ReadAll(const std::string& path) {
    std::unique_ptr<FSSequentialFile> f;
    IOStatus s = fs_->NewSequentialFile(path, FileOptions(), &f, nullptr);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) return "<error>";
    std::string out;
    std::string scratch(7, '\0');  // odd size: many calls
    for (;;) {
      Slice chunk;
      s = f->Read(scratch.size(), io_, &chunk, &scratch[0], nullptr);
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok() || chunk.empty()) break;
      out.append(chunk.data(), chunk.size());
    }
    return out;
  }

  std::vector<std::string> Children(const std::string& dir) {
    std::vector<std::string> out;
    IOStatus s = fs_->GetChildren(dir, io_, &out, nullptr);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  uint64_t Size(const std::string& path) {
    uint64_t size = 0;
    IOStatus s = fs_->GetFileSize(path, io_, &size, nullptr);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return size;
  }

  static void WritePlain(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary);
    out << data;
  }

  TempDir tmp_;
  IOOptions io_;
  std::shared_ptr<SegWalFileSystem> fs_;
};

TEST_F(SegWalFsTest, WriteReadAndListLogicalFile) {
  const std::string wal = tmp_ / "000003.log";
  std::unique_ptr<FSWritableFile> f;
  ASSERT_TRUE(fs_->NewWritableFile(wal, FileOptions(), &f, nullptr).ok());
  EXPECT_FALSE(f->use_direct_io());
  EXPECT_TRUE(f->IsSyncThreadSafe());
  f->SetPreallocationBlockSize(1 << 20);
  EXPECT_TRUE(f->Allocate(0, 1 << 20, io_, nullptr).ok());
  f->PrepareWrite(0, 100, io_, nullptr);
  EXPECT_EQ(0u, f->GetFileSize(io_, nullptr));
  ASSERT_TRUE(f->Append("hello ", io_, nullptr).ok());
  ASSERT_TRUE(f->Append("world", io_, nullptr).ok());
  EXPECT_TRUE(f->Flush(io_, nullptr).ok());
  EXPECT_TRUE(f->RangeSync(0, 11, io_, nullptr).ok());
  EXPECT_TRUE(f->Sync(io_, nullptr).ok());
  EXPECT_EQ(11u, f->GetFileSize(io_, nullptr));
  // Visible to other calls while still open for writing.
  EXPECT_EQ(11u, Size(wal));
  EXPECT_EQ("hello world", ReadAll(wal));
  ASSERT_TRUE(f->PositionedAppend("W", 6, io_, nullptr).ok());
  ASSERT_TRUE(f->PositionedAppend("!", 11, io_, nullptr).ok());
  EXPECT_TRUE(f->Fsync(io_, nullptr).ok());
  ASSERT_TRUE(f->Close(io_, nullptr).ok());
  // A closed file refuses further writes.
  EXPECT_FALSE(f->Append("x", io_, nullptr).ok());

  EXPECT_EQ("hello World!", ReadAll(wal));
  EXPECT_EQ(12u, Size(wal));
  EXPECT_TRUE(fs_->FileExists(wal, io_, nullptr).ok());
  uint64_t mtime = 0;
  ASSERT_TRUE(fs_->GetFileModificationTime(wal, io_, &mtime, nullptr).ok());
  EXPECT_LE(static_cast<uint64_t>(time(nullptr)) - mtime, 60u);
  bool is_dir = true;
  ASSERT_TRUE(fs_->IsDirectory(wal, io_, &is_dir, nullptr).ok());
  EXPECT_FALSE(is_dir);

  // Logical, not a real file; the log lives in <dir>/segwal.
  EXPECT_FALSE(PathExists(wal));
  EXPECT_GE(test::CountSegmentFiles(tmp_ / "segwal"), 1u);
  // Listed, and the log directory hidden.
  std::vector<std::string> children = Children(tmp_.path());
  EXPECT_TRUE(Contains(children, "000003.log"));
  EXPECT_FALSE(Contains(children, "segwal"));
  EXPECT_TRUE(Contains(ListDir(tmp_.path()), "segwal"));
  std::vector<rocksdb::FileAttributes> attrs;
  ASSERT_TRUE(
      fs_->GetChildrenFileAttributes(tmp_.path(), io_, &attrs, nullptr).ok());
  ASSERT_EQ(1u, attrs.size());
  EXPECT_EQ("000003.log", attrs[0].name);
  EXPECT_EQ(12u, attrs[0].size_bytes);

  // Spellings of the same path reach the same file.
  EXPECT_EQ(12u, Size(tmp_.path() + "//./000003.log"));
}

TEST_F(SegWalFsTest, SequentialSkipPositionedAndRandomReads) {
  const std::string wal = tmp_ / "000007.log";
  std::string data;
  for (int i = 0; i < 300000; ++i) data.push_back(static_cast<char>('a' + i % 26));
  WriteFile(wal, data);

  std::unique_ptr<FSSequentialFile> seq;
  ASSERT_TRUE(fs_->NewSequentialFile(wal, FileOptions(), &seq, nullptr).ok());
  std::string scratch(100, '\0');
  Slice got;
  ASSERT_TRUE(seq->Skip(1000).ok());
  ASSERT_TRUE(seq->Read(10, io_, &got, &scratch[0], nullptr).ok());
  EXPECT_EQ(data.substr(1000, 10), got.ToString());
  ASSERT_TRUE(
      seq->PositionedRead(299995, 100, io_, &got, &scratch[0], nullptr).ok());
  EXPECT_EQ(data.substr(299995), got.ToString());
  ASSERT_TRUE(seq->Skip(1000000).ok());
  ASSERT_TRUE(seq->Read(10, io_, &got, &scratch[0], nullptr).ok());
  EXPECT_TRUE(got.empty());

  std::unique_ptr<FSRandomAccessFile> ra;
  ASSERT_TRUE(fs_->NewRandomAccessFile(wal, FileOptions(), &ra, nullptr).ok());
  ASSERT_TRUE(ra->Read(123456, 50, io_, &got, &scratch[0], nullptr).ok());
  EXPECT_EQ(data.substr(123456, 50), got.ToString());
  ASSERT_TRUE(ra->Read(299990, 50, io_, &got, &scratch[0], nullptr).ok());
  EXPECT_EQ(data.substr(299990), got.ToString());
  ASSERT_TRUE(ra->Read(400000, 50, io_, &got, &scratch[0], nullptr).ok());
  EXPECT_TRUE(got.empty());
}

TEST_F(SegWalFsTest, NewWritableFileReplacesLogicalAndPlainFiles) {
  const std::string wal = tmp_ / "000004.log";
  WriteFile(wal, "first version");
  WriteFile(wal, "second");
  EXPECT_EQ("second", ReadAll(wal));
  EXPECT_EQ(1u, Children(tmp_.path()).size());

  const std::string plain = tmp_ / "000005.log";
  WritePlain(plain, "plain bytes");
  WriteFile(plain, "logical");
  EXPECT_FALSE(PathExists(plain));
  EXPECT_EQ("logical", ReadAll(plain));
}

// As open(2) with O_TRUNC on a POSIX file system: opening a WAL that
// exists for writing (a tool rewriting a live WAL) cuts that same file to
// size 0; the handles already open on it, writers and readers, stay valid
// and go on with the same file.
TEST_F(SegWalFsTest, NewWritableFileOnAnOpenWalTruncatesTheSameFile) {
  const std::string wal = tmp_ / "000006.log";
  std::unique_ptr<FSWritableFile> first;
  ASSERT_TRUE(fs_->NewWritableFile(wal, FileOptions(), &first, nullptr).ok());
  ASSERT_TRUE(first->Append("old bytes", io_, nullptr).ok());
  std::unique_ptr<FSSequentialFile> reader;
  ASSERT_TRUE(
      fs_->NewSequentialFile(wal, FileOptions(), &reader, nullptr).ok());

  std::unique_ptr<FSWritableFile> second;
  ASSERT_TRUE(fs_->NewWritableFile(wal, FileOptions(), &second, nullptr).ok());
  EXPECT_EQ(0u, Size(wal));
  // A handle's GetFileSize is what its own writes left, as a POSIX
  // writable file's is.
  EXPECT_EQ(9u, first->GetFileSize(io_, nullptr));
  ASSERT_TRUE(second->Append("new", io_, nullptr).ok());
  IOStatus s = first->Append("+more", io_, nullptr);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(first->Sync(io_, nullptr).ok());
  ASSERT_TRUE(second->Sync(io_, nullptr).ok());
  EXPECT_EQ("new+more", ReadAll(wal));
  std::string scratch(64, '\0');
  Slice got;
  ASSERT_TRUE(reader->Read(64, io_, &got, &scratch[0], nullptr).ok());
  EXPECT_EQ("new+more", got.ToString()) << "the reader opened before";
  ASSERT_TRUE(first->Close(io_, nullptr).ok());
  ASSERT_TRUE(second->Close(io_, nullptr).ok());
  reader.reset();
  EXPECT_EQ(1u, Children(tmp_.path()).size());
  Reset(test::SmallSegments());
  EXPECT_EQ("new+more", ReadAll(wal));
}

// After a failed write the handle no longer knows what its writes left
// (part of them may be in the log): it asks the log.
TEST_F(SegWalFsTest, GetFileSizeAfterAFailedAppendIsTheLogs) {
  const std::string wal = tmp_ / "000007.log";
  std::unique_ptr<FSWritableFile> first;
  ASSERT_TRUE(fs_->NewWritableFile(wal, FileOptions(), &first, nullptr).ok());
  ASSERT_TRUE(first->Append("old bytes", io_, nullptr).ok());
  std::unique_ptr<FSWritableFile> second;
  ASSERT_TRUE(fs_->NewWritableFile(wal, FileOptions(), &second, nullptr).ok());
  ASSERT_TRUE(second->Append("new", io_, nullptr).ok());
  ASSERT_TRUE(fs_->DeleteFile(wal, io_, nullptr).ok());
  EXPECT_EQ(9u, first->GetFileSize(io_, nullptr));
  EXPECT_FALSE(first->Append("lost", io_, nullptr).ok());
  EXPECT_EQ(3u, first->GetFileSize(io_, nullptr));
  ASSERT_TRUE(first->Close(io_, nullptr).ok());
  ASSERT_TRUE(second->Close(io_, nullptr).ok());
}

TEST_F(SegWalFsTest, NewWritableFileNeedsTheDirectory) {
  std::unique_ptr<FSWritableFile> f;
  IOStatus s = fs_->NewWritableFile(tmp_ / "missing/000001.log", FileOptions(),
                                    &f, nullptr);
  EXPECT_TRUE(s.IsPathNotFound()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("missing/000001.log"));
}

TEST_F(SegWalFsTest, ReuseWritableFileRenamesAndEmpties) {
  const std::string old_wal = tmp_ / "000003.log";
  const std::string new_wal = tmp_ / "000009.log";
  WriteFile(old_wal, "old contents that must vanish");
  std::unique_ptr<FSWritableFile> f;
  ASSERT_TRUE(fs_->ReuseWritableFile(new_wal, old_wal, FileOptions(), &f,
                                     nullptr)
                  .ok());
  EXPECT_EQ(0u, f->GetFileSize(io_, nullptr));
  ASSERT_TRUE(f->Append("new", io_, nullptr).ok());
  ASSERT_TRUE(f->Close(io_, nullptr).ok());
  EXPECT_TRUE(fs_->FileExists(old_wal, io_, nullptr).IsNotFound());
  EXPECT_EQ("new", ReadAll(new_wal));

  // Reusing a plain file: the new file is logical and empty.
  const std::string plain = tmp_ / "000010.log";
  WritePlain(plain, "plain");
  ASSERT_TRUE(fs_->ReuseWritableFile(tmp_ / "000011.log", plain, FileOptions(),
                                     &f, nullptr)
                  .ok());
  ASSERT_TRUE(f->Append("x", io_, nullptr).ok());
  ASSERT_TRUE(f->Close(io_, nullptr).ok());
  EXPECT_FALSE(PathExists(plain));
  EXPECT_FALSE(PathExists(tmp_ / "000011.log"));
  EXPECT_EQ("x", ReadAll(tmp_ / "000011.log"));
}

TEST_F(SegWalFsTest, ReopenWritableFileAppends) {
  const std::string wal = tmp_ / "000012.log";
  WriteFile(wal, "abc");
  std::unique_ptr<FSWritableFile> f;
  ASSERT_TRUE(fs_->ReopenWritableFile(wal, FileOptions(), &f, nullptr).ok());
  EXPECT_EQ(3u, f->GetFileSize(io_, nullptr));
  ASSERT_TRUE(f->Append("def", io_, nullptr).ok());
  EXPECT_EQ(6u, f->GetFileSize(io_, nullptr));
  ASSERT_TRUE(f->Truncate(5, io_, nullptr).ok());
  EXPECT_EQ(5u, f->GetFileSize(io_, nullptr));
  ASSERT_TRUE(f->PositionedAppend("E", 4, io_, nullptr).ok());
  EXPECT_EQ(5u, f->GetFileSize(io_, nullptr));
  ASSERT_TRUE(f->PositionedAppend("FG", 5, io_, nullptr).ok());
  EXPECT_EQ(7u, f->GetFileSize(io_, nullptr));
  ASSERT_TRUE(f->Truncate(5, io_, nullptr).ok());
  ASSERT_TRUE(f->Close(io_, nullptr).ok());
  EXPECT_EQ("abcdE", ReadAll(wal));

  // A plain WAL is reopened through the base FileSystem.
  const std::string plain = tmp_ / "000013.log";
  WritePlain(plain, "plain");
  ASSERT_TRUE(fs_->ReopenWritableFile(plain, FileOptions(), &f, nullptr).ok());
  ASSERT_TRUE(f->Append("+more", io_, nullptr).ok());
  ASSERT_TRUE(f->Close(io_, nullptr).ok());
  EXPECT_EQ("plain+more", test::ReadFileToString(plain));

  // Neither: a new logical file.
  const std::string fresh = tmp_ / "000014.log";
  ASSERT_TRUE(fs_->ReopenWritableFile(fresh, FileOptions(), &f, nullptr).ok());
  ASSERT_TRUE(f->Append("new", io_, nullptr).ok());
  ASSERT_TRUE(f->Close(io_, nullptr).ok());
  EXPECT_FALSE(PathExists(fresh));
  EXPECT_EQ("new", ReadAll(fresh));
}

TEST_F(SegWalFsTest, TruncateThroughTheFileSystem) {
  const std::string wal = tmp_ / "000015.log";
  WriteFile(wal, "0123456789");
  ASSERT_TRUE(fs_->Truncate(wal, 4, io_, nullptr).ok());
  EXPECT_EQ("0123", ReadAll(wal));
}

TEST_F(SegWalFsTest, RenameIntoArchiveAndBetweenLogs) {
  const std::string wal = tmp_ / "000020.log";
  WriteFile(wal, "archived bytes");
  ASSERT_TRUE(fs_->CreateDir(tmp_ / "archive", io_, nullptr).ok());
  ASSERT_TRUE(
      fs_->RenameFile(wal, tmp_ / "archive/000020.log", io_, nullptr).ok());
  EXPECT_TRUE(fs_->FileExists(wal, io_, nullptr).IsNotFound());
  EXPECT_EQ("archived bytes", ReadAll(tmp_ / "archive/000020.log"));
  EXPECT_TRUE(Contains(Children(tmp_ / "archive"), "000020.log"));
  EXPECT_FALSE(Contains(Children(tmp_.path()), "000020.log"));
  EXPECT_TRUE(Contains(Children(tmp_.path()), "archive"));
  // The archive is served by the owner's log: no log inside archive/.
  EXPECT_FALSE(PathExists(tmp_ / "archive/segwal"));
  std::vector<rocksdb::FileAttributes> attrs;
  ASSERT_TRUE(fs_->GetChildrenFileAttributes(tmp_ / "archive", io_, &attrs,
                                             nullptr)
                  .ok());
  ASSERT_EQ(1u, attrs.size());
  EXPECT_EQ(14u, attrs[0].size_bytes);

  // Into another directory: another log, so a copy then a delete.
  ASSERT_TRUE(fs_->CreateDir(tmp_ / "other", io_, nullptr).ok());
  ASSERT_TRUE(fs_->RenameFile(tmp_ / "archive/000020.log",
                              tmp_ / "other/000021.log", io_, nullptr)
                  .ok());
  EXPECT_EQ("archived bytes", ReadAll(tmp_ / "other/000021.log"));
  EXPECT_FALSE(PathExists(tmp_ / "other/000021.log"));
  EXPECT_TRUE(PathExists(tmp_ / "other/segwal"));
  EXPECT_TRUE(Children(tmp_ / "archive").empty());

  // To a name that is not a WAL's: the bytes become a plain file.
  ASSERT_TRUE(fs_->RenameFile(tmp_ / "other/000021.log",
                              tmp_ / "other/000021.log.trash", io_, nullptr)
                  .ok());
  EXPECT_EQ("archived bytes",
            test::ReadFileToString(tmp_ / "other/000021.log.trash"));
  EXPECT_TRUE(
      fs_->FileExists(tmp_ / "other/000021.log", io_, nullptr).IsNotFound());

  // Renaming onto an existing logical file replaces it.
  WriteFile(tmp_ / "000030.log", "A");
  WriteFile(tmp_ / "000031.log", "B");
  ASSERT_TRUE(fs_->RenameFile(tmp_ / "000030.log", tmp_ / "000031.log", io_,
                              nullptr)
                  .ok());
  EXPECT_EQ("A", ReadAll(tmp_ / "000031.log"));
  EXPECT_TRUE(fs_->FileExists(tmp_ / "000030.log", io_, nullptr).IsNotFound());

  // Renaming a missing file fails with the path named.
  IOStatus s =
      fs_->RenameFile(tmp_ / "000099.log", tmp_ / "000098.log", io_, nullptr);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.ToString().find("000099.log"));
}

TEST_F(SegWalFsTest, LinkFileSameLogAndAcrossLogs) {
  const std::string wal = tmp_ / "000040.log";
  WriteFile(wal, "linked");
  ASSERT_TRUE(fs_->CreateDir(tmp_ / "archive", io_, nullptr).ok());
  ASSERT_TRUE(
      fs_->LinkFile(wal, tmp_ / "archive/000040.log", io_, nullptr).ok());
  ASSERT_TRUE(fs_->DeleteFile(wal, io_, nullptr).ok());
  EXPECT_EQ("linked", ReadAll(tmp_ / "archive/000040.log"));
  // The target must not exist.
  WriteFile(wal, "again");
  EXPECT_FALSE(
      fs_->LinkFile(wal, tmp_ / "archive/000040.log", io_, nullptr).ok());

  ASSERT_TRUE(fs_->CreateDir(tmp_ / "ckpt", io_, nullptr).ok());
  ASSERT_TRUE(fs_->LinkFile(wal, tmp_ / "ckpt/000040.log", io_, nullptr).ok());
  EXPECT_EQ("again", ReadAll(tmp_ / "ckpt/000040.log"));
  EXPECT_EQ("again", ReadAll(wal));
  uint64_t links = 0;
  ASSERT_TRUE(fs_->NumFileLinks(wal, io_, &links, nullptr).ok());
  EXPECT_EQ(1u, links);
  bool same = true;
  ASSERT_TRUE(fs_->AreFilesSame(wal, tmp_ / "ckpt/000040.log", io_, &same,
                                nullptr)
                  .ok());
  EXPECT_FALSE(same);
  ASSERT_TRUE(
      fs_->AreFilesSame(wal, tmp_.path() + "/./000040.log", io_, &same, nullptr)
          .ok());
  EXPECT_TRUE(same);
}

TEST_F(SegWalFsTest, DeletedFileStaysReadableWhileOpen) {
  const std::string wal = tmp_ / "000050.log";
  WriteFile(wal, "still here");
  std::unique_ptr<FSSequentialFile> seq;
  ASSERT_TRUE(fs_->NewSequentialFile(wal, FileOptions(), &seq, nullptr).ok());
  std::unique_ptr<FSRandomAccessFile> ra;
  ASSERT_TRUE(fs_->NewRandomAccessFile(wal, FileOptions(), &ra, nullptr).ok());
  ASSERT_TRUE(fs_->DeleteFile(wal, io_, nullptr).ok());
  EXPECT_TRUE(fs_->FileExists(wal, io_, nullptr).IsNotFound());
  EXPECT_FALSE(fs_->DeleteFile(wal, io_, nullptr).ok());
  std::string scratch(64, '\0');
  Slice got;
  ASSERT_TRUE(seq->Read(64, io_, &got, &scratch[0], nullptr).ok());
  EXPECT_EQ("still here", got.ToString());
  ASSERT_TRUE(ra->Read(6, 4, io_, &got, &scratch[0], nullptr).ok());
  EXPECT_EQ("here", got.ToString());
}

TEST_F(SegWalFsTest, DeleteDirRefusesLogicalFilesThenRemovesTheLog) {
  const std::string dir = tmp_ / "db";
  ASSERT_TRUE(fs_->CreateDir(dir, io_, nullptr).ok());
  WriteFile(dir + "/000060.log", "x");
  WriteFile(dir + "/000061.log", "y");
  IOStatus s = fs_->DeleteDir(dir, io_, nullptr);
  ASSERT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("not empty"));
  EXPECT_NE(std::string::npos, s.ToString().find("000060.log"));
  EXPECT_NE(std::string::npos, s.ToString().find("000061.log"));
  // An archive directory with logical files is not empty either.
  ASSERT_TRUE(fs_->CreateDir(dir + "/archive", io_, nullptr).ok());
  ASSERT_TRUE(fs_->RenameFile(dir + "/000061.log", dir + "/archive/000061.log",
                              io_, nullptr)
                  .ok());
  s = fs_->DeleteDir(dir + "/archive", io_, nullptr);
  EXPECT_NE(std::string::npos, s.ToString().find("archive/000061.log"))
      << s.ToString();

  ASSERT_TRUE(fs_->DeleteFile(dir + "/archive/000061.log", io_, nullptr).ok());
  ASSERT_TRUE(fs_->DeleteDir(dir + "/archive", io_, nullptr).ok());
  ASSERT_TRUE(fs_->DeleteFile(dir + "/000060.log", io_, nullptr).ok());
  s = fs_->DeleteDir(dir, io_, nullptr);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(PathExists(dir));
}

TEST_F(SegWalFsTest, DeleteDirRefusesWhileAFileIsOpen) {
  const std::string dir = tmp_ / "db";
  ASSERT_TRUE(fs_->CreateDir(dir, io_, nullptr).ok());
  WriteFile(dir + "/000001.log", "x");
  std::unique_ptr<FSSequentialFile> seq;
  ASSERT_TRUE(fs_->NewSequentialFile(dir + "/000001.log", FileOptions(), &seq,
                                     nullptr)
                  .ok());
  ASSERT_TRUE(fs_->DeleteFile(dir + "/000001.log", io_, nullptr).ok());
  IOStatus s = fs_->DeleteDir(dir, io_, nullptr);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_TRUE(PathExists(dir + "/segwal"));
  seq.reset();
  s = fs_->DeleteDir(dir, io_, nullptr);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(PathExists(dir));
}

TEST_F(SegWalFsTest, QueriesDoNotCreateLogs) {
  const std::string dir = tmp_ / "plain";
  ASSERT_TRUE(fs_->CreateDir(dir, io_, nullptr).ok());
  EXPECT_TRUE(Children(dir).empty());
  EXPECT_TRUE(fs_->FileExists(dir + "/000001.log", io_, nullptr).IsNotFound());
  uint64_t size = 0;
  EXPECT_FALSE(fs_->GetFileSize(dir + "/000001.log", io_, &size, nullptr).ok());
  std::unique_ptr<FSSequentialFile> seq;
  EXPECT_FALSE(fs_->NewSequentialFile(dir + "/000001.log", FileOptions(), &seq,
                                      nullptr)
                   .ok());
  EXPECT_FALSE(fs_->DeleteFile(dir + "/000001.log", io_, nullptr).ok());
  EXPECT_FALSE(PathExists(dir + "/segwal"));
  ASSERT_TRUE(fs_->DeleteDir(dir, io_, nullptr).ok());
}

TEST_F(SegWalFsTest, PlainWalFilesPassThrough) {
  const std::string plain = tmp_ / "000070.log";
  WritePlain(plain, "written by stock rocksdb");
  EXPECT_EQ("written by stock rocksdb", ReadAll(plain));
  EXPECT_EQ(24u, Size(plain));
  EXPECT_TRUE(Contains(Children(tmp_.path()), "000070.log"));
  ASSERT_TRUE(fs_->CreateDir(tmp_ / "archive", io_, nullptr).ok());
  ASSERT_TRUE(
      fs_->RenameFile(plain, tmp_ / "archive/000070.log", io_, nullptr).ok());
  EXPECT_EQ("written by stock rocksdb",
            test::ReadFileToString(tmp_ / "archive/000070.log"));
  EXPECT_TRUE(Contains(Children(tmp_ / "archive"), "000070.log"));
  ASSERT_TRUE(fs_->DeleteFile(tmp_ / "archive/000070.log", io_, nullptr).ok());
  EXPECT_FALSE(PathExists(tmp_ / "archive/000070.log"));
  // None of this needed a log.
  EXPECT_FALSE(PathExists(tmp_ / "segwal"));
}

TEST_F(SegWalFsTest, OtherFilesAreUntouched) {
  const std::string manifest = tmp_ / "MANIFEST-000001";
  WriteFile(manifest, "manifest");
  WriteFile(tmp_ / "LOG", "info log");
  WriteFile(tmp_ / "000005.sst", "table");
  EXPECT_EQ("manifest", test::ReadFileToString(manifest));
  EXPECT_EQ("info log", test::ReadFileToString(tmp_ / "LOG"));
  EXPECT_EQ("table", test::ReadFileToString(tmp_ / "000005.sst"));
  EXPECT_FALSE(PathExists(tmp_ / "segwal"));
}

TEST_F(SegWalFsTest, UnsupportedAccessToLogicalFiles) {
  const std::string wal = tmp_ / "000080.log";
  WriteFile(wal, "x");
  std::unique_ptr<rocksdb::FSRandomRWFile> rw;
  IOStatus s = fs_->NewRandomRWFile(wal, FileOptions(), &rw, nullptr);
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find(wal));
  std::unique_ptr<rocksdb::MemoryMappedFileBuffer> mm;
  s = fs_->NewMemoryMappedFileBuffer(wal, &mm);
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
}

TEST_F(SegWalFsTest, DirectoryFsyncSyncsTheLog) {
  WriteFile(tmp_ / "000090.log", "x", /*sync=*/false);
  std::unique_ptr<rocksdb::FSDirectory> dir;
  ASSERT_TRUE(fs_->NewDirectory(tmp_.path(), io_, &dir, nullptr).ok());
  EXPECT_TRUE(dir->Fsync(io_, nullptr).ok());
  EXPECT_TRUE(dir->FsyncWithDirOptions(io_, nullptr,
                                       rocksdb::DirFsyncOptions(
                                           tmp_ / "000090.log"))
                  .ok());
  EXPECT_TRUE(dir->Close(io_, nullptr).ok());
}

TEST_F(SegWalFsTest, DataSurvivesANewFileSystemInstance) {
  WriteFile(tmp_ / "000100.log", "persisted");
  Reset(test::SmallSegments());
  EXPECT_EQ("persisted", ReadAll(tmp_ / "000100.log"));
}

TEST_F(SegWalFsTest, TwoFileSystemsShareOneLogPerDirectory) {
  auto other =
      std::make_shared<SegWalFileSystem>(FileSystem::Default(),
                                         test::SmallSegments());
  WriteFile(tmp_ / "000110.log", "from the first");
  uint64_t size = 0;
  ASSERT_TRUE(
      other->GetFileSize(tmp_ / "000110.log", io_, &size, nullptr).ok());
  EXPECT_EQ(14u, size);
  std::unique_ptr<FSWritableFile> f;
  ASSERT_TRUE(other->NewWritableFile(tmp_ / "000111.log", FileOptions(), &f,
                                     nullptr)
                  .ok());
  ASSERT_TRUE(f->Append("from the second", io_, nullptr).ok());
  ASSERT_TRUE(f->Close(io_, nullptr).ok());
  EXPECT_EQ("from the second", ReadAll(tmp_ / "000111.log"));
}

TEST_F(SegWalFsTest, DirectoryRenameCarriesTheLog) {
  const std::string staging = tmp_ / "ckpt.tmp";
  ASSERT_TRUE(fs_->CreateDir(staging, io_, nullptr).ok());
  WriteFile(staging + "/000120.log", "checkpointed");
  ASSERT_TRUE(fs_->RenameFile(staging, tmp_ / "ckpt", io_, nullptr).ok());
  EXPECT_EQ("checkpointed", ReadAll(tmp_ / "ckpt/000120.log"));
  EXPECT_FALSE(PathExists(staging));

  // A log with an open file cannot move.
  std::unique_ptr<FSSequentialFile> seq;
  ASSERT_TRUE(fs_->NewSequentialFile(tmp_ / "ckpt/000120.log", FileOptions(),
                                     &seq, nullptr)
                  .ok());
  IOStatus s = fs_->RenameFile(tmp_ / "ckpt", tmp_ / "ckpt2", io_, nullptr);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_TRUE(PathExists(tmp_ / "ckpt"));
}

TEST_F(SegWalFsTest, SharedLogDirNamesFilesByAbsolutePath) {
  const std::string log_dir = tmp_ / "wal-log";
  Reset(test::SmallSegments(log_dir));
  ASSERT_TRUE(fs_->CreateDir(tmp_ / "a", io_, nullptr).ok());
  ASSERT_TRUE(fs_->CreateDir(tmp_ / "b", io_, nullptr).ok());
  WriteFile(tmp_ / "a/000001.log", "in a");
  WriteFile(tmp_ / "b/000001.log", "in b");
  EXPECT_EQ("in a", ReadAll(tmp_ / "a/000001.log"));
  EXPECT_EQ("in b", ReadAll(tmp_ / "b/000001.log"));
  EXPECT_EQ(std::vector<std::string>{"000001.log"}, Children(tmp_ / "a"));
  EXPECT_FALSE(PathExists(tmp_ / "a/segwal"));
  EXPECT_GE(test::CountSegmentFiles(log_dir), 1u);
  // The log directory is hidden in its parent's listing.
  EXPECT_FALSE(Contains(Children(tmp_.path()), "wal-log"));

  ASSERT_TRUE(fs_->CreateDir(tmp_ / "a/archive", io_, nullptr).ok());
  ASSERT_TRUE(fs_->RenameFile(tmp_ / "a/000001.log",
                              tmp_ / "a/archive/000001.log", io_, nullptr)
                  .ok());
  EXPECT_EQ(std::vector<std::string>{"000001.log"},
            Children(tmp_ / "a/archive"));
  // Another directory's files move by renaming within the one log.
  ASSERT_TRUE(fs_->LinkFile(tmp_ / "b/000001.log", tmp_ / "a/000002.log", io_,
                            nullptr)
                  .ok());
  EXPECT_EQ("in b", ReadAll(tmp_ / "a/000002.log"));

  // Directory rename moves the names beneath.
  ASSERT_TRUE(fs_->RenameFile(tmp_ / "a", tmp_ / "c", io_, nullptr).ok());
  EXPECT_EQ("in a", ReadAll(tmp_ / "c/archive/000001.log"));
  EXPECT_EQ("in b", ReadAll(tmp_ / "c/000002.log"));
  EXPECT_TRUE(
      fs_->FileExists(tmp_ / "a/000002.log", io_, nullptr).IsNotFound());

  IOStatus s = fs_->DeleteDir(tmp_ / "b", io_, nullptr);
  EXPECT_NE(std::string::npos, s.ToString().find("b/000001.log"));
  ASSERT_TRUE(fs_->DeleteFile(tmp_ / "b/000001.log", io_, nullptr).ok());
  ASSERT_TRUE(fs_->DeleteDir(tmp_ / "b", io_, nullptr).ok());
}

// As rename(2) and link(2): a logical WAL moves or links only into a
// directory that exists (so a missing directory never holds one).
TEST_F(SegWalFsTest, RenameAndLinkNeedTheTargetDirectory) {
  Reset(test::SmallSegments(tmp_ / "wal-log"));  // one log for every dir
  const std::string wal = tmp_ / "000005.log";
  WriteFile(wal, "stay");
  for (const std::string& target :
       {tmp_ / "missing/000005.log", tmp_ / "missing/000005.log.trash"}) {
    IOStatus s = fs_->RenameFile(wal, target, io_, nullptr);
    EXPECT_TRUE(s.IsPathNotFound()) << s.ToString();
    EXPECT_NE(std::string::npos, s.ToString().find(tmp_ / "missing"))
        << s.ToString();
    s = fs_->LinkFile(wal, target, io_, nullptr);
    EXPECT_TRUE(s.IsPathNotFound()) << s.ToString();
  }
  EXPECT_EQ("stay", ReadAll(wal));
  EXPECT_TRUE(
      fs_->FileExists(tmp_ / "missing/000005.log", io_, nullptr).IsNotFound());
}

// A DB directory removed outside RocksDB (rm -rf) leaves its logical WALs in
// a shared log; creating the directory again deletes them (durably), and
// leaves every other directory's files alone.
TEST_F(SegWalFsTest, RecreatedDirectoryDropsFilesLeftInTheSharedLog) {
  const std::string log_dir = tmp_ / "wal-log";
  Reset(test::SmallSegments(log_dir));
  for (const char* dir : {"a", "a/archive", "b"}) {
    ASSERT_TRUE(fs_->CreateDirIfMissing(tmp_ / dir, io_, nullptr).ok());
  }
  WriteFile(tmp_ / "a/000001.log", "a1");
  WriteFile(tmp_ / "a/archive/000000.log", "a0");
  WriteFile(tmp_ / "b/000001.log", "b1");
  ASSERT_EQ(0, system(("rm -rf " + tmp_ / "a").c_str()));
  // Nothing changes while the directory is missing.
  EXPECT_TRUE(fs_->FileExists(tmp_ / "a/000001.log", io_, nullptr).ok());

  ASSERT_TRUE(fs_->CreateDirIfMissing(tmp_ / "a", io_, nullptr).ok());
  EXPECT_TRUE(Children(tmp_ / "a").empty());
  EXPECT_TRUE(
      fs_->FileExists(tmp_ / "a/000001.log", io_, nullptr).IsNotFound());
  EXPECT_TRUE(fs_->FileExists(tmp_ / "a/archive/000000.log", io_, nullptr)
                  .IsNotFound());
  EXPECT_EQ("b1", ReadAll(tmp_ / "b/000001.log"));
  // An existing directory created again is left as it is.
  WriteFile(tmp_ / "a/000002.log", "a2");
  ASSERT_TRUE(fs_->CreateDirIfMissing(tmp_ / "a", io_, nullptr).ok());
  EXPECT_EQ("a2", ReadAll(tmp_ / "a/000002.log"));
  // The deletes were durable: a new FileSystem (recovery) does not bring
  // the files back; the log's LOG names them.
  Reset(test::SmallSegments(log_dir));
  EXPECT_TRUE(
      fs_->FileExists(tmp_ / "a/000001.log", io_, nullptr).IsNotFound());
  EXPECT_EQ("a2", ReadAll(tmp_ / "a/000002.log"));
  const std::string info_log = test::ReadFileToString(log_dir + "/LOG");
  EXPECT_NE(std::string::npos, info_log.find(tmp_ / "a/archive/000000.log"))
      << info_log;

  // CreateDir (not only CreateDirIfMissing) does the same.
  ASSERT_EQ(0, system(("rm -rf " + tmp_ / "b").c_str()));
  ASSERT_TRUE(fs_->CreateDir(tmp_ / "b", io_, nullptr).ok());
  EXPECT_TRUE(Children(tmp_ / "b").empty());
}

TEST_F(SegWalFsTest, OptionsAreRegistered) {
  rocksdb::ConfigOptions config;
  config.ignore_unsupported_options = false;
  const std::string log_dir = tmp_ / "configured";
  ASSERT_TRUE(fs_->ConfigureFromString(config, "log_dir=" + log_dir).ok());
  EXPECT_EQ(log_dir, fs_->options().log_dir);
  ASSERT_TRUE(fs_->PrepareOptions(config).ok());
  std::string value;
  ASSERT_TRUE(fs_->GetOption(config, "log_dir", &value).ok());
  EXPECT_EQ(log_dir, value);
  EXPECT_STREQ("segwal", fs_->Name());
  EXPECT_NE(nullptr, fs_->GetOptions<SegWalOptions>());
}

TEST_F(SegWalFsTest, ExportWritesPlainFilesAndEmptiesTheLog) {
  WriteFile(tmp_ / "000130.log", "wal one");
  ASSERT_TRUE(fs_->CreateDir(tmp_ / "archive", io_, nullptr).ok());
  WriteFile(tmp_ / "archive/000129.log", "archived");
  fs_.reset();  // the DB is closed: no one holds the log
  std::vector<std::string> exported;
  ASSERT_TRUE(
      ExportLogicalWals(tmp_.path(), test::SmallSegments(), &exported).ok());
  EXPECT_EQ(2u, exported.size());
  EXPECT_EQ("wal one", test::ReadFileToString(tmp_ / "000130.log"));
  EXPECT_EQ("archived", test::ReadFileToString(tmp_ / "archive/000129.log"));
  EXPECT_FALSE(PathExists(tmp_ / "segwal"));
  // Nothing left to export.
  ASSERT_TRUE(
      ExportLogicalWals(tmp_.path(), test::SmallSegments(), &exported).ok());
  EXPECT_TRUE(exported.empty());
}

}  // namespace
}  // namespace segwal
