// Decode-ahead (env/engine/decode_ahead.h): sequential reads of compressed
// files through it return exactly what they return without it, bytes and
// errors alike, in the same order (a damaged frame under every recovery
// mode, damage that appears after the open, a file appended to while it
// is read, in this process or another, skips and jumps), and a reader
// destroyed while its thread works leaves cleanly.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "env/engine/decode_ahead.h"
#include "env/engine/log.h"
#include "env/format/codec.h"
#include "tests/support/db_bench_records.h"
#include "tests/support/log_fixture.h"

namespace segwal {
namespace {

using testing::DbBenchRecords;
using testing::FrameAt;
using testing::FramesIn;
using testing::GroupFrameWithTwoMore;
using testing::kLogDir;
using testing::SmallSegments;

// What a sequential reader saw: the bytes of every read in turn, and each
// failed read's offset and error, in order.
struct Outcome {
  std::string bytes;
  std::vector<std::string> errors;
  uint64_t served = 0;  // frames the decode-ahead supplied
};

// Steps of a sequential reader: read `n` bytes, then move on by `skip`
// more (a SequentialFile's Skip).
struct Step {
  size_t n;
  uint64_t skip;
};

// Reads file `id` from offset 0 as a sequential reader does, step after
// step (the last one repeated) until a read returns nothing; after a failed
// read it skips that read's bytes and goes on, as a reader skipping damage
// would. `ahead`: through a decode-ahead.
Outcome ReadSequentially(Log* log, uint64_t id, bool ahead,
                         const std::vector<Step>& steps) {
  ReadCache cache;
  std::unique_ptr<DecodeAhead> decode_ahead;
  if (ahead) {
    decode_ahead = log->NewDecodeAhead(id);
    cache.ahead = decode_ahead.get();
  }
  Outcome out;
  uint64_t offset = 0;
  for (size_t i = 0;; ++i) {
    const Step& step = steps[std::min(i, steps.size() - 1)];
    std::string buf(step.n, '\0');
    size_t got = 0;
    IOStatus s = log->Read(id, offset, step.n, &buf[0], &got, &cache);
    if (!s.ok()) {
      out.errors.push_back(std::to_string(offset) + ": " + s.ToString());
      out.bytes += "<error>";
      if (out.errors.size() > 200) break;
      offset += step.n + step.skip;
      continue;
    }
    if (got == 0) break;
    out.bytes.append(buf.data(), got);
    offset += got + step.skip;
  }
  if (decode_ahead != nullptr) out.served = decode_ahead->served();
  return out;
}

class DecodeAheadTest : public testing::RecordsLogFixture,
                        public ::testing::WithParamInterface<Codec> {
 protected:
  // Records of varied sizes: frames of varied sizes.
  DecodeAheadTest() { record_value_size_ = kRandomValueSize; }

  LogOptions Options(uint64_t segment_size = 1 << 20,
                     uint64_t group_bytes = 256 * 1024) {
    LogOptions options = SmallSegments();
    options.segment_size = segment_size;
    options.compression = GetParam();
    options.compression_group_bytes = group_bytes;
    return options;
  }

  uint64_t Id(const std::string& name) {
    FileInfo info;
    EXPECT_TRUE(log_->Lookup(name, &info)) << name;
    return info.id;
  }

  // Reads `name` with and without decode-ahead in each way of `ways`;
  // expects the same outcome, and returns the one without.
  Outcome ExpectSameBothWays(const std::string& name,
                             const std::vector<std::vector<Step>>& ways) {
    Outcome first;
    for (size_t w = 0; w < ways.size(); ++w) {
      SCOPED_TRACE("way " + std::to_string(w));
      const Outcome plain = ReadSequentially(log_.get(), Id(name), false,
                                             ways[w]);
      const Outcome ahead = ReadSequentially(log_.get(), Id(name), true,
                                             ways[w]);
      EXPECT_EQ(plain.errors, ahead.errors);
      EXPECT_EQ(plain.bytes.size(), ahead.bytes.size());
      EXPECT_TRUE(plain.bytes == ahead.bytes) << "different bytes";
      if (w == 0) first = plain;
    }
    return first;
  }

  static std::vector<std::vector<Step>> Ways() {
    return {{{32 * 1024, 0}},  // RocksDB's log reader
            {{7919, 0}},
            {{1 << 20, 0}},
            {{100, 0}, {300000, 0}, {1, 0}, {65536, 0}}};
  }
};

TEST_P(DecodeAheadTest, SameBytesAsWithout) {
  Open(Options());
  // More than the decode-ahead holds, in two files whose frames interleave.
  const auto files = WriteRecords({"a.log", "b.log"}, 12000);
  ASSERT_GT(files.at("a.log").size(), DecodeAhead::kAheadBytes);
  for (const auto& [name, want] : files) {
    SCOPED_TRACE(name);
    const Outcome got = ExpectSameBothWays(name, Ways());
    EXPECT_TRUE(got.errors.empty());
    EXPECT_TRUE(got.bytes == want);
    // It did the decoding: nearly every frame came from it (zstd's; lz4
    // decodes in line).
    const Outcome ahead =
        ReadSequentially(log_.get(), Id(name), true, {{32 * 1024, 0}});
    if (DecodeAhead::Pays(GetParam())) {
      EXPECT_GT(ahead.served, 11000u);
    } else {
      EXPECT_EQ(0u, ahead.served);
    }
  }
}

// A file of raw frames never starts the thread; a file mixing raw frames
// and both codecs (the codec changed between opens) reads the same.
TEST_P(DecodeAheadTest, RawAndMixedFiles) {
  LogOptions raw = Options();
  raw.compression = Codec::kNone;
  LogOptions other = Options();
  other.compression =
      GetParam() == Codec::kZstdGroup ? Codec::kLz4Group : Codec::kZstdGroup;
  Open(raw);
  auto files = WriteRecords({"raw.log", "mixed.log"}, 2000, 5);
  DbBenchRecords more(6);
  for (const auto& [options, n] :
       std::vector<std::pair<LogOptions, int>>{
           {Options(), 2000}, {other, 1000}, {raw, 500}, {Options(), 500}}) {
    Open(options);
    for (int i = 0; i < n; ++i) {
      const std::string r = more.NextOfRandomSize();
      Append("mixed.log", r);
      files["mixed.log"] += r;
    }
  }
  for (const auto& [name, want] : files) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(ExpectSameBothWays(name, Ways()).bytes == want);
  }
  EXPECT_EQ(0u, ReadSequentially(log_.get(), Id("raw.log"), true,
                                 {{32 * 1024, 0}})
                    .served);
  // zstd's frames came from it.
  EXPECT_GT(ReadSequentially(log_.get(), Id("mixed.log"), true,
                             {{32 * 1024, 0}})
                .served,
            GetParam() == Codec::kZstdGroup ? 2000u : 900u);
}

// A frame in the middle of a group damaged: found by the open's scan
// (each recovery mode as it handles damage), or appearing after the open
// (a read meets it: Corruption naming segment and offset). Either way the
// reads with decode-ahead return the same bytes and the same errors.
TEST_P(DecodeAheadTest, DamagedFrameSameErrorsUnderEveryMode) {
  LogOptions options = Options(256 * 1024, 16 * 1024);
  Open(options);
  const auto files = WriteRecords({"a.log"}, 3000);
  log_.reset();
  const DirImage pristine = SaveDir();
  const uint64_t segment = SegmentIds().front();
  const std::vector<FrameAt> frames = FramesIn(SegmentImage(segment));
  const size_t victim = GroupFrameWithTwoMore(frames, frames.size() / 2);
  ASSERT_NE(0u, victim);
  const uint64_t at = frames[victim].payload_offset() + 3;
  const std::string where =
      "segment " + std::to_string(segment) + " offset " +
      std::to_string(frames[victim].offset);
  const RecoveryMode modes[] = {RecoveryMode::kTolerateCorruptedTailRecords,
                                RecoveryMode::kAbsoluteConsistency,
                                RecoveryMode::kPointInTimeRecovery,
                                RecoveryMode::kSkipAnyCorruptedRecords};
  for (RecoveryMode mode : modes) {
    SCOPED_TRACE(RecoveryModeName(mode));
    options.recovery_mode = mode;
    // Found at open.
    RestoreDir(pristine);
    FlipByte(SegmentPath(segment), at);
    IOStatus s = Reopen(options);
    if (s.ok()) {
      const Outcome got = ExpectSameBothWays("a.log", Ways());
      EXPECT_TRUE(got.errors.empty());
      if (mode == RecoveryMode::kSkipAnyCorruptedRecords) {
        EXPECT_EQ(files.at("a.log").size(), got.bytes.size());
      }
    } else {
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    }
    // Appearing after the open: the reads meet it.
    RestoreDir(pristine);
    Open(options);
    FlipByte(SegmentPath(segment), at);
    const Outcome got = ExpectSameBothWays("a.log", Ways());
    ASSERT_FALSE(got.errors.empty());
    EXPECT_NE(std::string::npos, got.errors[0].find(where)) << got.errors[0];
    EXPECT_NE(std::string::npos, got.errors[0].find("checksum"))
        << got.errors[0];
    // Everything before the damaged read came back as written.
    const size_t first_error = got.bytes.find("<error>");
    ASSERT_NE(std::string::npos, first_error);
    EXPECT_TRUE(got.bytes.substr(0, first_error) ==
                files.at("a.log").substr(0, first_error));
  }
}

// Skips (SequentialFile::Skip) and jumps back and forth: every read
// returns the bytes at its offset.
TEST_P(DecodeAheadTest, ReadsAfterSkips) {
  Open(Options());
  const auto files = WriteRecords({"a.log"}, 8000);
  const std::string& want = files.at("a.log");
  std::mt19937 rng(7);
  for (int trial = 0; trial < 4; ++trial) {
    std::vector<Step> steps;
    for (int i = 0; i < 60; ++i) {
      const uint64_t skip = rng() % 4 == 0 ? rng() % (DecodeAhead::kAheadBytes)
                                           : rng() % 3000;
      steps.push_back({static_cast<size_t>(1 + rng() % 40000), skip});
    }
    steps.push_back({32 * 1024, 0});
    const Outcome got = ExpectSameBothWays("a.log", {steps});
    EXPECT_TRUE(got.errors.empty());
    // The bytes are the file's at the offsets read.
    uint64_t offset = 0;
    size_t pos = 0;
    for (size_t i = 0; offset < want.size(); ++i) {
      const Step& step = steps[std::min(i, steps.size() - 1)];
      const size_t n = std::min<uint64_t>(step.n, want.size() - offset);
      ASSERT_LE(pos + n, got.bytes.size());
      ASSERT_TRUE(got.bytes.compare(pos, n, want, offset, n) == 0)
          << "read " << i << " at " << offset;
      pos += n;
      offset += n + step.skip;
    }
    EXPECT_EQ(pos, got.bytes.size());
  }
  // Random positioned reads through one cache (a sequential file's
  // PositionedRead): each one right.
  const uint64_t id = Id("a.log");
  std::unique_ptr<DecodeAhead> ahead = log_->NewDecodeAhead(id);
  ReadCache cache;
  cache.ahead = ahead.get();
  for (int i = 0; i < 300; ++i) {
    const uint64_t offset = rng() % want.size();
    std::string buf(1 + rng() % 20000, '\0');
    size_t got = 0;
    ASSERT_TRUE(log_->Read(id, offset, buf.size(), &buf[0], &got, &cache).ok());
    ASSERT_TRUE(buf.compare(0, got, want, offset, got) == 0) << offset;
  }
}

// A file appended to while it is read: by this process, and by another
// one (this one following its log, refreshing at the end of the file as
// a sequential file does). The reader sees every byte as written and reads
// on past each end it met.
TEST_P(DecodeAheadTest, FileAppendedWhileRead) {
  Open(Options(256 * 1024, 32 * 1024));
  for (bool other_process : {false, true}) {
    SCOPED_TRACE(other_process ? "another process" : "this process");
    const std::string name = other_process ? "other.log" : "this.log";
    const uint64_t wal = Create(name);
    std::unique_ptr<Log> follower;
    Log* reader = log_.get();
    if (other_process) {
      ASSERT_TRUE(Log::Open(&storage_, kLogDir, Options(256 * 1024, 32 * 1024),
                            &follower, nullptr)
                      .ok());
      reader = follower.get();
    }
    std::string all;
    DbBenchRecords records(11);
    for (int i = 0; i < 6000; ++i) all += records.NextOfRandomSize();
    std::atomic<bool> done{false};
    std::thread writer([&] {
      size_t pos = 0;
      DbBenchRecords sizes(12);
      while (pos < all.size()) {
        const size_t n = std::min<size_t>(all.size() - pos,
                                          50 + sizes.NextOfRandomSize().size() * 3);
        IOStatus s = log_->Append(wal, Slice(all.data() + pos, n));
        EXPECT_TRUE(s.ok()) << s.ToString();
        if (!s.ok()) break;
        pos += n;
      }
      done = true;
    });
    uint64_t handle = 0;
    while (!reader->OpenHandle(name, &handle).ok()) {
      std::this_thread::yield();
    }
    {
      std::unique_ptr<DecodeAhead> ahead = reader->NewDecodeAhead(handle);
      ReadCache cache;
      cache.ahead = ahead.get();
      uint64_t offset = 0;
      std::string buf(32 << 10, '\0');
      bool last_look = false;
      for (;;) {
        const bool finished = done.load();
        size_t got = 0;
        IOStatus s =
            reader->Read(handle, offset, buf.size(), &buf[0], &got, &cache);
        if (s.ok() && got == 0 && reader->following()) {
          s = reader->Refresh();
          if (s.ok()) {
            s = reader->Read(handle, offset, buf.size(), &buf[0], &got,
                             &cache);
          }
        }
        ASSERT_TRUE(s.ok()) << s.ToString();
        ASSERT_LE(offset + got, all.size());
        ASSERT_TRUE(all.compare(offset, got, buf.data(), got) == 0)
            << "wrong bytes at offset " << offset;
        offset += got;
        if (got == 0) {
          if (last_look) break;
          last_look = finished;
          std::this_thread::yield();
        }
      }
      EXPECT_EQ(all.size(), offset);
      EXPECT_EQ(DecodeAhead::Pays(GetParam()), ahead->served() > 0);
    }
    writer.join();
    reader->CloseHandle(handle);
  }
}

// Readers destroyed at any moment of their decode-ahead's work: right
// after starting it, while it waits for room, or never having started it.
TEST_P(DecodeAheadTest, DestroyedWhileDecodingAhead) {
  Open(Options());
  const auto files = WriteRecords({"a.log"}, 6000);
  const std::string& want = files.at("a.log");
  const uint64_t id = Id("a.log");
  std::mt19937 rng(9);
  for (int i = 0; i < 60; ++i) {
    std::unique_ptr<DecodeAhead> ahead = log_->NewDecodeAhead(id);
    if (i % 3 == 0) continue;  // never started
    ReadCache cache;
    cache.ahead = ahead.get();
    const uint64_t offset = rng() % want.size();
    std::string buf(4096, '\0');
    size_t got = 0;
    ASSERT_TRUE(log_->Read(id, offset, buf.size(), &buf[0], &got, &cache).ok());
    ASSERT_TRUE(buf.compare(0, got, want, offset, got) == 0);
    if (i % 3 == 2) {
      // Let it fill its buffer and wait for room.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // And with the file deleted under it (its handle still open).
  std::unique_ptr<DecodeAhead> ahead = log_->NewDecodeAhead(id);
  uint64_t handle = 0;
  ASSERT_TRUE(log_->OpenHandle("a.log", &handle).ok());
  ReadCache cache;
  cache.ahead = ahead.get();
  std::string buf(4096, '\0');
  size_t got = 0;
  ASSERT_TRUE(log_->Read(id, 0, buf.size(), &buf[0], &got, &cache).ok());
  ASSERT_TRUE(log_->Delete("a.log").ok());
  ASSERT_TRUE(log_->Read(id, got, buf.size(), &buf[0], &got, &cache).ok());
  ahead.reset();
  log_->CloseHandle(handle);
}

INSTANTIATE_TEST_SUITE_P(Codecs, DecodeAheadTest,
                         ::testing::Values(Codec::kLz4Group,
                                           Codec::kZstdGroup),
                         [](const ::testing::TestParamInfo<Codec>& info) {
                           return std::string(CodecName(info.param));
                         });

}  // namespace
}  // namespace segwal
