#include "env/fs/wal_path.h"

#include <unistd.h>

#include <cerrno>
#include <vector>

namespace segwal {
namespace {

constexpr char kWalSuffix[] = ".log";
constexpr size_t kWalSuffixLen = sizeof(kWalSuffix) - 1;

std::string CurrentDir() {
  std::vector<char> buf(4096);
  while (getcwd(buf.data(), buf.size()) == nullptr) {
    if (errno != ERANGE) return "/";
    buf.resize(buf.size() * 2);
  }
  return std::string(buf.data());
}

}  // namespace

bool IsWalFileName(const std::string& path) {
  const std::string base = path.substr(path.find_last_of('/') + 1);
  if (base.size() <= kWalSuffixLen ||
      base.compare(base.size() - kWalSuffixLen, kWalSuffixLen, kWalSuffix) !=
          0) {
    return false;
  }
  for (size_t i = 0; i < base.size() - kWalSuffixLen; ++i) {
    if (base[i] < '0' || base[i] > '9') return false;
  }
  return true;
}

std::string NormalizePath(const std::string& path) {
  std::string input = path;
  if (input.empty() || input[0] != '/') input = CurrentDir() + "/" + input;
  std::string out;
  out.reserve(input.size());
  size_t pos = 0;
  while (pos < input.size()) {
    size_t next = input.find('/', pos);
    if (next == std::string::npos) next = input.size();
    const std::string part = input.substr(pos, next - pos);
    if (!part.empty() && part != ".") {
      out += '/';
      out += part;
    }
    pos = next + 1;
  }
  return out.empty() ? "/" : out;
}

std::string DirName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string WalOwnerDir(const std::string& wal_path) {
  const std::string dir = DirName(wal_path);
  if (BaseName(dir) == kArchiveDir) return DirName(dir);
  return dir;
}

bool IsUnder(const std::string& path, const std::string& dir) {
  if (dir == "/") return !path.empty() && path[0] == '/';
  return path.size() >= dir.size() &&
         path.compare(0, dir.size(), dir) == 0 &&
         (path.size() == dir.size() || path[dir.size()] == '/');
}

}  // namespace segwal
