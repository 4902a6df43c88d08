// Recovery from damaged logs, one test per damage path (leveldb log_test
// style): write known data, close, break chosen bytes of the segment files,
// reopen, and check both what survives (the exact bytes of every logical
// file) and what recovery reports (segment, offset, reason).
#include "env/recovery/scanner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "env/format/crc32c.h"
#include "env/format/varint.h"
#include "env/engine/log.h"
#include "tests/segwal_test_util.h"
#include "tests/support/log_fixture.h"
#include "tests/support/scan_summary.h"
#include "tests/support/v1_log.h"

namespace segwal {
namespace {

using testing::CrashMode;
using testing::FaultOp;
using testing::FrameAt;
using testing::FramesIn;
using testing::HeaderOf;
using testing::LogFixture;
using testing::Pattern;
using testing::ReadAll;
using testing::SmallSegments;

using Files = std::map<std::string, std::string>;

constexpr RecoveryMode kAllModes[] = {
    RecoveryMode::kTolerateCorruptedTailRecords,
    RecoveryMode::kAbsoluteConsistency, RecoveryMode::kPointInTimeRecovery,
    RecoveryMode::kSkipAnyCorruptedRecords};

LogOptions WithMode(RecoveryMode mode) {
  LogOptions options = SmallSegments();
  options.recovery_mode = mode;
  return options;
}

std::string Where(uint64_t segment_id, uint64_t offset) {
  return "segment " + std::to_string(segment_id) + " offset " +
         std::to_string(offset);
}

// The data frames of a segment image, in order.
std::vector<FrameAt> DataFramesIn(const std::string& image) {
  std::vector<FrameAt> out;
  for (const FrameAt& f : FramesIn(image)) {
    if (f.header.type == static_cast<uint8_t>(FrameType::kData)) {
      out.push_back(f);
    }
  }
  return out;
}

class RecoveryTest : public LogFixture {
 protected:
  struct Write {
    std::string name;
    std::string data;
  };

  // Creates a.log, b.log and c.log and appends `chunk` bytes to each in
  // `rounds` rounds, syncing after every round, so that every frame of a
  // round carries a durable mark past the frames of the round before.
  // With the defaults the log spans three segments, the last holding
  // several rounds. Closes the log.
  void WriteLog(int rounds = 45, size_t chunk = 1000) {
    Open();
    for (const char* name : {"a.log", "b.log", "c.log"}) {
      names_by_id_[Create(name)] = name;
    }
    for (int round = 0; round < rounds; ++round) {
      for (const char* name : {"a.log", "b.log", "c.log"}) {
        Write w{name, Pattern(chunk, static_cast<uint32_t>(writes_.size()))};
        Append(w.name, w.data);
        writes_.push_back(std::move(w));
      }
      ASSERT_TRUE(log_->SyncAll().ok());
    }
    log_.reset();
  }

  // The files after the first k writes.
  Files StateAfter(size_t k) const {
    Files files{{"a.log", ""}, {"b.log", ""}, {"c.log", ""}};
    for (size_t i = 0; i < k; ++i) files[writes_[i].name] += writes_[i].data;
    return files;
  }
  Files FullState() const { return StateAfter(writes_.size()); }

  // The index of the write a data frame carries.
  size_t WriteOf(const FrameHeader& h) const {
    const std::string& name = names_by_id_.at(h.file_id);
    uint64_t offset = 0;
    for (size_t i = 0; i < writes_.size(); ++i) {
      if (writes_[i].name != name) continue;
      if (offset == h.offset) return i;
      offset += writes_[i].data.size();
    }
    ADD_FAILURE() << "no write at " << name << ":" << h.offset;
    return 0;
  }

  // Data frames of a segment, in order.
  std::vector<FrameAt> DataFrames(uint64_t segment_id) {
    return DataFramesIn(SegmentImage(segment_id));
  }

  // A data frame in the middle of a segment. In the newest segment a later
  // frame records the chosen one as durable: damage to it is not a torn
  // tail.
  FrameAt MiddleFrame(uint64_t segment_id) {
    const std::vector<FrameAt> frames = DataFrames(segment_id);
    EXPECT_GE(frames.size(), 6u) << "segment " << segment_id;
    if (frames.empty()) return FrameAt();
    const FrameAt middle = frames[frames.size() / 2];
    bool covered = false;
    for (const FrameAt& f : frames) {
      covered |= f.header.durable_mark > middle.offset;
    }
    EXPECT_TRUE(covered);
    return middle;
  }

  void ExpectFiles(const Files& want) {
    ASSERT_NE(nullptr, log_) << "the log is not open";
    std::vector<FileInfo> list = log_->List();
    ASSERT_EQ(want.size(), list.size());
    for (const auto& [name, bytes] : want) {
      const std::string got = ReadAll(log_.get(), name);
      ASSERT_EQ(bytes.size(), got.size()) << name;
      EXPECT_TRUE(bytes == got) << name << " differs";
    }
  }

  // After recovery in some mode: new appends survive a reopen in the same
  // mode, and the log now opens in the strictest mode too.
  void ExpectUsableAfterRepair(RecoveryMode mode, Files want) {
    Append("a.log", "appended after recovery");
    want["a.log"] += "appended after recovery";
    ASSERT_TRUE(log_->SyncAll().ok());
    Open(WithMode(mode));
    ExpectFiles(want);
  }

