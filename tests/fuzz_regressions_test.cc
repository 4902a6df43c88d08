// Replays every input in tests/fuzz/regressions/<target>/ through the fuzz
// targets' code (compiled here without libFuzzer), so that the inputs the
// fuzzers once failed on stay fixed in every build, not only the clang one.
#include <dirent.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#define LLVMFuzzerTestOneInput FuzzRecoveryOne
#include "tests/fuzz/fuzz_recovery.cc"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput FuzzFrameOne
#include "tests/fuzz/fuzz_frame.cc"
#undef LLVMFuzzerTestOneInput

namespace {

std::string RegressionDir(const std::string& target) {
  std::string here = __FILE__;
  return here.substr(0, here.rfind('/')) + "/fuzz/regressions/" + target;
}

std::vector<std::string> Inputs(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (struct dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') out.push_back(dir + "/" + e->d_name);
    }
    closedir(d);
  }
  return out;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

template <typename Fn>
void Replay(const std::string& target, Fn fn) {
  const std::vector<std::string> inputs = Inputs(RegressionDir(target));
  EXPECT_FALSE(inputs.empty()) << "no inputs in " << RegressionDir(target);
  for (const std::string& path : inputs) {
    SCOPED_TRACE(path);
    const std::string data = Slurp(path);
    // A failure aborts (as under the fuzzer): the test fails loudly.
    fn(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  }
}

TEST(FuzzRegressionsTest, Recovery) { Replay("fuzz_recovery", FuzzRecoveryOne); }
TEST(FuzzRegressionsTest, Frame) { Replay("fuzz_frame", FuzzFrameOne); }

}  // namespace
