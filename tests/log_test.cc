// The log engine through its public API, on in-memory storage: writes,
// reads, namespace changes, rotation, reopen, reclaim and relocation,
// concurrent writers and the sync modes.
#include "env/engine/log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "env/recovery/scanner.h"
#include "tests/support/fake_clock.h"
#include "tests/support/log_fixture.h"

namespace segwal {
namespace {

using testing::CrashMode;
using testing::FakeClock;
using testing::FaultOp;
using testing::LogFixture;
using testing::Pattern;
using testing::ReadAll;
using testing::SmallSegments;
using testing::WaitFor;

// The background housekeeper reclaims and relocates on its own.
LogOptions WithHousekeeper() {
  LogOptions options = SmallSegments();
  options.background_housekeeping = true;
  return options;
}

class LogTest : public LogFixture {
 protected:
  // Writes and deletes files filling several segments: dead ones for
  // housekeeping to reclaim, pinned behind whatever was written before.
  void WriteDeadSegments() {
    for (int i = 0; i < 8; ++i) {
      Create("tmp");
      Append("tmp", Pattern(50000, i));
      ASSERT_TRUE(log_->Delete("tmp").ok());
    }
  }
};

TEST_F(LogTest, AppendReadBack) {
  Open();
  uint64_t id = Create("a.log");
  ASSERT_TRUE(log_->Append(id, "hello ").ok());
  ASSERT_TRUE(log_->Append(id, "world").ok());
  EXPECT_EQ("hello world", ReadAll(log_.get(), "a.log"));
  EXPECT_EQ(11u, log_->Size(id));
  // Positioned read in the middle, across the two frames.
  char buf[5];
  size_t got = 0;
  ReadCache cache;
  ASSERT_TRUE(log_->Read(id, 4, 5, buf, &got, &cache).ok());
  EXPECT_EQ("o wor", std::string(buf, got));
}

TEST_F(LogTest, SurvivesReopen) {
  Open();
  uint64_t a = Create("a.log");
  uint64_t b = Create("b.log");
  std::string big = Pattern(300 * 1024, 1);  // spans several segments
  ASSERT_TRUE(log_->Append(a, big).ok());
  ASSERT_TRUE(log_->Append(b, "bee").ok());
  ASSERT_TRUE(log_->Rename("b.log", "archive/b.log").ok());
  ASSERT_TRUE(log_->SyncAll().ok());
  Open();
  EXPECT_EQ(big, ReadAll(log_.get(), "a.log"));
  EXPECT_EQ("bee", ReadAll(log_.get(), "archive/b.log"));
  FileInfo info;
  EXPECT_FALSE(log_->Lookup("b.log", &info));
  EXPECT_GT(info_.segments_scanned, 4u);
  EXPECT_EQ(2u, info_.files);
  EXPECT_TRUE(info_.damages.empty());
}

TEST_F(LogTest, TruncateDeleteLink) {
  Open();
  uint64_t a = Create("a.log");
  ASSERT_TRUE(log_->Append(a, "0123456789").ok());
  ASSERT_TRUE(log_->Truncate(a, 4).ok());
  // Growth beyond the bound is refused, naming it, and changes nothing.
  IOStatus grow = log_->Truncate(a, uint64_t{1} << 40);
  EXPECT_TRUE(grow.IsInvalidArgument()) << grow.ToString();
  EXPECT_NE(std::string::npos, grow.ToString().find("at most")) << grow.ToString();
  ASSERT_TRUE(log_->Link("a.log", "copy.log").ok());
  ASSERT_TRUE(log_->Append(a, "xy").ok());
  uint64_t c = Create("c.log");
  ASSERT_TRUE(log_->Append(c, "gone").ok());
  ASSERT_TRUE(log_->Delete("c.log").ok());
  ASSERT_TRUE(log_->SyncAll().ok());
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ("0123xy", ReadAll(log_.get(), "a.log"));
    EXPECT_EQ("0123", ReadAll(log_.get(), "copy.log"));
    FileInfo info;
    EXPECT_FALSE(log_->Lookup("c.log", &info));
    Open();
  }
}

// Delete with only_id deletes a name only while it is still that file.
TEST_F(LogTest, DeleteOnlyIdSparesAFileCreatedAgain) {
  Open();
  const uint64_t first = Create("a.log");
  ASSERT_TRUE(log_->Delete("a.log").ok());
  const uint64_t second = Create("a.log");
  ASSERT_NE(first, second);
  ASSERT_TRUE(log_->Delete("a.log", /*only_id=*/first).ok());
  FileInfo info;
  ASSERT_TRUE(log_->Lookup("a.log", &info));
  EXPECT_EQ(second, info.id);
  ASSERT_TRUE(log_->Delete("missing.log", /*only_id=*/first).ok());
  ASSERT_TRUE(log_->Delete("a.log", /*only_id=*/second).ok());
  EXPECT_FALSE(log_->Lookup("a.log", &info));
}

TEST_F(LogTest, SyncedDataSurvivesPowerLoss) {
  Open();
  uint64_t a = Create("a.log");
  ASSERT_TRUE(log_->Append(a, "durable").ok());
  ASSERT_TRUE(log_->Sync(a).ok());
  ASSERT_TRUE(log_->Append(a, "-lost").ok());
  std::mt19937_64 rng(7);
  Crash(CrashMode::kDropUnsynced, &rng);
  Open();
  EXPECT_EQ("durable", ReadAll(log_.get(), "a.log"));
}

TEST_F(LogTest, DeletedFilesFreeTheirSegments) {
  LogOptions options = WithHousekeeper();
  options.recycle_segments = 2;
  Open(options);
  for (int i = 0; i < 20; ++i) {
    const std::string name = std::to_string(i) + ".log";
    uint64_t id = Create(name);
    ASSERT_TRUE(log_->Append(id, Pattern(50 * 1024, i)).ok());
    ASSERT_TRUE(log_->Delete(name).ok());
  }
  EXPECT_TRUE(WaitFor([&] { return log_->GetStats().active_segments <= 3; }))
      << "the housekeeper did not reclaim";
  LogStats stats = log_->GetStats();
  EXPECT_LE(stats.active_segments, 3u);
  EXPECT_GT(stats.segments_reclaimed, 10u);
  EXPECT_GT(stats.segments_recycled, 0u);
  Open(options);
  EXPECT_TRUE(log_->List().empty());
}

// Spare segment files (reclaimed ones kept for reuse, a prepared one not
// started) serve while the log is open; a closed log may stay idle for
// long, so closing removes them.
TEST_F(LogTest, ClosingRemovesSpareSegments) {
  LogOptions options = SmallSegments();
  options.recycle_segments = 2;
  Open(options);
  Create("kept.log");
  Append("kept.log", "still here");
  WriteDeadSegments();
  ASSERT_TRUE(log_->Housekeep().ok());
  const auto free_files = [&] {
    std::vector<std::string> names;
    EXPECT_TRUE(storage_.ListDir(testing::kLogDir, &names).ok());
    size_t n = 0;
    for (const std::string& name : names) {
      uint64_t id = 0;
      n += ParseFreeSegmentFileName(name, &id);
    }
    return n;
  };
  ASSERT_EQ(2u, free_files()) << "nothing to remove: the test proves nothing";
  const uint64_t active = log_->GetStats().active_segments;
  log_.reset();
  EXPECT_EQ(0u, free_files());
  EXPECT_EQ(active, SegmentIds().size());  // no prepared spare either
  Open(options);
  EXPECT_EQ("still here", ReadAll(log_.get(), "kept.log"));
}

TEST_F(LogTest, PinnedSegmentIsRelocated) {
  Open(WithHousekeeper());
  uint64_t pinned = Create("pinned.log");
  ASSERT_TRUE(log_->Append(pinned, "keep me").ok());
  for (int i = 0; i < 40; ++i) {
    const std::string name = std::to_string(i) + ".log";
    uint64_t id = Create(name);
    ASSERT_TRUE(log_->Append(id, Pattern(40 * 1024, i)).ok());
    ASSERT_TRUE(log_->Delete(name).ok());
  }
  EXPECT_TRUE(WaitFor([&] { return log_->GetStats().active_segments <= 4; }))
      << "the housekeeper did not relocate";
  LogStats stats = log_->GetStats();
  EXPECT_LE(stats.active_segments, 4u);
  EXPECT_GE(stats.bytes_relocated, 7u);
  ASSERT_TRUE(log_->SyncAll().ok());
  Open();
  EXPECT_EQ("keep me", ReadAll(log_.get(), "pinned.log"));
}

// Relocation copies bytes no one wrote: the file keeps its mtime (RocksDB
// purges archived WALs by mtime, WAL_ttl_seconds), also once reopened.
TEST_F(LogTest, RelocationKeepsTheFileMtime) {
  LogOptions options = SmallSegments();
  options.clock = &clock_;
  Open(options);
  const uint64_t pinned = Create("archive/pinned.log");
  ASSERT_TRUE(log_->Append(pinned, Pattern(3000, 4)).ok());
  WriteDeadSegments();
  FileInfo before;
  ASSERT_TRUE(log_->Lookup("archive/pinned.log", &before));
  clock_.AdvanceSeconds(5);  // mtimes are whole seconds
  ASSERT_TRUE(log_->Housekeep().ok());
  ASSERT_GE(log_->GetStats().bytes_relocated, 3000u);
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round == 0 ? "relocated" : "reopened");
    FileInfo after;
    ASSERT_TRUE(log_->Lookup("archive/pinned.log", &after));
    EXPECT_EQ(before.mtime, after.mtime);
    EXPECT_EQ(Pattern(3000, 4), ReadAll(log_.get(), "archive/pinned.log"));
    ASSERT_TRUE(log_->SyncAll().ok());
    Open(options);
  }
  // A write still moves it.
  ASSERT_TRUE(log_->Append(pinned, "x").ok());
  FileInfo written;
  ASSERT_TRUE(log_->Lookup("archive/pinned.log", &written));
  EXPECT_GT(written.mtime, before.mtime);
}

