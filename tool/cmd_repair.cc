// segwal repair LOG_DIR: recovery in kPointInTimeRecovery, carried out on
// disk: damaged segments set aside, logical files cut at the first bad
// frame; what is dropped is said first, and dropping needs --yes.
#include <cstdio>
#include <map>
#include <memory>

#include "env/engine/log.h"
#include "env/fs/wal_path.h"
#include "env/storage/storage.h"
#include "tool/command.h"
#include "tool/flags.h"
#include "tool/lock_holder.h"
#include "tool/output.h"
#include "tool/report.h"

namespace segwal {
namespace tool {
namespace {

using rocksdb::IOStatus;

struct FileLoss {
  std::string name;
  uint64_t readable = 0;  // bytes a scan that skips damage gets
  uint64_t kept = 0;      // bytes the repair keeps
};

// Files the repair cuts, compared with the most a scan can read.
std::vector<FileLoss> Losses(ToolScan* plan, ToolScan* best) {
  std::map<std::string, uint64_t> kept;
  for (const FileInfo& f : plan->result.table.List()) kept[f.name] = f.size;
  std::vector<FileLoss> out;
  for (const FileInfo& f : best->result.table.List()) {
    const auto it = kept.find(f.name);
    const uint64_t k = it == kept.end() ? 0 : it->second;
    if (k < f.size) out.push_back({f.name, f.size, k});
  }
  return out;
}

int Run(const std::vector<std::string>& args) {
  const std::string dir = NormalizePath(args[0]);
  std::string error;
  if (!IsLogDir(dir, &error)) return Fail("repair", kExitError, error);
  RecoveryMode mode;
  if (!RecoveryModeFlag(RecoveryMode::kPointInTimeRecovery, &mode, &error)) {
    return Fail("repair", kExitError, error);
  }
  if (mode != RecoveryMode::kPointInTimeRecovery &&
      mode != RecoveryMode::kSkipAnyCorruptedRecords) {
    return Fail("repair", kExitError,
                "repair runs in kPointInTimeRecovery (keep the prefix) or "
                "kSkipAnyCorruptedRecords (skip damaged frames)");
  }
  LockHolder holder;
  IOStatus s = ProbeLogLock(dir, &holder);
  if (!s.ok()) return Fail("repair", kExitError, s.ToString());
  if (holder.held) {
    return Fail("repair", kExitError,
                "the log " + dir + " is " + holder.Describe() +
                    "; stop that process first (nothing was changed)");
  }
  ToolScan plan, best;
  s = ScanForTool(dir, mode, ScanPolicy::kMode, &plan);
  if (s.ok()) {
    s = ScanForTool(dir, RecoveryMode::kSkipAnyCorruptedRecords,
                    ScanPolicy::kKeepGoing, &best);
  }
  if (!s.ok()) return Fail("repair", kExitError, s.ToString());
  const std::vector<FileLoss> losses = Losses(&plan, &best);
  uint64_t bytes_lost = 0;
  for (const FileLoss& l : losses) bytes_lost += l.readable - l.kept;
  const bool drops = !plan.damages.empty() || !losses.empty();
  const bool nothing = !drops && !plan.torn && plan.result.quarantine.empty() &&
                       plan.result.repairs.empty();

  Json j = ReopenJson(mode, s, &plan);
  j.Set("log_dir", dir);
  Json cut = Json::Array();
  for (const FileLoss& l : losses) {
    Json o = Json::Object();
    o.Set("name", l.name);
    o.Set("readable", l.readable);
    o.Set("kept", l.kept);
    cut.Push(o);
  }
  j.Set("files_cut", cut);
  j.Set("logical_bytes_dropped", bytes_lost);
  if (!FLAGS_segwal_json) {
    std::printf("repair %s (%s)\n", Printable(dir).c_str(),
                RecoveryModeName(mode));
    if (nothing) std::printf("  nothing to repair: the log is healthy\n");
    if (!nothing) PrintReopen(mode, s, &plan);
    for (const FileLoss& l : losses) {
      std::printf("  file %s keeps %llu of %llu bytes\n",
                  Printable(l.name).c_str(),
                  static_cast<unsigned long long>(l.kept),
                  static_cast<unsigned long long>(l.readable));
    }
  }
  const auto finish = [&](bool applied, int code) {
    j.Set("applied", applied);
    if (FLAGS_segwal_json) PrintJson(j);
    return code;
  };
  if (nothing) return finish(false, kExitHealthy);
  if (FLAGS_segwal_dry_run) {
    if (!FLAGS_segwal_json) std::printf("dry run: nothing changed\n");
    return finish(false, drops ? kExitDamage : kExitHealthy);
  }
  if (drops && !FLAGS_segwal_yes) {
    if (!FLAGS_segwal_json) {
      std::printf(
          "refusing: the repair drops damaged data (%llu logical "
          "bytes); copy %s first, then run again with --yes\n",
          static_cast<unsigned long long>(bytes_lost), dir.c_str());
    }
    return finish(false, kExitDamage);
  }

  LogOptions options;
  options.recovery_mode = mode;
  if (HeadSegmentSize(plan.result) != 0) {
    options.segment_size = HeadSegmentSize(plan.result);
  }
  std::unique_ptr<Log> log;
  s = Log::Open(PosixStorage(), dir, options, &log, nullptr);
  if (s.ok() && !log->EnsureWritable().ok()) {
    s = IOStatus::IOError("the log " + dir + " is " +
                          FindLockHolder(dir + "/LOCK").Describe());
  }
  // Opening only scans: the first change carries out what recovery decided.
  if (s.ok()) s = log->SyncAll();
  log.reset();
  if (!s.ok()) return Fail("repair", kExitError, s.ToString());

  ToolScan after;
  s = ScanForTool(dir, RecoveryMode::kAbsoluteConsistency,
                  ScanPolicy::kKeepGoing, &after);
  if (!s.ok()) return Fail("repair", kExitError, s.ToString());
  const bool healthy = after.damages.empty();
  j.Set("healthy_after", healthy);
  if (!FLAGS_segwal_json) {
    std::printf("%s: %llu logical bytes dropped, %zu segments set aside\n",
                healthy ? "repaired" : "repair left damage",
                static_cast<unsigned long long>(bytes_lost),
                plan.result.quarantine.size());
  }
  return finish(true, healthy ? kExitHealthy : kExitDamage);
}

}  // namespace

extern const Command kRepairCommand = {
    "repair",
    "set damaged segments aside and cut at the first bad frame",
    "usage: segwal repair LOG_DIR [--yes] [--dry_run] [--recovery_mode=MODE]\n"
    "                     [--json]\n"
    "\n"
    "Makes a damaged log open in every recovery mode again, doing on disk\n"
    "what a reopen in kPointInTimeRecovery does: every segment after the\n"
    "first damage is renamed to *.seg.quarantined (kept, not deleted),\n"
    "logical files lose the bytes that were there, a torn tail is cut, and\n"
    "the result is synced. First it says what would be dropped: the damage\n"
    "(segment, offset, reason), the segments set aside, and each logical\n"
    "file's size kept against what a skipping scan could still read.\n"
    "\n"
    "--yes      needed whenever logical bytes are dropped\n"
    "--dry_run  only say what would be done\n"
    "--recovery_mode=kSkipAnyCorruptedRecords skips damaged frames instead\n"
    "           (their bytes read as zeros) and keeps what follows\n"
    "\n"
    "Refuses, naming the process, while another process holds the log. Copy\n"
    "the log directory first if the damaged bytes may matter.\n"
    "\n"
    "Exit status: 0 repaired (or nothing to repair), 1 refused without\n"
    "--yes (nothing changed) or damage left, 2 usage or I/O error, or the\n"
    "log is held.\n"
    "\n"
    "example: segwal repair /data/db/segwal --dry_run\n",
    {"json", "yes", "dry_run", "recovery_mode"},
    1,
    1,
    Run,
};

}  // namespace tool
}  // namespace segwal
