// Compression groups (format version 3): appends to one file learn from
// the file's earlier appends, groups stay within a segment and their
// bounds, any frame reads back alone or in sequence, a damaged frame costs
// at most the rest of its group (reported, never decoded to garbage), and
// logs of older codecs and formats still read.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "env/format/codec.h"
#include "env/format/group_codec.h"
#include "tests/support/db_bench_records.h"
#include "tests/support/log_fixture.h"
#include "tests/support/v1_log.h"

namespace segwal {
namespace {

using testing::DbBenchRecords;
using testing::FrameAt;
using testing::FramesIn;
using testing::GroupFrameWithTwoMore;
using testing::kLogDir;
using testing::LogFixture;
using testing::ReadAll;
using testing::SmallSegments;

class CompressionTest : public testing::RecordsLogFixture,
                        public ::testing::WithParamInterface<Codec> {
 protected:
  LogOptions Options(uint64_t group_bytes = 256 * 1024) {
    LogOptions options = SmallSegments();
    options.segment_size = 1 << 20;
    options.compression = GetParam();
    options.compression_group_bytes = group_bytes;
    return options;
  }

  // The segments of the log, by id, as their files hold them now.
  std::map<uint64_t, std::string> Segments() {
    std::map<uint64_t, std::string> out;
    for (uint64_t id = 1; id < 200; ++id) {
      const std::string image = storage_.Contents(SegmentPath(id));
      SegmentHeader header;
      uint32_t version = 0;
      if (!image.empty() &&
          DecodeSegmentHeader(image.data(), image.size(), &header, &version) ==
              HeaderCheck::kValid) {
        out[id] = image;
      }
    }
    return out;
  }

  void ExpectFiles(const std::map<std::string, std::string>& files) {
    for (const auto& [name, bytes] : files) {
      EXPECT_TRUE(ReadAll(log_.get(), name) == bytes) << name;
    }
  }
};

TEST_P(CompressionTest, GroupsLearnAcrossAppends) {
  uint64_t frame_bytes[2] = {0, 0};
  std::map<std::string, std::string> files;
  for (int grouped = 0; grouped < 2; ++grouped) {
    SCOPED_TRACE(grouped ? "grouped" : "each frame alone");
    // The same records, to a file of their own, in a log reopened with the
    // other option: the counters are the open log's.
    Open(Options(grouped ? 256 * 1024 : 0));
    const std::string name = grouped ? "grouped.log" : "alone.log";
    const auto written = WriteRecords({name}, 600);
    files.insert(written.begin(), written.end());
    ExpectFiles(files);
    const LogStats stats = log_->GetStats();
    EXPECT_EQ(600u * 528, stats.write_bytes);
    frame_bytes[grouped] = stats.frame_bytes_written;
    // Every data frame is compressed; grouped ones chain back in their
    // segment, ungrouped ones never do.
    size_t chained = 0, data = 0;
    FileInfo info;
    ASSERT_TRUE(log_->Lookup(name, &info));
    for (const auto& [id, image] : Segments()) {
      for (const FrameAt& f : FramesIn(image)) {
        if (!IsDataFrame(f.header.type) || f.header.file_id != info.id) {
          continue;
        }
        ++data;
        EXPECT_EQ(GetParam(), f.header.codec);
        if (f.header.prev != 0) ++chained;
      }
    }
    EXPECT_EQ(600u, data);
    if (grouped) {
      EXPECT_GT(chained, 500u);
    } else {
      EXPECT_EQ(0u, chained);
    }
  }
  ASSERT_TRUE(Reopen(Options()).ok());
  ExpectFiles(files);
  // Learning from earlier records saves bytes: zstd reuses its entropy
  // tables and matches across records (at least a tenth); lz4 has no
  // entropy coder, so only the keys' and values' repeats across records
  // help (at least 3%).
  const uint64_t percent = GetParam() == Codec::kZstdGroup ? 90 : 97;
  EXPECT_LT(frame_bytes[1] * 100, frame_bytes[0] * percent)
      << frame_bytes[1] << " vs " << frame_bytes[0];
}

// A positioned read anywhere decodes its frame's group from the start,
// with a fresh cache or one left elsewhere by an earlier read.
TEST_P(CompressionTest, RandomReadsDecodeFromTheGroupStart) {
  Open(Options());
  const auto files = WriteRecords({"a.log", "b.log"}, 400);
  FileInfo info;
  ASSERT_TRUE(log_->Lookup("a.log", &info));
  const std::string& a = files.at("a.log");
  std::mt19937 rng(7);
  ReadCache shared;
  for (int i = 0; i < 200; ++i) {
    const uint64_t offset = rng() % a.size();
    const size_t n = std::min<size_t>(1 + rng() % 3000, a.size() - offset);
    std::string got(n, '\0');
    size_t read = 0;
    ReadCache fresh;
    ReadCache* cache = i % 2 ? &fresh : &shared;
    IOStatus s = log_->Read(info.id, offset, n, &got[0], &read, cache);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(n, read);
    ASSERT_TRUE(got == a.substr(offset, n)) << "offset " << offset;
  }
}

// Small segments: groups end at every rotation; whatever lands in a new
// segment starts a group there, and the log recovers and reads.
TEST_P(CompressionTest, GroupsNeverLeaveTheirSegment) {
  LogOptions options = Options();
  options.segment_size = kMinSegmentSize;
  Open(options);
  const auto files = WriteRecords({"a.log", "b.log", "c.log"}, 600);
  ExpectFiles(files);
  const auto segments = Segments();
  ASSERT_GT(segments.size(), 5u);
  for (const auto& [id, image] : segments) {
    std::set<uint64_t> starts;
    for (const FrameAt& f : FramesIn(image)) {
      if (!IsGroupCodec(f.header.codec)) continue;
      if (f.header.prev == 0) {
        starts.insert(f.offset);
      } else {
        ASSERT_GE(f.offset, kSegmentHeaderBlock + f.header.prev);
      }
    }
    EXPECT_FALSE(starts.empty()) << "segment " << id;
  }
  ASSERT_TRUE(Reopen(options).ok());
  EXPECT_TRUE(info_.damages.empty());
  ExpectFiles(files);
}

// Relocation copies the live bytes of grouped frames (decoding each after
// its group) into new frames; the files read the same.
TEST_P(CompressionTest, RelocationCopiesGroupedFrames) {
  LogOptions options = Options();
  options.segment_size = kMinSegmentSize;
  Open(options);
  auto files = WriteRecords({"pinned.log"}, 80);
  DbBenchRecords more(9);
  Create("churn.log");
  for (int round = 0; round < 40; ++round) {
    for (int i = 0; i < 40; ++i) Append("churn.log", more.Next());
    ASSERT_TRUE(log_->Delete("churn.log").ok());
    Create("churn.log");
    ASSERT_TRUE(log_->Housekeep().ok());
  }
  EXPECT_GT(log_->GetStats().bytes_relocated, 0u);
  ExpectFiles(files);
  ASSERT_TRUE(Reopen(options).ok());
  ExpectFiles(files);
}

// Damage to one frame of a group: the frames of the group after it are
// reported (segment, offset, "depends on damaged frame at ...") and
// skipped under kSkipAnyCorruptedRecords (their bytes read as zeros), and
// everything outside the group reads back intact. Other modes refuse or
// stop as they do for any damage.
TEST_P(CompressionTest, DamagedFrameCostsAtMostTheRestOfItsGroup) {
  LogOptions options = Options(16 * 1024);
  options.segment_size = 256 * 1024;
  Open(options);
  const auto files = WriteRecords({"a.log"}, 2000);
  log_.reset();
  // A frame in the first (sealed) segment with later frames in its group.
  const auto segments = Segments();
  const uint64_t segment = segments.begin()->first;
  const std::vector<FrameAt> frames = FramesIn(segments.begin()->second);
  const size_t victim = GroupFrameWithTwoMore(frames, frames.size() / 3);
  ASSERT_NE(0u, victim);
  const FrameAt& bad = frames[victim];
  // The rest of its group: frames chaining back to it.
  std::set<uint64_t> group{bad.offset};
  std::vector<FrameAt> lost;
  for (size_t i = victim + 1; i < frames.size(); ++i) {
    const FrameAt& f = frames[i];
    if (f.header.prev != 0 && group.count(f.offset - f.header.prev)) {
      group.insert(f.offset);
      lost.push_back(f);
    }
  }
  ASSERT_FALSE(lost.empty());
  ASSERT_LT(lost.size() + victim + 1, frames.size()) << "a later group";
  const std::string original = storage_.Contents(SegmentPath(segment));
  storage_.Corrupt(SegmentPath(segment), bad.payload_offset() + 1,
                   std::string(1, static_cast<char>(
                                      original[bad.payload_offset() + 1] ^ 0x5a)));

  IOStatus s = Reopen(options);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos,
            s.ToString().find("segment " + std::to_string(segment) +
                              " offset " + std::to_string(bad.offset)))
      << s.ToString();

