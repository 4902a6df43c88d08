// segwal verify LOG_DIR: a full scan listing every problem.
#include <cstdio>

#include "env/fs/wal_path.h"
#include "tool/command.h"
#include "tool/flags.h"
#include "tool/output.h"
#include "tool/report.h"

namespace segwal {
namespace tool {
namespace {

using rocksdb::IOStatus;

// What a reopen in `mode` makes of the damage found.
std::string Verdict(RecoveryMode mode, const ToolScan& scan) {
  if (scan.damages.empty()) return "a reopen recovers every frame";
  switch (mode) {
    case RecoveryMode::kTolerateCorruptedTailRecords:
    case RecoveryMode::kAbsoluteConsistency:
      return "a reopen in this mode fails at the first problem";
    case RecoveryMode::kPointInTimeRecovery:
      return "a reopen keeps what precedes the first problem and sets the "
             "later segments aside";
    case RecoveryMode::kSkipAnyCorruptedRecords:
      return "a reopen skips the damaged frames (their bytes read as zeros)";
  }
  return "";
}

int Run(const std::vector<std::string>& args) {
  const std::string dir = NormalizePath(args[0]);
  std::string error;
  if (!IsLogDir(dir, &error)) return Fail("verify", kExitError, error);
  RecoveryMode mode;
  if (!RecoveryModeFlag(RecoveryMode::kTolerateCorruptedTailRecords, &mode,
                        &error)) {
    return Fail("verify", kExitError, error);
  }
  ToolScan scan;
  IOStatus s = ScanForTool(dir, mode, ScanPolicy::kKeepGoing, &scan);
  if (!s.ok()) return Fail("verify", kExitError, s.ToString());
  const bool healthy = scan.damages.empty();
  const int code = healthy ? kExitHealthy : kExitDamage;

  if (FLAGS_segwal_json) {
    Json j = Json::Object();
    j.Set("log_dir", dir);
    j.Set("mode", RecoveryModeName(mode));
    j.Set("healthy", healthy);
    Json problems = Json::Array();
    for (const Damage& d : scan.damages) problems.Push(DamageJson(d));
    j.Set("problems", problems);
    Json torn = Json::Null();
    if (scan.torn) {
      torn = DamageJson(scan.torn_tail);
      torn.Set("bytes_cut", scan.info.bytes_cut);
    }
    j.Set("torn_tail", torn);
    j.Set("reopen_fails", scan.mode_fails);
    j.Set("verdict", Verdict(mode, scan));
    j.Set("files", static_cast<uint64_t>(scan.info.files));
    j.Set("scan", ScanStatsJson(scan.info));
    PrintJson(j);
    return code;
  }
  std::printf("verify %s (%s)\n", Printable(dir).c_str(),
              RecoveryModeName(mode));
  std::printf("  scanned: %s\n", ScanStatsLine(scan.info).c_str());
  if (scan.torn) {
    std::printf(
        "  torn tail: %s; cut by %s\n", DamageLine(scan.torn_tail).c_str(),
        mode == RecoveryMode::kAbsoluteConsistency ? "every mode but this one"
                                                   : "every reopen");
  }
  for (const Damage& d : scan.damages) {
    std::printf("  problem: %s\n", DamageLine(d).c_str());
  }
  if (healthy) {
    std::printf("OK: no damage, %llu logical files\n",
                static_cast<unsigned long long>(scan.info.files));
  } else {
    std::printf("DAMAGED: %zu problems; %s\n", scan.damages.size(),
                Verdict(mode, scan).c_str());
    std::printf("  (segwal repair keeps the prefix before the first one)\n");
  }
  return code;
}

}  // namespace

extern const Command kVerifyCommand = {
    "verify",
    "check every frame of a log; list every problem",
    "usage: segwal verify LOG_DIR [--recovery_mode=MODE] [--json]\n"
    "\n"
    "Reads every segment of the log in LOG_DIR with the scanner recovery\n"
    "uses, checking every header, frame and checksum, and goes on past each\n"
    "problem so that all of them are listed, each with its segment, offset,\n"
    "kind and reason. Then says what a reopen in MODE (default\n"
    "kTolerateCorruptedTailRecords) would make of them. Changes nothing.\n"
    "\n"
    "A torn tail (the last write cut short by a crash) is reported but is\n"
    "not damage, except with --recovery_mode=kAbsoluteConsistency.\n"
    "\n"
    "Exit status: 0 no damage, 1 damage found, 2 usage or I/O error.\n"
    "\n"
    "example: segwal verify /data/db/segwal && echo clean\n",
    {"json", "recovery_mode"},
    1,
    1,
    Run,
};

}  // namespace tool
}  // namespace segwal
