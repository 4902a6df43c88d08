#include "tool/output.h"

#include <algorithm>

#include "tool/flags.h"

namespace segwal {
namespace tool {

std::string Printable(const std::string& name, size_t max) {
  const std::string head = name.substr(0, max);
  std::string out;
  for (size_t i = 0; i < head.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(head[i]);
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else if (const size_t n = c >= 0x80 ? Utf8Length(head, i) : 0) {
      out.append(head, i, n);
      i += n - 1;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (name.size() > max) {
    out += "...(" + std::to_string(name.size()) + " bytes)";
  }
  return out;
}

std::string HumanBytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < sizeof(kUnits) / sizeof(kUnits[0])) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof(buf), "%llu B",
                  static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[unit]);
  }
  return buf;
}

Table::Table(std::vector<std::string> header) {
  rows_.push_back(std::move(header));
}

void Table::Row(std::vector<std::string> cells) {
  rows_.push_back(std::move(cells));
}

void Table::Print(FILE* out, const std::string& indent) const {
  std::vector<size_t> width;
  for (const auto& row : rows_) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  for (const auto& row : rows_) {
    std::string line = indent;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        line += std::string(width[i] - row[i].size() + 2, ' ');
      }
    }
    std::fprintf(out, "%s\n", line.c_str());
  }
}

int Fail(const char* command, int code, const std::string& message) {
  std::fprintf(stderr, "segwal %s: %s\n", command, message.c_str());
  if (FLAGS_segwal_json) {
    Json j = Json::Object();
    j.Set("command", command);
    j.Set("error", message);
    j.Set("exit_code", code);
    PrintJson(j);
  }
  return code;
}

void PrintJson(const Json& json) {
  std::fprintf(stdout, "%s\n", json.Dump().c_str());
}

}  // namespace tool
}  // namespace segwal