  options.recovery_mode = RecoveryMode::kSkipAnyCorruptedRecords;
  s = Reopen(options);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::map<uint64_t, std::string> broken;
  for (const Damage& d : info_.damages) {
    if (d.kind == DamageKind::kBrokenGroup) {
      EXPECT_EQ(segment, d.segment_id);
      broken[d.offset] = d.reason;
    }
  }
  ASSERT_EQ(lost.size(), broken.size());
  for (const FrameAt& f : lost) {
    ASSERT_TRUE(broken.count(f.offset)) << f.offset;
    EXPECT_NE(std::string::npos,
              broken[f.offset].find("depends on damaged frame at offset " +
                                    std::to_string(f.offset - f.header.prev)))
        << broken[f.offset];
  }
  // The damaged frame and the rest of its group read as zeros; every other
  // byte as written.
  const std::string got = ReadAll(log_.get(), "a.log");
  const std::string& want = files.at("a.log");
  ASSERT_EQ(want.size(), got.size());
  uint64_t zeroed_from = bad.header.offset;
  uint64_t zeroed_to = lost.back().header.offset + lost.back().header.raw_len;
  EXPECT_TRUE(got.substr(0, zeroed_from) == want.substr(0, zeroed_from));
  EXPECT_EQ(std::string(zeroed_to - zeroed_from, '\0'),
            got.substr(zeroed_from, zeroed_to - zeroed_from));
  EXPECT_TRUE(got.substr(zeroed_to) == want.substr(zeroed_to));

