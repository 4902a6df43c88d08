// Paths as segwal sees them: which files are RocksDB WAL files, which
// directory owns a WAL, and one lexical spelling of every path so that
// "/db//x/", "/db/./x" and a relative "x" all name the same log.
#pragma once

#include <string>

namespace segwal {

// The directory holding each WAL directory's log when SegWalOptions::log_dir
// is unset: "<owner>/segwal".
constexpr char kLogSubdir[] = "segwal";
// RocksDB's archive directory under a WAL directory (WAL_ttl_seconds,
// WAL_size_limit_MB).
constexpr char kArchiveDir[] = "archive";

// True if the base name of `path` is a RocksDB WAL file name: one or more
// decimal digits followed by ".log" ("000012.log"), in any directory.
bool IsWalFileName(const std::string& path);

// Lexical normalization: relative paths are made absolute against the
// current working directory, then "//" and "/./" collapse and a trailing
// "/" goes ("/" stays "/"). ".." is kept as written: resolving it
// lexically would be wrong across symbolic links.
std::string NormalizePath(const std::string& path);

// The directory part of a normalized path ("/a/b" -> "/a", "/a" -> "/").
std::string DirName(const std::string& path);
// The last component of a normalized path ("/a/b" -> "b", "/" -> "").
std::string BaseName(const std::string& path);
// dir + "/" + name, without doubling the "/" of the root.
std::string JoinPath(const std::string& dir, const std::string& name);

// The owner directory of a normalized WAL path: its directory, or the
// parent of that directory when it is an "archive" directory.
// "/db/000003.log" -> "/db", "/db/archive/000003.log" -> "/db".
std::string WalOwnerDir(const std::string& wal_path);

// True if normalized `path` is `dir` or lies beneath it.
bool IsUnder(const std::string& path, const std::string& dir);

}  // namespace segwal