  std::map<uint64_t, std::string> names_by_id_;
  std::vector<Write> writes_;
};

// ---- Damage in the middle of the log, in every recovery mode --------------

enum class Part { kFrameHeader, kPayload, kChecksumField };
enum class Place { kSealedSegment, kNewestSegment };

class MidLogDamageTest
    : public RecoveryTest,
      public ::testing::WithParamInterface<std::tuple<Place, Part>> {};

TEST_P(MidLogDamageTest, EachModeDoesWhatItSays) {
  const auto [place, part] = GetParam();
  WriteLog();
  const std::vector<uint64_t> ids = SegmentIds();
  ASSERT_EQ(3u, ids.size());
  const uint64_t segment =
      place == Place::kSealedSegment ? ids[1] : ids.back();
  const FrameAt frame = MiddleFrame(segment);
  const size_t write = WriteOf(frame.header);
  // In the header's varints; in the payload; in the header's own check.
  const uint64_t at = part == Part::kFrameHeader ? frame.payload_offset() - 1
                      : part == Part::kPayload   ? frame.payload_offset() + 123
                                                 : frame.offset + 4;
  FlipByte(SegmentPath(segment), at);
  const DirImage damaged = SaveDir();

  for (RecoveryMode mode : kAllModes) {
    SCOPED_TRACE(RecoveryModeName(mode));
    RestoreDir(damaged);
    IOStatus s = Reopen(WithMode(mode));
    switch (mode) {
      case RecoveryMode::kTolerateCorruptedTailRecords:
      case RecoveryMode::kAbsoluteConsistency:
        ASSERT_TRUE(s.IsCorruption()) << s.ToString();
        EXPECT_NE(std::string::npos,
                  s.ToString().find(Where(segment, frame.offset)))
            << s.ToString();
        EXPECT_NE(std::string::npos,
                  s.ToString().find(part == Part::kPayload
                                        ? "payload checksum mismatch"
                                        : "frame header checksum mismatch"))
            << s.ToString();
        break;
      case RecoveryMode::kPointInTimeRecovery: {
        ASSERT_TRUE(s.ok()) << s.ToString();
        ASSERT_EQ(1u, info_.damages.size()) << info_.ToString();
        EXPECT_EQ(segment, info_.damages[0].segment_id);
        EXPECT_EQ(frame.offset, info_.damages[0].offset);
        EXPECT_NE(std::string::npos,
                  info_.damages[0].ToString().find(
                      Where(segment, frame.offset)));
        const Files prefix = StateAfter(write);
        ExpectFiles(prefix);
        // Read only, the log changed nothing: the damage is where it was.
        log_.reset();
        EXPECT_TRUE(damaged == SaveDir());
        Open(WithMode(mode));
        EXPECT_EQ(1u, info_.damages.size()) << info_.ToString();
        // The first change makes recovery's cut durable: the same again,
        // no new damage.
        ASSERT_TRUE(log_->SyncAll().ok());
        Open(WithMode(mode));
        EXPECT_TRUE(info_.damages.empty()) << info_.ToString();
        ExpectFiles(prefix);
        ExpectUsableAfterRepair(RecoveryMode::kTolerateCorruptedTailRecords,
                                prefix);
        break;
      }
      case RecoveryMode::kSkipAnyCorruptedRecords: {
        ASSERT_TRUE(s.ok()) << s.ToString();
        ASSERT_GE(info_.damages.size(), 1u) << info_.ToString();
        EXPECT_EQ(segment, info_.damages[0].segment_id);
        EXPECT_EQ(frame.offset, info_.damages[0].offset);
        // The damaged frame's bytes read as zeros; every other byte,
        // before and after it, is there.
        Files want = FullState();
        std::string& file = want[writes_[write].name];
        file.replace(frame.header.offset, frame.header.raw_len,
                     std::string(frame.header.raw_len, '\0'));
        ExpectFiles(want);
        Open(WithMode(mode));
        ExpectFiles(want);
        ExpectUsableAfterRepair(mode, want);
        break;
      }
    }
  }
}

std::string DamageName(
    const ::testing::TestParamInfo<std::tuple<Place, Part>>& info) {
  static const char* const kParts[] = {"FrameHeader", "Payload",
                                       "ChecksumField"};
  return std::string(std::get<0>(info.param) == Place::kSealedSegment
                         ? "Sealed"
                         : "Newest") +
         kParts[static_cast<int>(std::get<1>(info.param))];
}

INSTANTIATE_TEST_SUITE_P(
    Damage, MidLogDamageTest,
    ::testing::Combine(::testing::Values(Place::kSealedSegment,
                                         Place::kNewestSegment),
                       ::testing::Values(Part::kFrameHeader, Part::kPayload,
                                         Part::kChecksumField)),
    DamageName);

// ---- The tail --------------------------------------------------------------

// The last frame cut at every byte: the file is exactly the earlier frames'
// bytes until the payload is whole. A frame whose header checks out but
// whose payload is cut is a torn tail; a header cut short is no longer
// recognisable as ours (it reads like stale bytes) and simply ends the log.
TEST_F(RecoveryTest, LastFrameCutAtEveryOffset) {
  WriteLog(/*rounds=*/3, /*chunk=*/300);
  const uint64_t head = SegmentIds().back();
  const FrameAt last = FramesIn(SegmentImage(head)).back();
  ASSERT_EQ(static_cast<uint8_t>(FrameType::kData), last.header.type);
  ASSERT_EQ(writes_.size() - 1, WriteOf(last.header));
  const uint64_t whole = last.size();
  const uint64_t footprint = last.footprint();
  const DirImage intact = SaveDir();

  for (uint64_t cut = 0; cut <= footprint; ++cut) {
    SCOPED_TRACE("cut " + std::to_string(cut));
    RestoreDir(intact);
    storage_.SetSize(SegmentPath(head), last.offset + cut);
    Open();
    EXPECT_TRUE(info_.damages.empty()) << info_.ToString();
    if (cut >= whole) {
      ExpectFiles(FullState());
      EXPECT_FALSE(info_.torn_tail);
      continue;
    }
    ExpectFiles(StateAfter(writes_.size() - 1));
    const bool torn = cut >= last.header.header_len;
    EXPECT_EQ(torn, info_.torn_tail);
    EXPECT_EQ(torn ? footprint : 0, info_.bytes_cut);
    if (cut % 97 == 0) {
      ExpectUsableAfterRepair(RecoveryMode::kTolerateCorruptedTailRecords,
                              StateAfter(writes_.size() - 1));
    }
  }
}

// kAbsoluteConsistency refuses a torn frame of ours at the tail; every other
// mode cuts it.
TEST_F(RecoveryTest, TornFrameAtTheTailByMode) {
  WriteLog(/*rounds=*/3, /*chunk=*/300);
  const uint64_t head = SegmentIds().back();
  const FrameAt last = FramesIn(SegmentImage(head)).back();
  storage_.SetSize(SegmentPath(head), last.payload_offset() + 100);
  const DirImage torn = SaveDir();
  for (RecoveryMode mode : kAllModes) {
    SCOPED_TRACE(RecoveryModeName(mode));
    RestoreDir(torn);
    IOStatus s = Reopen(WithMode(mode));
    if (mode == RecoveryMode::kAbsoluteConsistency) {
      ASSERT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_NE(std::string::npos,
                s.ToString().find(Where(head, last.offset)))
          << s.ToString();
      EXPECT_NE(std::string::npos, s.ToString().find("torn frame"))
          << s.ToString();
      continue;
    }
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_TRUE(info_.torn_tail);
    EXPECT_EQ(last.footprint(), info_.bytes_cut);
    EXPECT_TRUE(info_.damages.empty()) << info_.ToString();
    ExpectFiles(StateAfter(writes_.size() - 1));
  }
}

// A sector of zeros where the last frame was: the frames it touches are a
// torn tail (nothing later says they were durable), earlier ones survive.
TEST_F(RecoveryTest, ZeroedTailSector) {
  WriteLog(/*rounds=*/6, /*chunk=*/300);
  const uint64_t head = SegmentIds().back();
  const std::vector<FrameAt> frames = FramesIn(SegmentImage(head));
  const uint64_t sector =
      frames.back().offset / testing::MemStorage::kSectorSize *
      testing::MemStorage::kSectorSize;
  storage_.Corrupt(SegmentPath(head), sector,
                   std::string(testing::MemStorage::kSectorSize, '\0'));
  // The first frame the zeros touch, and whether its header survived.
  size_t first = 0;
  while (frames[first].end() <=
         sector) {
    ++first;
  }
  ASSERT_EQ(static_cast<uint8_t>(FrameType::kData),
            frames[first].header.type);
  const bool header_survived =
      frames[first].payload_offset() <= sector;

  Open();
  EXPECT_TRUE(info_.damages.empty()) << info_.ToString();
  EXPECT_EQ(header_survived, info_.torn_tail);
  ExpectFiles(StateAfter(WriteOf(frames[first].header)));
  ExpectUsableAfterRepair(RecoveryMode::kTolerateCorruptedTailRecords,
                          StateAfter(WriteOf(frames[first].header)));
}

// Garbage after the last frame is not a frame: the log ends where it did.
TEST_F(RecoveryTest, GarbageAfterTheTail) {
  WriteLog(/*rounds=*/6, /*chunk=*/300);
  const uint64_t head = SegmentIds().back();
  const FrameAt last = FramesIn(SegmentImage(head)).back();
  const uint64_t end = last.end();
  storage_.Corrupt(SegmentPath(head), end, testing::RandomBytes(3000, 5));
  for (RecoveryMode mode : kAllModes) {
    SCOPED_TRACE(RecoveryModeName(mode));
    Open(WithMode(mode));
    EXPECT_TRUE(info_.damages.empty()) << info_.ToString();
    ExpectFiles(FullState());
  }
  ExpectUsableAfterRepair(RecoveryMode::kAbsoluteConsistency, FullState());
}

// Frames left in a recycled segment by its previous life never validate:
// deleted files stay deleted and their bytes never resurface, even where
// new files reuse the old names.
TEST_F(RecoveryTest, StaleFramesInRecycledSegmentsNeverReplay) {
  LogOptions options = SmallSegments();
  options.recycle_segments = 8;
  Open(options);
  for (int i = 0; i < 12; ++i) {
    const std::string name = "wal" + std::to_string(i % 3) + ".log";
    Create(name);
    Append(name, Pattern(20000, i));
    Append(name, Pattern(20000, 100 + i));
    ASSERT_TRUE(log_->Delete(name).ok());
    ASSERT_TRUE(log_->SyncAll().ok());
    ASSERT_TRUE(log_->Housekeep().ok());
  }
  // Enough dead segments that the rotations below all recycle.
  Create("filler.log");
  Append("filler.log", Pattern(250000, 77));
  ASSERT_TRUE(log_->Delete("filler.log").ok());
  ASSERT_TRUE(log_->SyncAll().ok());
  ASSERT_TRUE(log_->Housekeep().ok());
  ASSERT_GT(log_->GetStats().segments_reclaimed, 6u);
  // New files under the old names, in recycled segments.
  Files want;
  for (int i = 0; i < 3; ++i) {
    const std::string name = "wal" + std::to_string(i) + ".log";
    Create(name);
    Append(name, "fresh " + name);
    want[name] = "fresh " + name;
  }
  Create("big.log");
  want["big.log"] = Pattern(70000, 999);
  Append("big.log", want["big.log"]);
  ASSERT_TRUE(log_->SyncAll().ok());
  Append("big.log", "unsynced");
  const LogStats stats = log_->GetStats();
  ASSERT_GT(stats.segments_recycled, 0u);
  // The newest segment is a recycled one: past its frames lie the frames of
  // its previous life.
  const uint64_t head = SegmentIds().back();
  const std::string image = SegmentImage(head);
  const FrameAt last = FramesIn(image).back();
  const uint64_t end = last.end();
  ASSERT_NE(std::string::npos, image.find_first_not_of('\0', end))
      << "segment " << head << " was not recycled";

  std::mt19937_64 rng(1);
  Crash(CrashMode::kDropUnsynced, &rng);
  Open(options);
  EXPECT_TRUE(info_.damages.empty()) << info_.ToString();
  ExpectFiles(want);
  // And again after a clean reopen.
  Open(options);
  ExpectFiles(want);
}

// ---- Segments --------------------------------------------------------------

// A process killed while preparing a segment leaves a file that is empty or
// partly zero-filled after the newest segment: it never held frames, so
// every mode opens the log and reuses or drops the file.
TEST_F(RecoveryTest, HalfPreparedSegmentAfterTheHeadIsUnused) {
  WriteLog();
  const std::vector<uint64_t> ids = SegmentIds();
  ASSERT_FALSE(ids.empty());
  for (uint64_t cut : {uint64_t{0}, uint64_t{10}, uint64_t{8192}}) {
    SCOPED_TRACE("prepared segment of " + std::to_string(cut) + " bytes");
    log_.reset();
    std::unique_ptr<StorageFile> file;
    const std::string path = SegmentPath(SegmentIds().back() + 1);
    ASSERT_TRUE(storage_.OpenFile(path, /*create=*/true, &file).ok());
    ASSERT_TRUE(file->Write(0, std::string(cut, '\0').data(), cut).ok());
    ASSERT_TRUE(storage_.SyncDir(testing::kLogDir).ok());
    for (RecoveryMode mode : kAllModes) {
      SCOPED_TRACE(RecoveryModeName(mode));
      IOStatus s = Reopen(WithMode(mode));
      ASSERT_TRUE(s.ok()) << s.ToString();
      EXPECT_TRUE(info_.damages.empty()) << info_.ToString();
      ExpectFiles(FullState());
    }
  }
}

TEST_F(RecoveryTest, MissingSegmentInTheMiddle) {
  WriteLog();
  const std::vector<uint64_t> ids = SegmentIds();
  ASSERT_EQ(3u, ids.size());
  const size_t first_lost = WriteOf(DataFrames(ids[1]).front().header);
  const size_t last_lost = WriteOf(DataFrames(ids[1]).back().header);
  ASSERT_TRUE(storage_.Remove(SegmentPath(ids[1])).ok());
  const DirImage damaged = SaveDir();
  const std::string missing =
      "segment " + std::to_string(ids[1]) + " is missing";

  for (RecoveryMode mode : kAllModes) {
    SCOPED_TRACE(RecoveryModeName(mode));
    RestoreDir(damaged);
    IOStatus s = Reopen(WithMode(mode));
    if (mode == RecoveryMode::kTolerateCorruptedTailRecords ||
        mode == RecoveryMode::kAbsoluteConsistency) {
      ASSERT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_NE(std::string::npos, s.ToString().find(missing))
          << s.ToString();
      continue;
    }
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_GE(info_.damages.size(), 1u);
    EXPECT_NE(std::string::npos, info_.damages[0].reason.find(missing))
        << info_.ToString();
    if (mode == RecoveryMode::kPointInTimeRecovery) {
      ExpectFiles(StateAfter(first_lost));
      Open(WithMode(mode));
      ExpectFiles(StateAfter(first_lost));
      ExpectUsableAfterRepair(RecoveryMode::kTolerateCorruptedTailRecords,
                              StateAfter(first_lost));
    } else {
      // The lost segment's bytes read as zeros, all others are there.
      Files want = FullState();
      std::map<std::string, uint64_t> offset;
      for (size_t i = 0; i < writes_.size(); ++i) {
        const std::string& name = writes_[i].name;
        if (i >= first_lost && i <= last_lost) {
          want[name].replace(offset[name], writes_[i].data.size(),
                             std::string(writes_[i].data.size(), '\0'));
        }
        offset[name] += writes_[i].data.size();
      }
      ExpectFiles(want);
      Open(WithMode(mode));
      ExpectFiles(want);
    }
  }
}

class BadSegmentHeaderTest : public RecoveryTest,
                             public ::testing::WithParamInterface<Place> {};

TEST_P(BadSegmentHeaderTest, ReportedWithTheSegment) {
  WriteLog();
  const std::vector<uint64_t> ids = SegmentIds();
  const uint64_t segment =
      GetParam() == Place::kSealedSegment ? ids[1] : ids.back();
  const size_t first_lost = WriteOf(DataFrames(segment).front().header);
  FlipByte(SegmentPath(segment), 30);  // inside the log uid
  const DirImage damaged = SaveDir();

  RestoreDir(damaged);
  IOStatus s = Reopen(WithMode(RecoveryMode::kTolerateCorruptedTailRecords));
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find(Where(segment, 0)))
      << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("header checksum mismatch"))
      << s.ToString();

