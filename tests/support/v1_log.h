// Writes a log as segwal's format version 1 laid it out (40-byte frame
// headers, 8-byte aligned, a checksum for the header and one for the
// payload), so that tests and fuzz seeds can check that logs written
// before an upgrade still open and read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "env/format/file_names.h"
#include "env/format/format.h"
#include "env/storage/storage.h"
#include "env/table/file_table.h"

namespace segwal {
namespace testing {

class V1SegmentWriter {
 public:
  // A segment with the file-table snapshot `snapshot` (a FileTable's
  // EncodeSnapshot) as its first frame.
  V1SegmentWriter(uint64_t log_uid, uint64_t segment_id,
                  uint64_t segment_size, uint64_t prev_id, uint64_t prev_end,
                  const std::string& snapshot)
      : seed_(SegmentSeed(log_uid, segment_id)) {
    SegmentHeader header;
    header.version = 1;
    header.segment_id = segment_id;
    header.log_uid = log_uid;
    header.segment_size = segment_size;
    header.prev_segment_id = prev_id;
    header.prev_segment_end = prev_end;
    header.created_unix_time = 1700000000;
    image_.assign(kSegmentHeaderBlock, '\0');
    EncodeSegmentHeader(header, &image_[0]);
    Frame(FrameType::kSnapshot, 0, 0, snapshot);
  }

  // Appends one frame; durable marks say everything before it is durable.
  void Frame(FrameType type, uint64_t file_id, uint64_t offset,
             const std::string& payload) {
    FrameHeader h;
    h.type = static_cast<uint8_t>(type);
    h.file_id = file_id;
    h.offset = offset;
    h.stored_len = h.raw_len = static_cast<uint32_t>(payload.size());
    h.durable_mark = static_cast<uint32_t>(image_.size());
    h.crc = PayloadChecksumV1(payload.data(), payload.size());
    const size_t start = image_.size();
    image_.resize(start + kFrameHeaderSizeV1);
    EncodeFrameHeaderV1(h, seed_, &image_[start]);
    image_ += payload;
    image_.resize(start + FrameFootprint(1, h), '\0');
  }

  const std::string& image() const { return image_; }
  uint64_t end() const { return image_.size(); }

 private:
  const uint32_t seed_;
  std::string image_;
};

// Writes `image` as segment `id` of the log in `dir`, padded with zeros to
// `segment_size`.
inline IOStatus PutSegment(Storage* storage, const std::string& dir,
                           uint64_t id, std::string image,
                           uint64_t segment_size) {
  image.resize(segment_size, '\0');
  std::unique_ptr<StorageFile> file;
  IOStatus s = storage->CreateDirIfMissing(dir);
  if (s.ok()) {
    s = storage->OpenFile(dir + "/" + SegmentFileName(id), true, &file);
  }
  if (s.ok()) s = file->Write(0, image.data(), image.size());
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = storage->SyncDir(dir);
  return s;
}

}  // namespace testing
}  // namespace segwal
