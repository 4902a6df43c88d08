// Group commit (sync_mode=group) with its wait window and batch cap, the
// metrics a Log keeps (LogStats, Prometheus text) and the LOG file of the
// log directory, on in-memory storage.
//
// Windows run on a fake clock (tests/support/fake_clock.h): a window that
// must end early never has time to expire, one that must expire is made to
// by advancing the clock. Nothing waits for real time to pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "env/engine/log.h"
#include "env/stats/log_metrics.h"
#include "env/engine/wake_event.h"
#include "tests/support/fake_clock.h"
#include "tests/support/log_fixture.h"

namespace segwal {
namespace {

using testing::FaultOp;
using testing::LogFixture;
using testing::Pattern;
using testing::SmallSegments;

using testing::FakeClock;
using Clock = std::chrono::steady_clock;

uint64_t MillisSince(Clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() -
                                                            start)
          .count());
}

LogOptions Group(uint64_t window_us, uint64_t max_batch = 0) {
  LogOptions options = SmallSegments();
  options.sync_mode = SyncMode::kGroup;
  options.group_commit_window_us = window_us;
  options.group_commit_max_batch = max_batch;
  return options;
}

class GroupCommitTest : public LogFixture {
 protected:
  // Every fdatasync takes about as long as a disk's.
  void SlowSyncs(int micros) {
    storage_.SetHook([micros](FaultOp op, const std::string&) {
      if (op == FaultOp::kSync) {
        std::this_thread::sleep_for(std::chrono::microseconds(micros));
      }
    });
  }
  // `threads` writers, each appending to and syncing its own file
  // `rounds` times; every call must succeed.
  void RunWriters(int threads, int rounds) {
    std::vector<uint64_t> ids;
    for (int t = 0; t < threads; ++t) {
      ids.push_back(Create("w" + std::to_string(t) + ".log"));
    }
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        for (int i = 0; i < rounds; ++i) {
          ASSERT_TRUE(log_->Append(ids[t], Pattern(200, i)).ok());
          ASSERT_TRUE(log_->Sync(ids[t]).ok());
        }
      });
    }
    for (std::thread& w : workers) w.join();
  }
};

// A group-commit log on `clock` with no housekeeper thread: the only
// thread that waits on the clock is a leader in its window.
LogOptions GroupOnClock(FakeClock* clock, uint64_t window_us) {
  LogOptions options = Group(window_us);
  options.clock = clock;
  options.stats_dump_period_sec = 0;
  return options;
}

// Runs `fn` on a thread. True if it returns while the fake clock stands
// still; false if it is still waiting after 20 s of real time (then the
// clock is advanced far enough to release it).
bool ReturnsWithoutTime(FakeClock* clock, const std::function<void()>& fn) {
  std::mutex mu;
  std::condition_variable cv;
  bool returned = false;
  std::thread runner([&] {
    fn();
    std::lock_guard<std::mutex> guard(mu);
    returned = true;
    cv.notify_all();
  });
  bool in_time = false;
  {
    std::unique_lock<std::mutex> lock(mu);
    in_time = cv.wait_for(lock, std::chrono::seconds(20),
                          [&] { return returned; });
  }
  if (!in_time) clock->Advance(3600ull * 1000000);
  runner.join();
  return in_time;
}

// Waits (for real, at most 20 s) until `n` threads wait on the clock.
bool WaitForWaiters(FakeClock* clock, int n) {
  const auto start = Clock::now();
  while (clock->waiting() < n) {
    if (MillisSince(start) > 20000) return false;
    std::this_thread::yield();
  }
  return true;
}

// A lone writer never waits: its Syncs return while the clock stands still
// (a leader that waited its window would wait for the clock), and no
// leader round waited.
TEST_F(GroupCommitTest, LoneWriterNeverWaitsTheWindow) {
  Open(GroupOnClock(&clock_, /*window_us=*/100000));
  const uint64_t id = Create("a.log");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(log_->Append(id, Pattern(300, i)).ok());
    EXPECT_TRUE(ReturnsWithoutTime(&clock_, [&] {
      EXPECT_TRUE(log_->Sync(id).ok());
    })) << "sync " << i;
  }
  const LogStats stats = log_->GetStats();
  EXPECT_EQ(0u, stats.group_wait_count);
  EXPECT_EQ(5u, stats.sync_batch_count);
  EXPECT_EQ(1u, stats.batch_size_max);
}

