// Helpers shared by the DB-level programs of `make bench` (db_open_bench,
// small_db_bench): a segwal or stock Env, page-cache control, disk usage,
// and one JSON object per line of output for db_bench_ext/bench to parse.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "rocksdb/convenience.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/status.h"

namespace segwal_bench {

using Clock = std::chrono::steady_clock;

inline double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

[[noreturn]] inline void Die(const std::string& what) {
  std::fprintf(stderr, "error: %s\n", what.c_str());
  std::exit(1);
}

inline void Check(const rocksdb::Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.ToString());
}

// An Env whose FileSystem is the one `uri` names ("segwal",
// "id=segwal;log_dir=..."). Unknown ids are errors, not a silent default.
class SideEnv {
 public:
  // uri empty: the default (stock) Env.
  explicit SideEnv(const std::string& uri) {
    if (uri.empty()) {
      env_ = rocksdb::Env::Default();
      return;
    }
    rocksdb::ConfigOptions config;
    config.ignore_unsupported_options = false;
    std::shared_ptr<rocksdb::FileSystem> fs;
    Check(rocksdb::FileSystem::CreateFromString(config, uri, &fs),
          "FileSystem::CreateFromString(" + uri + ")");
    if (fs == nullptr) Die("no FileSystem for " + uri);
    owned_ = rocksdb::NewCompositeEnv(fs);
    env_ = owned_.get();
  }
  rocksdb::Env* env() const { return env_; }

 private:
  std::unique_ptr<rocksdb::Env> owned_;
  rocksdb::Env* env_ = nullptr;
};

// Every regular file under `dir`, recursively.
inline void ListFiles(const std::string& dir, std::vector<std::string>* out) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (struct dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      ListFiles(path, out);
    } else if (S_ISREG(st.st_mode)) {
      out->push_back(path);
    }
  }
  ::closedir(d);
}

struct DiskUsage {
  uint64_t allocated = 0;  // st_blocks * 512: what the disk holds
  uint64_t apparent = 0;   // st_size
  uint64_t files = 0;
};

inline DiskUsage Usage(const std::string& dir) {
  std::vector<std::string> files;
  ListFiles(dir, &files);
  DiskUsage u;
  for (const std::string& f : files) {
    struct stat st;
    if (::stat(f.c_str(), &st) != 0) continue;
    u.allocated += static_cast<uint64_t>(st.st_blocks) * 512;
    u.apparent += static_cast<uint64_t>(st.st_size);
    ++u.files;
  }
  return u;
}

// Writes back and drops every file under `dirs` from the page cache
// (posix_fadvise DONTNEED, this program's files only: nothing global like
// drop_caches). Returns the bytes of the files.
inline uint64_t EvictFromCache(const std::vector<std::string>& dirs) {
  uint64_t bytes = 0;
  for (const std::string& dir : dirs) {
    std::vector<std::string> files;
    ListFiles(dir, &files);
    for (const std::string& f : files) {
      const int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      ::fdatasync(fd);
      struct stat st;
      if (::fstat(fd, &st) == 0) bytes += static_cast<uint64_t>(st.st_size);
      ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
      ::close(fd);
    }
  }
  return bytes;
}

// Reads every file under `dirs` once, so that the next open finds them in
// the page cache. Returns the bytes read.
inline uint64_t LoadIntoCache(const std::vector<std::string>& dirs) {
  std::vector<char> buf(1 << 20);
  uint64_t bytes = 0;
  for (const std::string& dir : dirs) {
    std::vector<std::string> files;
    ListFiles(dir, &files);
    for (const std::string& f : files) {
      const int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      ssize_t n;
      while ((n = ::read(fd, buf.data(), buf.size())) > 0) bytes += n;
      ::close(fd);
    }
  }
  return bytes;
}

// One JSON object per line: {"k": v, ...}. Values are numbers or strings
// (no escaping needed for the names and paths used here but quotes).
class JsonLine {
 public:
  JsonLine& Str(const std::string& k, const std::string& v) {
    std::string esc;
    for (char c : v) {
      if (c == '"' || c == '\\') esc += '\\';
      esc += c;
    }
    Key(k) << '"' << esc << '"';
    return *this;
  }
  JsonLine& Num(const std::string& k, double v) {
    Key(k) << v;
    return *this;
  }
  JsonLine& Int(const std::string& k, uint64_t v) {
    Key(k) << v;
    return *this;
  }
  void Print() {
    std::printf("{%s}\n", out_.str().c_str());
    std::fflush(stdout);
  }

 private:
  std::ostringstream& Key(const std::string& k) {
    if (!first_) out_ << ", ";
    first_ = false;
    out_ << '"' << k << "\": ";
    return out_;
  }
  std::ostringstream out_;
  bool first_ = true;
};

inline std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace segwal_bench
