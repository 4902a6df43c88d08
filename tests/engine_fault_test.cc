// I/O errors beneath the log (MemStorage::InjectFault): EIO and ENOSPC on
// write, fdatasync, preallocation, rename and directory sync.
//
// A failed write or fdatasync is sticky: that call, every group waiter and
// every later write or sync fails with it. A failed preparation of a segment
// (nothing written to the log) is not: the next append works. Whatever
// failed, a reopen recovers every byte acknowledged as synced before the
// fault, and nothing that was never written.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "env/engine/log.h"
#include "env/storage/serial_sync.h"
#include "tests/support/log_fixture.h"

namespace segwal {
namespace {

using testing::CrashMode;
using testing::FaultOp;
using testing::LogFixture;
using testing::Pattern;
using testing::ReadAll;
using testing::SmallSegments;

enum class Errno { kEIO, kENOSPC };

IOStatus Injected(Errno e) {
  return e == Errno::kEIO ? IOStatus::IOError("injected EIO")
                          : IOStatus::NoSpace("injected ENOSPC");
}

std::string ErrnoName(const ::testing::TestParamInfo<Errno>& info) {
  return info.param == Errno::kEIO ? "EIO" : "ENOSPC";
}

class EngineFaultTest : public LogFixture {
 protected:
  // a.log with synced bytes, and a.log's further appends, acknowledged but
  // not synced.
  void SetUpLog(const LogOptions& options = SmallSegments()) {
    options_ = options;
    Open(options);
    id_ = Create("a.log");
    for (int i = 0; i < 5; ++i) AppendA(Pattern(700, i));
    ASSERT_TRUE(log_->Sync(id_).ok());
    synced_ = acknowledged_;
  }
  IOStatus AppendA(const std::string& data) {
    IOStatus s = log_->Append(id_, data);
    if (s.ok()) acknowledged_ += data;
    return s;
  }
  // Every call that writes or syncs fails with the sticky error.
  void ExpectSticky(const IOStatus& error, Errno e) {
    ASSERT_FALSE(error.ok());
    EXPECT_EQ(e == Errno::kENOSPC, error.IsNoSpace()) << error.ToString();
    uint64_t id = 0;
    const IOStatus later[] = {
        log_->Append(id_, "more"),
        log_->WriteAt(id_, 0, "x"),
        log_->Sync(id_),
        log_->SyncAll(),
        log_->Create("new.log", &id),
        log_->Rename("a.log", "b.log"),
        log_->Link("a.log", "c.log"),
        log_->Truncate(id_, 1),
        log_->Delete("a.log"),
    };
    for (const IOStatus& s : later) {
      EXPECT_EQ(error.ToString(), s.ToString());
      EXPECT_EQ(e == Errno::kENOSPC, s.IsNoSpace());
    }
    // Reads still work.
    EXPECT_EQ(acknowledged_, ReadAll(log_.get(), "a.log"));
  }
  // After a reopen (clean, or after a power loss): a.log holds every synced
  // byte, then a prefix of what was acknowledged later, nothing else.
  void ExpectRecovered(bool power_loss) {
    if (power_loss) {
      std::mt19937_64 rng(3);
      Crash(CrashMode::kDropUnsynced, &rng);
    }
    storage_.ClearFaults();
    Open(options_);
    if (::testing::Test::HasFatalFailure()) return;
    EXPECT_TRUE(info_.damages.empty()) << info_.ToString();
    const std::string got = ReadAll(log_.get(), "a.log");
    ASSERT_GE(got.size(), synced_.size());
    ASSERT_LE(got.size(), acknowledged_.size());
    EXPECT_TRUE(got == acknowledged_.substr(0, got.size()));
    if (!power_loss) {
      EXPECT_EQ(acknowledged_, got);
    }
  }
  // Files written and deleted, enough that the housekeeper has segments to
  // reclaim (after relocating a.log's bytes forward).
  void Churn() {
    for (int i = 0; i < 8; ++i) {
      Create("tmp");
      Append("tmp", Pattern(50000, i));
      ASSERT_TRUE(log_->Delete("tmp").ok());
    }
  }
  // The id the next new segment file gets.
  uint64_t NextSegmentId() {
    std::vector<std::string> names;
    EXPECT_TRUE(storage_.ListDir(testing::kLogDir, &names).ok());
    uint64_t max = 0;
    for (const std::string& name : names) {
      uint64_t id = 0;
      if (ParseSegmentFileName(name.substr(0, 24), &id) ||
          ParseFreeSegmentFileName(name, &id)) {
        max = std::max(max, id);
      }
    }
    return max + 1;
  }

