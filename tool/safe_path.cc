#include "tool/safe_path.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace segwal {
namespace tool {
namespace {

using rocksdb::IOStatus;

constexpr size_t kMaxName = 4096;
constexpr size_t kMaxComponent = 255;
constexpr size_t kMaxDepth = 64;

}  // namespace

bool SafeComponents(const std::string& name, std::vector<std::string>* parts,
                    std::string* why) {
  parts->clear();
  if (name.empty() || name.size() > kMaxName) {
    *why = name.empty() ? "empty name" : "name longer than 4096 bytes";
    return false;
  }
  if (name.find('\0') != std::string::npos) {
    *why = "name holds a NUL byte";
    return false;
  }
  size_t start = name[0] == '/' ? 1 : 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    const std::string part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      *why = "name has an empty, '.' or '..' component";
      return false;
    }
    if (part.size() > kMaxComponent) {
      *why = "name has a component longer than 255 bytes";
      return false;
    }
    parts->push_back(part);
    if (parts->size() > kMaxDepth) {
      *why = "name is more than 64 directories deep";
      return false;
    }
    start = end + 1;
  }
  return true;
}

IOStatus CreateBeneath(int root_fd, const std::vector<std::string>& parts,
                       int* fd) {
  *fd = -1;
  if (parts.empty()) return IOStatus::InvalidArgument("empty path");
  int dir_fd = ::dup(root_fd);
  if (dir_fd < 0) return IOStatus::IOError(std::strerror(errno));
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (::mkdirat(dir_fd, parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
      const int err = errno;
      ::close(dir_fd);
      return IOStatus::IOError("mkdir " + parts[i] + ": " + std::strerror(err));
    }
    const int next = ::openat(dir_fd, parts[i].c_str(),
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const int err = errno;
    ::close(dir_fd);
    if (next < 0) {
      return IOStatus::IOError("open directory " + parts[i] + ": " +
                               std::strerror(err));
    }
    dir_fd = next;
  }
  *fd = ::openat(dir_fd, parts.back().c_str(),
                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  const int err = errno;
  ::close(dir_fd);
  if (*fd < 0) {
    return IOStatus::IOError("create " + parts.back() + ": " +
                             std::strerror(err));
  }
  return IOStatus::OK();
}

bool RealPath(const std::string& path, std::string* real) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return false;
  *real = buf;
  return true;
}

bool IsSymlink(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

}  // namespace tool
}  // namespace segwal
