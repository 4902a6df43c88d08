#include "env/format/file_names.h"

#include <cinttypes>
#include <cstdio>

namespace segwal {
namespace {

constexpr size_t kIdDigits = 20;
constexpr char kSegmentSuffix[] = ".seg";
constexpr char kFreeSuffix[] = ".free";
constexpr char kQuarantinedSuffix[] = ".seg.quarantined";

std::string IdName(uint64_t id, const char* suffix) {
  char buf[kIdDigits + 1];
  std::snprintf(buf, sizeof(buf), "%020" PRIu64, id);
  return std::string(buf) + suffix;
}

// `name` is exactly 20 decimal digits naming a non-zero id, then `suffix`.
bool ParseIdName(const std::string& name, const std::string& suffix,
                 uint64_t* id) {
  if (name.size() != kIdDigits + suffix.size() ||
      name.compare(kIdDigits, suffix.size(), suffix) != 0) {
    return false;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < kIdDigits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  if (v == 0) return false;  // id 0 means "no segment" in headers
  *id = v;
  return true;
}

}  // namespace

std::string SegmentFileName(uint64_t segment_id) {
  return IdName(segment_id, kSegmentSuffix);
}

std::string FreeSegmentFileName(uint64_t segment_id) {
  return IdName(segment_id, kFreeSuffix);
}

std::string QuarantinedSegmentFileName(uint64_t segment_id) {
  return IdName(segment_id, kQuarantinedSuffix);
}

LogFileKind ClassifyLogFile(const std::string& name, uint64_t* segment_id) {
  if (name == kLockFileName) return LogFileKind::kLock;
  if (name == kInfoLogFileName) return LogFileKind::kInfoLog;
  if (ParseIdName(name, kSegmentSuffix, segment_id)) {
    return LogFileKind::kSegment;
  }
  if (ParseIdName(name, kFreeSuffix, segment_id)) {
    return LogFileKind::kFreeSegment;
  }
  if (ParseIdName(name, kQuarantinedSuffix, segment_id)) {
    return LogFileKind::kQuarantined;
  }
  return LogFileKind::kOther;
}

bool ParseSegmentFileName(const std::string& name, uint64_t* segment_id) {
  uint64_t id = 0;
  if (ClassifyLogFile(name, &id) != LogFileKind::kSegment) return false;
  *segment_id = id;
  return true;
}

bool ParseFreeSegmentFileName(const std::string& name, uint64_t* segment_id) {
  uint64_t id = 0;
  if (ClassifyLogFile(name, &id) != LogFileKind::kFreeSegment) return false;
  *segment_id = id;
  return true;
}

}  // namespace segwal
