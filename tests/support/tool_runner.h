// Helpers of the tool tests (tests/tool_*_test.cc): run the real segwal
// binary (and other programs) capturing stdout, stderr and the exit code;
// write logs through the engine on the real file system; break their bytes.
//
// The binary is $SEGWAL_TOOL, else SEGWAL_TOOL_PATH (set by CMake).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "env/engine/log.h"
#include "env/recovery/scanner.h"
#include "env/storage/storage.h"
#include "gtest/gtest.h"
#include "tests/segwal_test_util.h"

namespace segwal {
namespace tool_test {

inline std::string ToolPath() {
  const char* env = getenv("SEGWAL_TOOL");
  if (env != nullptr && *env != '\0') return env;
#ifdef SEGWAL_TOOL_PATH
  return SEGWAL_TOOL_PATH;
#else
  return "";
#endif
}

inline std::string SourceDir() {
#ifdef SEGWAL_SOURCE_DIR
  return SEGWAL_SOURCE_DIR;
#else
  return ".";
#endif
}

// A single-quoted shell word.
inline std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

struct Outcome {
  int code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
  std::string All() const { return out + err; }
};

// Runs `command` with /bin/sh (no LD_PRELOAD), stdin from /dev/null
// unless the command redirects it.
inline Outcome Shell(const std::string& command) {
  Outcome r;
  char err_path[] = "/tmp/segwal-tool-stderr-XXXXXX";
  const int err_fd = mkstemp(err_path);
  if (err_fd < 0) return r;
  close(err_fd);
  const std::string full = "env -u LD_PRELOAD timeout 120 sh -c " +
                           Quote(command) + " 2>" + err_path + " </dev/null";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe != nullptr) {
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) r.out.append(buf, n);
    const int status = pclose(pipe);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  r.err = test::ReadFileToString(err_path);
  unlink(err_path);
  return r;
}

// Runs the segwal tool with `args` (each quoted).
inline Outcome Tool(const std::vector<std::string>& args) {
  std::string command = Quote(ToolPath());
  for (const std::string& a : args) command += " " + Quote(a);
  return Shell(command);
}

// True if a line of `text`, split at spaces, starts with `cells` (a row
// of one of the tool's tables).
inline bool HasRow(const std::string& text,
                   const std::vector<std::string>& cells) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string word;
    size_t i = 0;
    while (i < cells.size() && words >> word && word == cells[i]) ++i;
    if (i == cells.size()) return true;
  }
  return false;
}

// Writes `files` (name -> bytes) into a new log in `dir` through the
// engine, in appends of at most `chunk` bytes, and closes it (synced).
inline void WriteLog(
    const std::string& dir, const LogOptions& options,
    const std::vector<std::pair<std::string, std::string>>& files,
    size_t chunk = 1000) {
  std::unique_ptr<Log> log;
  IOStatus s = Log::Open(PosixStorage(), dir, options, &log, nullptr);
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (const auto& [name, bytes] : files) {
    uint64_t id = 0;
    s = log->Create(name, &id);
    ASSERT_TRUE(s.ok()) << s.ToString();
    for (size_t at = 0; at < bytes.size(); at += chunk) {
      s = log->Append(
          id, Slice(bytes.data() + at, std::min(chunk, bytes.size() - at)));
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_TRUE(log->Sync(id).ok());
    }
  }
  ASSERT_TRUE(log->SyncAll().ok());
}

// Distinct, slightly compressible bytes.
inline std::string Bytes(size_t n, int seed) {
  std::string out;
  uint32_t x = static_cast<uint32_t>(seed) * 2654435761u + 1;
  while (out.size() < n) {
    x = x * 1103515245u + 12345u;
    out +=
        "record-" + std::to_string(seed) + "-" + std::to_string(x % 1000) + ";";
  }
  out.resize(n);
  return out;
}

