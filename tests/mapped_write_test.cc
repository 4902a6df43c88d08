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

TEST(GuardedCopyTest, AFaultingStoreReturnsFalse) {
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
    EXPECT_GT(stats.mapped_writes, stats.frames_written / 2)
        << "frames " << stats.frames_written;
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
