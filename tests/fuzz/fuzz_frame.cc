// libFuzzer target: the frame decoder, the file table (every frame type,
// snapshots included) and the payload codecs on arbitrary bytes.
//
// Input: byte 0 selects what to exercise:
//   even: a sequence of frames of format version 4 (bits 2-4 clear), 3
//         (bit 4 set), 2 (bit 3 set) or 1 (bit 2 set). With bit 1 clear
//         the bytes are decoded as they are, each at the segment offset
//         4096 + its position in the input (a frame that does not check
//         out is stepped over by a byte); with bit 1 set each frame's
//         fields are taken from the input and encoded as the writer does
//         (in version 4 at a segment offset also taken from the input, the
//         durable mark relative to it), and must decode to the same
//         fields.
//         Valid frames reach FileTable::Apply. The table must survive any
//         sequence; then its snapshot must replay into an empty table and
//         agree with itself.
//   odd:  the payload codecs. Byte 1 % 6 picks one: 0-3 DecompressPayload
//         (none, lz4v2, zstdv2, unknown) with bytes 2-4 raw_len (at most
//         kMaxDataFramePayload, as recovery enforces), the rest the stored
//         payload; 4-5 a GroupDecoder (lz4, zstd group) fed a sequence of
//         frames, each [flags u8 (bit 0: starts a group)] [raw_len u24]
//         [stored length u16] [stored bytes]. What decodes must encode
//         with a GroupEncoder and decode again to the same bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "env/format/codec.h"
#include "env/format/group_codec.h"
#include "env/format/crc32c.h"
#include "env/table/file_table.h"
#include "env/format/format.h"

namespace {

using namespace segwal;

constexpr uint32_t kSeed = 0x12345678;

// Reads `n` little-endian bytes at *pos (zeros past the end).
uint64_t Take(const uint8_t* data, size_t size, size_t* pos, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i, ++*pos) {
    if (*pos < size) v |= static_cast<uint64_t>(data[*pos]) << (8 * i);
  }
  return v;
}

// The next frame of the input, as `version` lays it out: the bytes as they
// are (fix false), or (fix true) fields taken from the input and encoded
// as the writer would, which must then decode to the same fields. False
// when the input is used up.
bool NextFrame(uint32_t version, bool fix, const uint8_t* data, size_t size,
               size_t* pos, FrameHeader* h, std::string* frame) {
  if (*pos >= size) return false;
  const char* at = reinterpret_cast<const char*>(data) + *pos;
  if (!fix) {
    FrameCheck check = DecodeFrameHeader(version, at, size - *pos, kSeed,
                                         kSegmentHeaderBlock + *pos, h);
    if (check == FrameCheck::kValid && h->durable_mark != 0 &&
        version >= 4 && h->durable_mark > kSegmentHeaderBlock + *pos) {
      fprintf(stderr, "a version-4 durable mark past its frame decoded\n");
      abort();
    }
    (void)FrameCheckName(check);
    if (check != FrameCheck::kValid ||
        FrameFootprint(version, *h) > size - *pos) {
      ++*pos;
      frame->clear();
      return true;
    }
    frame->assign(at, h->header_len + h->stored_len);
    if (!VerifyFrame(version, frame->data(), *h, kSeed)) frame->clear();
    *pos += FrameFootprint(version, *h);
    return true;
  }
  FrameHeader in;
  in.type = static_cast<uint8_t>(Take(data, size, pos, 1));
  if (version >= 2) {
    // Four bits of type, 0 never written; 12-15 read back as safe to
    // ignore.
    in.type = std::max<uint8_t>(1, in.type & 0x0f);
    if (in.type >= 12) in.type |= kFrameTypeSafeToIgnore;
  }
  const uint8_t flags = static_cast<uint8_t>(Take(data, size, pos, 1));
  // Version 1 stores the codec as a byte (0-2 known), later ones as a
  // field of two bits.
  in.codec = version != 1 ? CodecFromField(version, flags & 3)
             : (flags & 3) == 3 ? Codec::kUnknown
                                : static_cast<Codec>(flags & 3);
  in.has_offset = (flags & 4) != 0;
  if (IsGroupCodec(in.codec)) {
    in.prev = static_cast<uint32_t>(Take(data, size, pos, 3)) % kMaxGroupSpan;
  }
  in.file_id = Take(data, size, pos, 1);
  in.offset = Take(data, size, pos, 3);
  in.durable_mark = static_cast<uint32_t>(Take(data, size, pos, 3));
  in.raw_len = static_cast<uint32_t>(Take(data, size, pos, 3));
  // Version 4: where the frame sits, which its durable mark is relative
  // to; the mark the writer would record (none, or at most the frame's
  // offset) and whether the type has an offset field.
  uint64_t frame_offset = kSegmentHeaderBlock;
  uint32_t want_mark = in.durable_mark;
  bool want_offset = in.has_offset;
  if (version >= 4) {
    frame_offset += Take(data, size, pos, 4) %
                    (kMaxSegmentSize - kSegmentHeaderBlock);
    if (want_mark > frame_offset) want_mark = static_cast<uint32_t>(frame_offset);
    want_offset = TypeHasOffset(in.type);
  }
  const size_t want = static_cast<size_t>(Take(data, size, pos, 2));
  const size_t n = std::min(want, size - std::min(size, *pos));
  const Slice payload(reinterpret_cast<const char*>(data) + *pos, n);
  *pos += n;
  frame->clear();
  if (version == 1) {
    in.stored_len = static_cast<uint32_t>(n);
    if (in.codec == Codec::kNone) in.raw_len = in.stored_len;
    in.crc = PayloadChecksumV1(payload.data(), n);
    frame->resize(kFrameHeaderSizeV1);
    EncodeFrameHeaderV1(in, kSeed, &(*frame)[0]);
    frame->append(payload.data(), n);
    in.has_offset = true;
    in.header_len = kFrameHeaderSizeV1;
  } else {
    EncodeFrame(&in, payload, kSeed, frame_offset, frame, version);
    if (in.durable_mark != want_mark || in.has_offset != want_offset) {
      fprintf(stderr, "the encoder recorded another mark or offset\n");
      abort();
    }
  }
  if (DecodeFrameHeader(version, frame->data(), frame->size(), kSeed,
                        frame_offset, h) != FrameCheck::kValid ||
      !VerifyFrame(version, frame->data(), *h, kSeed) ||
      h->type != in.type || h->codec != in.codec ||
      h->file_id != in.file_id || h->has_offset != in.has_offset ||
      (h->has_offset && h->offset != in.offset) ||
      h->durable_mark != in.durable_mark || h->stored_len != n ||
      h->prev != in.prev ||
      h->header_len != in.header_len) {
    fprintf(stderr, "a frame encoded as the writer does fails to decode\n");
    abort();
  }
  return true;
}

