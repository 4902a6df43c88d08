// Writes seed corpora for the fuzz targets from real logs written by the
// engine (on MemStorage): make_seeds <recovery corpus dir> <frame corpus dir>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "env/format/codec.h"
#include "env/format/group_codec.h"
#include "env/format/file_names.h"
#include "env/format/format.h"
#include "env/engine/log.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/support/v1_log.h"
#include "tests/support/mem_storage.h"

using namespace segwal;

namespace {

void Check(const IOStatus& s, const char* what) {
  if (!s.ok()) {
    fprintf(stderr, "make_seeds: %s: %s\n", what, s.ToString().c_str());
    exit(1);
  }
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) {
    fprintf(stderr, "make_seeds: cannot write %s\n", path.c_str());
    exit(1);
  }
}

std::string Text(size_t n, unsigned seed) {
  static const char* const kWords[] = {"put ", "key ", "value ", "batch ",
                                       "0123 ", "ffff "};
  std::string out;
  while (out.size() < n) out += kWords[(seed = seed * 1103515245 + 12345) % 6];
  out.resize(n);
  return out;
}

// Segment images of a log that exercised every frame type, trailing zeros
// cut (kept 8-byte aligned).
std::vector<std::string> WriteLog(Codec codec, int appends) {
  testing::MemStorage storage;
  Check(storage.CreateDirIfMissing("/log"), "mkdir");
  LogOptions options;
  options.segment_size = kMinSegmentSize;
  options.background_prepare = false;
  options.background_housekeeping = false;
  options.compression = codec;
  options.compression_min_bytes = 16;
  std::unique_ptr<Log> log;
  Check(Log::Open(&storage, "/log", options, &log, nullptr), "open");
  uint64_t a = 0, b = 0, c = 0;
  Check(log->Create("000003.log", &a), "create");
  Check(log->Create("000004.log", &b), "create");
  for (int i = 0; i < appends; ++i) {
    Check(log->Append(i % 2 ? a : b, Text(300 + 97 * (i % 7), i)), "append");
    if (i % 5 == 0) Check(log->SyncAll(), "sync");
  }
  Check(log->Truncate(b, 100), "truncate");
  Check(log->Rename("000004.log", "archive/000004.log"), "rename");
  Check(log->Link("000003.log", "backup/000003.log"), "link");
  Check(log->Create("000005.log", &c), "create");
  Check(log->Append(c, Text(5000, 7)), "append");
  Check(log->Delete("archive/000004.log"), "delete");
  Check(log->SyncAll(), "sync");
  log.reset();
  std::vector<std::string> images;
  for (uint64_t id = 1; id < 64; ++id) {
    std::string image = storage.Contents("/log/" + SegmentFileName(id));
    if (image.empty()) continue;
    size_t end = image.find_last_not_of('\0');
    end = end == std::string::npos ? 0 : end + 1;
    image.resize(std::max<size_t>(end, kSegmentHeaderSize));
    images.push_back(image);
  }
  return images;
}

