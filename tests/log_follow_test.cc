// Two processes on one log, on in-memory storage: each Log opened on the
// same MemStorage stands for a process (its lock is exclusive among them).
// A log opens without the lock; the first change takes it. A process that
// has not changed the log follows what another writes, reading only what
// is new, and falls back to a rescan when it cannot; reads under a writer
// that reclaims and recycles segments retry, never returning wrong bytes or
// a spurious Corruption; the first change after another process wrote
// rescans before it applies recovery.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "env/engine/log.h"
#include "tests/support/log_fixture.h"

namespace segwal {
namespace {

using testing::LogFixture;
using testing::Pattern;
using testing::ReadAll;
using testing::SmallSegments;

class LogFollowTest : public LogFixture {
 protected:
  // Another process's log on the same directory.
  std::unique_ptr<Log> OpenOther(const LogOptions& options = SmallSegments()) {
    std::unique_ptr<Log> log;
    IOStatus s = Log::Open(&storage_, testing::kLogDir, options, &log, nullptr);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return log;
  }

  // Reads file `id` through `log` by id only (no lookup, so no refresh
  // first): what a reader holding the file open does.
  static IOStatus ReadById(Log* log, uint64_t id, size_t n, std::string* out) {
    out->assign(n, '\0');
    size_t got = 0;
    ReadCache cache;
    IOStatus s = log->Read(id, 0, n, &(*out)[0], &got, &cache);
    out->resize(got);
    return s;
  }