  RestoreDir(damaged);
  ASSERT_TRUE(Reopen(WithMode(RecoveryMode::kPointInTimeRecovery)).ok());
  ASSERT_GE(info_.damages.size(), 1u);
  EXPECT_EQ(segment, info_.damages[0].segment_id);
  ExpectFiles(StateAfter(first_lost));
  // At the first change the damaged segment (and any after it) is set
  // aside, not reused.
  EXPECT_TRUE(storage_.Contents(SegmentPath(segment) + ".quarantined").empty());
  ASSERT_TRUE(log_->SyncAll().ok());
  EXPECT_FALSE(storage_.Contents(SegmentPath(segment) + ".quarantined").empty());
  Open(WithMode(RecoveryMode::kPointInTimeRecovery));
  ExpectFiles(StateAfter(first_lost));
  ExpectUsableAfterRepair(RecoveryMode::kTolerateCorruptedTailRecords,
                          StateAfter(first_lost));
}

INSTANTIATE_TEST_SUITE_P(Segments, BadSegmentHeaderTest,
                         ::testing::Values(Place::kSealedSegment,
                                           Place::kNewestSegment),
                         [](const ::testing::TestParamInfo<Place>& info) {
                           return info.param == Place::kSealedSegment
                                      ? "Sealed"
                                      : "Newest";
                         });