// The window is waited only while other writers are active: a file that
// another writer appended to in this round or the last (since the
// last-but-one fdatasync started) makes the leader wait (here the full
// window: that writer never asks). Two rounds later the writer is no longer
// active and Sync does not wait.
TEST_F(GroupCommitTest, WaitsOnlyWhileOtherWritersAreActive) {
  constexpr uint64_t kWindow = 100000;
  Open(GroupOnClock(&clock_, kWindow));
  const uint64_t a = Create("a.log");
  const uint64_t b = Create("b.log");
  ASSERT_TRUE(log_->Append(b, "b's bytes").ok());
  for (int round = 1; round <= 2; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_TRUE(log_->Append(a, "a's bytes").ok());
    IOStatus synced;
    std::thread leader([&] { synced = log_->Sync(a); });
    EXPECT_TRUE(WaitForWaiters(&clock_, 1)) << "the leader did not wait";
    clock_.Advance(kWindow);
    leader.join();
    EXPECT_TRUE(synced.ok()) << synced.ToString();
  }
  const LogStats waited = log_->GetStats();
  EXPECT_EQ(2u, waited.group_wait_count);
  EXPECT_EQ(2 * kWindow, waited.group_wait_us);
  ASSERT_TRUE(log_->Append(a, "a's bytes").ok());
  EXPECT_TRUE(ReturnsWithoutTime(&clock_, [&] {
    EXPECT_TRUE(log_->Sync(a).ok());
  }));
  EXPECT_EQ(2u, log_->GetStats().group_wait_count);
}

// The window ends as soon as every active writer has asked: two writers
// share one fdatasync while the clock stands still.
TEST_F(GroupCommitTest, WindowEndsWhenEveryActiveWriterHasAsked) {
  Open(GroupOnClock(&clock_, /*window_us=*/100000));
  const uint64_t a = Create("a.log");
  const uint64_t b = Create("b.log");
  ASSERT_TRUE(log_->SyncAll().ok());
  const LogStats before = log_->GetStats();
  ASSERT_TRUE(log_->Append(a, "a's bytes").ok());
  ASSERT_TRUE(log_->Append(b, "b's bytes").ok());
  IOStatus sa, sb;
  EXPECT_TRUE(ReturnsWithoutTime(&clock_, [&] {
    std::thread other([&] { sb = log_->Sync(b); });
    sa = log_->Sync(a);
    other.join();
  }));
  EXPECT_TRUE(sa.ok()) << sa.ToString();
  EXPECT_TRUE(sb.ok()) << sb.ToString();
  const LogStats after = log_->GetStats();
  EXPECT_EQ(before.sync_batch_count + 1, after.sync_batch_count);
  EXPECT_EQ(2u, after.batch_size_max);
}

// Many writers with a window: fewer fdatasyncs than sync requests, and
// batches of more than one.
TEST_F(GroupCommitTest, WindowBatchesConcurrentSyncers) {
  Open(Group(/*window_us=*/2000));
  SlowSyncs(1000);
  constexpr int kThreads = 8, kRounds = 25;
  RunWriters(kThreads, kRounds);
  storage_.SetHook(nullptr);
  const LogStats stats = log_->GetStats();
  EXPECT_EQ(uint64_t{kThreads} * kRounds, stats.sync_request_count);
  EXPECT_LT(stats.sync_batch_count, stats.sync_request_count);
  EXPECT_GT(stats.batch_size_max, 1u);
  EXPECT_LE(stats.batch_size_max, uint64_t{kThreads});
  EXPECT_GE(stats.batch_count, stats.sync_batch_count);
  EXPECT_LE(stats.group_wait_max_us, stats.batch_max_us);
}

// group_commit_max_batch bounds the requests one fdatasync acknowledges,
// exactly, whatever the window.
TEST_F(GroupCommitTest, MaxBatchCapHoldsExactly) {
  for (uint64_t cap : {uint64_t{1}, uint64_t{3}}) {
    SCOPED_TRACE("cap " + std::to_string(cap));
    Open(Group(/*window_us=*/5000, cap));
    SlowSyncs(1000);
    constexpr int kThreads = 8, kRounds = 20;
    RunWriters(kThreads, kRounds);
    storage_.SetHook(nullptr);
    const LogStats stats = log_->GetStats();
    EXPECT_EQ(uint64_t{kThreads} * kRounds, stats.sync_request_count);
    EXPECT_LE(stats.batch_size_max, cap);
    EXPECT_GE(stats.batch_size_max, 1u);
    // Not every request gets a batch: one whose bytes another leader's
    // fdatasync covered between its Append and its Sync returns at once.
    EXPECT_LE(stats.sync_batch_count, stats.sync_request_count);
    if (cap == 1) {
      EXPECT_EQ(1u, stats.batch_size_max);
    }
    log_.reset();
  }
}