// A stored byte of a pinned extent is copied forward only if the file still
// takes it from that frame: relocation may wait for a new segment (the lock
// released), and a writer may replace those bytes meanwhile.
TEST_F(LogTest, RelocationNeverCopiesBytesReplacedMeanwhile) {
  LogOptions options = SmallSegments();
  options.recycle_segments = 0;  // new segments are created: OpenFile
  Open(options);
  const uint64_t pinned = Create("pinned.log");
  ASSERT_TRUE(log_->Append(pinned, Pattern(10000, 1)).ok());
  WriteDeadSegments();
  // The copy of pinned.log's 10000 bytes will not fit the head.
  FillHead(5000);
  bool armed = true;
  const std::thread::id self = std::this_thread::get_id();
  storage_.SetHook([&](FaultOp op, const std::string& path) {
    if (op != FaultOp::kOpen || !armed || std::this_thread::get_id() != self ||
        path.find(".seg") == std::string::npos) {
      return;
    }
    armed = false;  // a writer while relocation prepares a segment
    ASSERT_TRUE(log_->Truncate(pinned, 0).ok());
    ASSERT_TRUE(log_->Append(pinned, "rewritten").ok());
  });
  ASSERT_TRUE(log_->Housekeep().ok());
  storage_.SetHook(nullptr);
  ASSERT_FALSE(armed) << "relocation did not prepare a segment";
  const std::string after = ReadAll(log_.get(), "pinned.log");
  EXPECT_TRUE(after == "rewritten") << after.size() << " bytes";
  ASSERT_TRUE(log_->SyncAll().ok());
  Open(options);
  const std::string reopened = ReadAll(log_.get(), "pinned.log");
  EXPECT_TRUE(reopened == "rewritten") << reopened.size() << " bytes";
}