TEST_F(RecoveryTest, UnknownFormatVersionIsNotSupported) {
  WriteLog(/*rounds=*/2);
  const uint64_t segment = SegmentIds().back();
  std::string header = SegmentImage(segment).substr(0, kSegmentHeaderSize);
  PutFixed32(&header[8], kFormatVersion + 1);
  PutFixed32(&header[60], crc32c::Mask(crc32c::Value(header.data(), 60)));
  storage_.Corrupt(SegmentPath(segment), 0, header);
  for (RecoveryMode mode : kAllModes) {
    IOStatus s = Reopen(WithMode(mode));
    ASSERT_TRUE(s.IsNotSupported()) << s.ToString();
    EXPECT_NE(std::string::npos,
              s.ToString().find("format version " +
                                std::to_string(kFormatVersion + 1)))
        << s.ToString();
  }
}

// A length field of almost 4 GiB under a valid header checksum: reported
// as damage at its place, without allocating or reading what it claims.
TEST_F(RecoveryTest, AbsurdLengthField) {
  WriteLog();
  const std::vector<uint64_t> ids = SegmentIds();
  const DirImage intact = SaveDir();
  for (Place place : {Place::kSealedSegment, Place::kNewestSegment}) {
    SCOPED_TRACE(place == Place::kSealedSegment ? "sealed" : "newest");
    RestoreDir(intact);
    const uint64_t segment =
        place == Place::kSealedSegment ? ids[1] : ids.back();
    const std::string image = SegmentImage(segment);
    const FrameAt frame = MiddleFrame(segment);
    const uint32_t seed = SegmentSeed(HeaderOf(image).log_uid, segment);
    // The frame's header again, with the length changed and the header
    // check fixed up (version 4 layout: crc, check, kind, varints, the
    // durable mark relative to the frame's offset, none when it is the
    // frame's offset: a bit of the kind byte says so).
    ASSERT_EQ(kFormatVersion, frame.version);
    const FrameHeader& h = frame.header;
    ASSERT_EQ(Codec::kNone, h.codec);
    std::string header = image.substr(frame.offset, 7);
    PutVarint64(&header, 0xFFFFFFF0u);
    PutVarint64(&header, h.file_id);
    if (h.has_offset) PutVarint64(&header, h.offset);
    if (h.durable_mark != 0 && h.durable_mark != frame.offset) {
      PutVarint64(&header, frame.offset - h.durable_mark);
    }
    PutFixed16(&header[4], static_cast<uint16_t>(crc32c::Extend(
                               seed, header.data() + 6, header.size() - 6)));
    storage_.Corrupt(SegmentPath(segment), frame.offset, header);

    IOStatus s = Reopen(SmallSegments());
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(std::string::npos,
              s.ToString().find(Where(segment, frame.offset)))
        << s.ToString();
    EXPECT_NE(std::string::npos, s.ToString().find("frame length 4294967280"))
        << s.ToString();
    storage_.Corrupt(SegmentPath(segment), frame.offset,
                     image.substr(frame.offset, header.size()));
    Open();
    ExpectFiles(FullState());
    log_.reset();
  }
}