// The leader's fdatasync fails after a window that gathered the group:
// every writer gets the error from its Sync, none is told its bytes are
// durable, and the error is sticky.
TEST_F(GroupCommitTest, FailedGroupSyncAfterTheWindowReachesEveryMember) {
  // The window never expires: the clock stands still.
  Open(GroupOnClock(&clock_, /*window_us=*/100000));
  constexpr int kThreads = 8;
  std::vector<uint64_t> ids;
  for (int t = 0; t < kThreads; ++t) {
    ids.push_back(Create("t" + std::to_string(t) + ".log"));
  }
  ASSERT_TRUE(log_->SyncAll().ok());
  const IOStatus injected = IOStatus::IOError("injected EIO");
  storage_.InjectFault(FaultOp::kSync, ".seg", injected, 1);

  // Everyone appends before anyone syncs: all are active writers, so the
  // leader waits for all of them.
  std::mutex mu;
  std::condition_variable cv;
  int appended = 0;
  std::vector<IOStatus> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      results[t] = log_->Append(ids[t], Pattern(500, t));
      {
        std::unique_lock<std::mutex> lock(mu);
        ++appended;
        cv.notify_all();
        cv.wait(lock, [&] { return appended == kThreads; });
      }
      if (results[t].ok()) results[t] = log_->Sync(ids[t]);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(injected.ToString(), results[t].ToString()) << "writer " << t;
  }
  const LogStats stats = log_->GetStats();
  EXPECT_EQ(1u, stats.group_wait_count);
  EXPECT_EQ(injected.ToString(), log_->Append(ids[0], "x").ToString());
  EXPECT_EQ(injected.ToString(), log_->Sync(ids[0]).ToString());
}

// Many followers behind one fdatasync: a round acknowledges them all and
// each is woken (the leader wakes one, the acknowledged wake one another),
// with a status; none is left asleep.
TEST_F(GroupCommitTest, EveryFollowerOfALargeRoundWakes) {
  Open(Group(/*window_us=*/0));
  constexpr int kFollowers = 20;
  std::vector<uint64_t> ids;
  for (int t = 0; t <= kFollowers; ++t) {
    ids.push_back(Create("t" + std::to_string(t) + ".log"));
  }
  ASSERT_TRUE(log_->SyncAll().ok());
  // The first fdatasync holds until every follower has queued behind it.
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  bool held = false;
  storage_.SetHook([&](FaultOp op, const std::string& path) {
    if (op != FaultOp::kSync || path.find(".seg") == std::string::npos) {
      return;
    }
    std::unique_lock<std::mutex> lock(mu);
    if (held) return;
    held = true;
    cv.wait(lock, [&] { return release; });
  });
  const uint64_t requests_before = log_->GetStats().sync_request_count;
  std::atomic<int> returned{0};
  std::vector<IOStatus> results(kFollowers + 1);
  std::vector<std::thread> threads;
  const auto writer = [&](int t) {
    results[t] = log_->Append(ids[t], Pattern(300, t));
    if (results[t].ok()) results[t] = log_->Sync(ids[t]);
    ++returned;
  };
  threads.emplace_back(writer, 0);  // the leader, held in its fdatasync
  while (log_->GetStats().sync_request_count < requests_before + 1) {
    std::this_thread::yield();
  }
  for (int t = 1; t <= kFollowers; ++t) threads.emplace_back(writer, t);
  while (log_->GetStats().sync_request_count <
         requests_before + 1 + kFollowers) {
    std::this_thread::yield();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  const Clock::time_point start = Clock::now();
  while (returned.load() < kFollowers + 1 && MillisSince(start) < 20000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (returned.load() < kFollowers + 1) {
    // Joining would hang the whole test binary.
    std::fprintf(stderr, "only %d of %d syncers returned\n", returned.load(),
                 kFollowers + 1);
    std::abort();
  }
  for (std::thread& thread : threads) thread.join();
  storage_.SetHook(nullptr);
  for (int t = 0; t <= kFollowers; ++t) {
    EXPECT_TRUE(results[t].ok()) << "writer " << t << ": "
                                 << results[t].ToString();
  }
  // They appended after the held fdatasync began: the oldest was handed
  // the lead and its one round covered every follower.
  EXPECT_EQ(uint64_t{kFollowers}, log_->GetStats().batch_size_max);
}

// The followers' wake-up: what the setter wrote before Set is seen after
// Wait, a Set before the Wait is not lost (and makes no system call), and
// the waiter may free the event the moment Wait returns (under ASan a
// touch after that would fail).
TEST(WakeEventTest, WakesOnceAndMayBeFreedAtOnce) {
  WakeEvent early;
  EXPECT_FALSE(early.Set());  // no waiter asleep: no system call
  early.Wait();               // returns at once
  for (int round = 0; round < 2000; ++round) {
    auto event = std::make_unique<WakeEvent>();
    WakeEvent* raw = event.get();
    int payload = 0;
    std::thread setter([raw, &payload, round] {
      payload = round + 1;
      raw->Set();
    });
    event->Wait();
    event.reset();  // freed while Set may still be returning
    EXPECT_EQ(round + 1, payload);
    setter.join();
  }
}

// Stats: every call is counted once in its histogram (with every Append
// timed).
TEST_F(GroupCommitTest, StatsCountEveryCall) {
  LogOptions options = Group(0);
  options.append_timing_interval = 1;
  Open(options);
  const uint64_t id = Create("a.log");
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(log_->Append(id, Pattern(100, i)).ok());
    ASSERT_TRUE(log_->Sync(id).ok());
  }
  ASSERT_TRUE(log_->SyncAll().ok());  // durable already: no batch
  const LogStats stats = log_->GetStats();
  EXPECT_EQ(10u, stats.write_request_count);
  EXPECT_EQ(1000u, stats.write_bytes);
  EXPECT_EQ(10u, stats.append_latency_us.count());
  EXPECT_EQ(11u, stats.sync_request_count);
  EXPECT_EQ(11u, stats.sync_latency_us.count());
  EXPECT_EQ(10u, stats.sync_batch_count);
  EXPECT_GE(stats.batch_count, stats.sync_batch_count);
  EXPECT_EQ(1u, stats.batch_size_max);
  EXPECT_GE(stats.write_max_us, stats.append_latency_us.Percentile(0.5));
  EXPECT_GE(stats.segments_created + stats.segments_recycled, 1u);
}

// append_timing_interval = 4 times calls 0, 4 and 8 of ten; all ten count.
TEST_F(GroupCommitTest, AppendTimingIntervalTimesOneCallInN) {
  LogOptions options = Group(0);
  options.append_timing_interval = 4;
  Open(options);
  const uint64_t id = Create("a.log");
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(log_->Append(id, Pattern(100, i)).ok());
  }
  const LogStats stats = log_->GetStats();
  EXPECT_EQ(10u, stats.write_request_count);
  EXPECT_EQ(1000u, stats.write_bytes);
  EXPECT_EQ(3u, stats.append_latency_us.count());
}

