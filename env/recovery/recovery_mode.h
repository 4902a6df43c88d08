// Recovery modes (RocksDB's WALRecoveryMode names) and the policy each one
// applies to the damage a scan detects.
#pragma once

#include <string>

#include "env/recovery/damage.h"

namespace segwal {

// A torn tail (our frame cut short at the end of the newest segment, past
// every durable point) is cut in every mode except kAbsoluteConsistency.
enum class RecoveryMode {
  kTolerateCorruptedTailRecords,  // damage before the tail: fail to open
  kAbsoluteConsistency,           // any damage, a torn tail too: fail
  kPointInTimeRecovery,           // stop at the first damage, keep the prefix
  kSkipAnyCorruptedRecords,       // skip damaged frames, zero-fill their bytes
};

const char* RecoveryModeName(RecoveryMode mode);
bool ParseRecoveryMode(const std::string& name, RecoveryMode* mode);

// The DamageReporter of a recovery mode.
class RecoveryModePolicy : public DamageReporter {
 public:
  explicit RecoveryModePolicy(RecoveryMode mode) : mode_(mode) {}
  DamageAction OnDamage(const Damage& damage) override;
  bool CutTornTail(const Damage& torn) override;
  std::string Advice(const Damage& damage) const override;

 private:
  const RecoveryMode mode_;
};

}  // namespace segwal