// The scan reads a segment a piece at a time (kScanReadChunk), a frame
// often straddling two pieces. Whatever the piece size, from one read of
// the whole segment down to a few KiB, it must decide alike: the same
// frames kept, the same damage found at the same offsets, the same tail.
class ScanReadTest : public RecoveryTest {
 protected:
  // One 16 MiB segment holding ~11 MiB of a file: mostly small records,
  // now and then one of up to 1.5 MiB (several frames, one of the largest
  // size), synced now and then. The log is closed.
  void WriteMixedLog() {
    LogOptions options = SmallSegments();
    options.segment_size = 16 << 20;
    Open(options);
    const uint64_t id = Create("a.log");
    std::mt19937_64 rng(7);
    uint64_t written = 0;
    for (int i = 0; written < (11u << 20); ++i) {
      const size_t n = i % 7 == 0 ? rng() % (3 << 19) : 1 + rng() % 9000;
      ASSERT_TRUE(log_->Append(id, Pattern(n, i)).ok());
      if (i % 5 == 0) {
        ASSERT_TRUE(log_->Sync(id).ok());
      }
      written += n;
    }
    ASSERT_TRUE(log_->Sync(id).ok());
    log_.reset();
    ASSERT_EQ(std::vector<uint64_t>{1}, SegmentIds());
  }
  std::string Scan(RecoveryMode mode, size_t read_size) {
    RecoveryModePolicy policy(mode);
    ScanResult result;
    RecoveryInfo info;
    IOStatus s = ScanLog(&storage_, testing::kLogDir, &policy, &result, &info,
                         read_size);
    return testing::ScanSummary(s, result, info);
  }
};