// A reader resolves a file's extents, then reads the segment files without
// the lock. If meanwhile relocation copies those bytes forward and the old
// segment is reclaimed and recycled (renamed and overwritten), the read
// must still return the file's bytes, not a spurious Corruption.
TEST_F(LogTest, ReadRacingWithRelocationAndRecyclingReturnsTheBytes) {
  LogOptions options = SmallSegments();
  options.recycle_segments = 8;
  Open(options);
  const uint64_t pinned = Create("pinned.log");
  const std::string data = Pattern(3000, 9);
  ASSERT_TRUE(log_->Append(pinned, data).ok());
  WriteDeadSegments();
  const uint64_t recycled_before = log_->GetStats().segments_recycled;
  bool armed = true;
  const std::thread::id self = std::this_thread::get_id();
  storage_.SetHook([&](FaultOp op, const std::string& path) {
    if (op != FaultOp::kRead || !armed ||
        std::this_thread::get_id() != self ||
        path.find(".seg") == std::string::npos) {
      return;
    }
    armed = false;  // between the reader's lookup and its segment read:
    // pinned.log's bytes move forward, its old segment is freed, and
    // writes rotate into the freed file and overwrite it.
    ASSERT_TRUE(log_->Housekeep().ok());
    Create("after");
    Append("after", Pattern(3 * kMinSegmentSize, 3));
  });
  std::string got(data.size(), '\0');
  size_t read = 0;
  ReadCache cache;
  const IOStatus s = log_->Read(pinned, 0, got.size(), &got[0], &read, &cache);
  storage_.SetHook(nullptr);
  ASSERT_FALSE(armed) << "the read never reached a segment file";
  EXPECT_GT(log_->GetStats().segments_recycled, recycled_before)
      << "no segment was recycled under the reader";
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(data.size(), read);
  EXPECT_TRUE(got == data);
}

