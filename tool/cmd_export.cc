// segwal export --db DB_DIR: a DB's logical WALs back to plain files, so
// that RocksDB without segwal opens the DB and replays every write.
#include <cstdio>

#include "env/fs/export.h"
#include "env/fs/wal_path.h"
#include "env/fs/wal_router.h"
#include "tool/command.h"
#include "tool/db_dirs.h"
#include "tool/flags.h"
#include "tool/output.h"
#include "tool/report.h"
#include "tool/safe_path.h"

namespace segwal {
namespace tool {
namespace {

using rocksdb::IOStatus;

// Why the plain file at `path` must not be written, or empty. The name
// came from the log: the export must land in the WAL directory (or its
// archive) and nowhere a symbolic link leads.
std::string TargetProblem(const DbDirs& dirs, const std::string& path,
                          const FileSummary& f) {
  std::string real_wal, real_parent;
  if (!RealPath(dirs.wal_dir, &real_wal))
    return "cannot resolve " + dirs.wal_dir;
  const std::string parent = DirName(path);
  if (!RealPath(parent, &real_parent)) {
    return "its directory " + parent + " does not exist";
  }
  const bool archive = parent != dirs.wal_dir;
  if (archive && IsSymlink(parent)) {
    return parent + " is a symbolic link";
  }
  if (real_parent != (archive ? JoinPath(real_wal, kArchiveDir) : real_wal)) {
    return "it would land outside " + dirs.wal_dir;
  }
  if (IsSymlink(path) || IsSymlink(path + kExportTempSuffix)) {
    return path + " is a symbolic link";
  }
  const std::string size = SizeProblem(f);
  if (!size.empty()) return "it " + size;
  return "";
}

int Run(const std::vector<std::string>&) {
  DbDirs dirs;
  int code = ResolveDbDirs("export", &dirs);
  if (code != kExitHealthy) return code;
  RecoveryMode mode;
  std::string error;
  if (!RecoveryModeFlag(RecoveryMode::kTolerateCorruptedTailRecords, &mode,
                        &error)) {
    return Fail("export", kExitError, error);
  }
  Json j = Json::Object();
  j.Set("db", dirs.db);
  j.Set("wal_dir", dirs.wal_dir);
  j.Set("log_dir", dirs.log_dir);
  if (!IsLogDir(dirs.log_dir, &error)) {
    if (FLAGS_segwal_json) {
      j.Set("exported", Json::Array());
      PrintJson(j);
    } else {
      std::printf("nothing to export: %s\n", error.c_str());
    }
    return kExitHealthy;
  }
  ToolScan scan;
  IOStatus s = ScanForTool(dirs.log_dir, mode, ScanPolicy::kMode, &scan);
  if (s.IsCorruption()) {
    return Fail("export", kExitDamage,
                s.ToString() +
                    "; see segwal verify, then repair or choose "
                    "--recovery_mode");
  }
  if (!s.ok()) return Fail("export", kExitError, s.ToString());

  const WalRouter router(dirs.shared_log_dir);
  const DirectoryInLog directory = router.Directory(dirs.wal_dir);
  Json planned = Json::Array();
  Json left = Json::Array();
  std::vector<std::string> problems;
  for (const FileSummary& f : SummarizeFiles(&scan.result.table)) {
    const std::string path = router.PathOf(directory, f.name);
    // The same selection as ExportLogicalWals: WALs of this directory.
    if (!IsWalFileName(path) || WalOwnerDir(path) != dirs.wal_dir) {
      if (!router.shared()) left.Push(f.name);
      continue;
    }
    const std::string problem = TargetProblem(dirs, path, f);
    if (!problem.empty()) {
      problems.push_back(Printable(f.name) + ": " + problem);
    }
    planned.Push(path);
  }
  if (!problems.empty()) {
    std::string message = "refusing to export (nothing written):";
    for (const std::string& p : problems) message += "\n  " + p;
    return Fail("export", kExitDamage, message);
  }
  j.Set("left_in_log", left);
  if (FLAGS_segwal_dry_run) {
    j.Set("would_export", planned);
    if (FLAGS_segwal_json) {
      PrintJson(j);
    } else {
      std::printf("would export to %s:\n", dirs.wal_dir.c_str());
      for (const FileSummary& f : SummarizeFiles(&scan.result.table)) {
        const std::string path = router.PathOf(directory, f.name);
        if (IsWalFileName(path) && WalOwnerDir(path) == dirs.wal_dir) {
          std::printf("  %s (%llu bytes)\n", Printable(path).c_str(),
                      static_cast<unsigned long long>(f.size));
        }
      }
    }
    return kExitHealthy;
  }

  SegWalOptions options;
  options.log_dir = dirs.shared_log_dir;
  options.log.recovery_mode = mode;
  if (HeadSegmentSize(scan.result) != 0) {
    options.log.segment_size = HeadSegmentSize(scan.result);
  }
  std::vector<std::string> exported;
  s = ExportLogicalWals(dirs.wal_dir, options, &exported);
  if (!s.ok()) {
    return Fail(
        "export", s.IsCorruption() ? kExitDamage : kExitError,
        s.ToString() + (exported.empty() ? ""
                                         : " (after exporting " +
                                               std::to_string(exported.size()) +
                                               " files; run again)"));
  }
  Json done = Json::Array();
  for (const std::string& path : exported) done.Push(path);
  j.Set("exported", done);
  if (FLAGS_segwal_json) {
    PrintJson(j);
    return kExitHealthy;
  }
  for (const std::string& path : exported) {
    std::printf("exported %s\n", Printable(path).c_str());
  }
  std::printf(
      "%zu WAL files exported from %s; RocksDB without segwal now "
      "replays them\n",
      exported.size(), dirs.log_dir.c_str());
  return kExitHealthy;
}

}  // namespace

extern const Command kExportCommand = {
    "export",
    "write a DB's WALs back as plain files, for RocksDB without segwal",
    "usage: segwal export --db=DB_DIR [--wal_dir=DIR] [--log_dir=DIR]\n"
    "                     [--recovery_mode=MODE] [--dry_run] [--json]\n"
    "\n"
    "Moves the DB's WAL files out of segwal: each logical WAL of the DB's\n"
    "WAL directory (and its archive/) is written to a plain file where\n"
    "RocksDB expects it (a temporary file, synced, renamed into place, the\n"
    "directory synced) and only then deleted from the log. Afterwards stock\n"
    "RocksDB (ldb, a program without segwal) opens the DB and replays every\n"
    "write. A crash midway leaves each WAL in the log, or in both places\n"
    "with the same bytes: run the command again.\n"
    "\n"
    "--wal_dir  the DB's wal_dir option, if it was set\n"
    "--log_dir  the segwal option log_dir, if the DB used a shared log (the\n"
    "           WALs of other DBs in that log stay there)\n"
    "\n"
    "The DB must be closed: the command refuses, naming the process, if\n"
    "the DB's LOCK or the log's LOCK is held. WAL names come from the log\n"
    "and are checked: nothing is written outside the WAL directory.\n"
    "\n"
    "Exit status: 0 done (or nothing to export), 1 the log is damaged or\n"
    "holds unsafe names (nothing written), 2 usage or I/O error, or the DB\n"
    "is open.\n"
    "\n"
    "example: segwal export --db=/data/db && ldb --db=/data/db scan\n",
    {"json", "db", "wal_dir", "log_dir", "recovery_mode", "dry_run"},
    0,
    0,
    Run,
};

}  // namespace tool
}  // namespace segwal