TEST_F(ScanReadTest, ScanDecidesAlikeWhateverItsReadSize) {
  ASSERT_NO_FATAL_FAILURE(WriteMixedLog());
  const std::string path = SegmentPath(1);

  // What each read size decides, in every mode; they must agree. Returns
  // the decisions of kSkipAnyCorruptedRecords.
  const auto decisions = [&](const std::string& what) {
    SCOPED_TRACE(what);
    std::string skip_any;
    for (RecoveryMode mode : kAllModes) {
      std::string summaries[3];
      const size_t reads[3] = {size_t{1} << 30, kScanReadChunk, 4093};
      for (int r = 0; r < 3; ++r) summaries[r] = Scan(mode, reads[r]);
      EXPECT_EQ(summaries[0], summaries[1]) << RecoveryModeName(mode);
      EXPECT_EQ(summaries[0], summaries[2]) << RecoveryModeName(mode);
      if (mode == RecoveryMode::kSkipAnyCorruptedRecords) {
        skip_any = summaries[0];
      }
    }
    return skip_any;
  };
  const std::vector<FrameAt> frames = DataFramesIn(SegmentImage(1));
  ASSERT_GT(frames.size(), 100u);
  const auto frame_across = [&](uint64_t boundary) {
    for (const FrameAt& f : frames) {
      if (f.offset < boundary && f.offset + f.size() > boundary) return f;
    }
    ADD_FAILURE() << "no frame crosses " << boundary;
    return frames.front();
  };
  // Damage where a default-sized read ends and the next begins, then at
  // the tail: each changes what the scan decides, alike for every size.
  std::string before = decisions("intact");
  const FrameAt at4 = frame_across(kScanReadChunk);
  FlipByte(path, at4.offset + at4.size() - 1);
  std::string after = decisions("payload end of the frame across 4 MiB");
  EXPECT_NE(before, after);
  EXPECT_NE(std::string::npos,
            after.find("offset " + std::to_string(at4.offset)))
      << after;
  const FrameAt at8 = frame_across(2 * kScanReadChunk);
  FlipByte(path, at8.offset + 1);
  before = after;
  after = decisions("header of the frame across 8 MiB");
  EXPECT_NE(before, after);
  storage_.Corrupt(path, frames.back().offset + 3, std::string(5, '\0'));
  before = after;
  EXPECT_NE(before, decisions("the last data frame"));
}

// A read of the segment that fails, on the scanning thread or one reading
// ahead, at any point of the scan: the scan fails with that error, never
// decides from the bytes it could not read.
TEST_F(ScanReadTest, AFailedReadFailsTheScan) {
  ASSERT_NO_FATAL_FAILURE(WriteMixedLog());
  const std::string intact =
      Scan(RecoveryMode::kTolerateCorruptedTailRecords, kScanReadChunk);
  for (size_t read_size : {kScanReadChunk, size_t{1} << 20}) {
    for (int failing = 1;; ++failing) {
      SCOPED_TRACE("read " + std::to_string(failing) + " of " +
                   std::to_string(read_size) + "-byte reads");
      std::atomic<int> reads{0};
      storage_.SetHook([&](FaultOp op, const std::string& path) {
        if (op == FaultOp::kRead && path == SegmentPath(1) &&
            ++reads == failing) {
          storage_.InjectFault(FaultOp::kRead, SegmentPath(1),
                               IOStatus::IOError("injected read error"));
        }
      });
      const uint64_t fired_before = storage_.FaultsFired();
      const std::string summary =
          Scan(RecoveryMode::kTolerateCorruptedTailRecords, read_size);
      storage_.SetHook(nullptr);
      if (storage_.FaultsFired() == fired_before) {
        EXPECT_EQ(intact, summary);  // fewer reads than `failing`
        EXPECT_GT(failing, 3) << "the scan read the segment too few times";
        break;
      }
      EXPECT_EQ(0u, summary.find("IO error: injected read error"))
          << summary;
    }
  }
}

// Real segment files (PosixStorage, read through the scan's window): a log
// reopens with every byte, and a flipped byte in a durable frame on disk
// is found, named by segment and offset.
TEST(PosixRecoveryTest, SegmentFilesOnDiskAreScannedWhole) {
  const test::TempDir tmp;
  const std::string dir = tmp / "log";
  const LogOptions options = SmallSegments();
  std::string written;
  {
    std::unique_ptr<Log> log;
    ASSERT_TRUE(Log::Open(PosixStorage(), dir, options, &log, nullptr).ok());
    uint64_t id = 0;
    ASSERT_TRUE(log->Create("a.log", &id).ok());
    for (int i = 0; i < 12; ++i) {
      const std::string chunk = Pattern(300, i);
      ASSERT_TRUE(log->Append(id, chunk).ok());
      ASSERT_TRUE(log->Sync(id).ok());  // durable marks advance
      written += chunk;
    }
  }
  std::unique_ptr<Log> log;
  RecoveryInfo info;
  ASSERT_TRUE(Log::Open(PosixStorage(), dir, options, &log, &info).ok());
  EXPECT_TRUE(info.damages.empty()) << info.ToString();
  EXPECT_EQ(test::RealFileSize(dir + "/" + SegmentFileName(1)),
            info.bytes_scanned)
      << info.ToString();
  EXPECT_EQ(written, ReadAll(log.get(), "a.log"));
  log.reset();

  // The segment holding the data (sealed by that reopen): flip the first
  // payload byte of a frame that later frames recorded as durable.
  const std::string path = dir + "/" + SegmentFileName(1);
  const std::string image = test::ReadFileToString(path);
  const std::vector<FrameAt> data = DataFramesIn(image);
  ASSERT_EQ(12u, data.size());
  const uint64_t at = data[5].payload_offset();
  const char flipped = static_cast<char>(image[at] ^ 0x40);
  std::unique_ptr<StorageFile> file;
  ASSERT_TRUE(PosixStorage()->OpenFile(path, /*create=*/false, &file).ok());
  ASSERT_TRUE(file->Write(at, &flipped, 1).ok());
  ASSERT_TRUE(file->Sync().ok());
  file.reset();

  IOStatus s = Log::Open(PosixStorage(), dir, options, &log, nullptr);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos,
            s.ToString().find(Where(1, data[5].offset)))
      << s.ToString();
  log.reset();
}

// ---- Logs written by format version 1 ----------------------------------------

