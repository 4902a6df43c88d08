// Everything a recovery scan decided, as text: for checking that two scans
// of the same log (read in pieces of different sizes) decide alike.
#pragma once

#include <string>

#include "env/recovery/scanner.h"

namespace segwal {
namespace testing {

inline std::string ScanSummary(const IOStatus& s, const ScanResult& result,
                               RecoveryInfo info) {
  std::string out = s.ToString() + "\n";
  if (!s.ok()) return out;
  const auto ids = [&out](const char* what, const std::vector<uint64_t>& v) {
    out += what;
    for (uint64_t id : v) out += " " + std::to_string(id);
    out += "\n";
  };
  for (const ScannedSegment& seg : result.segments) {
    out += "segment " + std::to_string(seg.id) + " end " +
           std::to_string(seg.end) + " file_size " +
           std::to_string(seg.file_size) + " clean_tail " +
           std::to_string(seg.clean_tail) + " opens_with_snapshot " +
           std::to_string(seg.opens_with_snapshot) + "\n";
  }
  out += "uid " + std::to_string(result.log_uid) + " max_segment_id " +
         std::to_string(result.max_segment_id) + "\n";
  ids("unused", result.unused_segments);
  ids("free", result.free_segments);
  ids("quarantine", result.quarantine);
  for (const Repair& r : result.repairs) {
    out += "repair " + std::to_string(r.file_id) + " [" +
           std::to_string(r.start) + ", " + std::to_string(r.end) + ") " +
           (r.zero_fill ? "zeros" : "cut") + "\n";
  }
  out += "table " + result.table.EncodeSnapshot() + "\n";
  info.elapsed_micros = 0;
  return out + info.ToString() + "\n";
}

}  // namespace testing
}  // namespace segwal
