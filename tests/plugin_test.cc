// The routes by which RocksDB finds segwal: FileSystem::CreateFromString
// (id, id with options, URI), Env::CreateFromString and the DBOptions
// `env=` string (opening a real DB whose WAL lives in segwal), and the
// registrar on a fresh ObjectLibrary.
#include "plugin/segwal_plugin.h"

#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "env/fs/segwal_fs.h"
#include "gtest/gtest.h"
#include "options/segwal_options.h"
#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/utilities/object_registry.h"
#include "tests/segwal_test_util.h"

namespace segwal {
namespace {

using rocksdb::ConfigOptions;
using rocksdb::DB;
using rocksdb::Env;
using rocksdb::FileSystem;
using rocksdb::ObjectLibrary;
using rocksdb::ObjectRegistry;
using rocksdb::Status;
using test::CountSegmentFiles;
using test::EndsWith;
using test::PlainWalsWithData;
using test::TempDir;

// What a tool should use: an unknown id is an error, not a silent null.
ConfigOptions Strict() {
  ConfigOptions config;
  config.ignore_unsupported_options = false;
  config.ignore_unknown_options = false;
  return config;
}

const SegWalFileSystem* AsSegWal(const std::shared_ptr<FileSystem>& fs) {
  return fs == nullptr ? nullptr : fs->CheckedCast<SegWalFileSystem>();
}

::testing::AssertionResult Mentions(const Status& s, const std::string& text) {
  if (s.ToString().find(text) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "'" << s.ToString() << "' does not mention '" << text << "'";
}

// ---- FileSystem::CreateFromString -----------------------------------------

TEST(PluginTest, FileSystemById) {
  std::shared_ptr<FileSystem> fs;
  Status s = FileSystem::CreateFromString(Strict(), "segwal", &fs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const SegWalFileSystem* swfs = AsSegWal(fs);
  ASSERT_NE(swfs, nullptr);
  EXPECT_STREQ(fs->Name(), "segwal");
  EXPECT_TRUE(swfs->options().log_dir.empty());
  EXPECT_EQ(swfs->options().log.sync_mode, LogOptions().sync_mode);
  EXPECT_EQ(swfs->options().log.segment_size, LogOptions().segment_size);
}

TEST(PluginTest, FileSystemWithOptions) {
  std::shared_ptr<FileSystem> fs;
  Status s = FileSystem::CreateFromString(
      Strict(), "id=segwal;sync_mode=always;segment_size=1M", &fs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const SegWalFileSystem* swfs = AsSegWal(fs);
  ASSERT_NE(swfs, nullptr);
  EXPECT_EQ(swfs->options().log.sync_mode, SyncMode::kAlways);
  EXPECT_EQ(swfs->options().log.segment_size, 1u << 20);

  s = FileSystem::CreateFromString(
      Strict(), "id=segwal;sync_mode=group;log_dir=/x;compression=lz4", &fs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  swfs = AsSegWal(fs);
  ASSERT_NE(swfs, nullptr);
  EXPECT_EQ(swfs->options().log.sync_mode, SyncMode::kGroup);
  EXPECT_EQ(swfs->options().log_dir, "/x");
  EXPECT_EQ(swfs->options().log.compression, Codec::kLz4Group);

  // What it serializes to makes the same FileSystem again.
  std::string id_and_options = fs->ToString(Strict());
  ASSERT_EQ(id_and_options.front(), '{') << id_and_options;
  id_and_options = id_and_options.substr(1, id_and_options.size() - 2);
  std::shared_ptr<FileSystem> again;
  s = FileSystem::CreateFromString(Strict(), id_and_options, &again);
  ASSERT_TRUE(s.ok()) << id_and_options << ": " << s.ToString();
  std::string mismatch;
  EXPECT_TRUE(fs->AreEquivalent(Strict(), again.get(), &mismatch))
      << id_and_options << ": " << mismatch;
}

TEST(PluginTest, FileSystemByUri) {
  std::shared_ptr<FileSystem> fs;
  Status s = FileSystem::CreateFromString(Strict(), "segwal://", &fs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_NE(AsSegWal(fs), nullptr);
  EXPECT_TRUE(AsSegWal(fs)->options().log_dir.empty());
  EXPECT_EQ(AsSegWal(fs)->options().log.segment_size,
            LogOptions().segment_size);

  s = FileSystem::CreateFromString(Strict(), "segwal:///fast/wal", &fs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_NE(AsSegWal(fs), nullptr);
  EXPECT_EQ(AsSegWal(fs)->options().log_dir, "/fast/wal");

  // A host-like or relative URI is refused with the accepted forms.
  s = FileSystem::CreateFromString(Strict(), "segwal://fast/wal", &fs);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_TRUE(Mentions(s, "segwal:///absolute/log/dir"));
}

TEST(PluginTest, FileSystemRejectsBadOptions) {
  // Never silently ignored, even by a caller that ignores unsupported ids.
  for (const ConfigOptions& config : {Strict(), ConfigOptions()}) {
    // A fresh pointer each time: on failure RocksDB still hands back the
    // object it failed to configure, and a later CreateFromString into the
    // same pointer merges that object's options.
    std::shared_ptr<FileSystem> fs;
    Status s =
        FileSystem::CreateFromString(config, "id=segwal;bogus=1", &fs);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_TRUE(Mentions(s, "unknown segwal option 'bogus'"));
    fs.reset();
    s = FileSystem::CreateFromString(config, "id=segwal;sync_mode=fast", &fs);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_TRUE(Mentions(s, "sync_mode=fast"));
    fs.reset();
    s = FileSystem::CreateFromString(config, "id=segwal;segment_size=1000",
                                     &fs);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_TRUE(Mentions(s, "segment_size=1000"));
    fs.reset();
    s = FileSystem::CreateFromString(config, "id=segwal;log_dir=rel", &fs);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_TRUE(Mentions(s, "log_dir=rel"));
  }
}

// The trap DESIGN.md warns about, so the tests above mean something: with
// RocksDB's default ConfigOptions an unknown id "succeeds" with nothing.
TEST(PluginTest, UnknownIdIsOnlyAnErrorWhenAskedFor) {
  std::shared_ptr<FileSystem> fs;
  Status s = FileSystem::CreateFromString(ConfigOptions(), "nosuchfs", &fs);
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(fs, nullptr);
  s = FileSystem::CreateFromString(Strict(), "nosuchfs", &fs);
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
}

// ---- Env::CreateFromString ---------------------------------------------------

TEST(PluginTest, EnvWithOptions) {
  TempDir dir;
  Env* env = Env::Default();
  Status s = Env::CreateFromString(
      Strict(),
      "id=segwal;sync_mode=always;segment_size=1M;log_dir=" + dir / "wal",
      &env);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_NE(env, Env::Default());
  EXPECT_STREQ(env->Name(), "segwal");
  const SegWalFileSystem* swfs = AsSegWal(env->GetFileSystem());
  ASSERT_NE(swfs, nullptr);
  EXPECT_EQ(swfs->options().log.sync_mode, SyncMode::kAlways);
  EXPECT_EQ(swfs->options().log.segment_size, 1u << 20);
  EXPECT_EQ(swfs->options().log_dir, dir / "wal");
  // The Env shows the FileSystem's options, and only those.
  std::string text = env->ToString(Strict());
  EXPECT_NE(text.find("id=segwal"), std::string::npos) << text;
  EXPECT_NE(text.find("sync_mode=always"), std::string::npos) << text;
  EXPECT_EQ(text.find("target"), std::string::npos) << text;
  std::string value;
  ASSERT_TRUE(env->GetOption(Strict(), "segment_size", &value).ok());
  EXPECT_EQ(value, std::to_string(1u << 20));

  // The four-argument form (what --env_uri uses) returns the same kind of
  // Env, unguarded: it lives for the process.
  Env* env2 = Env::Default();
  std::shared_ptr<Env> guard;
  s = Env::CreateFromString(Strict(), "id=segwal;sync_mode=none", &env2,
                            &guard);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(guard, nullptr);
  ASSERT_NE(AsSegWal(env2->GetFileSystem()), nullptr);
  EXPECT_EQ(AsSegWal(env2->GetFileSystem())->options().log.sync_mode,
            SyncMode::kNone);
  // Each parse has its own Env; the first one is untouched.
  EXPECT_NE(env, env2);
  EXPECT_EQ(swfs->options().log.sync_mode, SyncMode::kAlways);
}

TEST(PluginTest, EnvByUri) {
  Env* env = Env::Default();
  Status s = Env::CreateFromString(Strict(), "segwal:///fast/wal", &env);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_NE(AsSegWal(env->GetFileSystem()), nullptr);
  EXPECT_EQ(AsSegWal(env->GetFileSystem())->options().log_dir, "/fast/wal");
  env = Env::Default();
  s = Env::CreateFromString(Strict(), "segwal", &env);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_NE(AsSegWal(env->GetFileSystem()), nullptr);
}

TEST(PluginTest, EnvRejectsBadOptions) {
  for (const ConfigOptions& config : {Strict(), ConfigOptions()}) {
    Env* env = Env::Default();
    Status s = Env::CreateFromString(config, "id=segwal;bogus=1", &env);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_TRUE(Mentions(s, "unknown segwal option 'bogus'"));
    EXPECT_EQ(env, Env::Default());
    s = Env::CreateFromString(config, "id=segwal;recovery_mode=kFast", &env);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_TRUE(Mentions(s, "recovery_mode=kFast"));
    s = Env::CreateFromString(config, "id=segwal;sync_interval_ms=0", &env);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_TRUE(Mentions(s, "sync_interval_ms=0"));
    EXPECT_EQ(env, Env::Default());
  }
}

// Legacy Env file calls go through segwal too, not only GetFileSystem().
TEST(PluginTest, EnvFileCallsReachSegWal) {
  TempDir dir;
  Env* env = Env::Default();
  Status s = Env::CreateFromString(Strict(), "id=segwal;segment_size=1M",
                                   &env);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const std::string wal = dir / "000007.log";
  std::unique_ptr<rocksdb::WritableFile> file;
  ASSERT_TRUE(env->NewWritableFile(wal, &file, rocksdb::EnvOptions()).ok());
  ASSERT_TRUE(file->Append("hello segwal").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Close().ok());
  uint64_t size = 0;
  ASSERT_TRUE(env->GetFileSize(wal, &size).ok());
  EXPECT_EQ(size, 12u);
  EXPECT_TRUE(PlainWalsWithData(dir.path()).empty());
  EXPECT_GT(CountSegmentFiles(dir / "segwal"), 0u);
  ASSERT_TRUE(env->DeleteFile(wal).ok());
}

// ---- The DBOptions string: env=... --------------------------------------

class EnvOptionDbTest : public ::testing::Test {
 protected:
  // Opens db_ with the DBOptions string `db_options` (parsed the way a
  // tool would), so each call gets a fresh Env from the registry.
  void Open(const std::string& db_options) {
    rocksdb::DBOptions parsed;
    Status s = rocksdb::GetDBOptionsFromString(Strict(), rocksdb::DBOptions(),
                                               db_options, &parsed);
    ASSERT_TRUE(s.ok()) << db_options << ": " << s.ToString();
    ASSERT_NE(parsed.env, Env::Default()) << db_options;
    ASSERT_NE(AsSegWal(parsed.env->GetFileSystem()), nullptr) << db_options;
    env_ = parsed.env;
    rocksdb::Options options(parsed, rocksdb::ColumnFamilyOptions());
    DB* db = nullptr;
    s = DB::Open(options, db_path(), &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    db_.reset(db);
  }

  void Close() {
    if (db_ != nullptr) {
      ASSERT_TRUE(db_->Close().ok());
      db_.reset();
    }
  }

  void TearDown() override { Close(); }

  void WriteKeys(int n) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(db_->Put(wo, Key(i), Value(i)).ok());
    }
  }

  void ExpectKeys(int n) {
    for (int i = 0; i < n; ++i) {
      std::string value;
      Status s = db_->Get(rocksdb::ReadOptions(), Key(i), &value);
      ASSERT_TRUE(s.ok()) << Key(i) << ": " << s.ToString();
      EXPECT_EQ(value, Value(i));
    }
  }

  // The live WAL is a logical file of segwal: RocksDB sees it with its
  // data, the real directory holds no WAL with data, and `log_dir` holds
  // segments.
  void ExpectWalInSegWal(const std::string& log_dir) {
    std::vector<std::string> children;
    ASSERT_TRUE(env_->GetChildren(db_path(), &children).ok());
    uint64_t wal_bytes = 0;
    for (const std::string& name : children) {
      if (!EndsWith(name, ".log")) continue;
      uint64_t size = 0;
      ASSERT_TRUE(env_->GetFileSize(db_path() + "/" + name, &size).ok());
      wal_bytes += size;
    }
    EXPECT_GT(wal_bytes, 0u) << "no WAL with data seen through segwal";
    EXPECT_TRUE(PlainWalsWithData(db_path()).empty())
        << "a plain WAL with data: " << PlainWalsWithData(db_path())[0];
    EXPECT_GT(CountSegmentFiles(log_dir), 0u) << log_dir;
  }

  static std::string Key(int i) { return "key" + std::to_string(i); }
  static std::string Value(int i) { return "value-" + std::to_string(i * 7); }
  std::string db_path() const { return dir_ / "db"; }

  TempDir dir_;
  Env* env_ = nullptr;
  std::unique_ptr<DB> db_;
};

TEST_F(EnvOptionDbTest, EnvWithOptionsAndLogDir) {
  const std::string log_dir = dir_ / "wal";
  const std::string db_options =
      "create_if_missing=true;env={id=segwal;sync_mode=always;"
      "segment_size=1M;log_dir=" + log_dir + "}";
  Open(db_options);
  const SegWalFileSystem* swfs = AsSegWal(env_->GetFileSystem());
  EXPECT_EQ(swfs->options().log.sync_mode, SyncMode::kAlways);
  EXPECT_EQ(swfs->options().log.segment_size, 1u << 20);
  EXPECT_EQ(swfs->options().log_dir, log_dir);
  WriteKeys(300);
  ExpectWalInSegWal(log_dir);
  EXPECT_EQ(CountSegmentFiles(db_path() + "/segwal"), 0u);
  Close();

  // Reopen through a new parse of the same string: recovery replays the WAL
  // from segwal.
  Open(db_options);
  ExpectKeys(300);
  WriteKeys(10);
  ExpectWalInSegWal(log_dir);
  Close();
}

TEST_F(EnvOptionDbTest, PlainEnvSegWal) {
  Open("create_if_missing=true;env=segwal");
  EXPECT_EQ(AsSegWal(env_->GetFileSystem())->options().log.segment_size,
            LogOptions().segment_size);
  WriteKeys(100);
  ExpectWalInSegWal(db_path() + "/segwal");
  Close();
  Open("env=segwal");
  ExpectKeys(100);
}

TEST_F(EnvOptionDbTest, EnvUri) {
  const std::string log_dir = dir_ / "uri-wal";
  Open("create_if_missing=true;env=segwal://" + log_dir);
  EXPECT_EQ(AsSegWal(env_->GetFileSystem())->options().log_dir, log_dir);
  WriteKeys(50);
  ExpectWalInSegWal(log_dir);
  Close();
  Open("env=segwal://" + log_dir);
  ExpectKeys(50);
}

TEST_F(EnvOptionDbTest, BadEnvStringFailsTheParse) {
  rocksdb::DBOptions parsed;
  Status s = rocksdb::GetDBOptionsFromString(
      Strict(), rocksdb::DBOptions(),
      "create_if_missing=true;env={id=segwal;sync_mode=fast}", &parsed);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_TRUE(Mentions(s, "sync_mode=fast"));
  s = rocksdb::GetDBOptionsFromString(
      Strict(), rocksdb::DBOptions(), "env={id=segwal;segmentsize=1M}",
      &parsed);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_TRUE(Mentions(s, "segmentsize"));
  // The trap again: an unknown Env id is silently the default Env unless
  // unsupported options are errors.
  s = rocksdb::GetDBOptionsFromString(Strict(), rocksdb::DBOptions(),
                                      "env=nosuchenv", &parsed);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(Mentions(s, "nosuchenv"));
  rocksdb::DBOptions lenient_parse;
  s = rocksdb::GetDBOptionsFromString(ConfigOptions(), rocksdb::DBOptions(),
                                      "env=nosuchenv", &lenient_parse);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(lenient_parse.env, Env::Default());
}

// ---- The registrar ---------------------------------------------------------

TEST(PluginTest, RegistrarOnAFreshLibrary) {
  auto library = std::make_shared<ObjectLibrary>("fresh");
  EXPECT_EQ(RegisterSegWal(*library, ""), 4);
  size_t types = 0;
  EXPECT_EQ(library->GetFactoryCount(&types), 4u);
  EXPECT_EQ(types, 2u);  // FileSystem and Env
  EXPECT_EQ(library->GetFactoryCount(FileSystem::Type()), 2u);
  EXPECT_EQ(library->GetFactoryCount(Env::Type()), 2u);
  // Idempotent.
  EXPECT_EQ(RegisterSegWal(*library, ""), 4);
  EXPECT_EQ(library->GetFactoryCount(&types), 4u);

  // A registry with only this library resolves every form.
  ConfigOptions config = Strict();
  config.registry = std::make_shared<ObjectRegistry>(library);
  for (const std::string& id :
       {std::string("segwal"), std::string("id=segwal;sync_mode=always"),
        std::string("segwal://"), std::string("segwal:///fast/wal")}) {
    std::shared_ptr<FileSystem> fs;
    Status s = FileSystem::CreateFromString(config, id, &fs);
    EXPECT_TRUE(s.ok()) << id << ": " << s.ToString();
    EXPECT_NE(AsSegWal(fs), nullptr) << id;
    Env* env = Env::Default();
    s = Env::CreateFromString(config, id, &env);
    EXPECT_TRUE(s.ok()) << id << ": " << s.ToString();
    EXPECT_NE(AsSegWal(env->GetFileSystem()), nullptr) << id;
  }

  // Without the registrar, the same registry knows nothing of segwal.
  ConfigOptions empty = Strict();
  empty.registry =
      std::make_shared<ObjectRegistry>(std::make_shared<ObjectLibrary>("e"));
  std::shared_ptr<FileSystem> fs;
  EXPECT_TRUE(FileSystem::CreateFromString(empty, "segwal", &fs)
                  .IsNotSupported());

  // The registrar has RocksDB's RegistrarFunc signature.
  empty.registry->AddLibrary("segwal", RegisterSegWal, "");
  Status s = FileSystem::CreateFromString(empty, "segwal", &fs);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_NE(AsSegWal(fs), nullptr);
}

TEST(PluginTest, StaticRegistration) {
  // Loading the library registered segwal in the default library...
  const auto& library = ObjectLibrary::Default();
  EXPECT_NE(library->FindFactory<FileSystem>("segwal"), nullptr);
  EXPECT_NE(library->FindFactory<FileSystem>("segwal:///x"), nullptr);
  EXPECT_NE(library->FindFactory<Env>("segwal"), nullptr);
  EXPECT_NE(library->FindFactory<Env>("segwal://"), nullptr);
  // ...once: registering again adds nothing.
  size_t types = 0;
  size_t before = library->GetFactoryCount(&types);
  EXPECT_EQ(RegisterSegWal(*library, ""), 4);
  EXPECT_EQ(library->GetFactoryCount(&types), before);
}

// plugin/segwal.mk is the list of sources RocksDB's in-tree build compiles
// (make, and CMake through plugin/CMakeLists.txt): it must name exactly the
// library sources segwal's own build globs (env/*/ options/ plugin/ *.cc).
TEST(PluginTest, SegWalMkListsTheLibrarySources) {
  std::string root = __FILE__;
  root = root.substr(0, root.rfind("/tests/"));
  std::ifstream mk(root + "/plugin/segwal.mk");
  ASSERT_TRUE(mk.good()) << root << "/plugin/segwal.mk";
  std::set<std::string> listed;
  std::string func;
  std::string line;
  while (std::getline(mk, line)) {
    const std::string sources = "segwal_SOURCES = ";
    const std::string registrar = "segwal_FUNC = ";
    if (line.rfind(sources, 0) == 0) {
      std::istringstream in(line.substr(sources.size()));
      std::string path;
      while (in >> path) listed.insert(path);
    } else if (line.rfind(registrar, 0) == 0) {
      func = line.substr(registrar.size());
    }
  }
  std::set<std::string> library;
  std::vector<std::string> dirs = {"options", "plugin"};
  for (const std::string& sub : test::ListDir(root + "/env")) {
    dirs.push_back("env/" + sub);  // env/<unit folder>/*.cc
  }
  for (const std::string& dir : dirs) {
    for (const std::string& name : test::ListDir(root + "/" + dir)) {
      if (EndsWith(name, ".cc") && !EndsWith(name, "_test.cc") &&
          !EndsWith(name, "_bench.cc")) {
        library.insert(dir + "/" + name);
      }
    }
  }
  EXPECT_EQ(listed, library)
      << "update segwal_SOURCES in plugin/segwal.mk (one line, paths "
         "relative to the segwal root) to the library sources";
  EXPECT_EQ(func, "RegisterSegWal");
}

}  // namespace
}  // namespace segwal