// Every line of the exposition is a comment (# HELP / # TYPE) or a sample
// `name{labels} value` with a valid metric name; counters end in _total;
// every sample's family was declared by a # TYPE line.
TEST_F(GroupCommitTest, PrometheusTextParses) {
  LogOptions options = Group(0);
  options.append_timing_interval = 1;
  Open(options);
  const uint64_t id = Create("a.log");
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(log_->Append(id, Pattern(100, i)).ok());
    ASSERT_TRUE(log_->Sync(id).ok());
  }
  const std::string text =
      FormatPrometheus(log_->GetStats(), "/odd \"dir\"\\x\n");
  const std::regex help(R"(# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+)");
  const std::regex type(
      R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|summary|histogram|untyped))");
  const std::regex label(R"([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")");
  const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\} (-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|\+Inf|-Inf))");
  std::map<std::string, std::string> types;
  std::istringstream lines(text);
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (line.rfind("# HELP", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line, help)) << line;
    } else if (line.rfind("# TYPE", 0) == 0) {
      ASSERT_TRUE(std::regex_match(line, m, type)) << line;
      types[m[1]] = m[2];
      if (m[2] == "counter") {
        EXPECT_EQ("_total", m[1].str().substr(m[1].length() - 6)) << line;
      }
    } else {
      ASSERT_TRUE(std::regex_match(line, m, sample)) << line;
      ++samples;
      std::string name = m[1];
      for (const char* suffix : {"_sum", "_count"}) {
        const std::string s = suffix;
        if (types.count(name) == 0 && name.size() > s.size() &&
            name.compare(name.size() - s.size(), s.size(), s) == 0) {
          name.resize(name.size() - s.size());
        }
      }
      EXPECT_EQ(1u, types.count(name)) << "no # TYPE for " << line;
      // Labels: comma-separated name="value" pairs.
      std::string labels = m[2];
      std::string rest = labels;
      std::smatch lm;
      while (!rest.empty()) {
        ASSERT_TRUE(std::regex_search(rest, lm, label) && lm.position(0) == 0)
            << line;
        rest = rest.substr(lm.length(0));
        if (!rest.empty()) {
          ASSERT_EQ(',', rest[0]) << line;
          rest = rest.substr(1);
        }
      }
    }
  }
  EXPECT_GT(samples, 30);
  EXPECT_EQ("counter", types["segwal_write_requests_total"]);
  EXPECT_EQ("summary", types["segwal_sync_duration_seconds"]);
  EXPECT_NE(std::string::npos,
            text.find("segwal_sync_requests_total{log_dir=\"/odd \\\"dir\\\"\\\\x\\n\"} 20"))
      << text;
  EXPECT_NE(std::string::npos,
            text.find("segwal_append_duration_seconds_count{log_dir=\"/odd "
                      "\\\"dir\\\"\\\\x\\n\"} 20"))
      << text;
  EXPECT_NE(std::string::npos, text.find("quantile=\"0.999\"")) << text;
}

