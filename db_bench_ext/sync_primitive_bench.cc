// Measures the synced-write primitives a WAL can be built on, on one
// directory's file system: median and p99 latency of one synced write of
// --sizes bytes (default 4096 and 256), sequential offsets, for
//   append        write() + fdatasync appending to a fresh file
//   fallocate     pwrite + fdatasync into fallocate()d (unwritten) space
//   prealloc      pwrite + fdatasync overwriting a zero-filled (written,
//                 synced) file
//   recycled      the same on a file whose blocks hold older data
//   odsync        O_DSYNC pwrite on a zero-filled file
//   direct        O_DIRECT|O_DSYNC aligned 4 KiB pwrite on a zero-filled
//                 file (a smaller write still costs one 4 KiB block)
// Variants run interleaved round by round (A B C ... A B C ...) so that
// noise spreads over all of them.
//
// Usage: sync_primitive_bench [--dir=DIR] [--count=200] [--sizes=4096,256]
//        [--rounds=5]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kBlock = 4096;

struct Options {
  std::string dir = "build/sync_primitive_bench.dir";
  int count = 200;    // synced writes per variant per size, per round
  int rounds = 5;
  std::vector<size_t> sizes = {4096, 256};
};

uint64_t MicrosSince(Clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() -
                                                            start)
          .count());
}

void Die(const std::string& what) {
  std::perror(what.c_str());
  std::exit(1);
}

void FillFile(int fd, size_t size, char byte) {
  void* buf = nullptr;
  if (posix_memalign(&buf, kBlock, 1 << 20) != 0) Die("posix_memalign");
  std::memset(buf, byte, 1 << 20);
  for (size_t pos = 0; pos < size; pos += 1 << 20) {
    if (::pwrite(fd, buf, std::min<size_t>(1 << 20, size - pos), pos) < 0) {
      Die("pwrite fill");
    }
  }
  if (::fsync(fd) != 0) Die("fsync");
  std::free(buf);
}

enum class Variant { kAppend, kFallocate, kPrealloc, kRecycled, kODsync,
                     kDirect };
const char* Name(Variant v) {
  switch (v) {
    case Variant::kAppend: return "append: write+fdatasync, fresh file";
    case Variant::kFallocate: return "fallocate: pwrite+fdatasync, unwritten extents";
    case Variant::kPrealloc: return "prealloc: pwrite+fdatasync, zero-filled file";
    case Variant::kRecycled: return "recycled: pwrite+fdatasync, previously written file";
    case Variant::kODsync: return "odsync: O_DSYNC pwrite, zero-filled file";
    case Variant::kDirect: return "direct: O_DIRECT|O_DSYNC 4K pwrite, zero-filled file";
  }
  return "?";
}

