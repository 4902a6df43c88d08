#include "env/stats/info_log.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace segwal {
namespace {

std::string UtcTimestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          now.time_since_epoch())
                          .count() %
                      1000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d/%02d/%02d-%02d:%02d:%02d.%06ldZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<long>(micros));
  return buf;
}
}  // namespace

void InfoLog::Open(Storage* storage, const std::string& path) {
  std::unique_ptr<StorageFile> file;
  uint64_t size = 0;
  IOStatus s = storage->OpenFile(path, /*create=*/true, &file);
  if (s.ok()) s = file->Size(&size);
  if (!s.ok()) return;
  std::lock_guard<std::mutex> guard(mu_);
  file_ = std::move(file);
  size_ = size;
}

void InfoLog::Write(const std::string& text) {
  const std::string stamp = UtcTimestamp();
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += stamp + " " + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  std::lock_guard<std::mutex> guard(mu_);
  if (file_ == nullptr) return;
  if (file_->Write(size_, out.data(), out.size()).ok()) size_ += out.size();
}

}  // namespace segwal
