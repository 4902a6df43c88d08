// The subcommands of the segwal tool: each one a name, a one-line summary,
// the text `segwal help <name>` prints, the flags it accepts and its entry
// point. tool/segwal_main.cc dispatches; each tool/cmd_*.cc defines one.
#pragma once

#include <string>
#include <vector>

namespace segwal {
namespace tool {

// What every subcommand returns, for scripts.
enum ExitCode {
  kExitHealthy = 0,  // done; nothing wrong found
  kExitDamage = 1,   // damage found (or a repair refused without --yes)
  kExitError = 2,    // usage error, I/O error, or a log held by a process
};

struct Command {
  const char* name;
  const char* summary;             // one line, for `segwal help`
  const char* usage;               // the whole --help text
  std::vector<std::string> flags;  // the flags it accepts (without "--")
  size_t min_args;                 // positional arguments
  size_t max_args;
  int (*run)(const std::vector<std::string>& args);
};

extern const Command kInfoCommand;
extern const Command kVerifyCommand;
extern const Command kDumpCommand;
extern const Command kExportCommand;
extern const Command kImportCommand;
extern const Command kRepairCommand;
extern const Command kStatsCommand;

}  // namespace tool
}  // namespace segwal
