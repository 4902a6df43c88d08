#include "env/engine/log_options.h"

#include <sstream>

namespace segwal {
namespace {

constexpr SyncMode kSyncModes[] = {SyncMode::kAlways, SyncMode::kGroup,
                                   SyncMode::kInterval, SyncMode::kNone};
constexpr RecoveryMode kRecoveryModes[] = {
    RecoveryMode::kTolerateCorruptedTailRecords,
    RecoveryMode::kAbsoluteConsistency, RecoveryMode::kPointInTimeRecovery,
    RecoveryMode::kSkipAnyCorruptedRecords};

}  // namespace

const char* SyncModeName(SyncMode mode) {
  switch (mode) {
    case SyncMode::kAlways: return "always";
    case SyncMode::kGroup: return "group";
    case SyncMode::kInterval: return "interval";
    case SyncMode::kNone: return "none";
  }
  return "unknown";
}

const char* PreallocationName(Preallocation p) {
  switch (p) {
    case Preallocation::kAuto: return "auto";
    case Preallocation::kZero: return "zero";
    case Preallocation::kFallocate: return "fallocate";
  }
  return "unknown";
}

bool ParseSyncMode(const std::string& name, SyncMode* mode) {
  for (SyncMode m : kSyncModes) {
    if (name == SyncModeName(m)) {
      *mode = m;
      return true;
    }
  }
  return false;
}

// The names are RocksDB's WALRecoveryMode enumerators, as they appear in an
// options string.
const char* RecoveryModeName(RecoveryMode mode) {
  switch (mode) {
    case RecoveryMode::kTolerateCorruptedTailRecords:
      return "kTolerateCorruptedTailRecords";
    case RecoveryMode::kAbsoluteConsistency: return "kAbsoluteConsistency";
    case RecoveryMode::kPointInTimeRecovery: return "kPointInTimeRecovery";
    case RecoveryMode::kSkipAnyCorruptedRecords:
      return "kSkipAnyCorruptedRecords";
  }
  return "unknown";
}

bool ParseRecoveryMode(const std::string& name, RecoveryMode* mode) {
  for (RecoveryMode m : kRecoveryModes) {
    if (name == RecoveryModeName(m)) {
      *mode = m;
      return true;
    }
  }
  return false;
}

std::string Damage::ToString() const {
  std::ostringstream out;
  out << "segment " << segment_id << " offset " << offset << ": " << reason;
  if (bytes > 0) out << " (" << bytes << " bytes not replayed)";
  return out.str();
}

std::string RecoveryInfo::ToString() const {
  std::ostringstream out;
  out << "segments_scanned=" << segments_scanned << " frames=" << frames
      << " valid_bytes=" << valid_bytes << " bytes_scanned=" << bytes_scanned
      << " bytes_cut=" << bytes_cut << " files=" << files
      << " elapsed_us=" << elapsed_micros
      << " torn_tail=" << (torn_tail ? "yes" : "no")
      << " damages=" << damages.size();
  for (const Damage& d : damages) out << "\n  " << d.ToString();
  return out.str();
}

}  // namespace segwal