  // Runs `first` on a thread until its first storage Sync, which is held
  // for up to 300 ms or until `second`, run on another thread meanwhile,
  // returns. Tells whether `second` returned while that Sync was held.
  bool SecondReturnsDuringFirstSync(const std::function<void()>& first,
                                    const std::function<void()>& second) {
    std::mutex mu;
    std::condition_variable cv;
    bool held = false, second_returned = false, overlapped = false;
    std::atomic<bool> first_sync{true};
    storage_.SetHook([&](FaultOp op, const std::string&) {
      if (op != FaultOp::kSync || !first_sync.exchange(false)) return;
      std::unique_lock<std::mutex> lock(mu);
      held = true;
      cv.notify_all();
      cv.wait_for(lock, std::chrono::milliseconds(300),
                  [&] { return second_returned; });
      overlapped = second_returned;
    });
    std::thread one(first);
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return held; });
    }
    std::thread two([&] {
      second();
      std::lock_guard<std::mutex> guard(mu);
      second_returned = true;
      cv.notify_all();
    });
    one.join();
    two.join();
    storage_.SetHook(nullptr);
    return overlapped;
  }

  LogOptions options_;
  uint64_t id_ = 0;
  std::string synced_, acknowledged_;
};

class StickyFaultTest : public EngineFaultTest,
                        public ::testing::WithParamInterface<Errno> {};

TEST_P(StickyFaultTest, FailedWrite) {
  SetUpLog();
  ASSERT_TRUE(AppendA("acknowledged, not synced").ok());
  storage_.InjectFault(FaultOp::kWrite, ".seg", Injected(GetParam()));
  const IOStatus s = AppendA("fails");
  EXPECT_EQ(Injected(GetParam()).ToString(), s.ToString());
  storage_.ClearFaults();  // the error stays
  ExpectSticky(s, GetParam());
  ASSERT_NO_FATAL_FAILURE(ExpectRecovered(/*power_loss=*/false));
}

TEST_P(StickyFaultTest, FailedWriteThenPowerLoss) {
  SetUpLog();
  ASSERT_TRUE(AppendA("acknowledged, not synced").ok());
  storage_.InjectFault(FaultOp::kWrite, ".seg", Injected(GetParam()));
  ExpectSticky(AppendA("fails"), GetParam());
  ASSERT_NO_FATAL_FAILURE(ExpectRecovered(/*power_loss=*/true));
}

TEST_P(StickyFaultTest, FailedSync) {
  SetUpLog();
  ASSERT_TRUE(AppendA("not durable").ok());
  storage_.InjectFault(FaultOp::kSync, ".seg", Injected(GetParam()));
  const IOStatus s = log_->Sync(id_);
  EXPECT_EQ(Injected(GetParam()).ToString(), s.ToString());
  storage_.ClearFaults();  // a retried fdatasync would succeed: never ask
  ExpectSticky(s, GetParam());
  ASSERT_NO_FATAL_FAILURE(ExpectRecovered(/*power_loss=*/true));
}

