// The names of the files in a log directory, built and parsed in one place.
//
//   LOCK                              held (flock) by the process writing the log
//   LOG                               the log's own text log (options, recovery,
//                                     periodic stats)
//   <20-digit id>.seg                 a segment: active, or prepared and unused
//   <20-digit id>.free                a reclaimed segment awaiting recycling
//   <20-digit id>.seg.quarantined     set aside by recovery (damage)
//
// Ids are decimal, zero-padded to 20 digits so that names sort as ids do;
// id 0 is never a segment (it means "none" in segment headers).
#pragma once

#include <cstdint>
#include <string>

namespace segwal {

constexpr char kLockFileName[] = "LOCK";
constexpr char kInfoLogFileName[] = "LOG";

std::string SegmentFileName(uint64_t segment_id);
std::string FreeSegmentFileName(uint64_t segment_id);
std::string QuarantinedSegmentFileName(uint64_t segment_id);

// What a base name in a log directory is.
enum class LogFileKind {
  kOther,        // not the log's (left alone)
  kSegment,
  kFreeSegment,
  kQuarantined,
  kLock,
  kInfoLog,
};
// The kind of `name`; *segment_id is set for the three segment kinds.
LogFileKind ClassifyLogFile(const std::string& name, uint64_t* segment_id);

// Shorthands of ClassifyLogFile for one kind.
bool ParseSegmentFileName(const std::string& name, uint64_t* segment_id);
bool ParseFreeSegmentFileName(const std::string& name, uint64_t* segment_id);

}  // namespace segwal
