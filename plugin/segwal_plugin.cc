#include "plugin/segwal_plugin.h"

#include <cassert>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "env/fs/segwal_fs.h"
#include "options/segwal_options.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace segwal {
namespace {

constexpr char kId[] = "segwal";
constexpr char kUriSeparator[] = "://";

// Reads the target a factory is called with: the id alone, "segwal://"
// (defaults) or "segwal:///absolute/log/dir" (log_dir).
bool OptionsFromTarget(const std::string& target, SegWalOptions* options,
                       std::string* errmsg) {
  if (target == kId) return true;
  const std::string scheme = std::string(kId) + kUriSeparator;
  std::string path;
  if (target.compare(0, scheme.size(), scheme) == 0) {
    path = target.substr(scheme.size());
  }
  if (target.compare(0, scheme.size(), scheme) != 0 ||
      (!path.empty() && path[0] != '/')) {
    *errmsg =
        "a segwal URI is segwal:// (defaults) or segwal:///absolute/log/dir";
    return false;
  }
  options->log_dir = path;
  return true;
}

// The Env behind `env=segwal...`: its FileSystem is a SegWalFileSystem, and
// it carries that FileSystem's options, so "env={id=segwal;sync_mode=group}"
// configures the log. Legacy Env file calls reach the same FileSystem
// through the composite Env it wraps.
class SegWalEnv : public rocksdb::EnvWrapper {
 public:
  static const char* kClassName() { return kId; }

  explicit SegWalEnv(const std::shared_ptr<SegWalFileSystem>& fs)
      : rocksdb::EnvWrapper(NewSegWalEnv(fs)), fs_(fs) {
    file_system_ = fs_;
    system_clock_ = target()->GetSystemClock();
    // The FileSystem's own options struct, so configuring this Env
    // configures the FileSystem and GetOptionString shows them.
    assert(fs_->GetOptions<SegWalOptions>() != nullptr);
    RegisterOptions(SegWalOptions::kName(), fs_->GetOptions<SegWalOptions>(),
                    &SegWalOptionTypeInfo());
  }

  const char* Name() const override { return kClassName(); }

  rocksdb::Status PrepareOptions(const rocksdb::ConfigOptions& config) override {
    rocksdb::Status s = fs_->PrepareOptions(config);
    if (s.ok()) s = rocksdb::EnvWrapper::PrepareOptions(config);
    return s;
  }

 protected:
  rocksdb::Status ConfigureOptions(
      const rocksdb::ConfigOptions& config,
      const std::unordered_map<std::string, std::string>& opts,
      std::unordered_map<std::string, std::string>* unused) override {
    return ConfigureOrRestore(fs_->GetOptions<SegWalOptions>(), [&] {
      return rocksdb::EnvWrapper::ConfigureOptions(config, opts, unused);
    });
  }

  // "id=segwal;<options>", without EnvWrapper's "target=": the wrapped
  // composite Env is how this Env is built, not something to configure.
  std::string SerializeOptions(const rocksdb::ConfigOptions& config,
                               const std::string& header) const override {
    return rocksdb::Env::SerializeOptions(config, header);
  }

 private:
  std::shared_ptr<SegWalFileSystem> fs_;
};

// Every Env the factory made. RocksDB loads `env=` as a static object
// (LoadStaticObject): it keeps a raw pointer, never deletes it, and calls
// the factory with the bare id before applying the options, so each parse
// needs an Env of its own that lives as long as the process. Logs are
// shared by directory underneath (env/fs/log_registry.h), so two Envs with the
// same log_dir still write one log. Never destroyed: a DB may still use its
// Env while static destructors run.
class EnvKeeper {
 public:
  static EnvKeeper& Instance() {
    static EnvKeeper* const keeper = new EnvKeeper;
    return *keeper;
  }

  rocksdb::Env* Keep(std::unique_ptr<SegWalEnv> env) {
    std::lock_guard<std::mutex> lock(mu_);
    envs_.push_back(std::move(env));
    return envs_.back().get();
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<SegWalEnv>> envs_;
};

rocksdb::FileSystem* NewFileSystemFactory(
    const std::string& target, std::unique_ptr<rocksdb::FileSystem>* guard,
    std::string* errmsg) {
  SegWalOptions options;
  if (!OptionsFromTarget(target, &options, errmsg)) return nullptr;
  guard->reset(new SegWalFileSystem(rocksdb::FileSystem::Default(), options));
  return guard->get();
}

// Returns an unguarded Env: Env::CreateFromString(config, value, Env**)
// refuses a guarded one.
rocksdb::Env* NewEnvFactory(const std::string& target,
                            std::unique_ptr<rocksdb::Env>* /*guard*/,
                            std::string* errmsg) {
  SegWalOptions options;
  if (!OptionsFromTarget(target, &options, errmsg)) return nullptr;
  auto fs =
      std::make_shared<SegWalFileSystem>(rocksdb::FileSystem::Default(), options);
  return EnvKeeper::Instance().Keep(std::make_unique<SegWalEnv>(fs));
}

rocksdb::ObjectLibrary::PatternEntry UriEntry() {
  return rocksdb::ObjectLibrary::PatternEntry(kId, /*optional=*/false)
      .AddSeparator(kUriSeparator, /*at_least_one=*/false);
}

// Adds the factory unless `probe` already resolves in `library`.
template <typename T, typename Entry>
void AddIfMissing(rocksdb::ObjectLibrary& library, const std::string& probe,
                  const Entry& entry,
                  const rocksdb::FactoryFunc<T>& factory) {
  if (library.FindFactory<T>(probe) == nullptr) {
    library.AddFactory<T>(entry, factory);
  }
}

constexpr int kFactoryCount = 4;

// Static registration: libsegwal registers itself in the default library
// when it is loaded, so stock tools given `--fs_uri=segwal` find it.
[[maybe_unused]] const int kStaticallyRegistered =
    RegisterSegWal(*rocksdb::ObjectLibrary::Default(), "");

}  // namespace
}  // namespace segwal

extern "C" int RegisterSegWal(rocksdb::ObjectLibrary& library,
                              const std::string& /*arg*/) {
  using rocksdb::Env;
  using rocksdb::FileSystem;
  const std::string id = segwal::kId;
  const std::string uri = id + segwal::kUriSeparator;
  segwal::AddIfMissing<FileSystem>(library, id, id,
                                   segwal::NewFileSystemFactory);
  segwal::AddIfMissing<FileSystem>(library, uri, segwal::UriEntry(),
                                   segwal::NewFileSystemFactory);
  segwal::AddIfMissing<Env>(library, id, id, segwal::NewEnvFactory);
  segwal::AddIfMissing<Env>(library, uri, segwal::UriEntry(),
                            segwal::NewEnvFactory);
  return segwal::kFactoryCount;
}
