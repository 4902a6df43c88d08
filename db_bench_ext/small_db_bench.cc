// The cost of small DBs: --n times create a DB, make one synced write and
// close it; milliseconds per DB and disk bytes per DB, for
//   stock          the default Env
//   segwal         --segwal_uri, each DB with its own log (<db>/segwal)
//   segwal_shared  --segwal_uri plus log_dir=<dir>/segwal_shared/log: one
//                  log for every DB of the variant
// The variants take turns DB by DB (stock, segwal, segwal_shared, then the
// reverse order, ...). Disk bytes are counted once every DB is closed:
// allocated blocks (st_blocks) and file sizes of the variant's directory,
// the shared log included, divided by --n.
//
// Output: one JSON object per line (db_bench_ext/bench parses them).
//
// Usage: small_db_bench --dir=DIR [--n=10] [--segwal_uri=segwal]
//   [--variants=stock,segwal,segwal_shared]
#include <gflags/gflags.h>

#include "db_bench_ext/bench_common.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"

DEFINE_string(dir, "", "work directory (its variant subdirectories are replaced)");
DEFINE_int32(n, 10, "DBs created per variant");
DEFINE_string(segwal_uri, "segwal", "FileSystem URI of the segwal variants");
DEFINE_string(variants, "stock,segwal,segwal_shared",
              "variants, comma-separated: stock, segwal, segwal_shared");

namespace {

using segwal_bench::Check;
using segwal_bench::Clock;
using segwal_bench::JsonLine;
using segwal_bench::MillisSince;

struct Variant {
  std::string name;
  std::string root;
  std::unique_ptr<segwal_bench::SideEnv> env;
};

std::string WithLogDir(const std::string& uri, const std::string& log_dir) {
  const std::string base =
      uri.find('=') == std::string::npos ? "id=" + uri : uri;
  return base + ";log_dir=" + log_dir;
}

void RemoveTree(const std::string& dir) {
  std::vector<std::string> files;
  segwal_bench::ListFiles(dir, &files);
  for (const std::string& f : files) ::unlink(f.c_str());
  // Directories: deepest first (paths sort parents before children).
  std::vector<std::string> dirs;
  std::function<void(const std::string&)> walk = [&](const std::string& d) {
    DIR* h = ::opendir(d.c_str());
    if (h == nullptr) return;
    while (struct dirent* e = ::readdir(h)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      const std::string path = d + "/" + name;
      struct stat st;
      if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) walk(path);
    }
    ::closedir(h);
    dirs.push_back(d);
  };
  walk(dir);
  for (const std::string& d : dirs) ::rmdir(d.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("Open cost and disk use of small DBs, stock vs segwal");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_dir.empty()) segwal_bench::Die("--dir is required");
  if (FLAGS_n < 1) segwal_bench::Die("--n must be at least 1");
  ::mkdir(FLAGS_dir.c_str(), 0755);

  std::vector<Variant> variants;
  for (const std::string& name : segwal_bench::SplitComma(FLAGS_variants)) {
    Variant v;
    v.name = name;
    v.root = FLAGS_dir + "/" + name;
    RemoveTree(v.root);
    ::mkdir(v.root.c_str(), 0755);
    std::string uri;
    if (name == "segwal") {
      uri = FLAGS_segwal_uri;
    } else if (name == "segwal_shared") {
      const std::string log_dir = v.root + "/log";
      ::mkdir(log_dir.c_str(), 0755);
      uri = WithLogDir(FLAGS_segwal_uri, log_dir);
    } else if (name != "stock") {
      segwal_bench::Die("unknown variant " + name);
    }
    v.env.reset(new segwal_bench::SideEnv(uri));
    variants.push_back(std::move(v));
  }

  for (int i = 0; i < FLAGS_n; ++i) {
    for (size_t k = 0; k < variants.size(); ++k) {
      Variant& v = variants[i % 2 == 0 ? k : variants.size() - 1 - k];
      const std::string db = v.root + "/db" + std::to_string(i);
      rocksdb::Options options;
      options.env = v.env->env();
      options.create_if_missing = true;
      const auto start = Clock::now();
      rocksdb::DB* raw = nullptr;
      Check(rocksdb::DB::Open(options, db, &raw), "open " + db);
      const double open_ms = MillisSince(start);
      rocksdb::WriteOptions wo;
      wo.sync = true;
      Check(raw->Put(wo, "key", "value"), "put " + db);
      const double write_ms = MillisSince(start) - open_ms;
      delete raw;
      JsonLine()
          .Str("what", "db")
          .Str("variant", v.name)
          .Int("i", i)
          .Num("open_ms", open_ms)
          .Num("write_ms", write_ms)
          .Num("ms", MillisSince(start))
          .Print();
    }
  }
  for (const Variant& v : variants) {
    const segwal_bench::DiskUsage u = segwal_bench::Usage(v.root);
    JsonLine()
        .Str("what", "usage")
        .Str("variant", v.name)
        .Int("n", FLAGS_n)
        .Int("allocated", u.allocated)
        .Int("apparent", u.apparent)
        .Int("files", u.files)
        .Print();
  }
  return 0;
}
