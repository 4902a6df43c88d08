#include "tool/flags.h"

#include <algorithm>

DEFINE_bool(segwal_json, false, "print one JSON object instead of text");
DEFINE_string(segwal_recovery_mode, "",
              "kTolerateCorruptedTailRecords, kAbsoluteConsistency, "
              "kPointInTimeRecovery or kSkipAnyCorruptedRecords: how damage "
              "is treated, as the segwal option recovery_mode");
DEFINE_string(segwal_file, "",
              "the logical file to dump (a name as `info` lists it)");
DEFINE_string(segwal_output, "",
              "write the bytes to this file instead of stdout");
DEFINE_string(segwal_output_dir, "",
              "write every logical file beneath this new or empty directory");
DEFINE_string(segwal_db, "", "the DB directory");
DEFINE_string(segwal_wal_dir, "", "the DB's wal_dir, if not the DB directory");
DEFINE_string(segwal_log_dir, "",
              "the shared log directory (segwal option log_dir), if the DB "
              "used one");
DEFINE_string(segwal_segment_size, "",
              "segment size for a new log (64K to 4G, e.g. 64M; default 64M)");
DEFINE_string(segwal_compression, "none", "payload codec: none, lz4 or zstd");
DEFINE_bool(segwal_yes, false,
            "go ahead although logical bytes will be dropped");
DEFINE_bool(segwal_dry_run, false, "say what would be done; change nothing");
DEFINE_int64(segwal_pid, 0, "the process whose logs to report");
DEFINE_bool(segwal_help, false, "show this help");

namespace segwal {
namespace tool {
namespace {

// The tool's flags live in gflags' registry as "segwal_<name>": librocksdb
// defines flags of its own tools (db, output_dir, ...) in the same
// registry.
std::string Registered(const std::string& name) { return "segwal_" + name; }

bool Accepts(const Command& command, const std::string& name) {
  return name == "help" || std::find(command.flags.begin(), command.flags.end(),
                                     name) != command.flags.end();
}

}  // namespace

bool ParseArgs(const Command& command, int argc, char** argv, int first,
               std::vector<std::string>* positional, std::string* error) {
  bool flags_done = false;
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    if (flags_done || arg.size() < 2 || arg[0] != '-') {
      positional->push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    if (arg == "-h") {
      FLAGS_segwal_help = true;
      continue;
    }
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string name = body;
    std::string value;
    bool has_value = false;
    const size_t eq = body.find('=');
    if (eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    gflags::CommandLineFlagInfo info;
    bool known =
        gflags::GetCommandLineFlagInfo(Registered(name).c_str(), &info);
    if (!known && !has_value && name.compare(0, 2, "no") == 0 &&
        gflags::GetCommandLineFlagInfo(Registered(name.substr(2)).c_str(),
                                       &info) &&
        info.type == "bool") {
      name = name.substr(2);
      value = "false";
      has_value = true;
      known = true;
    }
    if (!known || !Accepts(command, name)) {
      *error = "segwal " + std::string(command.name) + " has no flag --" +
               name + " (see segwal help " + command.name + ")";
      return false;
    }
    if (!has_value) {
      if (info.type == "bool") {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        *error = "flag --" + name + " needs a value";
        return false;
      }
    }
    if (gflags::SetCommandLineOption(Registered(name).c_str(), value.c_str())
            .empty()) {
      *error =
          "bad value for --" + name + ": '" + value + "' (" + info.type + ")";
      return false;
    }
  }
  return true;
}

std::string FlagHelp(const Command& command) {
  std::string out;
  for (const std::string& name : command.flags) {
    gflags::CommandLineFlagInfo info;
    if (!gflags::GetCommandLineFlagInfo(Registered(name).c_str(), &info)) {
      continue;
    }
    std::string left = "  --" + name;
    if (info.type != "bool") {
      left += info.type == "string" ? "=S" : "=N";
    }
    if (left.size() < 22) left.resize(22, ' ');
    std::string text = info.description;
    if (info.type != "bool" && !info.default_value.empty() &&
        info.default_value != "0") {
      text += " (default " + info.default_value + ")";
    }
    // Wrapped to 78 columns, continuation lines under the description.
    std::string line = left + " ";
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find(' ', start);
      if (end == std::string::npos) end = text.size();
      const std::string word = text.substr(start, end - start);
      if (line.size() + word.size() > 78 && line.size() > 23) {
        out += line.substr(0, line.size() - 1) + "\n";
        line = std::string(23, ' ');
      }
      line += word + " ";
      start = end + 1;
    }
    out += line.substr(0, line.find_last_not_of(' ') + 1) + "\n";
  }
  out += "  --help               show this help\n";
  return out;
}

}  // namespace tool
}  // namespace segwal
