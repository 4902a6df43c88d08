// Where RocksDB's WAL files live in segwal's logs: the one place that maps
// a WAL path to the log serving it and its name in that log, and a
// directory to the logical files it holds.
//
//  - With a shared log directory (SegWalOptions::log_dir), one log serves
//    every WAL; a WAL's logical name is its normalized absolute path.
//  - Without one, each WAL owner directory D (the WAL's directory, or the
//    parent of its "archive" directory) has its own log in D/segwal, and
//    logical names are relative to D ("000003.log", "archive/000003.log").
//
// Paths given are normalized here (NormalizePath); pure and thread-safe.
#pragma once

#include <string>

namespace segwal {

// A WAL path's place: its log and its name there.
struct WalLocation {
  std::string path;     // normalized
  std::string log_dir;  // the directory of the log serving it
  std::string name;     // logical name in that log
};

// The logical files of one directory as one log holds them: every logical
// name starting with `prefix` lies beneath the directory.
struct DirectoryInLog {
  std::string log_dir;
  std::string prefix;
  std::string owner;  // a log per directory: what names are relative to
};

class WalRouter {
 public:
  // `shared_log_dir` empty: a log per WAL owner directory.
  explicit WalRouter(const std::string& shared_log_dir);

  bool shared() const { return !shared_log_dir_.empty(); }
  // The shared log's directory (normalized), or empty.
  const std::string& shared_log_dir() const { return shared_log_dir_; }

  // False if `path` is not a WAL file name ("<digits>.log").
  bool Locate(const std::string& path, WalLocation* where) const;
  // The log holding the logical files at or beneath directory `dir`.
  DirectoryInLog Directory(const std::string& dir) const;
  // The path of logical file `name` of that log.
  std::string PathOf(const DirectoryInLog& directory,
                     const std::string& name) const;
  // Whether logical file `name` lies directly in the directory (not in a
  // subdirectory); *base is then its entry name.
  static bool InDirectory(const DirectoryInLog& directory,
                          const std::string& name, std::string* base);
  // The entry of `dir` that is a log directory (hidden from listings), or
  // empty.
  std::string HiddenEntry(const std::string& dir) const;

 private:
  const std::string shared_log_dir_;
};

}  // namespace segwal
