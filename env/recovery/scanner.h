// The recovery scan: reads every segment of a log directory, verifies every
// frame in order and rebuilds the file table. It only reads and detects:
// each piece of damage goes to a DamageReporter, which decides whether the
// scan fails, stops or skips it (env/recovery/damage.h). What the scan
// decided to change (a torn tail cut durably, segments set aside, repairs)
// is returned in ScanResult for the engine to carry out at its first
// change (env/engine/recovery_apply.h).
//
// A torn tail is told apart from damage by the durable marks frames carry:
// damage at offset X of the newest segment is a torn tail only if no later
// valid frame records that X had already been durable.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "env/format/format.h"
#include "env/recovery/damage.h"
#include "env/recovery/recovery_mode.h"
#include "env/storage/storage.h"
#include "env/table/file_table.h"

namespace segwal {

struct ScannedSegment {
  uint64_t id = 0;
  SegmentHeader header;
  std::shared_ptr<StorageFile> file;
  uint64_t end = 0;  // just past the last frame recovery kept
  uint64_t file_size = 0;
  // The newest segment only: past `end` lies no frame of this segment
  // that checks out and no torn frame of ours (only zeros or bytes of
  // another life), so writing may go on at `end`.
  bool clean_tail = false;
  // Its first frame is a file-table snapshot, as a writer puts at the start
  // of every segment: the segments before it may then go.
  bool opens_with_snapshot = false;
};

// A change recovery made to a logical file, which the engine persists.
struct Repair {
  uint64_t file_id = 0;
  uint64_t start = 0;
  uint64_t end = 0;
  bool zero_fill = false;  // fill [start, end) with zeros; else cut at start
};

struct ScanResult {
  std::vector<ScannedSegment> segments;  // ascending; the last is the head
  FileTable table;
  uint64_t log_uid = 0;                  // 0: no segment yet (a new log)
  uint64_t max_segment_id = 0;           // over every segment file seen
  std::vector<uint64_t> unused_segments;  // prepared or recycled, no data
  std::vector<uint64_t> free_segments;    // reclaimed, awaiting reuse
  std::vector<uint64_t> quarantine;       // segments recovery gave up on
  std::vector<Repair> repairs;
};

// Scans the log in `dir`, telling `reporter` of every piece of damage.
// Fails with the damage (segment, offset, reason, and the reporter's
// advice) when the reporter says kFail, NotSupported for a format version
// this build cannot read, and an IOError when reading fails. Damage the
// reporter lets pass is listed in info->damages.
//
// Each segment is read `read_chunk` bytes at a time, a read ahead of the
// checks (tests pass small reads to put frames across read boundaries; the
// result never depends on it).
constexpr size_t kScanReadChunk = 4 << 20;
IOStatus ScanLog(Storage* storage, const std::string& dir,
                 DamageReporter* reporter, ScanResult* result,
                 RecoveryInfo* info, size_t read_chunk = kScanReadChunk);

// The same with the policy of a recovery mode.
IOStatus ScanLog(Storage* storage, const std::string& dir, RecoveryMode mode,
                 ScanResult* result, RecoveryInfo* info);

}  // namespace segwal
