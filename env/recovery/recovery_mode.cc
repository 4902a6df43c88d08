#include "env/recovery/recovery_mode.h"

namespace segwal {
namespace {

constexpr RecoveryMode kRecoveryModes[] = {
    RecoveryMode::kTolerateCorruptedTailRecords,
    RecoveryMode::kAbsoluteConsistency, RecoveryMode::kPointInTimeRecovery,
    RecoveryMode::kSkipAnyCorruptedRecords};

}  // namespace

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

DamageAction RecoveryModePolicy::OnDamage(const Damage&) {
  switch (mode_) {
    case RecoveryMode::kPointInTimeRecovery: return DamageAction::kStop;
    case RecoveryMode::kSkipAnyCorruptedRecords: return DamageAction::kSkip;
    case RecoveryMode::kTolerateCorruptedTailRecords:
    case RecoveryMode::kAbsoluteConsistency: break;
  }
  return DamageAction::kFail;
}

bool RecoveryModePolicy::CutTornTail(const Damage&) {
  return mode_ != RecoveryMode::kAbsoluteConsistency;
}

std::string RecoveryModePolicy::Advice(const Damage& damage) const {
  if (damage.kind == DamageKind::kTornTail) {
    return "kAbsoluteConsistency does not cut it";
  }
  return "recovery mode does not tolerate damage before the tail; "
         "kPointInTimeRecovery keeps the prefix, kSkipAnyCorruptedRecords "
         "skips it";
}

}  // namespace segwal