  // Point in time: the file ends where the damaged frame began.
  options.recovery_mode = RecoveryMode::kPointInTimeRecovery;
  s = Reopen(options);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(ReadAll(log_.get(), "a.log") == want.substr(0, zeroed_from));
}

// Byte flips anywhere in a compressed log's sealed segments: opened with
// kSkipAnyCorruptedRecords, every byte of every file reads back as
// written or as zero (skipped damage), never as anything else.
TEST_P(CompressionTest, ByteFlipsNeverDecodeToGarbage) {
  LogOptions options = Options(32 * 1024);
  options.segment_size = 256 * 1024;
  Open(options);
  const auto files = WriteRecords({"a.log", "b.log"}, 1500);
  ASSERT_TRUE(log_->SyncAll().ok());
  log_.reset();
  const auto segments = Segments();
  ASSERT_GT(segments.size(), 2u);
  std::mt19937 rng(3);
  options.recovery_mode = RecoveryMode::kSkipAnyCorruptedRecords;
  for (int trial = 0; trial < 40; ++trial) {
    // Any segment but the head, any byte past the header block.
    auto it = segments.begin();
    std::advance(it, rng() % (segments.size() - 1));
    const std::string path = SegmentPath(it->first);
    const std::string& image = it->second;
    const uint64_t end = FramesIn(image).back().end();
    const uint64_t at = kSegmentHeaderBlock + rng() % (end - kSegmentHeaderBlock);
    SCOPED_TRACE("segment " + std::to_string(it->first) + " byte " +
                 std::to_string(at));
    storage_.Corrupt(path, at,
                     std::string(1, static_cast<char>(image[at] ^ (1 + rng() % 255))));
    IOStatus s = Reopen(options);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_FALSE(info_.damages.empty());
    for (const auto& [name, want] : files) {
      // A damaged last frame may leave the file shorter.
      const std::string got = ReadAll(log_.get(), name);
      ASSERT_LE(got.size(), want.size()) << name;
      for (size_t i = 0; i < got.size(); ++i) {
        if (got[i] != want[i] && got[i] != '\0') {
          FAIL() << name << " byte " << i << " decoded to garbage";
        }
      }
    }
    log_.reset();
    storage_.Corrupt(path, at, image.substr(at, 1));
  }
}

// A log whose codec changes between opens keeps every earlier frame
// readable, whatever wrote it.
TEST_P(CompressionTest, CodecChangesBetweenOpens) {
  std::map<std::string, std::string> files;
  DbBenchRecords records(5);
  const Codec codecs[] = {GetParam(), Codec::kNone,
                          GetParam() == Codec::kLz4Group ? Codec::kZstdGroup
                                                         : Codec::kLz4Group,
                          GetParam()};
  for (Codec codec : codecs) {
    LogOptions options = Options();
    options.compression = codec;
    Open(options);
    if (files.empty()) Create("a.log");
    for (int i = 0; i < 100; ++i) {
      const std::string r = records.Next();
      Append("a.log", r);
      files["a.log"] += r;
    }
    ExpectFiles(files);
  }
  Open(Options());
  ExpectFiles(files);
}

INSTANTIATE_TEST_SUITE_P(Codecs, CompressionTest,
                         ::testing::Values(Codec::kLz4Group,
                                           Codec::kZstdGroup),
                         [](const ::testing::TestParamInfo<Codec>& info) {
                           return std::string(CodecName(info.param));
                         });

// Format version 2 stored each compressed payload whole (lz4 block, zstd
// frame): such a log, written as segwal before version 3 did, opens and
// reads, and new frames go to a version-3 segment after it.
class OldFormatTest : public LogFixture {};

TEST_F(OldFormatTest, VersionTwoCompressedLogStillReads) {
  constexpr uint64_t kUid = 0x5eed;
  const uint64_t size = kMinSegmentSize;
  const uint32_t seed = SegmentSeed(kUid, 1);
  SegmentHeader header;
  header.version = 2;
  header.segment_id = 1;
  header.log_uid = kUid;
  header.segment_size = size;
  header.created_unix_time = 1700000000;
  std::string image(kSegmentHeaderBlock, '\0');
  EncodeSegmentHeader(header, &image[0]);
  const auto frame = [&](FrameHeader h, const std::string& payload) {
    h.durable_mark = static_cast<uint32_t>(image.size());
    EncodeFrame(&h, payload, seed, image.size(), &image, 2);
  };
  FrameHeader snap;
  snap.type = static_cast<uint8_t>(FrameType::kSnapshot);
  snap.has_offset = false;
  frame(snap, FileTable().EncodeSnapshot());
  FrameHeader create;
  create.type = static_cast<uint8_t>(FrameType::kCreate);
  create.file_id = 1;
  create.has_offset = false;
  frame(create, "000007.log");
  std::string want;
  DbBenchRecords records(11);
  for (int i = 0; i < 30; ++i) {
    const std::string r = records.Next() + records.Next();
    FrameHeader h;
    h.type = static_cast<uint8_t>(FrameType::kData);
    h.file_id = 1;
    h.offset = want.size();
    h.raw_len = static_cast<uint32_t>(r.size());
    const Codec codec = i % 3 == 0 ? Codec::kNone
                        : i % 3 == 1 ? Codec::kLz4 : Codec::kZstd;
    std::string stored;
    if (codec != Codec::kNone && CompressPayload(codec, 0, r, &stored)) {
      h.codec = codec;
      frame(h, stored);
    } else {
      frame(h, r);
    }
    want += r;
  }
  ASSERT_TRUE(testing::PutSegment(&storage_, kLogDir, 1, image, size).ok());

  LogOptions options = SmallSegments();
  options.compression = Codec::kZstdGroup;
  Open(options);
  EXPECT_TRUE(info_.damages.empty());
  EXPECT_TRUE(ReadAll(log_.get(), "000007.log") == want);
  DbBenchRecords later(12);
  for (int i = 0; i < 50; ++i) {
    const std::string r = later.Next();
    Append("000007.log", r);
    want += r;
  }
  EXPECT_TRUE(ReadAll(log_.get(), "000007.log") == want);
  Open(options);
  EXPECT_TRUE(ReadAll(log_.get(), "000007.log") == want);
}

// The group decoder refuses what does not follow: a frame continuing a
// group it never saw, a group past its bound, and bytes that do not decode.
TEST(GroupCodecTest, DecoderRefusesWhatDoesNotFollow) {
  for (Codec codec : {Codec::kLz4Group, Codec::kZstdGroup}) {
    SCOPED_TRACE(CodecName(codec));
    GroupEncoder encoder(codec, 0, kMaxGroupRawBytes);
    DbBenchRecords records(1);
    std::vector<std::string> raw, stored;
    for (int i = 0; i < 4; ++i) {
      raw.push_back(records.Next());
      stored.emplace_back();
      EXPECT_EQ(i == 0, encoder.Compress(raw.back(), &stored.back()));
    }
    std::string out(raw[1].size(), '\0');
    GroupDecoder decoder;
    IOStatus s = decoder.Decode(codec, false, stored[1], &out[0], out.size());
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    // In order, all decode.
    for (int i = 0; i < 4; ++i) {
      out.assign(raw[i].size(), '\0');
      ASSERT_TRUE(
          decoder.Decode(codec, i == 0, stored[i], &out[0], out.size()).ok());
      EXPECT_EQ(raw[i], out);
    }
    // Skipping a frame of the group never yields the bytes written.
    GroupDecoder skipping;
    ASSERT_TRUE(skipping.Decode(codec, true, stored[0], &out[0], raw[0].size())
                    .ok());
    out.assign(raw[2].size(), '\0');
    s = skipping.Decode(codec, false, stored[2], &out[0], out.size());
    EXPECT_TRUE(!s.ok() || out != raw[2]);
    // A wrong length is damage.
    GroupDecoder wrong;
    out.assign(raw[0].size() + 1, '\0');
    EXPECT_TRUE(wrong.Decode(codec, true, stored[0], &out[0], out.size())
                    .IsCorruption());
    // Past the group bound.
    GroupDecoder big;
    std::string huge(kMaxDataFramePayload, '\0');
    std::string one_stored;
    GroupEncoder fresh(codec, 0, kMaxGroupRawBytes);
    fresh.Compress(huge, &one_stored);
    ASSERT_TRUE(big.Decode(codec, true, one_stored, &huge[0], huge.size()).ok());
    std::string tail;
    fresh.Compress(std::string(10, 'x'), &tail);
    out.assign(10, '\0');
    EXPECT_TRUE(big.Decode(codec, false, tail, &out[0], 10).IsCorruption());
  }
}

// compression_level 0 with lz4 is acceleration 2 (the default, for
// speed), not 1: the same stream of records compresses to the same bytes
// as with level 2, and decodes.
TEST(GroupCodecTest, Lz4DefaultIsAccelerationTwo) {
  GroupEncoder by_default(Codec::kLz4Group, 0, 256 * 1024);
  GroupEncoder two(Codec::kLz4Group, 2, 256 * 1024);
  GroupEncoder one(Codec::kLz4Group, 1, 256 * 1024);
  DbBenchRecords records(4);
  GroupDecoder decoder;
  size_t differs_from_one = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string raw = records.Next();
    std::string a, b, c;
    by_default.Compress(raw, &a);
    two.Compress(raw, &b);
    one.Compress(raw, &c);
    ASSERT_EQ(b, a) << i;
    if (a != c) ++differs_from_one;
    std::string out(raw.size(), '\0');
    ASSERT_TRUE(decoder.Decode(Codec::kLz4Group, i == 0, a, &out[0], out.size())
                    .ok());
    ASSERT_EQ(raw, out);
  }
  EXPECT_GT(differs_from_one, 0u);
}

