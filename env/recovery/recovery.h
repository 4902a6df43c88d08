// The recovery scan: reads every segment of a log directory, verifies every
// frame in order, rebuilds the file table and decides, by the recovery mode,
// what each piece of damage means. It only reads; Log::Open carries out what
// the scan decided (cutting the tail durably, quarantining, repairing).
//
// Damage is told apart from a torn tail by the durable marks frames carry:
// damage at offset X of the newest segment is a torn tail only if no later
// valid frame records that X had already been durable.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "env/engine/file_table.h"
#include "env/engine/log_options.h"
#include "env/storage/storage.h"

namespace segwal {

struct ScannedSegment {
  uint64_t id = 0;
  SegmentHeader header;
  std::shared_ptr<StorageFile> file;
  uint64_t end = 0;  // just past the last frame recovery kept
};

// A change recovery made to a logical file, which Log::Open persists.
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

// Scans the log in `dir`. Fails with the damage (segment, offset, reason)
// when the mode does not tolerate it, NotSupported for a format version this
// build cannot read, and an IOError when reading fails.
IOStatus ScanLog(Storage* storage, const std::string& dir, RecoveryMode mode,
                 ScanResult* result, RecoveryInfo* info);

// Free (reclaimed) segment files: "<20-digit id>.free".
std::string FreeSegmentFileName(uint64_t segment_id);
bool ParseFreeSegmentFileName(const std::string& name, uint64_t* segment_id);

}  // namespace segwal