// The scan of a log as recovery in `mode` sees it.
inline ScanResult Scan(
    const std::string& dir,
    RecoveryMode mode = RecoveryMode::kSkipAnyCorruptedRecords) {
  ScanResult result;
  RecoveryInfo info;
  IOStatus s = ScanLog(PosixStorage(), dir, mode, &result, &info);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return result;
}

inline std::string SegmentPath(const std::string& dir, uint64_t id) {
  char name[32];
  snprintf(name, sizeof(name), "%020llu.seg",
           static_cast<unsigned long long>(id));
  return dir + "/" + name;
}

// Overwrites bytes at `offset` of a file.
inline void Overwrite(const std::string& path, uint64_t offset,
                      const std::string& bytes) {
  const int fd = open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(static_cast<ssize_t>(bytes.size()),
            pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)));
  close(fd);
}

// Appends a valid frame with no payload after the last frame of the
// newest segment, as a writer would (used to craft what the engine's API
// would not write, e.g. a truncate growing a file by gigabytes).
inline void AppendRawFrame(const std::string& dir, FrameHeader frame) {
  const ScanResult scan = Scan(dir);
  ASSERT_FALSE(scan.segments.empty());
  const ScannedSegment& head = scan.segments.back();
  ASSERT_EQ(kFormatVersion, head.header.version);
  frame.durable_mark = static_cast<uint32_t>(head.end);
  std::string encoded;
  EncodeFrame(&frame, Slice(), SegmentSeed(scan.log_uid, head.id), head.end,
              &encoded);
  Overwrite(SegmentPath(dir, head.id), head.end, encoded);
}

// A file grown to `size` (up to 4 GiB more) by a crafted truncate frame:
// it claims bytes no frame holds.
inline void CraftHugeSize(const std::string& dir, uint64_t file_id,
                          uint64_t size) {
  FrameHeader frame;
  frame.type = static_cast<uint8_t>(FrameType::kTruncate);
  frame.file_id = file_id;
  frame.offset = size;
  AppendRawFrame(dir, frame);
}

// Every path beneath `root` (relative), directories included.
inline std::set<std::string> Tree(const std::string& root,
                                  const std::string& prefix = "") {
  std::set<std::string> out;
  for (const std::string& name : test::ListDir(root)) {
    const std::string rel = prefix.empty() ? name : prefix + "/" + name;
    out.insert(rel);
    struct stat st;
    if (lstat((root + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      for (const std::string& sub : Tree(root + "/" + name, rel)) {
        out.insert(sub);
      }
    }
  }
  return out;
}

// Parses a Prometheus text exposition with Debian's python3-prometheus-client
// (tests/support/prom_parse.py): "family name -> type" and
// "sample name{sorted labels} -> value". Fails the test on a parse error.
struct Parsed {
  std::map<std::string, std::string> families;
  std::map<std::string, double> samples;
};

inline Parsed ParseProm(const std::string& path) {
  Parsed p;
  const Outcome r = Shell("/usr/bin/python3 " +
                          Quote(SourceDir() + "/tests/support/prom_parse.py") +
                          " " + Quote(path));
  EXPECT_EQ(0, r.code) << r.All();
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    const size_t a = line.find('\t');
    const size_t b = line.rfind('\t');
    if (a == std::string::npos || a == b) continue;
    const std::string kind = line.substr(0, a);
    const std::string name = line.substr(a + 1, b - a - 1);
    const std::string rest = line.substr(b + 1);
    if (kind == "family") p.families[name] = rest;
    if (kind == "sample") p.samples[name] = std::strtod(rest.c_str(), nullptr);
  }
  return p;
}

// True if `text` is one valid JSON document (python's json module).
inline bool ValidJson(const std::string& text) {
  char path[] = "/tmp/segwal-tool-json-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return false;
  const bool wrote =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  const Outcome r = Shell(
      "/usr/bin/python3 -c 'import json,sys; "
      "json.load(open(sys.argv[1]))' " +
      Quote(path));
  unlink(path);
  return wrote && r.code == 0;
}

}  // namespace tool_test
}  // namespace segwal