// While one Log (process) holds the directory's lock, another Open reads:
// the files as written so far, across segments; every change refused with
// an error naming the lock; what the writer appends since, seen at the next
// look; nothing written to the directory, not even at close. Once the
// writer has gone, the reader's first change makes it the writer.
TEST_F(LogTest, OpenBesideAWriterReadsAndFollowsIt) {
  Open();
  Create("a.log");
  const std::string a = Pattern(150000, 1);  // spans several 64 KiB segments
  Append("a.log", a);
  Create("b.log");
  Append("b.log", "bee");
  ASSERT_TRUE(log_->SyncAll().ok());
  ASSERT_GT(SegmentIds().size(), 2u);
  const DirImage before = SaveDir();

  std::unique_ptr<Log> reader;
  RecoveryInfo info;
  IOStatus s =
      Log::Open(&storage_, testing::kLogDir, SmallSegments(), &reader, &info);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(a, ReadAll(reader.get(), "a.log"));
  EXPECT_EQ("bee", ReadAll(reader.get(), "b.log"));
  EXPECT_EQ(2u, reader->List().size());

  FileInfo b;
  ASSERT_TRUE(reader->Lookup("b.log", &b));
  uint64_t id = 0;
  std::vector<IOStatus> refused = {
      reader->Create("c.log", &id),   reader->Append(b.id, "x"),
      reader->WriteAt(b.id, 0, "x"),  reader->Truncate(b.id, 1),
      reader->Rename("b.log", "c.log"), reader->Link("b.log", "c.log"),
      reader->Delete("b.log"),        reader->Sync(b.id),
      reader->SyncAll(),              reader->Housekeep(),
      reader->CreateOrTruncate("b.log", &id)};
  for (const IOStatus& r : refused) {
    EXPECT_TRUE(r.IsIOError()) << r.ToString();
    EXPECT_NE(std::string::npos, r.ToString().find("reading only"))
        << r.ToString();
    EXPECT_NE(std::string::npos, r.ToString().find("/log/LOCK"))
        << r.ToString();
  }
  EXPECT_EQ("bee", ReadAll(reader.get(), "b.log"));

  // The writer goes on; the reader follows.
  Append("b.log", "s");
  EXPECT_EQ("bees", ReadAll(reader.get(), "b.log"));
  EXPECT_EQ("bees", ReadAll(log_.get(), "b.log"));
  EXPECT_EQ(0u, reader->GetStats().follow_rescans);
  const std::string head = SegmentFileName(SegmentIds().back());
  DirImage after = SaveDir();
  // Only the writer's append changed the directory: its head segment.
  ASSERT_EQ(before.size(), after.size());
  for (const auto& file : before) {
    if (file.first == head) continue;
    EXPECT_TRUE(file.second == after[file.first]) << file.first;
  }

  // Once the writer has closed, the reader's first change takes the lock.
  log_.reset();
  ASSERT_TRUE(reader->Create("c.log", &id).ok());
  ASSERT_TRUE(reader->Append(id, "sea").ok());
  ASSERT_TRUE(reader->SyncAll().ok());
  reader.reset();
  Open();
  EXPECT_EQ("bees", ReadAll(log_.get(), "b.log"));
  EXPECT_EQ("sea", ReadAll(log_.get(), "c.log"));
  EXPECT_EQ(a, ReadAll(log_.get(), "a.log"));
}

