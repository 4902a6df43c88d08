// libFuzzer target: the recovery scanner and Log::Open on arbitrary segment
// files. The input (format in fuzz_common.h) becomes up to three segment
// files in a MemStorage log directory; ScanLog runs in every recovery mode,
// then Log::Open in every mode on a fresh copy, and every logical file it
// recovered is read back. Any malformed input must come out as a Status:
// no crash, no sanitizer report, no allocation beyond -malloc_limit_mb.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <memory>
#include <string>

#include "env/format/crc32c.h"
#include "env/format/file_names.h"
#include "env/format/format.h"
#include "env/engine/log.h"
#include "env/recovery/scanner.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/support/mem_storage.h"
#include "tests/support/scan_summary.h"

namespace segwal {
namespace fuzz {
namespace {

using testing::MemStorage;

constexpr char kDir[] = "/log";
// Bytes read back from all recovered files of one input at most (a frame
// may claim a file of any size; reading it all would only test patience).
constexpr uint64_t kReadBudget = 4 << 20;
// A scan's read size that puts frames across read boundaries.
constexpr size_t kSmallReads = 67;

// Recomputes the segment header checksum (if the magic is there) and the
// checksums of every frame from the first block on, as far as the frame
// lengths lead, as the segment's format version lays frames out.
void FixChecksums(std::string* image) {
  if (image->size() < kSegmentHeaderSize) return;
  char* p = &(*image)[0];
  if (std::memcmp(p, kSegmentMagic, sizeof(kSegmentMagic)) != 0) return;
  PutFixed32(p + 60, crc32c::Mask(crc32c::Value(p, 60)));
  const uint32_t version = GetFixed32(p + 8);
  const uint32_t seed = SegmentSeed(GetFixed64(p + 24), GetFixed64(p + 16));
  uint64_t off = kSegmentHeaderBlock;
  while (off < image->size()) {
    char* frame = p + off;
    FrameHeader h;
    if (version == 1) {
      if (off + kFrameHeaderSizeV1 > image->size()) break;
      bool zero = true;
      for (size_t i = 0; i < kFrameHeaderSizeV1 && zero; ++i) {
        zero = frame[i] == 0;
      }
      if (zero) break;
      h.stored_len = GetFixed32(frame + 4);
      if (off + kFrameHeaderSizeV1 + h.stored_len > image->size()) break;
      PutFixed32(frame + 36,
                 PayloadChecksumV1(frame + kFrameHeaderSizeV1, h.stored_len));
      PutFixed32(frame, crc32c::Mask(crc32c::Extend(
                            seed, frame + 4, kFrameHeaderSizeV1 - 4)));
      off += FrameFootprint(1, h);
      continue;
    }
    const FrameCheck layout =
        ParseFrameHeaderV2(frame, image->size() - off, off, &h, version);
    if (layout != FrameCheck::kValid && layout != FrameCheck::kBadField) break;
    if (off + h.header_len + h.stored_len > image->size()) break;
    SealFrameV2(frame, h, seed);
    off += FrameFootprint(2, h);
  }
}

std::unique_ptr<MemStorage> BuildStorage(const Segments& in) {
  auto storage = std::make_unique<MemStorage>();
  if (!storage->CreateDirIfMissing(kDir).ok()) abort();
  uint64_t prev_end = 0;
  for (size_t i = 0; i < in.chunks.size(); ++i) {
    const uint64_t id = i + 1;
    std::string image;
    if (in.flags & kFlagRaw) {
      image = in.chunks[i];
    } else {
      SegmentHeader h;
      h.segment_id = id;
      h.log_uid = kLogUid;
      h.segment_size = kMinSegmentSize;
      h.prev_segment_id = i;
      h.prev_segment_end = i == 0 ? 0 : prev_end;
      h.created_unix_time = 1700000000;
      h.version = (in.flags & kFlagVersion1)   ? 1
                  : (in.flags & kFlagVersion3) ? 3
                                               : kFormatVersion;
      image.assign(kSegmentHeaderBlock, '\0');
      EncodeSegmentHeader(h, &image[0]);
      image += in.chunks[i];
      prev_end = image.size();
    }
    if (in.flags & kFlagFixChecksums) FixChecksums(&image);
    std::unique_ptr<StorageFile> file;
    const std::string path = std::string(kDir) + "/" + SegmentFileName(id);
    if (!storage->OpenFile(path, true, &file).ok() ||
        !file->Write(0, image.data(), image.size()).ok() ||
        !file->Sync().ok()) {
      abort();
    }
  }
  if (in.flags & kFlagFreeFile) {
    std::unique_ptr<StorageFile> file;
    const std::string path =
        std::string(kDir) + "/" + FreeSegmentFileName(in.chunks.size() + 1);
    if (!storage->OpenFile(path, true, &file).ok()) abort();
  }
  if (!storage->SyncDir(kDir).ok()) abort();
  return storage;
}

constexpr RecoveryMode kModes[] = {
    RecoveryMode::kTolerateCorruptedTailRecords,
    RecoveryMode::kAbsoluteConsistency, RecoveryMode::kPointInTimeRecovery,
    RecoveryMode::kSkipAnyCorruptedRecords};

void ReadEverything(Log* log) {
  uint64_t budget = kReadBudget;
  std::string buf(64 << 10, '\0');
  for (const FileInfo& info : log->List()) {
    ReadCache cache;
    uint64_t offset = 0;
    while (budget > 0 && offset < info.size) {
      const size_t n = static_cast<size_t>(
          std::min<uint64_t>({buf.size(), budget, info.size - offset}));
      size_t got = 0;
      IOStatus s = log->Read(info.id, offset, n, &buf[0], &got, &cache);
      if (!s.ok() || got == 0) break;
      if (got > n) abort();
      offset += got;
      budget -= got;
    }
    // A positioned read from the middle, with a fresh cache.
    if (info.size > 0) {
      ReadCache fresh;
      size_t got = 0;
      (void)log->Read(info.id, info.size / 2, 100, &buf[0], &got, &fresh);
    }
  }
}

}  // namespace
}  // namespace fuzz
}  // namespace segwal

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segwal;
  using namespace segwal::fuzz;
  const Segments in = SplitInput(data, size);

  std::unique_ptr<segwal::testing::MemStorage> storage = BuildStorage(in);
  for (RecoveryMode mode : kModes) {
    // Read whole, and in reads of a few bytes (frames across every read
    // boundary): the scan must decide alike.
    std::string summaries[2];
    for (size_t chunk : {kScanReadChunk, kSmallReads}) {
      RecoveryModePolicy policy(mode);
      ScanResult result;
      RecoveryInfo info;
      IOStatus s = ScanLog(storage.get(), kDir, &policy, &result, &info, chunk);
      summaries[chunk == kSmallReads] =
          segwal::testing::ScanSummary(s, result, info);
    }
    if (summaries[0] != summaries[1]) {
      fprintf(stderr, "scan (%s) depends on its read size:\n%s\n---\n%s\n",
              RecoveryModeName(mode), summaries[0].c_str(),
              summaries[1].c_str());
      abort();
    }
  }

  for (RecoveryMode mode : kModes) {
    std::unique_ptr<segwal::testing::MemStorage> copy = BuildStorage(in);
    LogOptions options;
    options.segment_size = kMinSegmentSize;
    options.background_prepare = false;
    options.background_housekeeping = false;
    options.recovery_mode = mode;
    std::unique_ptr<Log> log;
    RecoveryInfo info;
    IOStatus s = Log::Open(copy.get(), kDir, options, &log, &info);
    if (!s.ok()) continue;
    ReadEverything(log.get());
    // What was recovered must be writable and recoverable again.
    uint64_t id = 0;
    if (log->Create("fuzz-new.log", &id).ok()) {
      (void)log->Append(id, Slice("after recovery"));
      (void)log->SyncAll();
    }
    (void)log->Housekeep();
    log.reset();
    s = Log::Open(copy.get(), kDir, options, &log, &info);
    if (!s.ok()) {
      fprintf(stderr, "reopen after a successful recovery failed (%s): %s\n",
              RecoveryModeName(mode), s.ToString().c_str());
      abort();
    }
    ReadEverything(log.get());
  }
  return 0;
}