// The LOG file of the log directory: the options and the recovery summary
// at Open, then a stats block every stats_dump_period_sec.
TEST_F(GroupCommitTest, LogFileGetsRecoveryAndPeriodicStats) {
  LogOptions options = Group(0);
  options.stats_dump_period_sec = 1;
  options.clock = &clock_;
  Open(options);
  const uint64_t id = Create("a.log");
  ASSERT_TRUE(log_->Append(id, Pattern(100, 1)).ok());
  ASSERT_TRUE(log_->Sync(id).ok());
  const std::string path = std::string(testing::kLogDir) + "/LOG";
  std::string text = storage_.Contents(path);
  EXPECT_NE(std::string::npos, text.find("sync_mode=group")) << text;
  EXPECT_NE(std::string::npos, text.find("segwal recovery: segments_scanned="))
      << text;
  EXPECT_NE(std::string::npos, text.find("GiB/s")) << text;
  EXPECT_EQ(std::string::npos, text.find("UNSAFE")) << text;
  EXPECT_EQ(std::string::npos, text.find("segwal stats:")) << "too early";
  clock_.AdvanceSeconds(1);
  EXPECT_TRUE(testing::WaitFor([&] {
    text = storage_.Contents(path);
    return text.find("segwal stats:") != std::string::npos;
  })) << "no stats block one period after open";
  EXPECT_NE(std::string::npos, text.find("segwal stats: writes=1 ")) << text;
  EXPECT_NE(std::string::npos, text.find("segwal stats: sync_us: count="))
      << text;

  // A reopen appends at its first change (a log only read writes
  // nothing), and counts what it scanned.
  log_.reset();
  text = storage_.Contents(path);
  Open(options);
  EXPECT_EQ(text, storage_.Contents(path));
  ASSERT_TRUE(log_->SyncAll().ok());
  text = storage_.Contents(path);
  size_t recoveries = 0;
  for (size_t at = text.find("segwal recovery:"); at != std::string::npos;
       at = text.find("segwal recovery:", at + 1)) {
    ++recoveries;
  }
  EXPECT_EQ(2u, recoveries) << text;
  EXPECT_NE(std::string::npos, text.find("segments_scanned=1 ")) << text;
}

TEST_F(GroupCommitTest, SyncModeNoneIsLoggedAsUnsafe) {
  LogOptions options = SmallSegments();
  options.sync_mode = SyncMode::kNone;
  Open(options);
  Create("a.log");  // the first change opens the LOG
  const std::string text =
      storage_.Contents(std::string(testing::kLogDir) + "/LOG");
  EXPECT_NE(std::string::npos, text.find("WARNING: UNSAFE: sync_mode=none"))
      << text;
}

// The LOG file belongs to the log: Destroy removes it with the rest.
TEST_F(GroupCommitTest, DestroyRemovesTheLogFile) {
  Open(Group(0));
  ASSERT_TRUE(log_->SyncAll().ok());  // the first change opens the LOG
  log_.reset();
  std::vector<std::string> names;
  ASSERT_TRUE(storage_.ListDir(testing::kLogDir, &names).ok());
  EXPECT_NE(names.end(), std::find(names.begin(), names.end(), "LOG"));
  IOStatus s = Log::Destroy(&storage_, testing::kLogDir);
  EXPECT_TRUE(s.ok()) << s.ToString();
  names.clear();
  EXPECT_FALSE(storage_.ListDir(testing::kLogDir, &names).ok() &&
               !names.empty());
}

}  // namespace
}  // namespace segwal