// Open only reads: a log used for reading (ldb, a read-only DB) leaves its
// directory as it found it, not even a LOG line. After a clean close, the
// first change goes on writing the head segment: reopening a log does not
// leave a segment behind each time.
TEST_F(LogTest, OpenWritesNothingUntilTheFirstChange) {
  Open();
  Create("a.log");
  const std::string a = Pattern(150000, 2);  // several 64 KiB segments
  Append("a.log", a);
  log_.reset();
  const DirImage before = SaveDir();
  const size_t segments = SegmentIds().size();

  Open();
  EXPECT_EQ(a, ReadAll(log_.get(), "a.log"));
  EXPECT_EQ(1u, log_->List().size());
  log_.reset();
  EXPECT_TRUE(before == SaveDir());

  Open();
  Create("b.log");
  EXPECT_EQ(segments, SegmentIds().size());
  EXPECT_NE(before.at("LOG"), storage_.Contents(
                                  std::string(testing::kLogDir) + "/LOG"));
  EXPECT_EQ(a, ReadAll(log_.get(), "a.log"));
}

// Bytes a killed writer left in the OS's cache are read after a reopen but
// are not durable until the reopened log's first change (which makes them
// durable before it writes anything): a power loss before it may lose them
// (they were never synced), never anything synced; after it, nothing.
TEST_F(LogTest, RecoveredUnsyncedBytesBecomeDurableAtTheFirstChange) {
  const std::string synced = Pattern(3000, 3);
  const std::string unsynced = Pattern(2000, 4);
  for (bool change : {false, true}) {
    SCOPED_TRACE(change ? "changed after the kill" : "only read");
    if (change) RestoreDir({});  // start again from an empty directory
    Open();
    Create("a.log");
    Append("a.log", synced);
    ASSERT_TRUE(log_->SyncAll().ok());
    Append("a.log", unsynced);
    std::mt19937_64 rng(7);
    Crash(CrashMode::kKeepUnsynced, &rng);  // a kill

    Open();
    EXPECT_EQ(synced + unsynced, ReadAll(log_.get(), "a.log"));
    if (change) Create("b.log");
    Crash(CrashMode::kDropUnsynced, &rng);  // then a power loss

    Open();
    EXPECT_EQ(change ? synced + unsynced : synced,
              ReadAll(log_.get(), "a.log"));
  }
}

