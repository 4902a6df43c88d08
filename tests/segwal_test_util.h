// Helpers shared by the FileSystem- and DB-level segwal tests.
#pragma once

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "env/format/file_names.h"
#include "env/format/format.h"
#include "options/segwal_options.h"

namespace segwal {
namespace test {

// A fresh directory under $TEST_TMPDIR (or /tmp), removed with everything
// in it on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TEST_TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
        "/segwal-test-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) {
      perror("mkdtemp");
      abort();
    }
    path_ = buf.data();
  }
  ~TempDir() { RemoveAll(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }

  static void RemoveAll(const std::string& path) {
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
      if (DIR* d = opendir(path.c_str())) {
        while (struct dirent* e = readdir(d)) {
          if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
          }
          RemoveAll(path + "/" + e->d_name);
        }
        closedir(d);
      }
      rmdir(path.c_str());
    } else {
      unlink(path.c_str());
    }
  }

 private:
  std::string path_;
};

// Entries of a real directory (no "." or ".."); empty if it does not exist.
inline std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (struct dirent* e = readdir(d)) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
        continue;
      }
      out.push_back(e->d_name);
    }
    closedir(d);
  }
  return out;
}

// A real file's bytes; empty if it cannot be read.
inline std::string ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

// Every file of a real directory, name -> bytes: compare two to see whether
// anything in it changed.
inline std::map<std::string, std::string> DirContents(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const std::string& name : ListDir(dir)) {
    files[name] = ReadFileToString(dir + "/" + name);
  }
  return files;
}

inline bool PathExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

inline uint64_t RealFileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

inline bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Real (plain) "*.log" files with data in `dir`.
inline std::vector<std::string> PlainWalsWithData(const std::string& dir) {
  std::vector<std::string> out;
  for (const std::string& name : ListDir(dir)) {
    if (EndsWith(name, ".log") && RealFileSize(dir + "/" + name) > 0) {
      out.push_back(name);
    }
  }
  return out;
}

// Active segment files of a log directory.
inline size_t CountSegmentFiles(const std::string& log_dir) {
  size_t n = 0;
  uint64_t id = 0;
  for (const std::string& name : ListDir(log_dir)) {
    if (ParseSegmentFileName(name, &id)) ++n;
  }
  return n;
}

// Small segments keep tests fast: every log zero-fills its segments.
inline SegWalOptions SmallSegments(const std::string& log_dir = "") {
  SegWalOptions o;
  o.log_dir = log_dir;
  o.log.segment_size = 1 << 20;
  return o;
}

}  // namespace test
}  // namespace segwal
