#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <set>

#include "env/storage/storage.h"

namespace segwal {
namespace {

IOStatus ErrnoStatus(const std::string& what, const std::string& path,
                     int err) {
  std::string msg = what + " " + path + ": " + std::strerror(err);
  if (err == ENOSPC) return IOStatus::NoSpace(msg);
  if (err == ENOENT) return IOStatus::PathNotFound(msg);
  return IOStatus::IOError(msg);
}

class PosixFile : public StorageFile {
 public:
  // `read_only`: opened read-only because the file system is (every change
  // fails with EROFS, naming the file).
  PosixFile(std::string path, int fd, bool read_only)
      : path_(std::move(path)), fd_(fd), read_only_(read_only) {}
  ~PosixFile() override {
    Unmap();
    ::close(fd_);
  }

  IOStatus Read(uint64_t offset, size_t n, char* scratch,
                size_t* read) override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, scratch + done, n - done,
                          static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("read", path_, errno);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    *read = done;
    return IOStatus::OK();
  }

  IOStatus Write(uint64_t offset, const char* data, size_t n) override {
    if (read_only_) return ErrnoStatus("write", path_, EROFS);
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pwrite(fd_, data + done, n - done,
                           static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", path_, errno);
      }
      done += static_cast<size_t>(r);
    }
    return IOStatus::OK();
  }

  IOStatus Sync() override {
    if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", path_, errno);
    return IOStatus::OK();
  }

  void StartWriteback(uint64_t offset, uint64_t n) override {
#ifdef SYNC_FILE_RANGE_WRITE
    // Errors are ignored: this is a hint (see StorageFile).
    (void)::sync_file_range(fd_, static_cast<off_t>(offset),
                            static_cast<off_t>(n), SYNC_FILE_RANGE_WRITE);
#else
    (void)offset;
    (void)n;
#endif
  }

  IOStatus Allocate(uint64_t offset, uint64_t n) override {
    if (read_only_) return ErrnoStatus("fallocate", path_, EROFS);
    if (::fallocate(fd_, 0, static_cast<off_t>(offset),
                    static_cast<off_t>(n)) == 0) {
      return IOStatus::OK();
    }
    if (errno == EOPNOTSUPP || errno == ENOSYS) {
      return IOStatus::NotSupported("fallocate", path_);
    }
    return ErrnoStatus("fallocate", path_, errno);
  }

  IOStatus Truncate(uint64_t size) override {
    if (read_only_) return ErrnoStatus("ftruncate", path_, EROFS);
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return ErrnoStatus("ftruncate", path_, errno);
    }
    return IOStatus::OK();
  }

  IOStatus Map(uint64_t n, char** address) override {
    if (read_only_) return ErrnoStatus("mmap", path_, EROFS);
    std::lock_guard<std::mutex> guard(map_mu_);
    UnmapLocked();
    void* p = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) return ErrnoStatus("mmap", path_, errno);
    map_size_ = n;
    unmapped_end_.store(0, std::memory_order_relaxed);
    map_.store(static_cast<char*>(p), std::memory_order_release);
    *address = static_cast<char*>(p);
    return IOStatus::OK();
  }

  // Runs on the thread that maps (not under map_mu_: faulting in may take
  // milliseconds, and UnmapStoredBelow runs on the writer's threads).
  IOStatus Prefault(uint64_t offset, uint64_t n) override {
#ifdef MADV_POPULATE_WRITE
    char* const map = map_.load(std::memory_order_acquire);
    if (map == nullptr || offset + n > map_size_) {
      return IOStatus::InvalidArgument("prefault outside the mapping of",
                                       path_);
    }
    // Pages UnmapStoredBelow took away are not faulted in: nothing is
    // stored there. It may take more while this runs (ENOMEM: a hole in
    // the range); then again from past them.
    uint64_t from = offset;
    int err = 0;
    for (;;) {
      from = std::max(from, unmapped_end_.load(std::memory_order_acquire));
      if (from >= offset + n) {
        err = 0;
        break;
      }
      if (::madvise(map + from, offset + n - from, MADV_POPULATE_WRITE) == 0) {
        err = 0;
        break;
      }
      err = errno;
      if (err != ENOMEM ||
          unmapped_end_.load(std::memory_order_acquire) <= from) {
        break;
      }
    }
    if (err == EINVAL) {
      return IOStatus::NotSupported("MADV_POPULATE_WRITE", path_);
    }
    if (err != 0) return ErrnoStatus("prefault (madvise)", path_, err);
    return IOStatus::OK();
#else
    (void)offset;
    (void)n;
    return IOStatus::NotSupported("MADV_POPULATE_WRITE", path_);
#endif
  }

  // Writing back a page that is mapped writable write-protects it first,
  // and that costs a TLB shoot-down per page (an interprocessor interrupt
  // to every CPU running this process, each a VM exit on a virtual
  // machine); unmapping the pages costs one for the whole range, and their
  // writeback then finds them mapped nowhere. They stay in the page cache,
  // dirty.
  //
  // Always a prefix of the mapping: what is left stays one mapping, and
  // unmapping never has to split it (no ENOMEM).
  void UnmapStoredBelow(uint64_t end) override {
    std::lock_guard<std::mutex> guard(map_mu_);
    char* const map = map_.load(std::memory_order_relaxed);
    if (map == nullptr) return;
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    const uint64_t from = unmapped_end_.load(std::memory_order_relaxed);
    const uint64_t to = std::min(end, map_size_) / page * page;
    if (to <= from) return;
    // Raised first: a Prefault starting now leaves these pages alone.
    unmapped_end_.store(to, std::memory_order_release);
    if (::munmap(map + from, to - from) != 0) {
      unmapped_end_.store(from, std::memory_order_release);  // still mapped
    }
  }

  void Unmap() override {
    std::lock_guard<std::mutex> guard(map_mu_);
    UnmapLocked();
  }

  IOStatus Size(uint64_t* size) override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("fstat", path_, errno);
    *size = static_cast<uint64_t>(st.st_size);
    return IOStatus::OK();
  }

 private:
  // What is still mapped: pages below unmapped_end_ were unmapped
  // already, and their addresses may belong to another mapping since.
  void UnmapLocked() {
    char* const map = map_.exchange(nullptr, std::memory_order_acq_rel);
    const uint64_t from = unmapped_end_.load(std::memory_order_relaxed);
    if (map != nullptr && from < map_size_) {
      ::munmap(map + from, map_size_ - from);
    }
    map_size_ = 0;
  }

  const std::string path_;
  const int fd_;
  const bool read_only_;
  // The mapping: Map's, until Unmap. Changed under map_mu_; Prefault
  // reads map_ and unmapped_end_ without it (Map publishes map_ after
  // map_size_).
  std::mutex map_mu_;
  std::atomic<char*> map_{nullptr};
  uint64_t map_size_ = 0;
  std::atomic<uint64_t> unmapped_end_{0};  // page-aligned
};