// A crash can leave a new segment's header durable without the snapshot
// written after it (on another page). Reopened, that head looks empty and
// cleanly ended; writing on in it and then reclaiming the segments before
// it would leave a log whose start (the file table) is missing.
TEST_F(LogTest, AHeadThatLostItsSnapshotIsNotWrittenOn) {
  Open();
  Create("a.log");
  Append("a.log", Pattern(300 * 1024, 1));  // spans several segments
  ASSERT_TRUE(log_->Delete("a.log").ok());
  ASSERT_TRUE(log_->SyncAll().ok());
  log_.reset();
  const std::vector<uint64_t> ids = SegmentIds();
  ASSERT_GE(ids.size(), 2u);
  const std::string head = SegmentPath(ids.back());
  const size_t size = SegmentImage(ids.back()).size();
  storage_.Corrupt(head, kSegmentHeaderBlock,
                   std::string(size - kSegmentHeaderBlock, '\0'));

  Open();
  Create("b.log");
  Append("b.log", "written after the reopen");
  ASSERT_TRUE(log_->SyncAll().ok());
  ASSERT_TRUE(log_->Delete("a.log").ok());  // recovered as a prefix
  ASSERT_TRUE(log_->Housekeep().ok());
  EXPECT_GT(log_->GetStats().segments_reclaimed, 0u);
  for (RecoveryMode mode : {RecoveryMode::kAbsoluteConsistency,
                            RecoveryMode::kPointInTimeRecovery}) {
    LogOptions options = SmallSegments();
    options.recovery_mode = mode;
    IOStatus s = Reopen(options);
    ASSERT_TRUE(s.ok()) << RecoveryModeName(mode) << ": " << s.ToString();
    EXPECT_EQ("written after the reopen", ReadAll(log_.get(), "b.log"));
  }
}

// The housekeeper prepares the next segment only once the head is half
// full: zero-filling one right after Open would compete with the first
// fdatasyncs of every writer.
TEST_F(LogTest, NextSegmentIsPreparedOnceTheHeadIsHalfFull) {
  LogOptions options = SmallSegments();
  options.background_prepare = true;
  Open(options);
  const uint64_t half = options.segment_size / 2;
  FillHead(half + 2000);  // just under half full
  ASSERT_LT(log_->GetStats().head_segment_bytes, half);
  EXPECT_EQ(0u, log_->GetStats().prepare_requests)
      << "the next segment was asked for early";
  EXPECT_EQ(1u, SegmentIds().size());

  FillHead(half);  // now half full
  ASSERT_GE(log_->GetStats().head_segment_bytes, half);
  EXPECT_EQ(1u, log_->GetStats().prepare_requests);
  EXPECT_TRUE(WaitFor([&] { return SegmentIds().size() == 2; }))
      << "no segment prepared";
}