  // Files written and deleted: segments for housekeeping to reclaim (and,
  // with `pinned` live meanwhile, to relocate its bytes out of).
  void WriteAndDelete(int files, size_t bytes, uint32_t seed) {
    for (int i = 0; i < files; ++i) {
      const std::string name = "tmp" + std::to_string(seed) + "-" +
                               std::to_string(i) + ".log";
      uint64_t id = Create(name);
      ASSERT_TRUE(log_->Append(id, Pattern(bytes, seed + i)).ok());
      ASSERT_TRUE(log_->Delete(name).ok());
    }
  }
};

// Opening takes no lock: a writer opened after a reader writes; the reader
// reads on, following it; the reader's changes fail naming the lock.
TEST_F(LogFollowTest, OpenTakesNoLockSoAWriterOpensBesideAReader) {
  Open();
  Create("a.log");
  Append("a.log", Pattern(100000, 1));
  log_.reset();

  std::unique_ptr<Log> reader = OpenOther();
  ASSERT_NE(nullptr, reader);
  EXPECT_EQ(Pattern(100000, 1), ReadAll(reader.get(), "a.log"));

  Open();  // the writer, after the reader
  Append("a.log", "more");
  Create("b.log");
  Append("b.log", "bee");
  ASSERT_TRUE(log_->SyncAll().ok());

  EXPECT_EQ(Pattern(100000, 1) + "more", ReadAll(reader.get(), "a.log"));
  EXPECT_EQ("bee", ReadAll(reader.get(), "b.log"));
  uint64_t id = 0;
  IOStatus s = reader->Create("c.log", &id);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("/log/LOCK")) << s.ToString();
  // Not sticky: the writer goes on, and so does the reader.
  Append("b.log", "s");
  EXPECT_EQ("bees", ReadAll(reader.get(), "b.log"));
  EXPECT_EQ(0u, reader->GetStats().follow_rescans);
}

// A reader at the end of a file that the writer keeps appending to, across
// many rotations: each look reads what is new, never the whole log again.
TEST_F(LogFollowTest, FollowingReadsOnlyWhatIsNew) {
  LogOptions options = SmallSegments();
  options.segment_size = 1 << 20;
  Open(options);
  const uint64_t wal = Create("wal.log");
  // A large log before the reader comes.
  std::string expected = Pattern(6 << 20, 1);
  ASSERT_TRUE(log_->Append(wal, expected).ok());
  std::unique_ptr<Log> reader = OpenOther(options);
  ASSERT_NE(nullptr, reader);
  const LogStats at_open = reader->GetStats();

  uint64_t appended_frame_bytes = 0;
  uint64_t looks = 0;
  for (int i = 0; i < 400; ++i) {
    const std::string more = Pattern(5000 + i * 7, 100 + i);
    const uint64_t before = log_->GetStats().frame_bytes_written;
    ASSERT_TRUE(log_->Append(wal, more).ok());
    appended_frame_bytes += log_->GetStats().frame_bytes_written - before;
    expected += more;
    FileInfo info;
    ASSERT_TRUE(reader->Lookup("wal.log", &info));  // one look
    ++looks;
    ASSERT_EQ(expected.size(), info.size) << "after append " << i;
  }
  EXPECT_EQ(expected, ReadAll(reader.get(), "wal.log"));
  const LogStats stats = reader->GetStats();
  EXPECT_GT(log_->GetStats().rotations, 1u) << "the writer never rotated";
  EXPECT_EQ(at_open.follow_rescans, stats.follow_rescans)
      << "following fell back to rescanning the log";
  // What is new, plus at most one first read window (16 KiB) per look:
  // nothing near the 6 MiB that were there before.
  const uint64_t read = stats.follow_bytes_read - at_open.follow_bytes_read;
  EXPECT_GE(read, appended_frame_bytes);
  EXPECT_LE(read, appended_frame_bytes + (looks + 2) * (16 << 10) * 2);
}

// The writer reclaims and recycles the segments a reader's view of a live
// file points into (relocating the file's bytes forward first); the
// reader, reading by id with what it resolved before, retries after a
// refresh and gets the file's bytes.
TEST_F(LogFollowTest, ReadUnderReclaimAndRecycleRetriesAndGetsTheBytes) {
  LogOptions options = SmallSegments();
  options.recycle_segments = 8;
  Open(options);
  const uint64_t pinned = Create("pinned.log");
  const std::string data = Pattern(3000, 9);
  ASSERT_TRUE(log_->Append(pinned, data).ok());
  WriteAndDelete(8, 50000, 1);
  ASSERT_TRUE(log_->SyncAll().ok());

  std::unique_ptr<Log> reader = OpenOther(options);
  ASSERT_NE(nullptr, reader);
  uint64_t handle = 0;
  ASSERT_TRUE(reader->OpenHandle("pinned.log", &handle).ok());
  ASSERT_EQ(pinned, handle) << "file ids are the same in every process";
  const uint64_t oldest = SegmentIds().front();

  // pinned.log's bytes move forward; its old segments are freed, then
  // reused and overwritten by more writes.
  const uint64_t recycled_before = log_->GetStats().segments_recycled;
  ASSERT_TRUE(log_->Housekeep().ok());
  Create("after.log");
  Append("after.log", Pattern(6 * kMinSegmentSize, 3));
  ASSERT_GT(log_->GetStats().segments_recycled, recycled_before);
  ASSERT_GT(log_->GetStats().bytes_relocated, 0u);
  ASSERT_GT(SegmentIds().front(), oldest);

  ASSERT_TRUE(storage_.FileExists(SegmentPath(oldest)).IsNotFound());

  // The read fails on the recycled segment, refreshes and reads again.
  const uint64_t refreshes = reader->GetStats().follow_refreshes;
  std::string got;
  IOStatus s = ReadById(reader.get(), handle, data.size(), &got);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(got == data);
  EXPECT_GT(reader->GetStats().follow_refreshes, refreshes);
  reader->CloseHandle(handle);
}

// A file the writer deleted, still open in the reader: its bytes read as
// they were until the writer recycles their segment; then the read says
// the file was deleted and reclaimed (PathNotFound), never wrong bytes and
// never Corruption.
TEST_F(LogFollowTest, DeletedFileOpenInAReaderReadsItsBytesOrSaysItIsGone) {
  LogOptions options = SmallSegments();
  options.recycle_segments = 8;
  Open(options);
  const uint64_t doomed = Create("doomed.log");
  const std::string data = Pattern(40000, 5);
  ASSERT_TRUE(log_->Append(doomed, data).ok());
  Create("live.log");
  Append("live.log", "live");
  ASSERT_TRUE(log_->SyncAll().ok());

  std::unique_ptr<Log> reader = OpenOther(options);
  ASSERT_NE(nullptr, reader);
  uint64_t handle = 0;
  ASSERT_TRUE(reader->OpenHandle("doomed.log", &handle).ok());
  ASSERT_TRUE(log_->Delete("doomed.log").ok());
  FileInfo info;
  EXPECT_FALSE(reader->Lookup("doomed.log", &info));
  std::string got;
  IOStatus s = ReadById(reader.get(), handle, data.size(), &got);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(got == data) << "deleted, not yet reclaimed: as it was";

  // Reclaimed and recycled (overwritten) by more writes.
  WriteAndDelete(12, 50000, 7);
  ASSERT_TRUE(log_->Housekeep().ok());
  Append("live.log", Pattern(4 * kMinSegmentSize, 8));
  ASSERT_GT(log_->GetStats().segments_recycled, 0u);
  s = ReadById(reader.get(), handle, data.size(), &got);
  if (s.ok()) {
    EXPECT_TRUE(got == data) << "wrong bytes for a deleted file";
  } else {
    EXPECT_TRUE(s.IsPathNotFound()) << s.ToString();
    EXPECT_FALSE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(std::string::npos, s.ToString().find("was deleted"))
        << s.ToString();
  }
  EXPECT_EQ("live" + Pattern(4 * kMinSegmentSize, 8),
            ReadAll(reader.get(), "live.log"));
  reader->CloseHandle(handle);
}

// A reader that has not looked for a long time finds the segment it had
// read up to reclaimed: it rescans; files it has open stay open (a deleted
// one keeps its bytes or says it is gone); the rest is as the writer has it.
TEST_F(LogFollowTest, ReaderFarBehindRescansKeepingItsHandles) {
  LogOptions options = SmallSegments();
  Open(options);
  const uint64_t kept = Create("kept.log");
  ASSERT_TRUE(log_->Append(kept, "kept").ok());
  const uint64_t old = Create("old.log");
  ASSERT_TRUE(log_->Append(old, Pattern(20000, 2)).ok());
  std::unique_ptr<Log> reader = OpenOther(options);
  ASSERT_NE(nullptr, reader);
  uint64_t kept_handle = 0, old_handle = 0;
  ASSERT_TRUE(reader->OpenHandle("kept.log", &kept_handle).ok());
  ASSERT_TRUE(reader->OpenHandle("old.log", &old_handle).ok());
  const uint64_t reader_head = SegmentIds().back();

  ASSERT_TRUE(log_->Delete("old.log").ok());
  WriteAndDelete(16, 50000, 3);
  ASSERT_TRUE(log_->Append(kept, " and more").ok());
  ASSERT_TRUE(log_->Housekeep().ok());
  ASSERT_GT(SegmentIds().front(), reader_head)
      << "the reader's last segment was not reclaimed";

  const uint64_t rescans = reader->GetStats().follow_rescans;
  ASSERT_TRUE(reader->Refresh().ok());
  EXPECT_GT(reader->GetStats().follow_rescans, rescans);
  std::string got;
  ASSERT_TRUE(ReadById(reader.get(), kept_handle, 100, &got).ok());
  EXPECT_EQ("kept and more", got);
  IOStatus s = ReadById(reader.get(), old_handle, 20000, &got);
  if (s.ok()) {
    EXPECT_TRUE(got == Pattern(20000, 2));
  } else {
    EXPECT_TRUE(s.IsPathNotFound()) << s.ToString();
  }
  std::vector<std::string> names;
  for (const FileInfo& info : reader->List()) names.push_back(info.name);
  EXPECT_EQ(std::vector<std::string>{"kept.log"}, names);
  reader->CloseHandle(kept_handle);
  reader->CloseHandle(old_handle);
}

// The first change of a process that read the log while another wrote it:
// it rescans before applying recovery, so it neither frees the segment the
// other process started since (it was unused when scanned) nor loses what
// that process wrote.
TEST_F(LogFollowTest, FirstChangeAfterAnotherWriterRescans) {
  LogOptions prepared = SmallSegments();
  prepared.background_prepare = true;  // a segment prepared ahead
  Open(prepared);
  Create("a.log");
  Append("a.log", "start");
  const size_t files_before = SegmentIds().size();
  FillHead(2000);  // past half: the next segment is prepared
  ASSERT_TRUE(testing::WaitFor([&] {
    return SegmentIds().size() > files_before;
  })) << "no segment was prepared ahead";
  const std::vector<uint64_t> ids = SegmentIds();

  // Another process scans now: the prepared segment is unused.
  std::unique_ptr<Log> late = OpenOther();
  ASSERT_NE(nullptr, late);
  // The writer rotates into it, writes there (less than half of it: no
  // further segment is prepared), and exits.
  Append("a.log", Pattern(10000, 4));
  const std::string a = ReadAll(log_.get(), "a.log");
  ASSERT_TRUE(log_->SyncAll().ok());
  log_.reset();
  ASSERT_EQ(ids.back(), SegmentIds().back())
      << "the test wants the writer in the segment prepared when scanned";

  uint64_t id = 0;
  ASSERT_TRUE(late->Create("b.log", &id).ok());
  ASSERT_TRUE(late->Append(id, "bee").ok());
  ASSERT_TRUE(late->SyncAll().ok());
  EXPECT_EQ(a, ReadAll(late.get(), "a.log"));
  EXPECT_EQ(1u, late->GetStats().follow_rescans);
  late.reset();

  Open();
  EXPECT_EQ(a, ReadAll(log_.get(), "a.log"));
  EXPECT_EQ("bee", ReadAll(log_.get(), "b.log"));
}

// The same when nothing changed: no rescan.
TEST_F(LogFollowTest, FirstChangeWithNothingNewDoesNotRescan) {
  Open();
  Create("a.log");
  Append("a.log", Pattern(100000, 1));
  log_.reset();
  Open();
  EXPECT_EQ(Pattern(100000, 1), ReadAll(log_.get(), "a.log"));
  Create("b.log");
  EXPECT_EQ(0u, log_->GetStats().follow_rescans);
}

// A reader following a writer that appends, rotates, deletes and reclaims
// on another thread: every look sees a prefix of what was written, never
// wrong bytes or an error.
TEST_F(LogFollowTest, ConcurrentFollowerSeesPrefixesOnly) {
  LogOptions options = SmallSegments();
  options.recycle_segments = 4;
  Open(options);
  const uint64_t wal = Create("wal.log");
  std::string written;
  std::unique_ptr<Log> reader = OpenOther(options);
  ASSERT_NE(nullptr, reader);
  std::atomic<bool> done{false};
  std::string all;
  for (int i = 0; i < 300; ++i) all += Pattern(700 + i % 300, 1000 + i);

  std::thread writer([&] {
    size_t pos = 0;
    for (int i = 0; i < 300; ++i) {
      const size_t n = 700 + i % 300;
      IOStatus s = log_->Append(wal, Slice(all.data() + pos, n));
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok()) break;
      pos += n;
      if (i % 20 == 0) {
        WriteAndDelete(2, 30000, 100 + i);
        EXPECT_TRUE(log_->Housekeep().ok());
      }
    }
    done = true;
  });
  uint64_t handle = 0;
  while (!reader->OpenHandle("wal.log", &handle).ok()) {
    std::this_thread::yield();
  }
  ReadCache cache;
  uint64_t offset = 0;
  std::string buf(64 << 10, '\0');
  bool looked_after_done = false;  // a refresh began after the writer ended
  for (;;) {
    const bool last = done.load();
    size_t got = 0;
    IOStatus s = reader->Read(handle, offset, buf.size(), &buf[0], &got,
                              &cache);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) break;
    EXPECT_LE(offset + got, all.size());
    if (offset + got > all.size() ||
        std::string(buf.data(), got) != all.substr(offset, got)) {
      ADD_FAILURE() << "wrong bytes at offset " << offset;
      break;
    }
    offset += got;
    if (got == 0) {
      if (looked_after_done) break;
      s = reader->Refresh();
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok()) break;
      looked_after_done = last;
    }
  }
  writer.join();
  EXPECT_EQ(all.size(), offset);
  reader->CloseHandle(handle);
}

