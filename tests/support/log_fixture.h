// Helpers shared by the engine tests: a Log on MemStorage, reading logical
// files back, test data, and a view of the frames in a segment file so that
// tests can damage chosen bytes.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "env/format/file_names.h"
#include "env/format/format.h"
#include "env/table/file_table.h"
#include "env/engine/log.h"
#include "env/recovery/scanner.h"
#include "tests/support/fake_clock.h"
#include "tests/support/mem_storage.h"

namespace segwal {
namespace testing {

constexpr char kLogDir[] = "/log";

// 64 KiB segments (rotations come quickly), segments prepared inline and
// housekeeping run only by Housekeep(): runs are deterministic.
inline LogOptions SmallSegments() {
  LogOptions options;
  options.segment_size = kMinSegmentSize;
  options.background_prepare = false;
  options.background_housekeeping = false;
  return options;
}

// The payload bytes one data frame carries with `segment_size` segments: an
// append longer than this is written as several frames (log.cc).
inline uint32_t FramePayloadLimit(uint64_t segment_size) {
  const uint64_t quarter = (segment_size - kSegmentHeaderBlock) / 4;
  return static_cast<uint32_t>(std::min<uint64_t>(
      kMaxDataFramePayload, quarter & ~uint64_t{7}));
}

// Waits for `condition` to hold, looking every millisecond, for at most
// `seconds` of real time: for what background threads do on their own
// (never to let time pass). Returns whether it holds.
template <typename Condition>
bool WaitFor(Condition condition, int seconds = 20) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// n pseudo-random lowercase letters (compressible about 40%).
inline std::string Pattern(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>('a' + rng() % 26);
  return out;
}

// n bytes of text made of a few words, which every codec compresses well
// (lz4 has no entropy coder: it needs repeats, not a small alphabet).
inline std::string Words(size_t n, uint32_t seed) {
  static const char* const kWords[] = {"put ", "delete ", "merge ", "key ",
                                       "value ", "sequence ", "batch ",
                                       "column family ", "0123 ", "ffff "};
  std::mt19937 rng(seed);
  std::string out;
  while (out.size() < n) out += kWords[rng() % 10];
  out.resize(n);
  return out;
}

// n pseudo-random bytes (incompressible).
inline std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

// The whole of a logical file, read with one reader. Fails the test (and
// returns what was read) if the file is missing or a read fails.
inline std::string ReadAll(Log* log, const std::string& name) {
  FileInfo info;
  EXPECT_TRUE(log->Lookup(name, &info)) << "no logical file " << name;
  std::string out(info.size, '\0');
  size_t got = 0;
  ReadCache cache;
  IOStatus s = log->Read(info.id, 0, out.size(), &out[0], &got, &cache);
  EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
  out.resize(got);
  return out;
}

// One frame found in a segment image.
struct FrameAt {
  uint64_t offset = 0;  // segment offset of the header
  FrameHeader header;
  uint32_t version = kFormatVersion;  // of its segment
  // Header and payload, padding excluded.
  uint64_t size() const { return uint64_t{header.header_len} + header.stored_len; }
  // Header and payload, padding included.
  uint64_t footprint() const { return FrameFootprint(version, header); }
  uint64_t end() const { return offset + footprint(); }
  uint64_t payload_offset() const { return offset + header.header_len; }
};

// The segment header of a segment file image (asserts it is valid).
inline SegmentHeader HeaderOf(const std::string& image) {
  SegmentHeader header;
  uint32_t version = 0;
  EXPECT_EQ(HeaderCheck::kValid,
            DecodeSegmentHeader(image.data(), image.size(), &header,
                                &version));
  return header;
}

// The frames of a segment image, from the first block up to the first
// position where no valid frame header is found. A data frame that leaves
// its offset out (it appends) gets it filled in, as replay would: the
// frames are applied to a table started from the segment's snapshot.
inline std::vector<FrameAt> FramesIn(const std::string& image) {
  const SegmentHeader header = HeaderOf(image);
  const uint32_t seed = SegmentSeed(header.log_uid, header.segment_id);
  std::vector<FrameAt> frames;
  FileTable table;
  uint64_t pos = kSegmentHeaderBlock;
  while (pos < image.size()) {
    FrameAt frame;
    frame.offset = pos;
    frame.version = header.version;
    FrameHeader& h = frame.header;
    if (DecodeFrameHeader(header.version, image.data() + pos,
                          image.size() - pos, seed, pos,
                          &h) != FrameCheck::kValid ||
        frame.end() > image.size()) {
      break;
    }
    if (IsDataFrame(h.type) && !h.has_offset) {
      const LogicalFile* file = table.FindById(h.file_id);
      h.offset = file != nullptr ? file->size : 0;
    }
    table
        .Apply(h, Slice(image.data() + frame.payload_offset(), h.stored_len),
               FrameLocation{header.segment_id, static_cast<uint32_t>(pos), 0})
        .PermitUncheckedError();
    pos = frame.end();
    frames.push_back(frame);
  }
  return frames;
}

// The first frame at index `from` or later that continues a compression
// group and is followed by two more that do (a frame whose damage costs
// the rest of its group); 0 if there is none.
inline size_t GroupFrameWithTwoMore(const std::vector<FrameAt>& frames,
                                    size_t from) {
  for (size_t i = from; i + 3 < frames.size(); ++i) {
    if (frames[i].header.prev != 0 && frames[i + 1].header.prev != 0 &&
        frames[i + 2].header.prev != 0) {
      return i;
    }
  }
  return 0;
}

// A Log in kLogDir on a MemStorage.
class LogFixture : public ::testing::Test {
 protected:
  // Closes the current Log (if any) and opens the directory again.
  IOStatus Reopen(const LogOptions& options) {
    log_.reset();
    info_ = RecoveryInfo();
    return Log::Open(&storage_, kLogDir, options, &log_, &info_);
  }
  void Open(const LogOptions& options = SmallSegments()) {
    IOStatus s = Reopen(options);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  uint64_t Create(const std::string& name) {
    uint64_t id = 0;
    IOStatus s = log_->Create(name, &id);
    EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
    return id;
  }
  // Appends to a file known by name.
  void Append(const std::string& name, const std::string& data) {
    ASSERT_NE(nullptr, log_) << "the log is not open";
    FileInfo info;
    ASSERT_TRUE(log_->Lookup(name, &info)) << name;
    IOStatus s = log_->Append(info.id, data);
    ASSERT_TRUE(s.ok()) << name << ": " << s.ToString();
  }
  // Appends to filler.log until the head segment has less than `room`
  // bytes left (but at least room - 8 - a frame header).
  void FillHead(uint64_t room) {
    ASSERT_NE(nullptr, log_) << "the log is not open";
    FileInfo filler;
    if (!log_->Lookup("filler.log", &filler)) {
      ASSERT_TRUE(log_->Create("filler.log", &filler.id).ok());
    }
    const uint64_t size = log_->options().segment_size;
    for (uint64_t used = log_->GetStats().head_segment_bytes;
         size - used >= room; used = log_->GetStats().head_segment_bytes) {
      const uint64_t n = std::min<uint64_t>(2000, size - used - room + 8);
      ASSERT_TRUE(log_->Append(filler.id, Pattern(n, 1)).ok());
    }
  }
  // Power loss (or kill) while the Log runs: its threads and destructor
  // cannot touch the storage once the machine stops.
  void Crash(CrashMode mode, std::mt19937_64* rng) {
    storage_.PowerOff();
    log_.reset();
    storage_.Crash(mode, rng);
  }

  static std::string SegmentPath(uint64_t id) {
    return std::string(kLogDir) + "/" + SegmentFileName(id);
  }
  // Ids of the segment files ("*.seg") in the log directory, ascending.
  std::vector<uint64_t> SegmentIds() {
    std::vector<std::string> names;
    EXPECT_TRUE(storage_.ListDir(kLogDir, &names).ok());
    std::vector<uint64_t> ids;
    for (const std::string& name : names) {
      uint64_t id = 0;
      if (ParseSegmentFileName(name, &id)) ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  std::string SegmentImage(uint64_t id) {
    return storage_.Contents(SegmentPath(id));
  }
  void FlipByte(const std::string& path, uint64_t offset) {
    const std::string image = storage_.Contents(path);
    ASSERT_LT(offset, image.size()) << path;
    storage_.Corrupt(path, offset, std::string(1, image[offset] ^ 0x40));
  }

  // The files of the log directory (the Log must be closed), to put back
  // with RestoreDir so that one damaged log can be opened several ways.
  using DirImage = std::map<std::string, std::string>;
  DirImage SaveDir() {
    std::vector<std::string> names;
    EXPECT_TRUE(storage_.ListDir(kLogDir, &names).ok());
    DirImage image;
    for (const std::string& name : names) {
      image[name] = storage_.Contents(std::string(kLogDir) + "/" + name);
    }
    return image;
  }
  void RestoreDir(const DirImage& image) {
    log_.reset();
    std::vector<std::string> names;
    ASSERT_TRUE(storage_.ListDir(kLogDir, &names).ok());
    for (const std::string& name : names) {
      ASSERT_TRUE(storage_.Remove(std::string(kLogDir) + "/" + name).ok());
    }
    for (const auto& [name, bytes] : image) {
      std::unique_ptr<StorageFile> file;
      ASSERT_TRUE(storage_
                      .OpenFile(std::string(kLogDir) + "/" + name,
                                /*create=*/true, &file)
                      .ok());
      ASSERT_TRUE(file->Write(0, bytes.data(), bytes.size()).ok());
      ASSERT_TRUE(file->Sync().ok());
    }
    ASSERT_TRUE(storage_.SyncDir(kLogDir).ok());
  }

  MemStorage storage_;
  // For tests that set LogOptions::clock: it outlives log_.
  FakeClock clock_;
  std::unique_ptr<Log> log_;
  RecoveryInfo info_;
};

}  // namespace testing
}  // namespace segwal