// The frames of a segment image, each header + payload (no padding).
std::vector<std::string> FramesOf(const std::string& image) {
  std::vector<std::string> frames;
  SegmentHeader sh;
  uint32_t version = 0;
  if (DecodeSegmentHeader(image.data(), image.size(), &sh, &version) !=
      HeaderCheck::kValid) {
    return frames;
  }
  const uint32_t seed = SegmentSeed(sh.log_uid, sh.segment_id);
  uint64_t off = kSegmentHeaderBlock;
  while (off < image.size()) {
    FrameHeader h;
    if (DecodeFrameHeader(version, image.data() + off, image.size() - off,
                          seed, off, &h) != FrameCheck::kValid ||
        off + h.header_len + h.stored_len > image.size()) {
      break;
    }
    frames.push_back(image.substr(off, h.header_len + h.stored_len));
    off += FrameFootprint(version, h);
  }
  return frames;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: make_seeds <recovery dir> <frame dir>\n");
    return 2;
  }
  const std::string rdir = argv[1], fdir = argv[2];
  mkdir(rdir.c_str(), 0755);
  mkdir(fdir.c_str(), 0755);
  int n = 0;
  for (Codec codec : {Codec::kNone, Codec::kLz4Group, Codec::kZstdGroup}) {
    std::vector<std::string> images = WriteLog(codec, 40 + 20 * n);
    if (images.size() > 3) images.erase(images.begin(), images.end() - 3);
    const std::string tag = CodecName(codec);
    const uint8_t count = static_cast<uint8_t>(images.size() - 1);
    // Whole segments as written.
    WriteFile(rdir + "/real-" + tag,
              fuzz::JoinInput(fuzz::kFlagRaw | count, images));
    WriteFile(rdir + "/real-fix-" + tag,
              fuzz::JoinInput(fuzz::kFlagRaw | fuzz::kFlagFixChecksums |
                                  fuzz::kFlagFreeFile | count,
                              images));
    // The frames only, behind generated headers (checksums fixed up).
    std::vector<std::string> bodies;
    for (const std::string& image : images) {
      bodies.push_back(image.size() > kSegmentHeaderBlock
                           ? image.substr(kSegmentHeaderBlock)
                           : std::string());
    }
    WriteFile(rdir + "/gen-" + tag,
              fuzz::JoinInput(fuzz::kFlagFixChecksums | count, bodies));
    // Frame target: the frames of the last segment, then codec payloads.
    std::string frames(1, '\0');
    for (const std::string& f : FramesOf(images.back())) frames += f;
    WriteFile(fdir + "/frames-" + tag, frames);
    std::string fixed = frames;
    fixed[0] = 2;
    WriteFile(fdir + "/frames-fix-" + tag, fixed);
    if (codec != Codec::kNone) {
      // Codec target: the whole-payload codec of format version 2 ...
      const Codec whole = codec == Codec::kLz4Group ? Codec::kLz4 : Codec::kZstd;
      const std::string raw = Text(3000, 11);
      std::string stored;
      if (CompressPayload(whole, 0, raw, &stored)) {
        std::string seed(1, '\1');
        seed.push_back(static_cast<char>(whole));
        seed.push_back(static_cast<char>(raw.size() & 0xff));
        seed.push_back(static_cast<char>((raw.size() >> 8) & 0xff));
        seed.push_back(static_cast<char>((raw.size() >> 16) & 0xff));
        WriteFile(fdir + "/codec-" + CodecName(whole), seed + stored);
      }
      // ... and a group of the group codec, past its first dictionary:
      // [flags][raw_len u24][stored length u16][stored] per frame.
      GroupEncoder encoder(codec, 0, 64 * 1024);
      std::string seed(1, '\1');
      seed.push_back(static_cast<char>(codec == Codec::kLz4Group ? 4 : 5));
      bool second_group = false;
      for (int i = 0; i < 400; ++i) {
        const std::string chunk = Text(200 + 37 * (i % 9), 100 + i);
        std::string out;
        const bool start = encoder.Compress(chunk, &out);
        if (start && i > 0) second_group = true;
        if (!second_group) continue;
        seed.push_back(static_cast<char>(start ? 1 : 0));
        for (int b = 0; b < 3; ++b) {
          seed.push_back(static_cast<char>((chunk.size() >> (8 * b)) & 0xff));
        }
        seed.push_back(static_cast<char>(out.size() & 0xff));
        seed.push_back(static_cast<char>((out.size() >> 8) & 0xff));
        seed += out;
        if (seed.size() > 6000) break;
      }
      WriteFile(fdir + "/group-" + tag, seed);
    }
    ++n;
  }
  // A log as format version 1 wrote it, behind generated version-1
  // headers (checksums fixed up).
  FileTable empty;
  testing::V1SegmentWriter v1(fuzz::kLogUid, 1, kMinSegmentSize, 0, 0,
                              empty.EncodeSnapshot());
  v1.Frame(FrameType::kCreate, 1, 0, "000003.log");
  v1.Frame(FrameType::kData, 1, 0, Text(700, 1));
  v1.Frame(FrameType::kData, 1, 700, Text(300, 2));
  v1.Frame(FrameType::kTruncate, 1, 900, "");
  WriteFile(rdir + "/gen-v1",
            fuzz::JoinInput(fuzz::kFlagVersion1 | fuzz::kFlagFixChecksums,
                            {v1.image().substr(kSegmentHeaderBlock)}));
  WriteFile(rdir + "/empty", std::string(1, '\0'));
  printf("make_seeds: corpora in %s and %s\n", rdir.c_str(), fdir.c_str());
  return 0;
}
