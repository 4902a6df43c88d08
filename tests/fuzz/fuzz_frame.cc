// libFuzzer target: the frame decoder, the file table (every frame type,
// snapshots included) and the payload codecs on arbitrary bytes.
//
// Input: byte 0 selects what to exercise:
//   even: a sequence of frames, each a 40-byte header (its checksums are
//         fixed up when bit 1 of byte 0 is set, so that DecodeFrameHeader
//         accepts it and the fields reach FileTable::Apply) and the payload
//         bytes the header claims (as many as there are). The table must
//         survive any sequence; then its snapshot must replay into an
//         empty table and agree with itself.
//   odd:  DecompressPayload: byte 1 the codec, bytes 2-4 raw_len (at most
//         kMaxDataFramePayload, as recovery enforces), the rest the stored
//         payload.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "env/format/codec.h"
#include "env/format/crc32c.h"
#include "env/table/file_table.h"
#include "env/format/format.h"

namespace {

using namespace segwal;

constexpr uint32_t kSeed = 0x12345678;

void FuzzFrames(const uint8_t* data, size_t size, bool fix) {
  FileTable table;
  size_t pos = 0;
  uint64_t frame_offset = kSegmentHeaderBlock;
  int frames = 0;
  while (pos + kFrameHeaderSize <= size && frames < 256) {
    std::string header(reinterpret_cast<const char*>(data) + pos,
                       kFrameHeaderSize);
    pos += kFrameHeaderSize;
    const uint32_t claimed = GetFixed32(&header[4]);
    const size_t n = std::min<size_t>(claimed, size - pos);
    Slice payload(reinterpret_cast<const char*>(data) + pos, n);
    pos += n;
    if (fix) {
      // The payload as far as it is there; the length stays as claimed
      // only if that many bytes followed.
      PutFixed32(&header[4], static_cast<uint32_t>(n));
      header[10] = header[11] = 0;
      PutFixed32(&header[36], PayloadChecksum(payload.data(), n));
      PutFixed32(&header[0],
                 crc32c::Mask(crc32c::Extend(kSeed, header.data() + 4,
                                             kFrameHeaderSize - 4)));
    }
    FrameHeader h;
    FrameCheck check = DecodeFrameHeader(header.data(), kSeed, &h);
    (void)FrameCheckName(check);
    if (check != FrameCheck::kValid) continue;
    if (h.stored_len != n) continue;  // recovery never passes a short one
    FrameLocation where;
    where.segment_id = 1 + frames / 16;
    where.frame_offset = static_cast<uint32_t>(frame_offset);
    where.unix_time = 1700000000 + frames;
    frame_offset += FrameFootprint(h.stored_len);
    ++frames;
    (void)table.Apply(h, payload, where);
    // Exercise the queries after every step.
    (void)table.LiveBytes(where.segment_id);
    (void)table.ExtentsIn(where.segment_id);
  }
  uint64_t file_id, start, end;
  for (int i = 0; i < 4 && table.FindHole(&file_id, &start, &end); ++i) {
    if (end <= start) {
      fprintf(stderr, "FindHole returned an empty range\n");
      abort();
    }
    // Filling costs an extent per kMaxDataFramePayload bytes; recovery
    // bounds what it fills (recovery.cc CheckFiles), and so does this.
    if (end - start > (uint64_t{64} << 20)) break;
    table.FillHole(file_id, start, end);
  }
  const std::vector<FileInfo> files = table.List();
  for (const FileInfo& f : files) {
    table.AddHandle(f.id);
    table.ReleaseHandle(f.id);
  }

  // The snapshot of any table replays into an empty one, listing the same
  // files.
  const std::string snapshot = table.EncodeSnapshot();
  FrameHeader sh;
  sh.type = static_cast<uint8_t>(FrameType::kSnapshot);
  sh.stored_len = sh.raw_len = static_cast<uint32_t>(snapshot.size());
  sh.payload_crc = PayloadChecksum(snapshot.data(), snapshot.size());
  FileTable replay;
  FrameLocation where;
  where.segment_id = 100;
  where.frame_offset = kSegmentHeaderBlock;
  IOStatus s = replay.Apply(sh, snapshot, where);
  if (!s.ok()) {
    fprintf(stderr, "snapshot does not replay: %s\n", s.ToString().c_str());
    abort();
  }
  const std::vector<FileInfo> again = replay.List();
  if (again.size() != files.size()) {
    fprintf(stderr, "snapshot replay lists %zu files, table %zu\n",
            again.size(), files.size());
    abort();
  }
}

void FuzzCodec(const uint8_t* data, size_t size) {
  if (size < 5) return;
  const Codec codec = static_cast<Codec>(data[1] % 4);  // 3: unknown
  uint32_t raw_len = data[2] | (data[3] << 8) | (data[4] << 16);
  raw_len = std::min<uint32_t>(raw_len, kMaxDataFramePayload);
  Slice stored(reinterpret_cast<const char*>(data) + 5, size - 5);
  std::string dst(raw_len, '\0');
  IOStatus s = DecompressPayload(codec, stored, &dst[0], raw_len);
  if (s.ok() && codec != Codec::kNone) {
    // What decoded must re-encode and decode to the same bytes.
    std::string again;
    if (CompressPayload(codec, 0, dst, &again)) {
      std::string back(raw_len, '\0');
      if (!DecompressPayload(codec, again, &back[0], raw_len).ok() ||
          back != dst) {
        fprintf(stderr, "codec round trip failed\n");
        abort();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] & 1) {
    FuzzCodec(data, size);
  } else {
    FuzzFrames(data + 1, size - 1, (data[0] & 2) != 0);
  }
  return 0;
}
