#include "env/stats/metrics_file.h"

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <set>

namespace segwal {
namespace {

constexpr char kLinePrefix[] = "segwal metrics_file: pid=";
constexpr char kTempSuffix[] = ".tmp";

// The paths claimed by the logs of this process.
std::mutex claims_mu;
std::set<std::string>* Claims() {
  static auto* const claims = new std::set<std::string>();
  return claims;
}

bool Plain(char c, bool first) {
  if (c == '.') return !first;
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == ':' || c == '_';
}

}  // namespace

std::string EscapeLogDir(const std::string& dir) {
  std::string out;
  bool first = true;
  size_t i = 0;
  while (i < dir.size() && dir[i] == '/') ++i;
  for (; i < dir.size(); ++i) {
    const char c = dir[i];
    if (c == '/') {
      while (i + 1 < dir.size() && dir[i + 1] == '/') ++i;
      if (i + 1 < dir.size()) out += '-';
      continue;
    }
    if (Plain(c, first)) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x",
                    static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    }
    first = false;
  }
  return out.empty() ? "-" : out;
}

std::string MetricsFilePath(const std::string& pattern,
                            const std::string& log_dir) {
  const size_t at = pattern.find("%s");
  if (at == std::string::npos) return pattern;
  return pattern.substr(0, at) + EscapeLogDir(log_dir) + pattern.substr(at + 2);
}

std::string FormatMetricsFileLine(uint64_t pid, uint64_t period_sec,
                                  const std::string& path) {
  return kLinePrefix + std::to_string(pid) +
         " period_sec=" + std::to_string(period_sec) + " path=" + path;
}

bool ParseMetricsFileLine(const std::string& line, uint64_t* pid,
                          std::string* path) {
  const size_t at = line.find(kLinePrefix);
  if (at == std::string::npos) return false;
  size_t i = at + sizeof(kLinePrefix) - 1;
  uint64_t n = 0;
  const size_t digits = i;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9' &&
         i - digits < 19) {
    n = n * 10 + static_cast<uint64_t>(line[i++] - '0');
  }
  const size_t path_at = line.find(" path=", i);
  if (i == digits || path_at == std::string::npos) return false;
  *pid = n;
  *path = line.substr(path_at + 6);
  return !path->empty();
}

MetricsFile::MetricsFile(Storage* storage, const std::string& log_dir,
                         const LogOptions& options, InfoLog* info_log)
    : storage_(storage),
      info_log_(info_log),
      path_(options.metrics_file.empty()
                ? std::string()
                : MetricsFilePath(options.metrics_file, log_dir)),
      period_us_(options.metrics_period_sec * 1000000) {}

MetricsFile::~MetricsFile() {
  if (!active()) return;
  std::lock_guard<std::mutex> claims_guard(claims_mu);
  Claims()->erase(path_);
}

void MetricsFile::Start(uint64_t now_us) {
  if (path_.empty()) return;
  bool claimed = false;
  {
    std::lock_guard<std::mutex> claims_guard(claims_mu);
    claimed = Claims()->insert(path_).second;
  }
  {
    std::lock_guard<std::mutex> guard(mu_);
    claimed_ = claimed;
    next_us_ = now_us;
  }
  if (!claimed) {
    info_log_->Write("segwal metrics_file: none: " + path_ +
                     " is written by another log of this process; put %s "
                     "in metrics_file for a file per log");
    return;
  }
  info_log_->Write(FormatMetricsFileLine(static_cast<uint64_t>(::getpid()),
                                         period_us_ / 1000000, path_));
}

bool MetricsFile::active() {
  std::lock_guard<std::mutex> guard(mu_);
  return claimed_;
}

bool MetricsFile::Due(uint64_t now_us) {
  std::lock_guard<std::mutex> guard(mu_);
  if (!claimed_ || now_us < next_us_) return false;
  next_us_ = now_us + period_us_;
  return true;
}

void MetricsFile::Write(const std::string& exposition) {
  std::string note;  // for the LOG, written without mu_ held
  {
    std::lock_guard<std::mutex> guard(mu_);
    if (!claimed_) return;
    const std::string temp = path_ + kTempSuffix;
    std::unique_ptr<StorageFile> file;
    IOStatus s = storage_->OpenFile(temp, /*create=*/true, &file);
    if (s.ok()) s = file->Truncate(0);
    if (s.ok()) s = file->Write(0, exposition.data(), exposition.size());
    file.reset();
    if (s.ok()) s = storage_->Rename(temp, path_);
    if (!s.ok()) {
      storage_->Remove(temp).PermitUncheckedError();
      if (!failing_) {
        note = "segwal metrics_file: cannot write " + path_ + ": " +
               s.ToString() + " (retried every period)";
      }
    } else if (failing_) {
      note = "segwal metrics_file: writing " + path_ + " again";
    }
    failing_ = !s.ok();
  }
  if (!note.empty()) info_log_->Write(note);
}

}  // namespace segwal
