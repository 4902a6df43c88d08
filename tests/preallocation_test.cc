// How segment files get their blocks: a segment grows by windows ahead of
// the writer, each zero-filled or fallocated (option preallocate), or as
// the observed sync rate says (auto); data in fallocated segments survives
// power loss like data in zero-filled ones; an idle log holds one window.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "env/format/file_names.h"
#include "env/format/format.h"
#include "env/engine/log.h"
#include "tests/support/log_fixture.h"

namespace segwal {
namespace {

using testing::CrashMode;
using testing::FaultOp;
using testing::LogFixture;
using testing::Pattern;
using testing::ReadAll;
using testing::SmallSegments;

// With 64 KiB segments the first window is 8 KiB: the header block and
// one page for frames.
constexpr uint64_t kFirstWindow = 8192;

class PreallocationTest : public LogFixture {
 protected:
  // The log writes (its LOG file) as it closes: before the counters go.
  ~PreallocationTest() override { log_.reset(); }

  // Counts the writes into each segment file.
  void CountWrites() {
    storage_.SetHook([this](FaultOp op, const std::string& path) {
      if (op != FaultOp::kWrite) return;
      std::lock_guard<std::mutex> guard(mu_);
      ++writes_[path.substr(path.rfind('/') + 1)];
    });
  }
  uint64_t WritesTo(uint64_t segment_id) {
    std::lock_guard<std::mutex> guard(mu_);
    return writes_[SegmentFileName(segment_id)];
  }
  uint64_t SizeOf(uint64_t segment_id) {
    return storage_.Contents(std::string(testing::kLogDir) + "/" +
                             SegmentFileName(segment_id))
        .size();
  }
  // Opens the log and makes a first change, which starts segment 1 (Open
  // alone writes nothing).
  void OpenStarted(const LogOptions& options) {
    Open(options);
    ASSERT_TRUE(log_->SyncAll().ok());
  }
  static LogOptions With(Preallocation p,
                         SyncMode mode = SyncMode::kGroup) {
    LogOptions options = SmallSegments();
    options.preallocate = p;
    options.sync_mode = mode;
    return options;
  }
  // Appends `bytes` to `id` in 200-byte pieces, each synced if `synced`.
  void Write(uint64_t id, uint64_t bytes, bool synced) {
    for (uint64_t done = 0; done < bytes; done += 200) {
      ASSERT_TRUE(log_->Append(id, Pattern(200, done)).ok());
      if (synced) {
        ASSERT_TRUE(log_->Sync(id).ok());
      }
    }
  }

