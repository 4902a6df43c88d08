#include "env/fs/wal_router.h"

#include "env/fs/wal_path.h"

namespace segwal {

WalRouter::WalRouter(const std::string& shared_log_dir)
    : shared_log_dir_(shared_log_dir.empty() ? std::string()
                                             : NormalizePath(shared_log_dir)) {}

bool WalRouter::Locate(const std::string& path, WalLocation* where) const {
  if (!IsWalFileName(path)) return false;
  where->path = NormalizePath(path);
  const std::string owner = WalOwnerDir(where->path);
  if (shared()) {
    where->log_dir = shared_log_dir_;
    where->name = where->path;
  } else {
    where->log_dir = JoinPath(owner, kLogSubdir);
    where->name = where->path.substr(owner == "/" ? 1 : owner.size() + 1);
  }
  return true;
}

DirectoryInLog WalRouter::Directory(const std::string& dir) const {
  const std::string normalized = NormalizePath(dir);
  DirectoryInLog out;
  if (shared()) {
    out.log_dir = shared_log_dir_;
    out.prefix = normalized == "/" ? "/" : normalized + "/";
    return out;
  }
  const bool archive = BaseName(normalized) == kArchiveDir;
  out.owner = archive ? DirName(normalized) : normalized;
  out.prefix = archive ? std::string(kArchiveDir) + "/" : std::string();
  out.log_dir = JoinPath(out.owner, kLogSubdir);
  return out;
}

std::string WalRouter::PathOf(const DirectoryInLog& directory,
                              const std::string& name) const {
  return shared() ? name : JoinPath(directory.owner, name);
}

bool WalRouter::InDirectory(const DirectoryInLog& directory,
                            const std::string& name, std::string* base) {
  const std::string& prefix = directory.prefix;
  if (name.size() <= prefix.size() ||
      name.compare(0, prefix.size(), prefix) != 0) {
    return false;
  }
  *base = name.substr(prefix.size());
  return base->find('/') == std::string::npos;
}

std::string WalRouter::HiddenEntry(const std::string& dir) const {
  const std::string normalized = NormalizePath(dir);
  if (shared()) {
    return DirName(shared_log_dir_) == normalized ? BaseName(shared_log_dir_)
                                                  : std::string();
  }
  return BaseName(normalized) == kArchiveDir ? std::string() : kLogSubdir;
}

}  // namespace segwal
