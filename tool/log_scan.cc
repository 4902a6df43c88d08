#include "tool/log_scan.h"

#include <sys/stat.h>

#include "env/format/file_names.h"
#include "env/storage/storage.h"
#include "tool/flags.h"
#include "tool/lock_holder.h"

namespace segwal {
namespace tool {
namespace {

using rocksdb::IOStatus;

// Records every piece of damage and the mode's verdict on it; decides as
// the mode does, or skips everything to see it all.
class Recorder : public DamageReporter {
 public:
  Recorder(RecoveryMode mode, ScanPolicy policy, ToolScan* scan)
      : mode_policy_(mode), policy_(policy), scan_(scan) {}

  DamageAction OnDamage(const Damage& damage) override {
    scan_->damages.push_back(damage);
    const DamageAction action = mode_policy_.OnDamage(damage);
    if (action == DamageAction::kFail) Fatal(damage);
    return policy_ == ScanPolicy::kKeepGoing ? DamageAction::kSkip : action;
  }

  bool CutTornTail(const Damage& torn) override {
    scan_->torn = true;
    scan_->torn_tail = torn;
    const bool cut = mode_policy_.CutTornTail(torn);
    if (!cut) {
      scan_->damages.push_back(torn);
      Fatal(torn);
    }
    return policy_ == ScanPolicy::kKeepGoing || cut;
  }

  std::string Advice(const Damage& damage) const override {
    return mode_policy_.Advice(damage);
  }

 private:
  void Fatal(const Damage& damage) {
    if (scan_->mode_fails) return;
    scan_->mode_fails = true;
    scan_->fatal = damage;
  }

  RecoveryModePolicy mode_policy_;
  const ScanPolicy policy_;
  ToolScan* const scan_;
};

}  // namespace

IOStatus ScanForTool(const std::string& dir, RecoveryMode mode,
                     ScanPolicy policy, ToolScan* scan) {
  // A live writer may reclaim and recycle a segment while it is read,
  // which looks like damage: scan again, as a read-only view does.
  constexpr int kAttempts = 3;
  IOStatus s;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    *scan = ToolScan();
    Recorder recorder(mode, policy, scan);
    s = ScanLog(PosixStorage(), dir, &recorder, &scan->result, &scan->info);
    const bool clean = s.ok() && scan->damages.empty();
    if (clean || !FindLockHolder(dir + "/" + kLockFileName).held) break;
  }
  return s;
}

bool IsLogDir(const std::string& dir, std::string* why_not) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    *why_not = dir + " does not exist";
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    *why_not = dir + " is not a directory";
    return false;
  }
  std::vector<std::string> names;
  IOStatus s = PosixStorage()->ListDir(dir, &names);
  if (!s.ok()) {
    *why_not = s.ToString();
    return false;
  }
  for (const std::string& name : names) {
    uint64_t id = 0;
    if (ClassifyLogFile(name, &id) != LogFileKind::kOther) return true;
  }
  *why_not = dir + " holds no segwal log (no segment, LOCK or LOG file)";
  return false;
}

bool RecoveryModeFlag(RecoveryMode fallback, RecoveryMode* mode,
                      std::string* error) {
  if (FLAGS_segwal_recovery_mode.empty()) {
    *mode = fallback;
    return true;
  }
  if (ParseRecoveryMode(FLAGS_segwal_recovery_mode, mode)) return true;
  *error = "unknown --recovery_mode=" + FLAGS_segwal_recovery_mode +
           "; use kTolerateCorruptedTailRecords, kAbsoluteConsistency, "
           "kPointInTimeRecovery or kSkipAnyCorruptedRecords";
  return false;
}

uint64_t HeadSegmentSize(const ScanResult& result) {
  return result.segments.empty() ? 0
                                 : result.segments.back().header.segment_size;
}

}  // namespace tool
}  // namespace segwal