// Writers append and sync their own files concurrently while segments
// rotate (prepared and reclaimed in the background); after a power loss
// every synced byte is there, and each file is a prefix of what was
// written.
TEST_F(LogTest, ConcurrentWritersAcrossRotations) {
  for (SyncMode mode : {SyncMode::kGroup, SyncMode::kAlways}) {
    SCOPED_TRACE(SyncModeName(mode));
    LogOptions options = WithHousekeeper();
    options.background_prepare = true;
    options.sync_mode = mode;
    Open(options);
    constexpr int kThreads = 6;
    std::vector<std::string> written(kThreads);
    std::vector<size_t> synced(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        const std::string name = "w" + std::to_string(t) + ".log";
        uint64_t id = 0;
        ASSERT_TRUE(log_->Create(name, &id).ok());
        std::mt19937 rng(t);
        for (int i = 0; i < 150; ++i) {
          const std::string data = Pattern(1 + rng() % 4000, rng());
          ASSERT_TRUE(log_->Append(id, data).ok());
          written[t] += data;
          if (i % 3 == 0) {
            ASSERT_TRUE(log_->Sync(id).ok());
            synced[t] = written[t].size();
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    ASSERT_GT(log_->GetStats().rotations, 20u);
    std::mt19937_64 rng(5);
    Crash(CrashMode::kDropUnsynced, &rng);
    Open(options);
    EXPECT_TRUE(info_.damages.empty()) << info_.ToString();
    for (int t = 0; t < kThreads; ++t) {
      const std::string got =
          ReadAll(log_.get(), "w" + std::to_string(t) + ".log");
      EXPECT_GE(got.size(), synced[t]) << t;
      EXPECT_TRUE(written[t].compare(0, got.size(), got) == 0) << t;
    }
    for (const FileInfo& file : log_->List()) {
      ASSERT_TRUE(log_->Delete(file.name).ok());
    }
  }
}

// none: Sync and SyncAll never fdatasync.
TEST_F(LogTest, SyncModeNoneNeverSyncs) {
  LogOptions options = SmallSegments();
  options.sync_mode = SyncMode::kNone;
  Open(options);
  const uint64_t id = Create("a.log");
  const uint64_t before = storage_.SyncCount();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(log_->Append(id, Pattern(100, i)).ok());
    ASSERT_TRUE(log_->Sync(id).ok());
    ASSERT_TRUE(log_->SyncAll().ok());
  }
  EXPECT_EQ(before, storage_.SyncCount());
  EXPECT_EQ(0u, log_->GetStats().sync_batch_count);
}

// Unsynced frames have their writeback started for every MiB written, so
// that the fdatasync sealing the segment has little left to write; frames
// that writers sync are durable already and get no hint.
TEST_F(LogTest, WritebackStartsForEveryMibOfUnsyncedFrames) {
  constexpr uint64_t kMiB = 1 << 20;
  LogOptions options = SmallSegments();
  options.segment_size = 8 * kMiB;  // room for all of it in one segment
  options.preallocate = Preallocation::kFallocate;
  Open(options);
  const uint64_t id = Create("a.log");
  for (int i = 0; i < 768; ++i) {  // 3 MiB, never synced
    ASSERT_TRUE(log_->Append(id, Pattern(4096, i)).ok());
  }
  std::vector<testing::MemStorage::WritebackHint> hints =
      storage_.WritebackHints();
  ASSERT_EQ(3u, hints.size());  // 3 MiB of payload and its frame headers
  uint64_t next = hints[0].offset;
  EXPECT_LT(next, 64 * 1024u);  // from where this segment's frames start
  for (const auto& hint : hints) {
    EXPECT_EQ(hints[0].path, hint.path);
    EXPECT_EQ(next, hint.offset);  // contiguous: every unsynced byte once
    EXPECT_GE(hint.n, kMiB);
    EXPECT_LT(hint.n, kMiB + MaxFrameFootprint(4096));  // at most a frame over
    next = hint.offset + hint.n;
  }
  EXPECT_EQ(hints.size(), log_->GetStats().writeback_starts);

  // Synced from here on: nothing is left dirty for long, no more hints.
  ASSERT_TRUE(log_->Sync(id).ok());
  for (int i = 0; i < 768; ++i) {
    ASSERT_TRUE(log_->Append(id, Pattern(4096, i)).ok());
    ASSERT_TRUE(log_->Sync(id).ok());
  }
  EXPECT_EQ(hints.size(), storage_.WritebackHints().size());
  EXPECT_EQ(Pattern(4096, 767),
            ReadAll(log_.get(), "a.log").substr(6 * kMiB - 4096));
}

// The append that crosses a MiB of unsynced frames starts their writeback
// once it has released the writer's lock: one the kernel is slow to queue
// holds up no other appender (every appender needs that lock).
TEST_F(LogTest, ASlowWritebackHoldsUpNoOtherAppend) {
  constexpr uint64_t kMiB = 1 << 20;
  LogOptions options = SmallSegments();
  options.segment_size = 8 * kMiB;  // room for all of it in one segment
  options.preallocate = Preallocation::kFallocate;
  Open(options);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  bool first_returned = false;
  std::thread::id hinting_thread;
  storage_.SetHook([&](FaultOp op, const std::string&) {
    if (op != FaultOp::kWriteback) return;
    std::unique_lock<std::mutex> lock(mu);
    if (hinting_thread != std::thread::id()) return;  // only the first
    hinting_thread = std::this_thread::get_id();
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return release; });
    first_returned = true;
  });
  const uint64_t a = Create("a.log");
  const uint64_t b = Create("b.log");
  // One writer crosses the first MiB and is held in its writeback.
  std::thread held([&] {
    for (int i = 0; i < 256 + 16; ++i) {
      ASSERT_TRUE(log_->Append(a, Pattern(4096, i)).ok());
    }
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] {
      return hinting_thread != std::thread::id();
    })) << "no writeback started";
  }
  // Another appends 3 MiB meanwhile.
  for (int i = 0; i < 768; ++i) {
    ASSERT_TRUE(log_->Append(b, Pattern(4096, i)).ok());
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_FALSE(first_returned) << "the appends waited for the writeback";
    EXPECT_EQ(held.get_id(), hinting_thread);
    release = true;
  }
  cv.notify_all();
  held.join();
  storage_.SetHook(nullptr);
  EXPECT_EQ(log_->GetStats().writeback_starts,
            storage_.WritebackHints().size());
  EXPECT_EQ(Pattern(4096, 767), ReadAll(log_.get(), "b.log").substr(767 * 4096));
}