// A zstd group after the first starts with a dictionary fitted to what the
// encoder compressed before (entropy tables): it decodes, with nothing
// from the earlier group, and its records cost fewer bytes than the first
// group's, whose small blocks keep their literals raw.
TEST(GroupCodecTest, ZstdGroupsStartWithEntropyTables) {
  GroupEncoder encoder(Codec::kZstdGroup, 0, 64 * 1024);
  DbBenchRecords records(2);
  std::vector<std::string> raw, stored;
  std::vector<size_t> starts;
  while (starts.size() < 3) {
    raw.push_back(records.Next());
    stored.emplace_back();
    if (encoder.Compress(raw.back(), &stored.back())) {
      starts.push_back(raw.size() - 1);
    }
  }
  // The first byte of a group's first frame: its dictionary's length
  // (a varint; 0 = none).
  EXPECT_EQ(0, stored[starts[0]][0]);
  EXPECT_NE(0, stored[starts[1]][0]);
  size_t first = 0, second = 0;
  for (size_t i = starts[0] + 1; i < starts[1]; ++i) first += stored[i].size();
  for (size_t i = starts[1] + 1; i < starts[2]; ++i) second += stored[i].size();
  const size_t n1 = starts[1] - starts[0] - 1, n2 = starts[2] - starts[1] - 1;
  EXPECT_LT(second * n1 * 100, first * n2 * 95) << first << "/" << n1 << " vs "
                                                 << second << "/" << n2;
  // The second group decodes alone, from its first frame on.
  GroupDecoder decoder;
  for (size_t i = starts[1]; i < starts[2]; ++i) {
    std::string out(raw[i].size(), '\0');
    ASSERT_TRUE(decoder.Decode(Codec::kZstdGroup, i == starts[1], stored[i],
                               &out[0], out.size())
                    .ok())
        << i;
    EXPECT_EQ(raw[i], out);
  }
  // A damaged dictionary is refused or decodes to other bytes, without a
  // crash (the frame checksum is what catches damage).
  std::string bad = stored[starts[1]];
  bad[3] ^= 0x40;
  std::string out(raw[starts[1]].size(), '\0');
  GroupDecoder fresh;
  IOStatus s = fresh.Decode(Codec::kZstdGroup, true, bad, &out[0], out.size());
  EXPECT_TRUE(!s.ok() || out != raw[starts[1]]);
}

}  // namespace
}  // namespace segwal
