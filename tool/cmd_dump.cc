// segwal dump LOG_DIR: the frames of a log, the bytes of one logical file,
// or every logical file written beneath a directory.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "env/engine/log.h"
#include "env/format/codec.h"
#include "env/fs/wal_path.h"
#include "env/storage/storage.h"
#include "tool/command.h"
#include "tool/flags.h"
#include "tool/frame_walker.h"
#include "tool/output.h"
#include "tool/report.h"
#include "tool/safe_path.h"

namespace segwal {
namespace tool {
namespace {

using rocksdb::IOStatus;

const char* TypeName(uint8_t type) {
  switch (static_cast<FrameType>(type)) {
    case FrameType::kData:
      return "data";
    case FrameType::kCreate:
      return "create";
    case FrameType::kRename:
      return "rename";
    case FrameType::kDelete:
      return "delete";
    case FrameType::kTruncate:
      return "truncate";
    case FrameType::kLink:
      return "link";
    case FrameType::kSnapshot:
      return "snapshot";
    case FrameType::kRelocatedData:
      return "relocated";
  }
  return "unknown";
}

IOStatus WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0)
      return IOStatus::IOError(std::string("write: ") + std::strerror(errno));
    data += w;
    n -= static_cast<size_t>(w);
  }
  return IOStatus::OK();
}

// Streams logical file `name` of `log` to `fd` in bounded chunks.
IOStatus CopyOut(Log* log, const std::string& name, int fd, uint64_t* bytes) {
  uint64_t id = 0;
  IOStatus s = log->OpenHandle(name, &id);
  if (!s.ok()) return s;
  ReadCache cache;
  std::string buffer(1 << 20, '\0');
  *bytes = 0;
  for (;;) {
    size_t got = 0;
    s = log->Read(id, *bytes, buffer.size(), &buffer[0], &got, &cache);
    if (!s.ok() || got == 0) break;
    s = WriteAll(fd, buffer.data(), got);
    if (!s.ok()) break;
    *bytes += got;
  }
  log->CloseHandle(id);
  return s;
}

int DumpFrames(const std::string& dir, ToolScan* scan) {
  Json segments = Json::Array();
  for (const ScannedSegment& seg : scan->result.segments) {
    Json frames = Json::Array();
    if (!FLAGS_segwal_json) {
      std::printf("segment %llu: %llu bytes of frames, previous %llu\n",
                  static_cast<unsigned long long>(seg.id),
                  static_cast<unsigned long long>(seg.end),
                  static_cast<unsigned long long>(seg.header.prev_segment_id));
    }
    FrameWalker walker(seg);
    WalkedFrame f;
    IOStatus s;
    while (walker.Next(&f, &s)) {
      const FrameHeader& h = f.header;
      if (FLAGS_segwal_json) {
        Json o = Json::Object();
        o.Set("offset", f.offset);
        if (f.damaged) {
          o.Set("damaged_bytes", f.damaged_bytes);
        } else {
          o.Set("type", TypeName(h.type));
          o.Set("file_id", h.file_id);
          o.Set("file_offset", h.offset);
          o.Set("stored_len", h.stored_len);
          o.Set("raw_len", h.raw_len);
          o.Set("codec", CodecName(h.codec));
          o.Set("durable_mark", h.durable_mark);
          if (!f.name.empty()) o.Set("name", f.name);
          if (!f.payload_ok) o.Set("payload_ok", false);
        }
        frames.Push(o);
        continue;
      }
      if (f.damaged) {
        std::printf("  %10llu  DAMAGED %llu bytes\n",
                    static_cast<unsigned long long>(f.offset),
                    static_cast<unsigned long long>(f.damaged_bytes));
        continue;
      }
      std::printf(
          "  %10llu  %-9s file %llu offset %llu stored %u raw %u %s "
          "mark %u%s%s%s\n",
          static_cast<unsigned long long>(f.offset), TypeName(h.type),
          static_cast<unsigned long long>(h.file_id),
          static_cast<unsigned long long>(h.offset), h.stored_len, h.raw_len,
          CodecName(h.codec), h.durable_mark, f.name.empty() ? "" : " name ",
          Printable(f.name).c_str(), f.payload_ok ? "" : " DAMAGED payload");
    }
    if (!s.ok()) return Fail("dump", kExitError, s.ToString());
    if (std::ferror(stdout)) return kExitError;  // a reader went away
    Json sj = Json::Object();
    sj.Set("id", seg.id);
    sj.Set("end", seg.end);
    sj.Set("frames", frames);
    segments.Push(sj);
  }
  for (const Damage& d : scan->damages) {
    if (!FLAGS_segwal_json) std::printf("problem: %s\n", DamageLine(d).c_str());
  }
  if (FLAGS_segwal_json) {
    Json j = Json::Object();
    j.Set("log_dir", dir);
    j.Set("segments", segments);
    Json problems = Json::Array();
    for (const Damage& d : scan->damages) problems.Push(DamageJson(d));
    j.Set("problems", problems);
    PrintJson(j);
  }
  return scan->damages.empty() ? kExitHealthy : kExitDamage;
}