// The fdatasync that seals the head before a rotation fails: the append that
// needed the rotation fails and the log stays failed.
TEST_P(StickyFaultTest, FailedSyncAtRotation) {
  SetUpLog();
  FillHead(1000);
  ASSERT_TRUE(log_->SyncAll().ok());
  synced_ = acknowledged_;
  storage_.InjectFault(FaultOp::kSync, SegmentFileName(
                                           SegmentIds().back()),
                       Injected(GetParam()));
  const IOStatus s = AppendA(Pattern(3000, 9));
  EXPECT_EQ(Injected(GetParam()).ToString(), s.ToString());
  storage_.ClearFaults();
  ExpectSticky(s, GetParam());
  ASSERT_NO_FATAL_FAILURE(ExpectRecovered(/*power_loss=*/true));
}


// Writers sync concurrently; the group leader's fdatasync fails once. Every
// writer gets the error, from its Sync or (if it came later) its Append:
// none is told its bytes are durable, though a retried fdatasync would
// succeed.
TEST_P(StickyFaultTest, GroupSyncFailureReachesEveryWaiter) {
  const Errno e = GetParam();
  {
    LogOptions options = SmallSegments();
    options.sync_mode = SyncMode::kGroup;
    SetUpLog(options);
    constexpr int kThreads = 8;
    std::vector<uint64_t> ids;
    for (int t = 0; t < kThreads; ++t) {
      ids.push_back(Create("t" + std::to_string(t) + ".log"));
    }
    ASSERT_TRUE(log_->SyncAll().ok());

    // The failing fdatasync waits until every writer has called Sync, so
    // that the others queue behind it (or, arriving after it, find its
    // failure sticky).
    std::atomic<bool> first{true};
    const uint64_t requests = log_->GetStats().sync_request_count;
    storage_.SetHook([&](FaultOp op, const std::string&) {
      if (op != FaultOp::kSync || !first.exchange(false)) return;
      EXPECT_TRUE(testing::WaitFor([&] {
        return log_->GetStats().sync_request_count == requests + kThreads;
      }));
    });
    storage_.InjectFault(FaultOp::kSync, ".seg", Injected(e), 1);

    std::vector<IOStatus> appended(kThreads), synced(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        appended[t] = log_->Append(ids[t], Pattern(500, t));
        if (appended[t].ok()) synced[t] = log_->Sync(ids[t]);
      });
    }
    for (std::thread& thread : threads) thread.join();
    storage_.SetHook(nullptr);
    for (int t = 0; t < kThreads; ++t) {
      const IOStatus& s = appended[t].ok() ? synced[t] : appended[t];
      EXPECT_EQ(Injected(e).ToString(), s.ToString())
          << "writer " << t;
    }
    storage_.ClearFaults();
    ExpectSticky(Injected(e), e);
    ASSERT_NO_FATAL_FAILURE(ExpectRecovered(/*power_loss=*/true));
  }
}

// Mode always: each Sync runs its own fdatasync. Linux reports a writeback
// error to one fdatasync only, so one that overlaps a failing one, or
// starts after it, can succeed though the failed bytes are lost (MemStorage
// models that: a failed Sync drops the unsynced writes). B's Sync must wait
// for A's fdatasync, then fail with A's error without an fdatasync of its
// own.
TEST_P(StickyFaultTest, SyncBehindAFailedOneFailsWithoutSyncing) {
  LogOptions options = SmallSegments();
  options.sync_mode = SyncMode::kAlways;
  SetUpLog(options);
  const uint64_t other = Create("b.log");
  ASSERT_TRUE(log_->SyncAll().ok());
  ASSERT_TRUE(AppendA("a's bytes").ok());
  storage_.InjectFault(FaultOp::kSync, ".seg", Injected(GetParam()), 1);
  const uint64_t syncs_before = storage_.SyncCount();
  IOStatus a_status, b_status;
  const bool overlapped = SecondReturnsDuringFirstSync(
      [&] { a_status = log_->Sync(id_); },
      [&] {
        b_status = log_->Append(other, "b's bytes");
        if (b_status.ok()) b_status = log_->Sync(other);
      });
  EXPECT_FALSE(overlapped) << "B's Sync overlapped A's fdatasync";
  EXPECT_EQ(Injected(GetParam()).ToString(), a_status.ToString());
  EXPECT_EQ(Injected(GetParam()).ToString(), b_status.ToString());
  EXPECT_EQ(1u, storage_.FaultsFired());
  EXPECT_EQ(syncs_before, storage_.SyncCount())
      << "an fdatasync ran (and succeeded) after the failed one";
  ExpectSticky(a_status, GetParam());
  ASSERT_NO_FATAL_FAILURE(ExpectRecovered(/*power_loss=*/true));
}