void FuzzFrames(const uint8_t* data, size_t size, uint32_t version,
                bool fix) {
  FileTable table;
  size_t pos = 0;
  uint64_t frame_offset = kSegmentHeaderBlock;
  int frames = 0;
  FrameHeader h;
  std::string frame;
  while (frames < 256 && NextFrame(version, fix, data, size, &pos, &h,
                                   &frame)) {
    if (frame.empty()) continue;
    const Slice payload(frame.data() + h.header_len, h.stored_len);
    FrameLocation where;
    where.segment_id = 1 + frames / 16;
    where.frame_offset = static_cast<uint32_t>(frame_offset);
    where.unix_time = 1700000000 + frames;
    frame_offset += FrameFootprint(version, h);
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
  sh.has_offset = false;
  std::string encoded;
  EncodeFrame(&sh, snapshot, kSeed, kSegmentHeaderBlock, &encoded);
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

void FuzzWholeCodec(const uint8_t* data, size_t size, Codec codec) {
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

// Frames of arbitrary bytes through one GroupDecoder, which must refuse
// what does not decode (never read or write out of bounds, never allocate
// past its bound); the bytes of the frames that decoded, in order, must
// survive a GroupEncoder and a fresh GroupDecoder.
void FuzzGroupCodec(const uint8_t* data, size_t size, Codec codec) {
  GroupDecoder decoder;
  std::vector<std::string> decoded;
  size_t pos = 2;
  for (int frames = 0; frames < 64 && pos < size; ++frames) {
    const bool start = (Take(data, size, &pos, 1) & 1) != 0;
    const uint32_t raw_len = static_cast<uint32_t>(
        std::min<uint64_t>(Take(data, size, &pos, 3), kMaxDataFramePayload));
    const size_t want = static_cast<size_t>(Take(data, size, &pos, 2));
    const size_t n = std::min(want, size - std::min(size, pos));
    const Slice stored(reinterpret_cast<const char*>(data) + pos, n);
    pos += n;
    std::string dst(raw_len, '\0');
    if (decoder.Decode(codec, start, stored, &dst[0], raw_len).ok()) {
      if (start) decoded.clear();
      decoded.push_back(std::move(dst));
    } else {
      decoded.clear();  // the group is broken: only a new start decodes
    }
  }
  GroupEncoder encoder(codec, 0, kMaxGroupRawBytes);
  GroupDecoder again;
  for (size_t i = 0; i < decoded.size(); ++i) {
    std::string stored;
    const bool start = encoder.Compress(decoded[i], &stored);
    std::string back(decoded[i].size(), '\0');
    if ((i == 0 && !start) ||
        !again.Decode(codec, start, stored, &back[0], back.size()).ok() ||
        back != decoded[i]) {
      fprintf(stderr, "group codec round trip failed at frame %zu\n", i);
      abort();
    }
  }
}

void FuzzCodec(const uint8_t* data, size_t size) {
  if (size < 5) return;
  switch (data[1] % 6) {
    case 4: return FuzzGroupCodec(data, size, Codec::kLz4Group);
    case 5: return FuzzGroupCodec(data, size, Codec::kZstdGroup);
    case 3: return FuzzWholeCodec(data, size, static_cast<Codec>(9));
    default: return FuzzWholeCodec(data, size, static_cast<Codec>(data[1] % 6));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] & 1) {
    FuzzCodec(data, size);
  } else {
    const uint32_t version = (data[0] & 4) != 0    ? 1
                             : (data[0] & 8) != 0  ? 2
                             : (data[0] & 16) != 0 ? 3
                                                   : 4;
    FuzzFrames(data + 1, size - 1, version, (data[0] & 2) != 0);
  }
  return 0;
}