int DumpFile(Log* log, const std::vector<FileSummary>& files) {
  const FileSummary* found = nullptr;
  for (const FileSummary& f : files) {
    if (f.name == FLAGS_segwal_file) found = &f;
  }
  if (found == nullptr) {
    return Fail("dump", kExitError,
                "no logical file " + Printable(FLAGS_segwal_file) +
                    " (segwal info lists them)");
  }
  const std::string problem = SizeProblem(*found);
  if (!problem.empty()) return Fail("dump", kExitDamage, problem);
  int fd = STDOUT_FILENO;
  if (!FLAGS_segwal_output.empty()) {
    fd = ::open(FLAGS_segwal_output.c_str(),
                O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Fail("dump", kExitError,
                  "open " + FLAGS_segwal_output + ": " + std::strerror(errno));
    }
  }
  uint64_t bytes = 0;
  IOStatus s = CopyOut(log, FLAGS_segwal_file, fd, &bytes);
  if (fd != STDOUT_FILENO && ::close(fd) != 0 && s.ok()) {
    s = IOStatus::IOError("close " + FLAGS_segwal_output + ": " +
                          std::strerror(errno));
  }
  if (!s.ok()) {
    return Fail("dump", s.IsCorruption() ? kExitDamage : kExitError,
                s.ToString());
  }
  if (FLAGS_segwal_json) {
    Json j = Json::Object();
    j.Set("file", FLAGS_segwal_file);
    j.Set("output", FLAGS_segwal_output);
    j.Set("bytes", bytes);
    PrintJson(j);
  } else if (!FLAGS_segwal_output.empty()) {
    std::fprintf(stderr, "wrote %llu bytes to %s\n",
                 static_cast<unsigned long long>(bytes),
                 FLAGS_segwal_output.c_str());
  }
  return kExitHealthy;
}