// The fdatasync sealing the head at rotation runs while a group leader's
// fdatasync of the same segment is in flight: it waits for it, and when
// that one failed, the rotation fails with its error instead of
// succeeding over the lost bytes.
TEST_P(StickyFaultTest, RotationBehindAFailedGroupSyncFails) {
  LogOptions options = SmallSegments();
  options.sync_mode = SyncMode::kGroup;
  SetUpLog(options);
  FillHead(1000);
  ASSERT_TRUE(log_->SyncAll().ok());
  synced_ = acknowledged_;
  ASSERT_TRUE(AppendA("synced by the failing group").ok());
  // The head only: the rotation also prepares (and syncs) a new segment.
  storage_.InjectFault(FaultOp::kSync, SegmentFileName(SegmentIds().back()),
                       Injected(GetParam()), 1);
  IOStatus synced, rotated;
  const bool overlapped = SecondReturnsDuringFirstSync(
      [&] { synced = log_->Sync(id_); },
      [&] { rotated = AppendA(Pattern(3000, 9)); });  // needs a rotation
  EXPECT_FALSE(overlapped) << "the rotation overlapped the group's fdatasync";
  EXPECT_EQ(Injected(GetParam()).ToString(), synced.ToString());
  EXPECT_EQ(Injected(GetParam()).ToString(), rotated.ToString());
  EXPECT_EQ(1u, storage_.FaultsFired());
  ExpectSticky(synced, GetParam());
  ASSERT_NO_FATAL_FAILURE(ExpectRecovered(/*power_loss=*/true));
}