// One run of `count` synced writes of `size` bytes; appends latencies.
void Run(const Options& o, Variant v, size_t size,
         std::vector<uint64_t>* out) {
  const std::string path = o.dir + "/primitive.dat";
  ::unlink(path.c_str());
  const size_t span = std::max<size_t>(
      (static_cast<size_t>(o.count) + 1) *
          (v == Variant::kDirect ? std::max(size, kBlock) : size),
      kBlock);
  const size_t file_size = (span + kBlock - 1) / kBlock * kBlock + kBlock;
  int flags = O_CREAT | O_RDWR;
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) Die(path);
  switch (v) {
    case Variant::kAppend:
      break;
    case Variant::kFallocate:
      if (::fallocate(fd, 0, 0, file_size) != 0) Die("fallocate");
      if (::fsync(fd) != 0) Die("fsync");
      break;
    case Variant::kPrealloc:
    case Variant::kODsync:
    case Variant::kDirect:
      FillFile(fd, file_size, '\0');
      break;
    case Variant::kRecycled:
      FillFile(fd, file_size, 'o');  // an older segment's bytes
      break;
  }
  // The directory entry durable too: the measured syncs are steady state.
  int dfd = ::open(o.dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  if (v == Variant::kODsync || v == Variant::kDirect) {
    ::close(fd);
    fd = ::open(path.c_str(),
                O_RDWR | O_DSYNC | (v == Variant::kDirect ? O_DIRECT : 0));
    if (fd < 0) Die(path + " (O_DSYNC/O_DIRECT)");
  }
  const size_t io = v == Variant::kDirect ? std::max(size, kBlock) : size;
  void* buf = nullptr;
  if (posix_memalign(&buf, kBlock, io) != 0) Die("posix_memalign");
  std::memset(buf, 'w', io);
  for (int i = 0; i < o.count; ++i) {
    // Direct I/O rewrites the tail block until it is full, as a WAL would.
    const off_t offset =
        v == Variant::kDirect
            ? static_cast<off_t>((static_cast<size_t>(i) * size) / kBlock *
                                 kBlock)
            : static_cast<off_t>(static_cast<size_t>(i) * size);
    const auto start = Clock::now();
    ssize_t n = v == Variant::kAppend ? ::write(fd, buf, io)
                                      : ::pwrite(fd, buf, io, offset);
    if (n != static_cast<ssize_t>(io)) Die("write");
    if (v != Variant::kODsync && v != Variant::kDirect) {
      if (::fdatasync(fd) != 0) Die("fdatasync");
    }
    out->push_back(MicrosSince(start));
  }
  std::free(buf);
  ::close(fd);
  ::unlink(path.c_str());
}

uint64_t Pct(std::vector<uint64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(static_cast<double>(v.size() - 1) * p + 0.5)];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string key = arg.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    if (key == "--dir") {
      o.dir = value;
    } else if (key == "--count") {
      o.count = std::atoi(value.c_str());
    } else if (key == "--rounds") {
      o.rounds = std::atoi(value.c_str());
    } else if (key == "--sizes") {
      o.sizes.clear();
      std::stringstream in(value);
      std::string item;
      while (std::getline(in, item, ',')) o.sizes.push_back(std::stoul(item));
    } else {
      std::fprintf(stderr,
                   "usage: sync_primitive_bench [--dir=DIR] [--count=N] "
                   "[--rounds=N] [--sizes=a,b]\n");
      return 2;
    }
  }
  ::mkdir(o.dir.c_str(), 0755);
  const Variant variants[] = {Variant::kAppend,   Variant::kFallocate,
                              Variant::kPrealloc, Variant::kRecycled,
                              Variant::kODsync,   Variant::kDirect};
  std::map<std::pair<size_t, int>, std::vector<uint64_t>> samples;
  for (int round = 0; round < o.rounds; ++round) {
    for (size_t size : o.sizes) {
      for (Variant v : variants) {
        Run(o, v, size, &samples[{size, static_cast<int>(v)}]);
      }
    }
  }
  std::printf("# Synced-write primitives on %s\n\n", o.dir.c_str());
  std::printf("%d rounds x %d synced writes per variant and size, "
              "interleaved; latency of write + sync, microseconds.\n\n",
              o.rounds, o.count);
  std::printf("| size | primitive | median us | p90 us | p99 us | max us | "
              "MB/s at median |\n|---:|---|---:|---:|---:|---:|---:|\n");
  for (size_t size : o.sizes) {
    for (Variant v : variants) {
      const std::vector<uint64_t>& s = samples[{size, static_cast<int>(v)}];
      const uint64_t median = Pct(s, 0.5);
      std::printf("| %zu | %s | %llu | %llu | %llu | %llu | %.2f |\n", size,
                  Name(v), static_cast<unsigned long long>(median),
                  static_cast<unsigned long long>(Pct(s, 0.9)),
                  static_cast<unsigned long long>(Pct(s, 0.99)),
                  static_cast<unsigned long long>(Pct(s, 1.0)),
                  median == 0 ? 0.0 : size / static_cast<double>(median));
    }
  }
  ::rmdir(o.dir.c_str());
  return 0;
}
