// The tool's scans of a log: the engine's recovery scanner (ScanLog) with a
// DamageReporter that records every piece of damage, so that what the tool
// reports is exactly what recovery sees.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "env/recovery/recovery_mode.h"
#include "env/recovery/scanner.h"

namespace segwal {
namespace tool {

struct ToolScan {
  ScanResult result;
  RecoveryInfo info;
  // Every piece of damage reported, in log order (a torn tail is not
  // damage unless the mode refuses to cut it).
  std::vector<Damage> damages;
  bool torn = false;  // the newest segment ends in a torn frame
  Damage torn_tail;   // where, when torn
  // The first damage the mode fails a reopen on (kTolerateCorruptedTailRecords
  // and kAbsoluteConsistency), if any.
  bool mode_fails = false;
  Damage fatal;
};

// How far a scan goes past damage.
enum class ScanPolicy {
  kMode,       // as the mode decides: what a reopen would do
  kKeepGoing,  // skip every piece of damage, to list them all (the mode's
               // verdict is still recorded in mode_fails/fatal)
};

// Scans the log in `dir` (again, up to 3 times, while damage shows and a
// process holds the log: its writer may recycle a segment under the
// scan). A scan the mode fails returns that failure
// (Corruption) with *scan filled as far as it got; NotSupported for a
// format version this build does not read; IOError if reading fails.
rocksdb::IOStatus ScanForTool(const std::string& dir, RecoveryMode mode,
                              ScanPolicy policy, ToolScan* scan);

// True if `dir` is a directory holding a segwal log (a segment, free or
// quarantined segment, LOCK or LOG file); else a message says what it is.
bool IsLogDir(const std::string& dir, std::string* why_not);

// The recovery mode of --recovery_mode ("" = `fallback`); false with a
// message for an unknown name.
bool RecoveryModeFlag(RecoveryMode fallback, RecoveryMode* mode,
                      std::string* error);

// The segment size the newest segment header of a scan records (0: none).
uint64_t HeadSegmentSize(const ScanResult& result);

}  // namespace tool
}  // namespace segwal
