// Frames stored through a mapping of the head segment (when syncs are
// rare): the bytes read back and survive a reopen, a store that faults
// returns an error instead of killing the process, and a fault outside
// such a store still gets the default action.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "env/engine/log.h"
#include "env/storage/guarded_copy.h"
#include "env/storage/storage.h"
#include "gtest/gtest.h"
#include "tests/segwal_test_util.h"
#include "tests/support/log_fixture.h"

namespace segwal {
namespace {

using testing::Pattern;
using testing::ReadAll;
using testing::WaitFor;

constexpr size_t kPage = 4096;

// A file of one page, mapped for two: the second page lies past its end.
class PastTheEnd {
 public:
  PastTheEnd() {
    fd_ = ::open((dir_ / "f").c_str(), O_RDWR | O_CREAT, 0644);
    EXPECT_EQ(0, ::ftruncate(fd_, kPage));
    void* p = ::mmap(nullptr, 2 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED,
                     fd_, 0);
    EXPECT_NE(MAP_FAILED, p);
    map_ = static_cast<char*>(p);
  }
  ~PastTheEnd() {
    ::munmap(map_, 2 * kPage);
    ::close(fd_);
  }
  char* inside() { return map_; }
  char* past() { return map_ + kPage; }

 private:
  test::TempDir dir_;
  int fd_ = -1;
  char* map_ = nullptr;
};

// ThreadSanitizer takes SIGBUS for itself: the signal tests run in the
// other builds (make check, make check-asan); make check-tsan runs the
// writer's tests below.
#if defined(__SANITIZE_THREAD__)
#define SKIP_UNDER_TSAN() GTEST_SKIP() << "ThreadSanitizer handles SIGBUS"
#else
#define SKIP_UNDER_TSAN() (void)0
#endif

TEST(GuardedCopyTest, AFaultingStoreReturnsFalse) {
  SKIP_UNDER_TSAN();
  PastTheEnd file;
  const std::string bytes(100, 'x');
  EXPECT_TRUE(GuardedCopy(file.inside(), bytes.data(), bytes.size()));
  EXPECT_EQ(0, std::memcmp(file.inside(), bytes.data(), bytes.size()));
  // Past the file's end: SIGBUS, caught; again, to see the handler stays.
  EXPECT_FALSE(GuardedCopy(file.past(), bytes.data(), bytes.size()));
  EXPECT_FALSE(GuardedCopy(file.past(), bytes.data(), bytes.size()));
  EXPECT_TRUE(GuardedCopy(file.inside() + 200, bytes.data(), bytes.size()));
}

// Only the copies are guarded: any other SIGBUS gets the action it had
// before (the default: death by SIGBUS; under AddressSanitizer, its report).
TEST(GuardedCopyDeathTest, OtherFaultsKeepTheDefaultAction) {
  SKIP_UNDER_TSAN();
  const auto fault_outside_a_copy = [] {
    PastTheEnd file;
    const char c = 'x';
    (void)GuardedCopy(file.inside(), &c, 1);  // installs the handler
    *reinterpret_cast<volatile char*>(file.past()) = c;
  };
#if defined(__SANITIZE_ADDRESS__)
  EXPECT_DEATH(fault_outside_a_copy(), "AddressSanitizer: BUS");
#else
  EXPECT_EXIT(fault_outside_a_copy(), ::testing::KilledBySignal(SIGBUS), "");
#endif
}

// Pages the writer is done with are unmapped before their writeback
// (StorageFile::UnmapStoredBelow): their bytes stay the file's, faulting in
// skips them, later pages still take stores, and the file's own unmapping
// later leaves alone whatever the freed addresses were given to since.
TEST(MappedWriteTest, UnmappedStoredPagesStayTheFilesAndFreeTheirAddresses) {
  test::TempDir tmp;
  constexpr uint64_t kPages = 16;
  std::unique_ptr<StorageFile> file;
  ASSERT_TRUE(
      PosixStorage()->OpenFile(tmp / "segment", /*create=*/true, &file).ok());
  ASSERT_TRUE(file->Allocate(0, kPages * kPage).ok());
  char* map = nullptr;
  ASSERT_TRUE(file->Map(kPages * kPage, &map).ok());
  ASSERT_TRUE(file->Prefault(0, kPages * kPage).ok());
  const std::string stored = Pattern(4 * kPage + 100, 7);
  ASSERT_TRUE(GuardedCopy(map, stored.data(), stored.size()));
  const auto mapped = [&](uint64_t page) {
    unsigned char in_core = 0;
    return ::mincore(map + page * kPage, kPage, &in_core) == 0;
  };

  file->UnmapStoredBelow(stored.size());
  for (uint64_t page = 0; page < 4; ++page) EXPECT_FALSE(mapped(page)) << page;
  EXPECT_TRUE(mapped(4)) << "the page holding the end may take more stores";
  file->StartWriteback(0, stored.size());
  std::string back(stored.size(), '\0');
  size_t got = 0;
  ASSERT_TRUE(file->Read(0, back.size(), &back[0], &got).ok());
  EXPECT_EQ(stored, back.substr(0, got));
  EXPECT_TRUE(file->Prefault(0, kPages * kPage).ok());
  EXPECT_TRUE(file->Prefault(0, 4 * kPage).ok()) << "all of it unmapped";
  EXPECT_FALSE(mapped(0));
  const std::string more = Pattern(kPage, 8);
  EXPECT_TRUE(GuardedCopy(map + 6 * kPage, more.data(), more.size()));
  file->UnmapStoredBelow(2 * kPage);  // unmapped already: nothing to do
  EXPECT_TRUE(mapped(4));

  // The freed addresses, taken by another mapping, stay its own.
  void* other =
      ::mmap(map, 4 * kPage, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  ASSERT_EQ(static_cast<void*>(map), other);
  std::memset(other, 'o', 4 * kPage);
  file.reset();
  EXPECT_TRUE(mapped(0));
  EXPECT_EQ('o', map[4 * kPage - 1]);
  EXPECT_FALSE(mapped(4)) << "the rest was the file's";
  ::munmap(other, 4 * kPage);
}

// With rare syncs the writer stores frames through the head's mapping: a
// log on real files written in small unsynced appends reads back whole,
// before and after a reopen, and most frames went through the mapping.
TEST(MappedWriteTest, UnsyncedAppendsGoThroughTheMapping) {
  test::TempDir tmp;
  const std::string dir = tmp / "log";
  LogOptions options;
  options.segment_size = 8 << 20;  // several windows and prefault runs
  std::string written;
  {
    std::unique_ptr<Log> log;
    ASSERT_TRUE(Log::Open(PosixStorage(), dir, options, &log, nullptr).ok());
    uint64_t id = 0;
    ASSERT_TRUE(log->Create("a.log", &id).ok());
    for (int i = 0; written.size() < (12u << 20); ++i) {  // two segments
      const std::string piece = Pattern(300 + i % 700, i);
      ASSERT_TRUE(log->Append(id, piece).ok());
      written += piece;
    }
    EXPECT_EQ(written, ReadAll(log.get(), "a.log"));
    const LogStats stats = log->GetStats();
    EXPECT_GE(stats.rotations, 1u);
    EXPECT_GT(stats.prefaults, 0u);
    // Unmapping the pages written back leaves the rest to the mapping.
    EXPECT_GT(stats.mapped_writes, stats.frames_written / 2)
        << "frames " << stats.frames_written;
    EXPECT_GT(stats.writeback_starts, 0u);
  }
  std::unique_ptr<Log> log;
  RecoveryInfo info;
  ASSERT_TRUE(Log::Open(PosixStorage(), dir, options, &log, &info).ok());
  EXPECT_TRUE(info.damages.empty()) << info.ToString();
  EXPECT_FALSE(info.torn_tail) << info.ToString();
  EXPECT_EQ(written, ReadAll(log.get(), "a.log"));
}

}  // namespace
}  // namespace segwal
