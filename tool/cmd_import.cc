// segwal import --db DB_DIR: a DB's plain WAL files into segwal, without
// opening RocksDB.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>

#include "env/engine/log.h"
#include "env/format/codec.h"
#include "env/fs/wal_path.h"
#include "env/fs/wal_router.h"
#include "env/storage/storage.h"
#include "tool/command.h"
#include "tool/db_dirs.h"
#include "tool/flags.h"
#include "tool/output.h"
#include "tool/report.h"

namespace segwal {
namespace tool {
namespace {

using rocksdb::IOStatus;

// A logical file is written under this name first and renamed when whole:
// a crash leaves no partial WAL under the real name (which would hide the
// plain file).
constexpr char kImportSuffix[] = ".segwal-import";
constexpr size_t kChunk = 1 << 20;

struct PlainWal {
  std::string path;
  std::string name;  // in the log
  uint64_t size = 0;
  bool in_log = false;  // a crashed import already moved it
};

bool ParseSize(const std::string& text, uint64_t* out) {
  uint64_t v = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  if (i == 0 || i + 1 < text.size()) return false;
  if (i < text.size()) {
    const std::string units = "KMGT";
    const size_t u = units.find(static_cast<char>(toupper(text[i])));
    if (u == std::string::npos || v > (UINT64_MAX >> (10 * (u + 1))))
      return false;
    v <<= 10 * (u + 1);
  }
  *out = v;
  return true;
}

IOStatus ListPlainWals(const DbDirs& dirs, const WalRouter& router,
                       std::vector<PlainWal>* wals) {
  for (const std::string& dir :
       {dirs.wal_dir, JoinPath(dirs.wal_dir, kArchiveDir)}) {
    struct stat st;
    if (dir != dirs.wal_dir &&
        (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
      continue;
    }
    std::vector<std::string> names;
    IOStatus s = PosixStorage()->ListDir(dir, &names);
    if (!s.ok()) return s;
    for (const std::string& entry : names) {
      const std::string path = JoinPath(dir, entry);
      WalLocation where;
      if (!router.Locate(path, &where)) continue;
      if (::lstat(path.c_str(), &st) != 0) continue;
      if (!S_ISREG(st.st_mode)) {
        return IOStatus::InvalidArgument(path + " is not a regular file");
      }
      wals->push_back({path, where.name, static_cast<uint64_t>(st.st_size)});
    }
  }
  return IOStatus::OK();
}

// Copies the plain file into logical file `id` (or, with compare, checks
// that they hold the same bytes: *same).
IOStatus CopyOrCompare(Log* log, const PlainWal& wal, uint64_t id, bool compare,
                       bool* same) {
  const int fd = ::open(wal.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return IOStatus::IOError("open " + wal.path + ": " + std::strerror(errno));
  std::string buffer(kChunk, '\0');
  std::string logical(compare ? kChunk : 0, '\0');
  ReadCache cache;
  IOStatus s;
  uint64_t offset = 0;
  if (same != nullptr) *same = !compare || log->Size(id) == wal.size;
  for (;;) {
    const ssize_t n =
        ::pread(fd, &buffer[0], kChunk, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = IOStatus::IOError("read " + wal.path + ": " + std::strerror(errno));
      break;
    }
    if (n == 0) break;
    const size_t got = static_cast<size_t>(n);
    if (compare) {
      size_t read = 0;
      s = log->Read(id, offset, got, &logical[0], &read, &cache);
      if (!s.ok()) break;
      if (read != got || std::memcmp(logical.data(), buffer.data(), got) != 0) {
        *same = false;
        break;
      }
    } else {
      s = log->Append(id, Slice(buffer.data(), got));
      if (!s.ok()) break;
    }
    offset += got;
  }
  ::close(fd);
  return s;
}

int Run(const std::vector<std::string>&) {
  DbDirs dirs;
  int code = ResolveDbDirs("import", &dirs);
  if (code != kExitHealthy) return code;
  const WalRouter router(dirs.shared_log_dir);
  std::vector<PlainWal> wals;
  IOStatus s = ListPlainWals(dirs, router, &wals);
  if (!s.ok()) return Fail("import", kExitError, s.ToString());

  LogOptions options;
  std::string error;
  if (!ParseCodec(FLAGS_segwal_compression, &options.compression)) {
    return Fail("import", kExitError,
                "unknown --compression=" + FLAGS_segwal_compression +
                    "; use none, lz4 or zstd");
  }
  if (!FLAGS_segwal_segment_size.empty() &&
      !ParseSize(FLAGS_segwal_segment_size, &options.segment_size)) {
    return Fail("import", kExitError,
                "bad --segment_size=" + FLAGS_segwal_segment_size +
                    " (a byte count with an optional K, M, G or T)");
  }
  if (!RecoveryModeFlag(RecoveryMode::kTolerateCorruptedTailRecords,
                        &options.recovery_mode, &error)) {
    return Fail("import", kExitError, error);
  }
  if (wals.empty() || FLAGS_segwal_dry_run) {
    Json j = Json::Object();
    Json list = Json::Array();
    for (const PlainWal& w : wals) list.Push(w.path);
    j.Set(FLAGS_segwal_dry_run ? "would_import" : "imported", list);
    j.Set("log_dir", dirs.log_dir);
    if (FLAGS_segwal_json) {
      PrintJson(j);
    } else if (wals.empty()) {
      std::printf("nothing to import: no plain WAL files in %s\n",
                  dirs.wal_dir.c_str());
    } else {
      for (const PlainWal& w : wals) {
        std::printf(
            "would import %s (%llu bytes) into %s\n", Printable(w.path).c_str(),
            static_cast<unsigned long long>(w.size), dirs.log_dir.c_str());
      }
    }
    return kExitHealthy;
  }
  if (IsLogDir(dirs.log_dir, &error)) {
    ToolScan scan;
    s = ScanForTool(dirs.log_dir, options.recovery_mode, ScanPolicy::kMode,
                    &scan);
    if (s.IsCorruption()) return Fail("import", kExitDamage, s.ToString());
    if (!s.ok()) return Fail("import", kExitError, s.ToString());
    if (HeadSegmentSize(scan.result) != 0) {
      options.segment_size = HeadSegmentSize(scan.result);
    }
  }
  std::unique_ptr<Log> log;
  s = Log::Open(PosixStorage(), dirs.log_dir, options, &log, nullptr);
  if (!s.ok()) {
    return Fail("import", s.IsCorruption() ? kExitDamage : kExitError,
                s.ToString());
  }
  // Which plain WALs the log already holds, with the same bytes; a
  // conflict refuses before the first change.
  const auto check = [&]() -> int {
    for (PlainWal& w : wals) {
      w.in_log = false;
      uint64_t id = 0;
      if (!log->OpenHandle(w.name, &id).ok()) continue;
      bool same = false;
      s = CopyOrCompare(log.get(), w, id, /*compare=*/true, &same);
      log->CloseHandle(id);
      if (!s.ok()) return Fail("import", kExitError, s.ToString());
      if (!same) {
        return Fail("import", kExitError,
                    "both a plain file and a logical WAL named " + w.path +
                        " exist, with different bytes; nothing was changed");
      }
      w.in_log = true;
    }
    return kExitHealthy;
  };
  int verdict = check();
  if (verdict != kExitHealthy) return verdict;
  // Become the writer, then check again: another process may have written
  // the log since it was opened (the lock keeps it out from now on).
  s = log->EnsureWritable();
  if (!s.ok()) {
    return Fail("import", kExitError,
                "the log " + dirs.log_dir + " is held by another process: " +
                    s.ToString());
  }
  verdict = check();
  if (verdict != kExitHealthy) return verdict;
  for (const FileInfo& f : log->List()) {
    const std::string& n = f.name;
    const size_t k = sizeof(kImportSuffix) - 1;
    if (n.size() > k && n.compare(n.size() - k, k, kImportSuffix) == 0) {
      s = log->Delete(n, f.id);  // left by an interrupted import
      if (!s.ok()) return Fail("import", kExitError, s.ToString());
    }
  }
  for (const PlainWal& w : wals) {
    if (w.in_log) continue;
    const std::string temp = w.name + kImportSuffix;
    uint64_t id = 0;
    s = log->Create(temp, &id);
    if (s.ok()) s = CopyOrCompare(log.get(), w, id, /*compare=*/false, nullptr);
    if (s.ok()) s = log->Rename(temp, w.name);
    if (!s.ok())
      return Fail("import", kExitError, w.path + ": " + s.ToString());
  }
  s = log->SyncAll();
  if (!s.ok()) return Fail("import", kExitError, s.ToString());
  // The log is durable: the plain copies can go.
  Json done = Json::Array();
  for (const PlainWal& w : wals) {
    s = PosixStorage()->Remove(w.path);
    if (s.ok()) s = PosixStorage()->SyncDir(DirName(w.path));
    if (!s.ok()) return Fail("import", kExitError, s.ToString());
    done.Push(w.path);
    if (!FLAGS_segwal_json) {
      std::printf("imported %s (%llu bytes)%s\n", Printable(w.path).c_str(),
                  static_cast<unsigned long long>(w.size),
                  w.in_log ? ", already in the log" : "");
    }
  }
  log.reset();
  if (FLAGS_segwal_json) {
    Json j = Json::Object();
    j.Set("imported", done);
    j.Set("log_dir", dirs.log_dir);
    PrintJson(j);
  } else {
    std::printf("%zu WAL files now in the log %s\n", wals.size(),
                dirs.log_dir.c_str());
  }
  return kExitHealthy;
}

}  // namespace

extern const Command kImportCommand = {
    "import",
    "move a DB's plain WAL files into a segwal log",
    "usage: segwal import --db=DB_DIR [--wal_dir=DIR] [--log_dir=DIR]\n"
    "                     [--segment_size=SIZE] [--compression=CODEC]\n"
    "                     [--dry_run] [--json]\n"
    "\n"
    "The way back from `segwal export`, without opening RocksDB: every plain\n"
    "WAL file of the DB's WAL directory (and its archive/) is copied byte\n"
    "for byte into a logical file of the log that serves it (the\n"
    "directory's own log in <wal_dir>/segwal, or the shared --log_dir),\n"
    "the log is synced, and only then are the plain files deleted. A crash\n"
    "midway leaves every WAL readable (segwal prefers the logical copy);\n"
    "run the command again to finish.\n"
    "\n"
    "--segment_size and --compression apply to a log created now (an\n"
    "existing log keeps its segment size). The DB must be closed.\n"
    "(A DB whose WALs are plain also opens through segwal as it is; import\n"
    "is for moving them without starting the application.)\n"
    "\n"
    "Exit status: 0 done (or nothing to import), 1 the log is damaged,\n"
    "2 usage or I/O error, or the DB or log is held by a process.\n"
    "\n"
    "example: segwal import --db=/data/db --compression=lz4\n",
    {"json", "db", "wal_dir", "log_dir", "segment_size", "compression",
     "recovery_mode", "dry_run"},
    0,
    0,
    Run,
};

}  // namespace tool
}  // namespace segwal
