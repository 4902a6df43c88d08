// The log engine through its public API, on in-memory storage: writes,
// reads, namespace changes, rotation, reopen, reclaim and relocation.
#include "env/log.h"

#include <gtest/gtest.h>

#include <random>

#include "env/recovery.h"
#include "tests/support/mem_storage.h"

namespace segwal {
namespace {

using testing::CrashMode;
using testing::MemStorage;

constexpr char kDir[] = "/log";

LogOptions SmallSegments() {
  LogOptions options;
  options.segment_size = kMinSegmentSize;  // 64 KiB: rotations come quickly
  options.background_prepare = false;
  return options;
}

std::string ReadAll(Log* log, const std::string& name) {
  FileInfo info;
  EXPECT_TRUE(log->Lookup(name, &info)) << name;
  std::string out(info.size, '\0');
  size_t got = 0;
  ReadCache cache;
  IOStatus s = log->Read(info.id, 0, out.size(), &out[0], &got, &cache);
  EXPECT_TRUE(s.ok()) << s.ToString();
  out.resize(got);
  return out;
}

std::string Pattern(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>('a' + rng() % 26);
  return out;
}

class LogTest : public ::testing::Test {
 protected:
  void Open(const LogOptions& options = SmallSegments()) {
    log_.reset();
    IOStatus s = Log::Open(&storage_, kDir, options, &log_, &info_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  uint64_t Create(const std::string& name) {
    uint64_t id = 0;
    IOStatus s = log_->Create(name, &id);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return id;
  }

  MemStorage storage_;
  std::unique_ptr<Log> log_;
  RecoveryInfo info_;
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

TEST_F(LogTest, SyncedDataSurvivesPowerLoss) {
  Open();
  uint64_t a = Create("a.log");
  ASSERT_TRUE(log_->Append(a, "durable").ok());
  ASSERT_TRUE(log_->Sync(a).ok());
  ASSERT_TRUE(log_->Append(a, "-lost").ok());
  std::mt19937_64 rng(7);
  storage_.Crash(CrashMode::kDropUnsynced, &rng);
  Open();
  EXPECT_EQ("durable", ReadAll(log_.get(), "a.log"));
}

TEST_F(LogTest, DeletedFilesFreeTheirSegments) {
  LogOptions options = SmallSegments();
  options.recycle_segments = 2;
  Open(options);
  for (int i = 0; i < 20; ++i) {
    const std::string name = std::to_string(i) + ".log";
    uint64_t id = Create(name);
    ASSERT_TRUE(log_->Append(id, Pattern(50 * 1024, i)).ok());
    ASSERT_TRUE(log_->Delete(name).ok());
  }
  // Give the housekeeper a moment to reclaim.
  for (int i = 0; i < 100 && log_->GetStats().active_segments > 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  LogStats stats = log_->GetStats();
  EXPECT_LE(stats.active_segments, 3u);
  EXPECT_GT(stats.segments_reclaimed, 10u);
  EXPECT_GT(stats.segments_recycled, 0u);
  Open(options);
  EXPECT_TRUE(log_->List().empty());
}

TEST_F(LogTest, PinnedSegmentIsRelocated) {
  Open();
  uint64_t pinned = Create("pinned.log");
  ASSERT_TRUE(log_->Append(pinned, "keep me").ok());
  for (int i = 0; i < 40; ++i) {
    const std::string name = std::to_string(i) + ".log";
    uint64_t id = Create(name);
    ASSERT_TRUE(log_->Append(id, Pattern(40 * 1024, i)).ok());
    ASSERT_TRUE(log_->Delete(name).ok());
  }
  for (int i = 0; i < 200 && log_->GetStats().active_segments > 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  LogStats stats = log_->GetStats();
  EXPECT_LE(stats.active_segments, 4u);
  EXPECT_GE(stats.bytes_relocated, 7u);
  ASSERT_TRUE(log_->SyncAll().ok());
  Open();
  EXPECT_EQ("keep me", ReadAll(log_.get(), "pinned.log"));
}

}  // namespace
}  // namespace segwal
