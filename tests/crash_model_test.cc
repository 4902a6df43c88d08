// Crash consistency, model based: random operations run on the Log and on an
// in-memory model; at random points the machine crashes (MemStorage::Crash,
// every CrashMode) and the recovered log must equal the model after some
// prefix of the operations at least as long as the durable prefix.
//
// The log is one sequence of frames, so the model is a sequence of steps,
// one per frame that changes the files (an append longer than a frame's
// payload is several steps). A successful Sync(file) makes every step up to
// that file's last one durable; SyncAll and a clean close make all durable.
// After a power loss the recovered files must equal the model after step k
// for some k >= the durable count (nothing durable lost, nothing replayed
// beyond a valid prefix, no step half applied); after a kill
// (kKeepUnsynced) k must be the last step. A reopened log changes nothing
// on disk until its first change, which makes all it recovered durable: up
// to then, a crash may still lose what the previous one kept.
//
// Environment:
//   SEGWAL_CRASH_SEED=n        first run's seed (runs use n, n+1, ...); a
//                              failure prints the seed of its run
//   SEGWAL_CRASH_ITERATIONS=n  crashes in total (default 3000)
//   SEGWAL_CRASH_LONG=1        100000 crashes
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "env/format/codec.h"
#include "env/engine/log.h"
#include "tests/support/log_fixture.h"

namespace segwal {
namespace {

using testing::CrashMode;
using testing::FramePayloadLimit;
using testing::Pattern;
using testing::RandomBytes;
using testing::ReadAll;
using testing::SmallSegments;
using testing::Words;

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::strtoull(value, nullptr, 0)
                                            : fallback;
}

const char* CrashModeName(CrashMode mode) {
  switch (mode) {
    case CrashMode::kDropUnsynced: return "kDropUnsynced";
    case CrashMode::kKeepUnsynced: return "kKeepUnsynced";
    case CrashMode::kTearLastWrite: return "kTearLastWrite";
    case CrashMode::kRandomSectors: return "kRandomSectors";
  }
  return "?";
}

// ---- The model --------------------------------------------------------------

// Logical files by name. Contents are shared between states until one
// changes them.
using Files = std::map<std::string, std::shared_ptr<std::string>>;

// One frame's change to the files.
struct Step {
  enum Kind { kCreate, kWrite, kTruncate, kRename, kDelete, kLink } kind;
  std::string name;
  std::string to;       // kRename, kLink: the new name
  uint64_t offset = 0;  // kWrite: where; kTruncate: the new size
  std::string data;     // kWrite
};

std::string& Mutable(Files* files, const std::string& name) {
  std::shared_ptr<std::string>& bytes = (*files)[name];
  if (bytes == nullptr) {
    bytes = std::make_shared<std::string>();
  } else if (bytes.use_count() > 1) {
    bytes = std::make_shared<std::string>(*bytes);
  }
  return *bytes;
}

// Applies a step; returns the names whose contents or existence changed.
std::vector<std::string> Apply(Files* files, const Step& step) {
  switch (step.kind) {
    case Step::kCreate:
      (*files)[step.name] = std::make_shared<std::string>();
      return {step.name};
    case Step::kWrite: {
      std::string& bytes = Mutable(files, step.name);
      if (bytes.size() < step.offset + step.data.size()) {
        bytes.resize(step.offset + step.data.size());
      }
      bytes.replace(step.offset, step.data.size(), step.data);
      return {step.name};
    }
    case Step::kTruncate:
      Mutable(files, step.name).resize(step.offset, '\0');
      return {step.name};
    case Step::kRename: {
      std::shared_ptr<std::string> bytes = (*files)[step.name];
      files->erase(step.name);
      (*files)[step.to] = bytes;
      return {step.name, step.to};
    }
    case Step::kDelete:
      files->erase(step.name);
      return {step.name};
    case Step::kLink:
      (*files)[step.to] = std::make_shared<std::string>(*files->at(step.name));
      return {step.to};
  }
  return {};
}

bool SameFile(const Files& a, const Files& b, const std::string& name) {
  auto x = a.find(name), y = b.find(name);
  if (x == a.end() || y == b.end()) return (x == a.end()) == (y == b.end());
  return x->second == y->second || *x->second == *y->second;
}

// What the files are, what the log has been told, and what is durable.
class Model {
 public:
  const Files& files() const { return current_; }
  uint64_t steps() const { return durable_count_ + pending_.size(); }
  uint64_t durable_steps() const { return durable_count_; }