// open(2) with O_TRUNC: opening an existing file for writing cuts it and
// keeps it the same file; every handle on it stays valid.
TEST_F(LogFollowTest, CreateOrTruncateKeepsTheFile) {
  Open();
  const uint64_t id = Create("a.log");
  ASSERT_TRUE(log_->Append(id, "abc").ok());
  uint64_t reader_handle = 0;
  ASSERT_TRUE(log_->OpenHandle("a.log", &reader_handle).ok());
  uint64_t again = 0;
  ASSERT_TRUE(log_->CreateOrTruncate("a.log", &again).ok());
  EXPECT_EQ(id, again);
  EXPECT_EQ(0u, log_->Size(id));
  ASSERT_TRUE(log_->Append(again, "xy").ok());
  ASSERT_TRUE(log_->Append(id, "z").ok());  // the first writer goes on
  std::string got;
  ASSERT_TRUE(ReadById(log_.get(), reader_handle, 10, &got).ok());
  EXPECT_EQ("xyz", got);
  log_->CloseHandle(reader_handle);
  uint64_t fresh = 0;
  ASSERT_TRUE(log_->CreateOrTruncate("b.log", &fresh).ok());
  EXPECT_NE(id, fresh);
  ASSERT_TRUE(log_->SyncAll().ok());
  Open();
  EXPECT_EQ("xyz", ReadAll(log_.get(), "a.log"));
  FileInfo info;
  ASSERT_TRUE(log_->Lookup("a.log", &info));
  EXPECT_EQ(id, info.id);
  EXPECT_EQ(2u, log_->List().size());
}

}  // namespace
}  // namespace segwal
