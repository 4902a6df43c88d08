#include "tool/lock_holder.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "env/format/file_names.h"

namespace segwal {
namespace tool {
namespace {

using rocksdb::IOStatus;

IOStatus Errno(const std::string& what, const std::string& path, int err) {
  return IOStatus::IOError(what + " " + path + ": " + std::strerror(err));
}

struct LockEntry {
  std::string type;  // FLOCK, POSIX, OFDLCK
  int64_t pid = -1;
  unsigned major = 0, minor = 0;
  uint64_t inode = 0;
};

// The locks held (not waited for) in /proc/locks, e.g.
// "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF".
std::vector<LockEntry> ReadProcLocks() {
  std::vector<LockEntry> out;
  std::ifstream in("/proc/locks");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string index, type, advisory, mode, pid, where;
    fields >> index >> type;
    if (type == "->") continue;  // a waiter
    fields >> advisory >> mode >> pid >> where;
    LockEntry e;
    e.type = type;
    unsigned long long inode = 0;
    if (std::sscanf(where.c_str(), "%x:%x:%llu", &e.major, &e.minor, &inode) !=
        3) {
      continue;
    }
    e.inode = inode;
    e.pid = std::strtoll(pid.c_str(), nullptr, 10);
    out.push_back(e);
  }
  return out;
}

bool SameFile(const LockEntry& e, const struct stat& st) {
  return e.inode == static_cast<uint64_t>(st.st_ino) &&
         e.major == major(st.st_dev) && e.minor == minor(st.st_dev);
}

}  // namespace

std::string LockHolder::Describe() const {
  if (pid < 0) return "held by a process /proc/locks does not name";
  std::string out = "held by pid " + std::to_string(pid);
  if (!cmdline.empty()) out += " (" + cmdline + ")";
  return out;
}

std::string ProcessCmdline(int64_t pid, size_t max) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline",
                   std::ios::binary);
  std::string raw(max + 1, '\0');
  in.read(&raw[0], static_cast<std::streamsize>(raw.size()));
  raw.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
  while (!raw.empty() && raw.back() == '\0') raw.pop_back();
  const bool cut = raw.size() > max;
  if (cut) raw.resize(max);
  for (char& c : raw) {
    if (c == '\0') c = ' ';
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  }
  return cut ? raw + "..." : raw;
}

LockHolder FindLockHolder(const std::string& path) {
  LockHolder holder;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return holder;
  for (const LockEntry& e : ReadProcLocks()) {
    if (!SameFile(e, st)) continue;
    holder.held = true;
    holder.pid = e.pid > 0 ? e.pid : -1;
    if (holder.pid > 0) holder.cmdline = ProcessCmdline(holder.pid);
    break;
  }
  return holder;
}

IOStatus ProbeLogLock(const std::string& log_dir, LockHolder* holder) {
  *holder = LockHolder();
  const std::string path = log_dir + "/" + kLockFileName;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT ? IOStatus::OK() : Errno("open", path, errno);
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
    ::flock(fd, LOCK_UN);
    ::close(fd);
    return IOStatus::OK();
  }
  const int err = errno;
  ::close(fd);
  if (err != EWOULDBLOCK) return Errno("flock", path, err);
  *holder = FindLockHolder(path);
  holder->held = true;
  return IOStatus::OK();
}

IOStatus ProbeDbLock(const std::string& db_dir, LockHolder* holder) {
  *holder = LockHolder();
  const std::string path = db_dir + "/LOCK";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT ? IOStatus::OK() : Errno("open", path, errno);
  }
  struct flock lock;
  std::memset(&lock, 0, sizeof(lock));
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  const int r = ::fcntl(fd, F_GETLK, &lock);
  const int err = errno;
  ::close(fd);
  if (r != 0) return Errno("fcntl(F_GETLK)", path, err);
  if (lock.l_type == F_UNLCK) return IOStatus::OK();
  holder->held = true;
  holder->pid = lock.l_pid > 0 ? lock.l_pid : -1;
  if (holder->pid > 0) holder->cmdline = ProcessCmdline(holder->pid);
  return IOStatus::OK();
}

IOStatus LogDirsOfProcess(int64_t pid, std::vector<std::string>* dirs) {
  dirs->clear();
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(fd_dir.c_str());
  if (d == nullptr) return Errno("opendir", fd_dir, errno);
  const std::vector<LockEntry> locks = ReadProcLocks();
  const std::string suffix = std::string("/") + kLockFileName;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char target[4096];
    const std::string link = fd_dir + "/" + e->d_name;
    const ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    const std::string path(target, static_cast<size_t>(n));
    if (path.size() <= suffix.size() ||
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    struct stat st;
    if (::stat(link.c_str(), &st) != 0) continue;
    // segwal's LOCK is an flock; RocksDB's own LOCK (an fcntl lock) is not
    // a log.
    const bool log_lock =
        std::any_of(locks.begin(), locks.end(), [&](const LockEntry& l) {
          return l.type == "FLOCK" && l.pid == pid && SameFile(l, st);
        });
    if (!log_lock) continue;
    const std::string dir = path.substr(0, path.size() - suffix.size());
    if (std::find(dirs->begin(), dirs->end(), dir) == dirs->end()) {
      dirs->push_back(dir.empty() ? "/" : dir);
    }
  }
  ::closedir(d);
  std::sort(dirs->begin(), dirs->end());
  return IOStatus::OK();
}

}  // namespace tool
}  // namespace segwal