  // The log reopened after a crash, and not changed since.
  bool recovery_pending() const { return recovery_pending_; }

  void Do(Step step) {
    Changed();
    for (const std::string& name : Apply(&current_, step)) {
      last_step_.erase(name);
    }
    // The frame carries the file's id: a Sync of that file covers it.
    const std::string& holder =
        step.kind == Step::kRename || step.kind == Step::kLink ? step.to
                                                               : step.name;
    if (step.kind != Step::kDelete) last_step_[holder] = steps();
    pending_.push_back(std::move(step));
  }

  void SyncFile(const std::string& name) {
    Changed();
    auto it = last_step_.find(name);
    if (it != last_step_.end()) MakeDurable(it->second + 1);
  }
  void SyncAll() {
    Changed();
    MakeDurable(steps());
  }
  // A change other than a step (housekeeping): it applies recovery too.
  void Changed() {
    if (recovery_pending_) MakeDurable(steps());
    recovery_pending_ = false;
  }
  // A clean close syncs what the log wrote; one never changed wrote
  // nothing, and what it recovered stays as durable as it was.
  void Close() {
    if (!recovery_pending_) MakeDurable(steps());
  }

  // Checks `recovered` against the states from the durable prefix on.
  // Returns an empty string when it matches one (and then adopts it as
  // both the current and the durable state), else what is wrong.
  std::string Recover(const Files& recovered, bool must_be_complete) {
    Files state = durable_;
    std::set<std::string> differ;
    for (const auto& entry : state) {
      if (!SameFile(state, recovered, entry.first)) differ.insert(entry.first);
    }
    for (const auto& entry : recovered) {
      if (!SameFile(state, recovered, entry.first)) differ.insert(entry.first);
    }
    int64_t matched = differ.empty() ? 0 : -1;
    for (size_t i = 0; i < pending_.size(); ++i) {
      for (const std::string& name : Apply(&state, pending_[i])) {
        if (SameFile(state, recovered, name)) {
          differ.erase(name);
        } else {
          differ.insert(name);
        }
      }
      if (differ.empty()) matched = static_cast<int64_t>(i) + 1;
    }
    if (matched < 0 ||
        (must_be_complete && static_cast<size_t>(matched) != pending_.size())) {
      return Explain(recovered, matched);
    }
    // The log goes on from the matched step; until its first change the
    // steps up to it are as durable as before the crash.
    current_ = recovered;
    pending_.resize(static_cast<size_t>(matched));
    last_step_.clear();
    recovery_pending_ = true;
    return "";
  }

 private:
  void MakeDurable(uint64_t upto) {
    while (durable_count_ < upto) {
      Apply(&durable_, pending_.front());
      pending_.pop_front();
      ++durable_count_;
    }
  }

