// Text output of the tool: names from a log made safe for a terminal,
// aligned tables, and how errors are reported (stderr, and a JSON object
// on stdout with --json).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "tool/json.h"

namespace segwal {
namespace tool {

// A name from a log (untrusted bytes) for a terminal: control characters,
// backslashes and bytes that are not UTF-8 as C escapes; at most `max`
// bytes of it, then "...(N bytes)".
std::string Printable(const std::string& name, size_t max = 256);

// "1.5 MiB" style, for the human summary lines.
std::string HumanBytes(uint64_t bytes);

class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void Row(std::vector<std::string> cells);
  // Columns padded to their widest cell; the last is not padded.
  void Print(FILE* out, const std::string& indent = "  ") const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<std::vector<std::string>> rows_;  // the header first
};

// Reports a failure of `command` and returns `code`: a line on stderr
// ("segwal <command>: <message>"), and with --json also
// {"command":..., "error":..., "exit_code":...} on stdout.
int Fail(const char* command, int code, const std::string& message);

// Prints `json` and a newline on stdout.
void PrintJson(const Json& json);

}  // namespace tool
}  // namespace segwal