// flock() locks belong to the open file description, so a second open of
// the same path in this process would succeed; the set catches that case.
std::mutex locked_paths_mu;
std::set<std::string> locked_paths;

class PosixLock : public StorageLock {
 public:
  PosixLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
    std::lock_guard<std::mutex> guard(locked_paths_mu);
    locked_paths.erase(path_);
  }

 private:
  const std::string path_;
  const int fd_;
};

class PosixStorageImpl : public Storage {
 public:
  IOStatus CreateDirIfMissing(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus("mkdir", dir, errno);
    }
    return IOStatus::OK();
  }

  IOStatus ListDir(const std::string& dir,
                   std::vector<std::string>* names) override {
    names->clear();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return ErrnoStatus("opendir", dir, errno);
    while (struct dirent* entry = ::readdir(d)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names->push_back(std::move(name));
    }
    ::closedir(d);
    return IOStatus::OK();
  }

  IOStatus OpenFile(const std::string& path, bool create,
                    std::unique_ptr<StorageFile>* file) override {
    int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
    int fd = ::open(path.c_str(), flags, 0644);
    // An existing file on a read-only file system opens for reading (a log
    // scanned there: see Lock).
    const bool read_only = fd < 0 && errno == EROFS && !create;
    if (read_only) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    file->reset(new PosixFile(path, fd, read_only));
    return IOStatus::OK();
  }

  IOStatus FileExists(const std::string& path) override {
    if (::access(path.c_str(), F_OK) == 0) return IOStatus::OK();
    if (errno == ENOENT) return IOStatus::NotFound(path);
    return ErrnoStatus("access", path, errno);
  }

  IOStatus Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus("rename to " + to + " from", from, errno);
    }
    return IOStatus::OK();
  }

  IOStatus Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path, errno);
    return IOStatus::OK();
  }

  IOStatus RemoveDir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0) return ErrnoStatus("rmdir", dir, errno);
    return IOStatus::OK();
  }

  IOStatus SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open directory", dir, errno);
    int r = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (r != 0) return ErrnoStatus("fsync directory", dir, err);
    return IOStatus::OK();
  }

  IOStatus Lock(const std::string& path,
                std::unique_ptr<StorageLock>* lock) override {
    std::lock_guard<std::mutex> guard(locked_paths_mu);
    if (locked_paths.count(path) != 0) {
      return IOStatus::IOError("lock " + path +
                               ": already held by this process");
    }
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    // On a read-only file system an existing lock file is still locked,
    // through a read-only descriptor (flock needs no write access): the log
    // can be read, and its first change fails with EROFS.
    if (fd < 0 && errno == EROFS) {
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) return ErrnoStatus("open lock file", path, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return IOStatus::Busy("lock " + path + ": held by another process");
      }
      return ErrnoStatus("flock", path, err);
    }
    locked_paths.insert(path);
    lock->reset(new PosixLock(path, fd));
    return IOStatus::OK();
  }
};

}  // namespace

Storage* PosixStorage() {
  static PosixStorageImpl* storage = new PosixStorageImpl();
  return storage;
}

}  // namespace segwal