  std::string Explain(const Files& recovered, int64_t matched) const {
    std::ostringstream out;
    out << "recovered state matches no state between the durable step "
        << durable_count_ << " and the last step " << steps();
    if (matched >= 0) out << " (it matches step " << durable_count_ + matched
                          << ", but a kill must keep everything)";
    out << "\n  durable files:";
    for (const auto& [name, bytes] : durable_) {
      out << " " << name << "(" << bytes->size() << ")";
    }
    out << "\n  current files:";
    for (const auto& [name, bytes] : current_) {
      out << " " << name << "(" << bytes->size() << ")";
    }
    out << "\n  recovered files:";
    for (const auto& [name, bytes] : recovered) {
      out << " " << name << "(" << bytes->size() << ")";
      auto it = current_.find(name);
      if (it != current_.end() && it->second->size() >= bytes->size() &&
          it->second->compare(0, bytes->size(), *bytes) != 0) {
        size_t i = 0;
        while ((*it->second)[i] == (*bytes)[i]) ++i;
        out << "[differs from current at " << i << "]";
      }
    }
    out << "\n  pending steps:";
    for (const Step& step : pending_) {
      const char* kinds[] = {"create", "write", "truncate",
                             "rename", "delete", "link"};
      out << " " << kinds[step.kind] << ":" << step.name;
      if (step.kind == Step::kWrite) {
        out << "@" << step.offset << "+" << step.data.size();
      }
      if (step.kind == Step::kTruncate) out << "->" << step.offset;
      if (!step.to.empty()) out << "->" << step.to;
    }
    return out.str();
  }

  Files current_, durable_;
  std::deque<Step> pending_;  // steps after the durable prefix
  uint64_t durable_count_ = 0;
  std::map<std::string, uint64_t> last_step_;  // name -> its last step
  bool recovery_pending_ = false;
};

// ---- The test ---------------------------------------------------------------

class CrashModelTest : public ::testing::Test {
 protected:
  // One run: a fresh log, random options, random operations and `crashes`
  // crashes. Returns false (after reporting) on the first failure.
  bool Run(uint64_t seed, int crashes);
  uint64_t operations() const { return op_count_; }

 private:
  bool Check(bool ok, const std::string& what);
  void Trace(const std::string& op);
  uint64_t Id(const std::string& name);
  std::string RandomName();
  std::string RandomExisting();
  std::string RandomData(size_t n);
  size_t RandomSize();
  uint64_t ModelBytes() const;

  // Operations on both the log and the model.
  bool DoCreate();
  bool DoAppend();
  bool DoWriteAt();
  bool DoTruncate();
  bool DoRename();
  bool DoDelete();
  bool DoLink();
  bool DoSync();
  bool DoSyncAll();
  bool DoReopen();
  bool DoHousekeep();
  bool DoVerifyRead();
  bool DoCrash();

  IOStatus Open() {
    log_.reset();
    info_ = RecoveryInfo();
    return Log::Open(storage_.get(), testing::kLogDir, options_, &log_,
                     &info_);
  }