// A log of two version-1 segments (as segwal wrote before the compact
// frames) opens and reads; new writes go to a version-2 segment, and the
// mixed log reopens whole.
TEST_F(RecoveryTest, VersionOneLogOpensAndGrowsInVersionTwo) {
  constexpr uint64_t kUid = 0x1234;
  const uint64_t size = SmallSegments().segment_size;
  FileTable empty;
  testing::V1SegmentWriter first(kUid, 1, size, 0, 0, empty.EncodeSnapshot());
  first.Frame(FrameType::kCreate, 1, 0, "a.log");
  first.Frame(FrameType::kData, 1, 0, Pattern(3000, 1));
  first.Frame(FrameType::kCreate, 2, 0, "b.log");
  first.Frame(FrameType::kData, 2, 0, Pattern(500, 2));
  first.Frame(FrameType::kData, 1, 3000, Pattern(200, 3));
  FileTable table;  // the table as the first segment leaves it
  for (const auto& frame : FramesIn(first.image())) {
    ASSERT_TRUE(table
                    .Apply(frame.header,
                           Slice(first.image().data() + frame.payload_offset(),
                                 frame.header.stored_len),
                           FrameLocation{1, static_cast<uint32_t>(frame.offset),
                                         0})
                    .ok());
  }
  testing::V1SegmentWriter second(kUid, 2, size, 1, first.end(),
                                  table.EncodeSnapshot());
  second.Frame(FrameType::kData, 2, 500, Pattern(700, 4));
  second.Frame(FrameType::kRename, 2, 0, "archive/b.log");
  ASSERT_TRUE(testing::PutSegment(&storage_, testing::kLogDir, 1,
                                  first.image(), size).ok());
  ASSERT_TRUE(testing::PutSegment(&storage_, testing::kLogDir, 2,
                                  second.image(), size).ok());

  const std::string a = Pattern(3000, 1) + Pattern(200, 3);
  const std::string b = Pattern(500, 2) + Pattern(700, 4);
  Open();
  EXPECT_TRUE(info_.damages.empty()) << info_.ToString();
  EXPECT_EQ(a, ReadAll(log_.get(), "a.log"));
  EXPECT_EQ(b, ReadAll(log_.get(), "archive/b.log"));
  Append("a.log", "new bytes");
  ASSERT_TRUE(log_->SyncAll().ok());
  Open();
  EXPECT_TRUE(info_.damages.empty()) << info_.ToString();
  EXPECT_EQ(a + "new bytes", ReadAll(log_.get(), "a.log"));
  EXPECT_EQ(b, ReadAll(log_.get(), "archive/b.log"));
  const std::vector<uint64_t> ids = SegmentIds();
  ASSERT_EQ(3u, ids.size());
  EXPECT_EQ(1u, HeaderOf(SegmentImage(ids[0])).version);
  EXPECT_EQ(1u, HeaderOf(SegmentImage(ids[1])).version);
  EXPECT_EQ(kFormatVersion, HeaderOf(SegmentImage(ids[2])).version);

  // Damage in a version-1 segment is found and named as before.
  log_.reset();
  const FrameAt damaged = FramesIn(SegmentImage(1))[2];  // a.log's data
  FlipByte(SegmentPath(1), damaged.payload_offset() + 10);
  IOStatus s = Reopen(SmallSegments());
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find(Where(1, damaged.offset)))
      << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("payload checksum mismatch"))
      << s.ToString();
}

// ---- Logs written by format version 3, the durable mark by version ---------

// A one-segment log as a version-3 or 4 writer leaves it: a snapshot, a
// create of a.log, then `n` data frames of 200 bytes. Frame i records the
// durable mark mark_of(i, offsets) (0: none), offsets being where frames 0
// to i start: version 3 stores it as an absolute offset, version 4
// relative to the frame's own.
struct CraftedLog {
  std::string image;
  std::vector<uint64_t> data_offsets;
  std::string bytes;  // a.log
};

template <typename MarkOf>
CraftedLog CraftLog(uint32_t version, uint64_t uid, uint64_t size, int n,
                    MarkOf mark_of) {
  CraftedLog log;
  const uint32_t seed = SegmentSeed(uid, 1);
  SegmentHeader header;
  header.version = version;
  header.segment_id = 1;
  header.log_uid = uid;
  header.segment_size = size;
  header.created_unix_time = 1700000000;
  log.image.assign(kSegmentHeaderBlock, '\0');
  EncodeSegmentHeader(header, &log.image[0]);
  const auto frame = [&](FrameHeader h, const std::string& payload,
                         uint32_t mark) {
    h.durable_mark = mark;
    EncodeFrame(&h, payload, seed, log.image.size(), &log.image, version);
  };
  FrameHeader snap;
  snap.type = static_cast<uint8_t>(FrameType::kSnapshot);
  snap.has_offset = false;
  frame(snap, FileTable().EncodeSnapshot(),
        static_cast<uint32_t>(kSegmentHeaderBlock));
  FrameHeader create;
  create.type = static_cast<uint8_t>(FrameType::kCreate);
  create.file_id = 1;
  create.has_offset = false;
  frame(create, "a.log", static_cast<uint32_t>(log.image.size()));
  for (int i = 0; i < n; ++i) {
    FrameHeader h;
    h.type = static_cast<uint8_t>(FrameType::kData);
    h.file_id = 1;
    h.offset = log.bytes.size();
    const std::string payload = Pattern(200, 40 + i);
    log.data_offsets.push_back(log.image.size());
    frame(h, payload, mark_of(i, log.data_offsets));
    log.bytes += payload;
  }
  return log;
}