// A file whose fdatasync answers like Linux's after one writeback error:
// the first call reports it, later ones succeed. Calls take a while and
// are counted, overlapping ones too.
class KernelLikeFile : public StorageFile {
 public:
  explicit KernelLikeFile(bool first_fails) : first_fails_(first_fails) {}
  IOStatus Sync() override {
    const int now = ++in_flight_;
    int max = max_in_flight_.load();
    while (now > max && !max_in_flight_.compare_exchange_weak(max, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    --in_flight_;
    const bool fail = calls_++ == 0 && first_fails_;
    return fail ? IOStatus::IOError("writeback error") : IOStatus::OK();
  }
  IOStatus Read(uint64_t, size_t, char*, size_t* read) override {
    *read = 0;
    return IOStatus::OK();
  }
  IOStatus Write(uint64_t, const char*, size_t) override {
    return IOStatus::OK();
  }
  IOStatus Allocate(uint64_t, uint64_t) override { return IOStatus::OK(); }
  IOStatus Truncate(uint64_t) override { return IOStatus::OK(); }
  IOStatus Size(uint64_t* size) override {
    *size = 0;
    return IOStatus::OK();
  }
  int calls() const { return calls_; }
  int max_in_flight() const { return max_in_flight_; }

 private:
  const bool first_fails_;
  std::atomic<int> calls_{0}, in_flight_{0}, max_in_flight_{0};
};

// Runs `per_thread` syncs through `syncs` on each of 4 threads at once.
std::vector<IOStatus> SyncConcurrently(SerialSync* syncs, StorageFile* file,
                                       int per_thread) {
  std::vector<IOStatus> results(4 * per_thread);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        results[t * per_thread + i] = syncs->Sync(file);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return results;
}

TEST(SerialSyncTest, SyncsNeverOverlap) {
  KernelLikeFile file(/*first_fails=*/false);
  SerialSync syncs;
  for (const IOStatus& s : SyncConcurrently(&syncs, &file, 10)) {
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_EQ(40, file.calls());
  EXPECT_EQ(1, file.max_in_flight());
}

TEST(SerialSyncTest, EverySyncAfterAFailureFailsWithoutSyncing) {
  KernelLikeFile file(/*first_fails=*/true);
  SerialSync syncs;
  for (const IOStatus& s : SyncConcurrently(&syncs, &file, 10)) {
    EXPECT_EQ("IO error: writeback error", s.ToString());
  }
  EXPECT_EQ(1, file.calls()) << "a later fdatasync would have succeeded";
}

INSTANTIATE_TEST_SUITE_P(Errors, StickyFaultTest,
                         ::testing::Values(Errno::kEIO, Errno::kENOSPC),
                         ErrnoName);

// ---- Segment preparation: nothing was written, nothing is sticky ---------

enum class PrepStep { kAllocate, kZeroFill, kSync, kSyncDir };

class PreparationFaultTest
    : public EngineFaultTest,
      public ::testing::WithParamInterface<std::tuple<PrepStep, Errno>> {};

TEST_P(PreparationFaultTest, NextAppendWorks) {
  const auto [step, e] = GetParam();
  LogOptions options = SmallSegments();
  options.recycle_segments = 0;  // every segment is a new, zero-filled file
  SetUpLog(options);
  FillHead(1000);
  const std::string next = SegmentFileName(NextSegmentId());
  const FaultOp op[] = {FaultOp::kAllocate, FaultOp::kWrite, FaultOp::kSync,
                        FaultOp::kSyncDir};
  storage_.InjectFault(op[static_cast<int>(step)],
                       step == PrepStep::kSyncDir ? testing::kLogDir : next,
                       Injected(e));
  const IOStatus s = AppendA(Pattern(3000, 1));  // needs a new segment
  EXPECT_EQ(Injected(e).ToString(), s.ToString());
  EXPECT_EQ(e == Errno::kENOSPC, s.IsNoSpace());
  // The fault has passed: the log goes on.
  ASSERT_TRUE(AppendA(Pattern(3000, 2)).ok());
  ASSERT_TRUE(log_->Sync(id_).ok());
  synced_ = acknowledged_;
  EXPECT_EQ(acknowledged_, ReadAll(log_.get(), "a.log"));
  ASSERT_NO_FATAL_FAILURE(ExpectRecovered(/*power_loss=*/true));
  // And further rotations and reopens are fine.
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(AppendA(Pattern(3000, i)).ok());
  ASSERT_TRUE(log_->Sync(id_).ok());
  synced_ = acknowledged_;
  ASSERT_NO_FATAL_FAILURE(ExpectRecovered(/*power_loss=*/false));
}

std::string PrepName(
    const ::testing::TestParamInfo<std::tuple<PrepStep, Errno>>& info) {
  static const char* const kSteps[] = {"Allocate", "ZeroFill", "Sync",
                                       "SyncDir"};
  return std::string(kSteps[static_cast<int>(std::get<0>(info.param))]) +
         (std::get<1>(info.param) == Errno::kEIO ? "EIO" : "ENOSPC");
}

INSTANTIATE_TEST_SUITE_P(
    Steps, PreparationFaultTest,
    ::testing::Combine(::testing::Values(PrepStep::kAllocate,
                                         PrepStep::kZeroFill, PrepStep::kSync,
                                         PrepStep::kSyncDir),
                       ::testing::Values(Errno::kEIO, Errno::kENOSPC)),
    PrepName);

// ---- Renames and directory syncs ----------------------------------------

// A free segment that cannot be renamed for reuse: a new file is made.
TEST_F(EngineFaultTest, RecyclingRenameFailureFallsBackToANewFile) {
  LogOptions options = SmallSegments();
  options.recycle_segments = 4;
  SetUpLog(options);
  Churn();
  ASSERT_TRUE(log_->Housekeep().ok());
  const LogStats before = log_->GetStats();
  ASSERT_GT(before.segments_reclaimed, 0u);
  storage_.InjectFault(FaultOp::kRename, ".free", Injected(Errno::kEIO));
  FillHead(1000);
  ASSERT_TRUE(AppendA(Pattern(3000, 1)).ok());
  const LogStats after = log_->GetStats();
  EXPECT_EQ(before.segments_recycled, after.segments_recycled);
  EXPECT_GT(after.segments_created, before.segments_created);
  ASSERT_TRUE(log_->Sync(id_).ok());
  synced_ = acknowledged_;
  ASSERT_NO_FATAL_FAILURE(ExpectRecovered(/*power_loss=*/true));
}

// Reclaiming fails at the rename or at the directory sync after it: the
// housekeeping call fails, the log does not, and reclaiming resumes once
// the fault has passed.
class ReclaimFaultTest : public EngineFaultTest,
                         public ::testing::WithParamInterface<FaultOp> {};

TEST_P(ReclaimFaultTest, IsRetried) {
  const FaultOp op = GetParam();
  {
    SetUpLog();
    Churn();
    storage_.InjectFault(op, testing::kLogDir, Injected(Errno::kEIO));
    EXPECT_EQ(Injected(Errno::kEIO).ToString(),
              log_->Housekeep().ToString());
    storage_.ClearFaults();
    // Not sticky.
    ASSERT_TRUE(AppendA("after the fault").ok());
    ASSERT_TRUE(log_->Sync(id_).ok());
    synced_ = acknowledged_;
    ASSERT_TRUE(log_->Housekeep().ok());
    EXPECT_LE(log_->GetStats().active_segments, 2u)
        << "reclaiming did not resume";
    ASSERT_NO_FATAL_FAILURE(ExpectRecovered(/*power_loss=*/true));
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, ReclaimFaultTest,
                         ::testing::Values(FaultOp::kRename,
                                           FaultOp::kSyncDir),
                         [](const ::testing::TestParamInfo<FaultOp>& info) {
                           return std::string(info.param == FaultOp::kRename
                                                  ? "Rename"
                                                  : "SyncDir");
                         });

// Recovery sets aside segments it does not use by renaming them, at the
// first change after Open; when that fails, the change fails with the error
// (and so does every later one), reads are unaffected, and a later Open
// succeeds.
TEST_F(EngineFaultTest, RecoveryRenameFailureFailsTheFirstChange) {
  SetUpLog();
  log_.reset();
  // A prepared segment never used (a crash after preparing it).
  const uint64_t unused = NextSegmentId();
  std::unique_ptr<StorageFile> file;
  ASSERT_TRUE(storage_.OpenFile(SegmentPath(unused), true, &file).ok());
  const std::string zeros(kMinSegmentSize, '\0');
  ASSERT_TRUE(file->Write(0, zeros.data(), zeros.size()).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(storage_.SyncDir(testing::kLogDir).ok());

  storage_.InjectFault(FaultOp::kRename, SegmentFileName(unused),
                       Injected(Errno::kENOSPC));
  IOStatus s = Reopen(SmallSegments());
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(acknowledged_, ReadAll(log_.get(), "a.log"));
  uint64_t id = 0;
  s = log_->Create("b.log", &id);
  EXPECT_EQ(Injected(Errno::kENOSPC).ToString(), s.ToString());
  EXPECT_TRUE(s.IsNoSpace());
  storage_.ClearFaults();
  EXPECT_TRUE(log_->SyncAll().IsNoSpace());
  EXPECT_TRUE(log_->Delete("a.log").IsNoSpace());
  EXPECT_EQ(acknowledged_, ReadAll(log_.get(), "a.log"));
  ASSERT_NO_FATAL_FAILURE(ExpectRecovered(/*power_loss=*/false));
}

}  // namespace
}  // namespace segwal