  std::unique_ptr<testing::MemStorage> storage_;
  std::unique_ptr<Log> log_;
  RecoveryInfo info_;
  std::mt19937_64 rng_;
  uint64_t seed_ = 0;
  LogOptions options_;
  Model model_;
  uint32_t frame_payload_ = 0;
  std::deque<std::string> trace_;
  uint64_t op_count_ = 0;
};

bool CrashModelTest::Check(bool ok, const std::string& what) {
  if (ok) return true;
  std::ostringstream out;
  out << what << "\n  run seed " << seed_ << " (reproduce: SEGWAL_CRASH_SEED="
      << seed_ << "), operation " << op_count_ << ", compression "
      << CodecName(options_.compression) << ", sync "
      << SyncModeName(options_.sync_mode) << ", recycle "
      << options_.recycle_segments << "\n  last operations:";
  for (const std::string& op : trace_) out << "\n    " << op;
  ADD_FAILURE() << out.str();
  return false;
}

void CrashModelTest::Trace(const std::string& op) {
  trace_.push_back(std::to_string(op_count_) + ": " + op);
  if (trace_.size() > 30) trace_.pop_front();
}

uint64_t CrashModelTest::Id(const std::string& name) {
  FileInfo info;
  EXPECT_TRUE(log_->Lookup(name, &info)) << name;
  return info.id;
}

std::string CrashModelTest::RandomName() {
  static const char* const kNames[] = {
      "000001.log", "000002.log", "000003.log", "000004.log",
      "000005.log", "000006.log", "archive/000001.log", "archive/000002.log",
      "archive/000003.log", "000007.log"};
  return kNames[rng_() % 10];
}

std::string CrashModelTest::RandomExisting() {
  const Files& files = model_.files();
  auto it = files.begin();
  std::advance(it, rng_() % files.size());
  return it->first;
}

// Mixed data, so that frames are compressed or stored raw.
std::string CrashModelTest::RandomData(size_t n) {
  const uint32_t seed = static_cast<uint32_t>(rng_());
  switch (rng_() % 3) {
    case 0: return Words(n, seed);
    case 1: return Pattern(n, seed);
    default: return RandomBytes(n, seed);
  }
}

// Mostly WAL-record sized; now and then several frames, rarely > 1 MiB.
size_t CrashModelTest::RandomSize() {
  const uint64_t r = rng_() % 100;
  if (r < 70) return 1 + rng_() % 3000;
  if (r < 97) return 3000 + rng_() % 40000;
  return (1 << 20) + rng_() % (200 * 1024);
}

uint64_t CrashModelTest::ModelBytes() const {
  uint64_t total = 0;
  for (const auto& entry : model_.files()) total += entry.second->size();
  return total;
}

bool CrashModelTest::DoCreate() {
  const std::string name = RandomName();
  Trace("create " + name);
  uint64_t id = 0;
  IOStatus s = log_->Create(name, &id);
  if (!Check(s.ok(), "Create: " + s.ToString())) return false;
  model_.Do({Step::kCreate, name, "", 0, ""});
  return true;
}

bool CrashModelTest::DoAppend() {
  const std::string name = RandomExisting();
  const std::string data = RandomData(RandomSize());
  const uint64_t size = model_.files().at(name)->size();
  Trace("append " + name + " +" + std::to_string(data.size()) + " at " +
        std::to_string(size));
  IOStatus s = log_->Append(Id(name), data);
  if (!Check(s.ok(), "Append: " + s.ToString())) return false;
  for (size_t pos = 0; pos < data.size(); pos += frame_payload_) {
    model_.Do({Step::kWrite, name, "", size + pos,
               data.substr(pos, frame_payload_)});
  }
  return true;
}

bool CrashModelTest::DoWriteAt() {
  const std::string name = RandomExisting();
  const uint64_t size = model_.files().at(name)->size();
  const uint64_t offset = size == 0 ? 0 : rng_() % (size + 1);
  const std::string data = RandomData(1 + rng_() % 20000);
  Trace("write " + name + " +" + std::to_string(data.size()) + " at " +
        std::to_string(offset));
  IOStatus s = log_->WriteAt(Id(name), offset, data);
  if (!Check(s.ok(), "WriteAt: " + s.ToString())) return false;
  for (size_t pos = 0; pos < data.size(); pos += frame_payload_) {
    model_.Do({Step::kWrite, name, "", offset + pos,
               data.substr(pos, frame_payload_)});
  }
  return true;
}

bool CrashModelTest::DoTruncate() {
  const std::string name = RandomExisting();
  const uint64_t size = model_.files().at(name)->size();
  // Mostly cut (RocksDB trims preallocation), sometimes extend (zeros).
  const uint64_t to = rng_() % 4 == 0 ? size + rng_() % 40000
                                      : (size == 0 ? 0 : rng_() % size);
  Trace("truncate " + name + " " + std::to_string(size) + " -> " +
        std::to_string(to));
  IOStatus s = log_->Truncate(Id(name), to);
  if (!Check(s.ok(), "Truncate: " + s.ToString())) return false;
  if (to < size) {
    model_.Do({Step::kTruncate, name, "", to, ""});
  } else {
    // Extended with zeros written as data, a frame at a time.
    for (uint64_t pos = size; pos < to; pos += frame_payload_) {
      model_.Do({Step::kWrite, name, "", pos,
                 std::string(std::min<uint64_t>(frame_payload_, to - pos),
                             '\0')});
    }
  }
  return true;
}

bool CrashModelTest::DoRename() {
  const std::string from = RandomExisting();
  const std::string to = RandomName();
  Trace("rename " + from + " -> " + to);
  IOStatus s = log_->Rename(from, to);
  if (!Check(s.ok(), "Rename: " + s.ToString())) return false;
  model_.Do({Step::kRename, from, to, 0, ""});
  return true;
}

bool CrashModelTest::DoDelete() {
  const std::string name = RandomExisting();
  Trace("delete " + name);
  IOStatus s = log_->Delete(name);
  if (!Check(s.ok(), "Delete: " + s.ToString())) return false;
  model_.Do({Step::kDelete, name, "", 0, ""});
  return true;
}

bool CrashModelTest::DoLink() {
  const std::string from = RandomExisting();
  const std::string to = RandomName();
  if (model_.files().count(to) != 0) return true;  // link needs a new name
  Trace("link " + from + " -> " + to);
  IOStatus s = log_->Link(from, to);
  if (!Check(s.ok(), "Link: " + s.ToString())) return false;
  model_.Do({Step::kLink, from, to, 0, ""});
  return true;
}

bool CrashModelTest::DoSync() {
  const std::string name = RandomExisting();
  Trace("sync " + name);
  IOStatus s = log_->Sync(Id(name));
  if (!Check(s.ok(), "Sync: " + s.ToString())) return false;
  model_.SyncFile(name);
  return true;
}

bool CrashModelTest::DoSyncAll() {
  Trace("sync all");
  IOStatus s = log_->SyncAll();
  if (!Check(s.ok(), "SyncAll: " + s.ToString())) return false;
  model_.SyncAll();
  return true;
}

bool CrashModelTest::DoReopen() {
  Trace("reopen");
  log_.reset();  // a clean close makes what the log wrote durable
  model_.Close();
  IOStatus s = Open();
  if (!Check(s.ok(), "reopen: " + s.ToString())) return false;
  // A log reopened after a crash and closed unchanged left the torn tail
  // that recovery cut where it was.
  return Check(info_.damages.empty() &&
                   (!info_.torn_tail || model_.recovery_pending()),
               "clean reopen found damage: " + info_.ToString());
}

bool CrashModelTest::DoHousekeep() {
  Trace("housekeep");
  IOStatus s = log_->Housekeep();
  if (!Check(s.ok(), "Housekeep: " + s.ToString())) return false;
  model_.Changed();
  return true;
}

// Reads a random range of a random file through the live log.
bool CrashModelTest::DoVerifyRead() {
  const std::string name = RandomExisting();
  const std::string& want = *model_.files().at(name);
  const uint64_t offset = want.empty() ? 0 : rng_() % want.size();
  const size_t n = static_cast<size_t>(1 + rng_() % 100000);
  Trace("read " + name + " at " + std::to_string(offset));
  std::string got(n, '\0');
  size_t read = 0;
  ReadCache cache;
  IOStatus s = log_->Read(Id(name), offset, n, &got[0], &read, &cache);
  if (!Check(s.ok(), "Read: " + s.ToString())) return false;
  got.resize(read);
  return Check(got == want.substr(offset, n),
               "Read of " + name + " at " + std::to_string(offset) +
                   " returned other bytes than were written");
}

bool CrashModelTest::DoCrash() {
  const uint64_t r = rng_() % 100;
  const CrashMode mode = r < 55   ? CrashMode::kDropUnsynced
                         : r < 70 ? CrashMode::kTearLastWrite
                         : r < 85 ? CrashMode::kRandomSectors
                                  : CrashMode::kKeepUnsynced;
  Trace(std::string("crash ") + CrashModeName(mode) + " (durable " +
        std::to_string(model_.durable_steps()) + " of " +
        std::to_string(model_.steps()) + " steps)");
  // The machine stops before the Log does: nothing it does on the way
  // down reaches the storage.
  storage_->PowerOff();
  log_.reset();
  storage_->Crash(mode, &rng_);
  IOStatus s = Open();
  if (!Check(s.ok(), std::string("recovery after ") + CrashModeName(mode) +
                         " failed: " + s.ToString())) {
    return false;
  }
  if (!Check(info_.damages.empty(),
             "recovery reported damage: " + info_.ToString())) {
    return false;
  }
  Files recovered;
  for (const FileInfo& file : log_->List()) {
    recovered[file.name] =
        std::make_shared<std::string>(ReadAll(log_.get(), file.name));
  }
  const std::string problem =
      model_.Recover(recovered, mode == CrashMode::kKeepUnsynced);
  return Check(problem.empty(), std::string("after ") + CrashModeName(mode) +
                                    ": " + problem);
}

bool CrashModelTest::Run(uint64_t seed, int crashes) {
  seed_ = seed;
  rng_.seed(seed);
  model_ = Model();
  trace_.clear();
  op_count_ = 0;
  options_ = SmallSegments();
  const Codec codecs[] = {Codec::kNone, Codec::kLz4Group, Codec::kZstdGroup};
  options_.compression = codecs[rng_() % 3];
  options_.compression_min_bytes = rng_() % 512;
  options_.sync_mode = rng_() % 2 ? SyncMode::kGroup : SyncMode::kAlways;
  options_.recycle_segments = rng_() % 5;
  const Preallocation preallocations[] = {
      Preallocation::kAuto, Preallocation::kZero, Preallocation::kFallocate};
  options_.preallocate = preallocations[rng_() % 3];
  frame_payload_ = FramePayloadLimit(options_.segment_size);
  log_.reset();
  storage_ = std::make_unique<testing::MemStorage>();
  if (!Check(Open().ok(), "open")) return false;

  for (int crashed = 0; crashed < crashes; ++op_count_) {
    const bool none = model_.files().empty();
    const bool full = ModelBytes() > (3u << 20);
    const uint64_t r = rng_() % 1000;
    bool ok = true;
    if (r < 40) {
      ok = DoCrash();
      ++crashed;
    } else if (none || (r < 150 && model_.files().size() < 8)) {
      ok = DoCreate();
    } else if (full && r < 500) {
      ok = r % 2 ? DoDelete() : DoTruncate();
    } else if (r < 500) {
      ok = DoAppend();
    } else if (r < 530) {
      ok = DoWriteAt();
    } else if (r < 640) {
      ok = DoSync();
    } else if (r < 690) {
      ok = DoSyncAll();
    } else if (r < 730) {
      ok = DoRename();
    } else if (r < 790) {
      ok = DoDelete();
    } else if (r < 830) {
      ok = DoTruncate();
    } else if (r < 860) {
      ok = DoLink();
    } else if (r < 875) {
      ok = DoReopen();
    } else if (r < 960) {
      ok = DoHousekeep();
    } else {
      ok = DoVerifyRead();
    }
    if (!ok) return false;
  }
  log_.reset();
  return true;
}

TEST_F(CrashModelTest, RandomOperationsAndCrashes) {
  const uint64_t first_seed = EnvNumber("SEGWAL_CRASH_SEED", 20240601);
  const uint64_t total = EnvNumber(
      "SEGWAL_CRASH_ITERATIONS", EnvNumber("SEGWAL_CRASH_LONG", 0) ? 100000
                                                                   : 3000);
  constexpr uint64_t kCrashesPerRun = 50;
  const auto started = std::chrono::steady_clock::now();
  uint64_t done = 0, runs = 0, ops = 0;
  for (uint64_t seed = first_seed; done < total; ++seed, ++runs) {
    const int crashes =
        static_cast<int>(std::min<uint64_t>(kCrashesPerRun, total - done));
    if (!Run(seed, crashes)) break;
    done += static_cast<uint64_t>(crashes);
    ops += operations();
  }
  const double seconds = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - started)
                             .count();
  std::printf("%llu crashes in %llu runs (%llu operations) in %.1f s\n",
              static_cast<unsigned long long>(done),
              static_cast<unsigned long long>(runs),
              static_cast<unsigned long long>(ops), seconds);
}

}  // namespace
}  // namespace segwal