// A version-3 log (durable marks as absolute offsets) opens and reads,
// takes new writes in a version-4 segment after it, and the mixed log
// reopens whole.
TEST_F(RecoveryTest, VersionThreeLogOpensAndGrowsInVersionFour) {
  const uint64_t size = SmallSegments().segment_size;
  // Marks as a version-3 writer recorded them: some at the frame's own
  // offset (synced before it), some behind it, some frames without one.
  CraftedLog v3 = CraftLog(3, 0x3333, size, 12,
                           [](int i, const std::vector<uint64_t>& at) {
                             return static_cast<uint32_t>(
                                 i % 3 == 0   ? at[i]
                                 : i % 3 == 1 ? at[i - 1]
                                              : 0);
                           });
  ASSERT_TRUE(testing::PutSegment(&storage_, testing::kLogDir, 1, v3.image,
                                  size).ok());
  for (const FrameAt& f : DataFramesIn(v3.image)) {
    EXPECT_EQ(3u, f.version);
  }
  Open();
  EXPECT_TRUE(info_.damages.empty()) << info_.ToString();
  EXPECT_FALSE(info_.torn_tail);
  EXPECT_EQ(v3.bytes, ReadAll(log_.get(), "a.log"));
  Append("a.log", "written by version 4");
  ASSERT_TRUE(log_->SyncAll().ok());
  Append("a.log", " and more");
  ASSERT_TRUE(log_->SyncAll().ok());
  const std::string want = v3.bytes + "written by version 4 and more";
  EXPECT_EQ(want, ReadAll(log_.get(), "a.log"));
  Open();
  EXPECT_TRUE(info_.damages.empty()) << info_.ToString();
  EXPECT_EQ(want, ReadAll(log_.get(), "a.log"));
  const std::vector<uint64_t> ids = SegmentIds();
  ASSERT_EQ(2u, ids.size());
  EXPECT_EQ(3u, HeaderOf(SegmentImage(ids[0])).version);
  EXPECT_EQ(4u, HeaderOf(SegmentImage(ids[1])).version);
  // The version-4 frames after a sync record the mark at their own offset.
  bool mark_at_frame = false;
  for (const FrameAt& f : DataFramesIn(SegmentImage(ids[1]))) {
    EXPECT_LE(f.header.durable_mark, f.offset);
    mark_at_frame |= f.header.durable_mark == f.offset;
  }
  EXPECT_TRUE(mark_at_frame);
  // Appends go on after another reopen.
  Append("a.log", "!");
  ASSERT_TRUE(log_->SyncAll().ok());
  Open();
  EXPECT_EQ(want + "!", ReadAll(log_.get(), "a.log"));
}

// Damage to a frame of the newest segment is a torn tail unless a later
// frame that checks out records a durable mark past it; the same decision
// from version 3's absolute marks and version 4's relative ones.
class DurableMarkByVersionTest
    : public RecoveryTest,
      public ::testing::WithParamInterface<uint32_t> {};

TEST_P(DurableMarkByVersionTest, TornTailOrDamageBeforeADurablePoint) {
  const uint32_t version = GetParam();
  const uint64_t size = SmallSegments().segment_size;
  constexpr int kFrames = 10;
  constexpr int kDamaged = 4;
  for (bool covered : {true, false}) {
    SCOPED_TRACE(covered ? "a later mark covers it" : "no later mark does");
    // covered: every frame synced before it (mark at its own offset);
    // else the frames after the damaged one record a mark no further
    // than the frame before it (written before later syncs completed).
    CraftedLog log = CraftLog(
        version, 0x4444, size, kFrames,
        [covered](int i, const std::vector<uint64_t>& at) {
          if (covered || i < kDamaged) return static_cast<uint32_t>(at[i]);
          return static_cast<uint32_t>(at[kDamaged - 1]);
        });
    const std::vector<FrameAt> frames = DataFramesIn(log.image);
    ASSERT_EQ(static_cast<size_t>(kFrames), frames.size());
    for (int i = 0; i < kFrames; ++i) {
      EXPECT_EQ(version, frames[i].version);
      EXPECT_EQ(log.data_offsets[i], frames[i].offset);
      // The mark decodes to what was recorded, whatever the encoding.
      EXPECT_EQ(covered || i < kDamaged ? log.data_offsets[i]
                                        : log.data_offsets[kDamaged - 1],
                frames[i].header.durable_mark);
    }
    const FrameAt damaged = frames[kDamaged];
    log.image[damaged.payload_offset() + 50] ^= 1;
    ASSERT_TRUE(testing::PutSegment(&storage_, testing::kLogDir, 1, log.image,
                                    size).ok());
    IOStatus s = Reopen(SmallSegments());
    if (covered) {
      ASSERT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_NE(std::string::npos, s.ToString().find(Where(1, damaged.offset)))
          << s.ToString();
      EXPECT_NE(std::string::npos,
                s.ToString().find("inside the durable part of the segment"))
          << s.ToString();
      // Point-in-time recovery keeps what came before the damage.
      Open(WithMode(RecoveryMode::kPointInTimeRecovery));
      EXPECT_EQ(log.bytes.substr(0, kDamaged * 200),
                ReadAll(log_.get(), "a.log"));
      EXPECT_FALSE(info_.damages.empty());
    } else {
      ASSERT_TRUE(s.ok()) << s.ToString();
      EXPECT_TRUE(info_.torn_tail);
      EXPECT_TRUE(info_.damages.empty()) << info_.ToString();
      EXPECT_EQ(log.bytes.substr(0, kDamaged * 200),
                ReadAll(log_.get(), "a.log"));
    }
    RestoreDir(DirImage());  // an empty directory for the next round
  }
}

INSTANTIATE_TEST_SUITE_P(Versions, DurableMarkByVersionTest,
                         ::testing::Values(3u, 4u),
                         [](const ::testing::TestParamInfo<uint32_t>& info) {
                           return "v" + std::to_string(info.param);
                         });

}  // namespace
}  // namespace segwal