  std::mutex mu_;
  std::map<std::string, uint64_t> writes_;
};

TEST_F(PreallocationTest, ZeroWritesEveryPageOfTheFirstWindow) {
  CountWrites();
  OpenStarted(With(Preallocation::kZero));
  // Two zero-filled pages, then the header block and snapshot.
  EXPECT_EQ(kFirstWindow / 4096 + 1, WritesTo(1));
  EXPECT_EQ(kFirstWindow, SizeOf(1));
  EXPECT_EQ(1u, log_->GetStats().segments_zero_filled);
}

TEST_F(PreallocationTest, FallocateWritesOnlyTheHeaderBlock) {
  CountWrites();
  OpenStarted(With(Preallocation::kFallocate));
  EXPECT_EQ(1u, WritesTo(1));  // header and file-table snapshot
  EXPECT_EQ(kFirstWindow, SizeOf(1));  // the window reads as zeros
  EXPECT_EQ(0u, log_->GetStats().segments_zero_filled);
  EXPECT_EQ(1u, log_->GetStats().segments_created);
}

TEST_F(PreallocationTest, WithoutFallocateTheZerosAreWritten) {
  storage_.SetAllocateSupported(false);
  CountWrites();
  OpenStarted(With(Preallocation::kFallocate));
  EXPECT_EQ(kFirstWindow / 4096 + 1, WritesTo(1));
  EXPECT_EQ(kFirstWindow, SizeOf(1));
  EXPECT_EQ(1u, log_->GetStats().segments_zero_filled);
}

// A segment grows window by window as frames fill it, zero-filled ahead of
// the writer when syncs are frequent, never past its size; an idle log
// holds about a window.
TEST_F(PreallocationTest, SegmentsGrowByWindowsAheadOfTheWriter) {
  CountWrites();
  LogOptions options = With(Preallocation::kZero);
  options.background_prepare = true;
  OpenStarted(options);
  const uint64_t id = Create("a.log");
  // Its first frames crossed half the first window: a second one came.
  EXPECT_LE(SizeOf(1), 2 * kFirstWindow) << "an idle log holds a window";
  uint64_t written = 0;
  while (log_->GetStats().rotations == 0) {
    const uint64_t used = log_->GetStats().head_segment_bytes;
    EXPECT_LE(used, SizeOf(1)) << "a frame past the prepared window";
    EXPECT_LE(SizeOf(1), kMinSegmentSize);
    ASSERT_TRUE(log_->Append(id, Pattern(700, written)).ok());
    ASSERT_TRUE(log_->Sync(id).ok());
    written += 700;
  }
  const LogStats stats = log_->GetStats();
  EXPECT_GE(stats.segment_extensions, 3u);
  EXPECT_EQ(kMinSegmentSize, SizeOf(1));
  // Every page of the segment was zero-filled before frames went there.
  EXPECT_GE(WritesTo(1), kMinSegmentSize / 4096);
  std::mt19937_64 rng(3);
  Crash(CrashMode::kDropUnsynced, &rng);
  Open(options);
  EXPECT_EQ(written, log_->GetStats().live_bytes);
}

// The writer records what it asks of the preparer under its lock and wakes
// the preparer once it has released it: the append that passes the point
// where the head's window is to grow gets it grown in the background, with
// no later call to carry the wake-up (the writer far from the window's end,
// nothing else wakes the preparer).
TEST_F(PreallocationTest, TheAppendThatAsksForMoreRoomWakesThePreparer) {
  LogOptions options = With(Preallocation::kFallocate);
  options.segment_size = 1 << 20;  // a first window of 64 KiB
  options.background_prepare = true;
  OpenStarted(options);
  const uint64_t first_window = SizeOf(1);
  ASSERT_EQ(64u << 10, first_window);
  const uint64_t id = Create("a.log");
  // The window grows from half of it on.
  uint64_t written = 0;
  while (log_->GetStats().head_segment_bytes < first_window * 5 / 8) {
    ASSERT_TRUE(log_->Append(id, Pattern(200, written)).ok());
    written += 200;
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (SizeOf(1) == first_window &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GT(SizeOf(1), first_window) << "the preparer was never woken";
  EXPECT_GE(log_->GetStats().segment_extensions, 1u);
}

// Synced data in fallocated segments survives a power loss, across
// rotations, and what was not synced is dropped without garbage.
TEST_F(PreallocationTest, FallocatedSegmentsKeepSyncedDataThroughPowerLoss) {
  const LogOptions options = With(Preallocation::kFallocate);
  Open(options);
  const uint64_t id = Create("a.log");
  std::string synced;
  for (int i = 0; i < 40; ++i) {  // ~3 segments
    const std::string piece = Pattern(5000, i);
    ASSERT_TRUE(log_->Append(id, piece).ok());
    ASSERT_TRUE(log_->Sync(id).ok());
    synced += piece;
  }
  ASSERT_TRUE(log_->Append(id, Pattern(3000, 99)).ok());  // not synced
  EXPECT_GE(log_->GetStats().rotations, 2u);
  EXPECT_EQ(0u, log_->GetStats().segments_zero_filled);
  std::mt19937_64 rng(5);
  Crash(CrashMode::kDropUnsynced, &rng);
  Open(options);
  EXPECT_EQ(synced, ReadAll(log_.get(), "a.log"));
}

// Auto: the first segment follows the sync mode; later ones follow the
// sync batches per byte written since the previous decision.
TEST_F(PreallocationTest, AutoFollowsTheSyncRate) {
  OpenStarted(With(Preallocation::kAuto));
  EXPECT_EQ(1u, log_->GetStats().segments_zero_filled);  // sync_mode=group
  const uint64_t id = Create("a.log");

  // Unsynced writes: after 1 MiB of them, new segments are fallocated.
  Write(id, 1200 * 1024, /*synced=*/false);
  LogStats before = log_->GetStats();
  Write(id, 256 * 1024, /*synced=*/false);
  LogStats after = log_->GetStats();
  EXPECT_GT(after.segments_created, before.segments_created);
  EXPECT_EQ(after.segments_zero_filled, before.segments_zero_filled);

  // Synced writes: after 1 MiB of them, new segments are zero-filled.
  Write(id, 1200 * 1024, /*synced=*/true);
  before = log_->GetStats();
  Write(id, 256 * 1024, /*synced=*/true);
  after = log_->GetStats();
  EXPECT_GT(after.segments_created, before.segments_created);
  EXPECT_EQ(after.segments_zero_filled - before.segments_zero_filled,
            after.segments_created - before.segments_created);
}

TEST_F(PreallocationTest, AutoStartsFallocatedWhenSyncsComeFromATimer) {
  OpenStarted(With(Preallocation::kAuto, SyncMode::kInterval));
  EXPECT_EQ(0u, log_->GetStats().segments_zero_filled);
  EXPECT_EQ(1u, log_->GetStats().segments_created);
}

}  // namespace
}  // namespace segwal