// always: one fdatasync per Sync.
TEST_F(LogTest, SyncModeAlwaysSyncsEveryTime) {
  LogOptions options = SmallSegments();
  options.sync_mode = SyncMode::kAlways;
  Open(options);
  const uint64_t id = Create("a.log");
  const uint64_t before = storage_.SyncCount();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(log_->Append(id, Pattern(100, i)).ok());
    ASSERT_TRUE(log_->Sync(id).ok());
  }
  EXPECT_EQ(before + 20, storage_.SyncCount());
}

// interval: Sync returns at once; the bytes are durable within the
// interval.
TEST_F(LogTest, SyncModeIntervalMakesBytesDurableWithinTheInterval) {
  LogOptions options = SmallSegments();
  options.sync_mode = SyncMode::kInterval;
  options.sync_interval_ms = 50;
  options.clock = &clock_;
  Open(options);
  const uint64_t id = Create("a.log");
  ASSERT_TRUE(log_->SyncAll().ok());  // the create, at once
  const uint64_t requests = log_->GetStats().sync_request_count;
  const std::string data = Pattern(5000, 3);
  ASSERT_TRUE(log_->Append(id, data).ok());
  ASSERT_TRUE(log_->Sync(id).ok());
  // Sync returned at once: nothing was synced for it.
  EXPECT_EQ(requests + 1, log_->GetStats().sync_request_count);
  EXPECT_EQ(1u, log_->GetStats().sync_batch_count);
  clock_.Advance(options.sync_interval_ms * 1000);
  EXPECT_TRUE(WaitFor([&] { return log_->GetStats().sync_batch_count == 2; }))
      << "no sync after one interval";
  std::mt19937_64 rng(9);
  Crash(CrashMode::kDropUnsynced, &rng);
  Open(options);
  EXPECT_EQ(data, ReadAll(log_.get(), "a.log"));
}

// group: concurrent syncs share fdatasyncs.
TEST_F(LogTest, SyncModeGroupSharesFdatasyncs) {
  LogOptions options = SmallSegments();
  options.sync_mode = SyncMode::kGroup;
  Open(options);
  // An fdatasync that takes as long as a disk's.
  storage_.SetHook([](FaultOp op, const std::string&) {
    if (op == FaultOp::kSync) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  constexpr int kThreads = 8, kSyncs = 25;
  const uint64_t before = storage_.SyncCount();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      uint64_t id = 0;
      ASSERT_TRUE(log_->Create("g" + std::to_string(t), &id).ok());
      for (int i = 0; i < kSyncs; ++i) {
        ASSERT_TRUE(log_->Append(id, Pattern(200, i)).ok());
        ASSERT_TRUE(log_->Sync(id).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  storage_.SetHook(nullptr);
  const LogStats stats = log_->GetStats();
  EXPECT_EQ(uint64_t{kThreads} * kSyncs, stats.sync_request_count);
  EXPECT_LT(storage_.SyncCount() - before, uint64_t{kThreads} * kSyncs / 2);
  EXPECT_LT(stats.sync_batch_count, stats.sync_request_count / 2);
  EXPECT_GT(stats.batch_size_max, 1u);
}

}  // namespace
}  // namespace segwal