int DumpAll(Log* log, const std::vector<FileSummary>& files) {
  const std::string& out_dir = FLAGS_segwal_output_dir;
  if (::mkdir(out_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Fail("dump", kExitError,
                "mkdir " + out_dir + ": " + std::strerror(errno));
  }
  std::vector<std::string> existing;
  IOStatus s = PosixStorage()->ListDir(out_dir, &existing);
  if (!s.ok()) return Fail("dump", kExitError, s.ToString());
  if (!existing.empty()) {
    return Fail("dump", kExitError,
                "--output_dir " + out_dir + " must be new or empty");
  }
  const int root =
      ::open(out_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0) {
    return Fail("dump", kExitError,
                "open " + out_dir + ": " + std::strerror(errno) +
                    " (it must be a directory, not a symbolic link)");
  }
  Json written = Json::Array();
  Json skipped = Json::Array();
  int code = kExitHealthy;
  for (const FileSummary& f : files) {
    std::vector<std::string> parts;
    std::string why;
    if (SafeComponents(f.name, &parts, &why)) why = SizeProblem(f);
    int fd = -1;
    if (why.empty()) {
      s = CreateBeneath(root, parts, &fd);
      if (!s.ok()) why = s.ToString();
    }
    uint64_t bytes = 0;
    if (why.empty()) {
      s = CopyOut(log, f.name, fd, &bytes);
      ::close(fd);
      if (!s.ok()) why = s.ToString();
    }
    Json o = Json::Object();
    o.Set("name", f.name);
    if (!why.empty()) {
      code = kExitDamage;
      o.Set("reason", why);
      skipped.Push(o);
      if (!FLAGS_segwal_json) {
        std::printf("skipped %s: %s\n", Printable(f.name).c_str(), why.c_str());
      }
      continue;
    }
    o.Set("bytes", bytes);
    written.Push(o);
    if (!FLAGS_segwal_json) {
      std::printf("wrote %s (%llu bytes)\n", Printable(f.name).c_str(),
                  static_cast<unsigned long long>(bytes));
    }
  }
  ::close(root);
  if (FLAGS_segwal_json) {
    Json j = Json::Object();
    j.Set("output_dir", out_dir);
    j.Set("written", written);
    j.Set("skipped", skipped);
    PrintJson(j);
  }
  return code;
}

int Run(const std::vector<std::string>& args) {
  const std::string dir = NormalizePath(args[0]);
  std::string error;
  if (!IsLogDir(dir, &error)) return Fail("dump", kExitError, error);
  RecoveryMode mode;
  if (!RecoveryModeFlag(RecoveryMode::kTolerateCorruptedTailRecords, &mode,
                        &error)) {
    return Fail("dump", kExitError, error);
  }
  if (!FLAGS_segwal_file.empty() && !FLAGS_segwal_output_dir.empty()) {
    return Fail("dump", kExitError, "give --file or --output_dir, not both");
  }
  if (!FLAGS_segwal_output.empty() && FLAGS_segwal_file.empty()) {
    return Fail("dump", kExitError, "--output goes with --file");
  }
  if (FLAGS_segwal_json && !FLAGS_segwal_file.empty() &&
      FLAGS_segwal_output.empty()) {
    return Fail("dump", kExitError,
                "--file writes the bytes to stdout: --json needs --output");
  }
  const bool frames =
      FLAGS_segwal_file.empty() && FLAGS_segwal_output_dir.empty();
  ToolScan scan;
  IOStatus s = ScanForTool(
      dir, mode, frames ? ScanPolicy::kKeepGoing : ScanPolicy::kMode, &scan);
  if (s.IsCorruption()) {
    return Fail("dump", kExitDamage,
                s.ToString() + "; choose what to read with --recovery_mode");
  }
  if (!s.ok()) return Fail("dump", kExitError, s.ToString());
  if (frames) return DumpFrames(dir, &scan);

  LogOptions options;
  options.recovery_mode = mode;
  std::unique_ptr<Log> log;
  s = Log::Open(PosixStorage(), dir, options, &log, nullptr);  // reads only
  if (!s.ok()) {
    return Fail("dump", s.IsCorruption() ? kExitDamage : kExitError,
                s.ToString());
  }
  const std::vector<FileSummary> files = SummarizeFiles(&scan.result.table);
  return FLAGS_segwal_file.empty() ? DumpAll(log.get(), files)
                                   : DumpFile(log.get(), files);
}

}  // namespace

extern const Command kDumpCommand = {
    "dump",
    "the frames of a log, or the bytes of its logical files",
    "usage: segwal dump LOG_DIR [--json]\n"
    "       segwal dump LOG_DIR --file=NAME [--output=PATH]\n"
    "       segwal dump LOG_DIR --output_dir=DIR\n"
    "\n"
    "Without --file: lists every frame of every segment (offset, type,\n"
    "logical file id and offset, stored and decoded length, codec, durable\n"
    "mark, and the name a create, rename or link frame carries), and the\n"
    "damaged runs between frames.\n"
    "\n"
    "--file=NAME writes the bytes of logical file NAME (as `segwal info`\n"
    "lists it) to stdout, or to PATH with --output: a RocksDB WAL comes out\n"
    "as the plain file RocksDB wrote, for example\n"
    "  segwal dump /db/segwal --file=000004.log --output=/tmp/4.log\n"
    "  ldb dump_wal --walfile=/tmp/4.log --header\n"
    "\n"
    "--output_dir=DIR writes every logical file beneath DIR (new or empty),\n"
    "at its name (a shared log's absolute names lose their leading '/').\n"
    "Names that would lead outside DIR ('..', empty components, symbolic\n"
    "links on the way) and sizes the frames do not back are skipped and\n"
    "reported.\n"
    "\n"
    "The log is read as a reopen in --recovery_mode would read it (default\n"
    "kTolerateCorruptedTailRecords; a damaged log needs\n"
    "kPointInTimeRecovery or kSkipAnyCorruptedRecords). Changes nothing in\n"
    "the log.\n"
    "\n"
    "Exit status: 0 done, 1 damage found (or names skipped), 2 usage or\n"
    "I/O error.\n",
    {"json", "recovery_mode", "file", "output", "output_dir"},
    1,
    1,
    Run,
};

}  // namespace tool
}  // namespace segwal
