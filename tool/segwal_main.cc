// segwal: the command-line tool of the segwal log. Inspects, verifies,
// dumps, repairs and moves logs with the engine's own scanner, and prints
// a log's metrics. `segwal help` lists the subcommands.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tool/command.h"
#include "tool/flags.h"
#include "tool/output.h"

namespace segwal {
namespace tool {
namespace {

const Command* const kCommands[] = {
    &kInfoCommand,   &kVerifyCommand, &kDumpCommand,  &kExportCommand,
    &kImportCommand, &kRepairCommand, &kStatsCommand,
};

const Command* FindCommand(const std::string& name) {
  for (const Command* c : kCommands) {
    if (name == c->name) return c;
  }
  return nullptr;
}

void PrintOverview(FILE* out) {
  std::fprintf(
      out,
      "usage: segwal <command> [arguments] [--flags]\n"
      "\n"
      "Looks inside, checks, repairs and moves the logs in which the\n"
      "segwal RocksDB plugin keeps WAL files (a log directory: the\n"
      "'segwal' directory beside a DB's WALs, or the shared log_dir).\n"
      "\n"
      "commands:\n");
  for (const Command* c : kCommands) {
    std::fprintf(out, "  %-8s %s\n", c->name, c->summary);
  }
  std::fprintf(out,
               "  help     segwal help <command>: what a command does, its "
               "flags\n"
               "\n"
               "Only export, import and repair change anything, and never a\n"
               "log that a running process holds. Every command takes --json\n"
               "(one JSON object on stdout) and exits with 0 when healthy,\n"
               "1 when it found damage, 2 on a usage or I/O error.\n");
}

void PrintUsage(const Command& c, FILE* out) {
  std::fprintf(out, "%s\nflags:\n%s", c.usage, FlagHelp(c).c_str());
}

}  // namespace

int Main(int argc, char** argv) {
  // A closed pipe (segwal dump | head) is a write error, not a signal.
  ::signal(SIGPIPE, SIG_IGN);
  gflags::SetUsageMessage("segwal <command> [arguments]; segwal help");
  if (argc < 2) {
    PrintOverview(stderr);
    return kExitError;
  }
  const std::string name = argv[1];
  if (name == "help" || name == "--help" || name == "-h" || name == "-help") {
    if (argc > 2) {
      const Command* c = FindCommand(argv[2]);
      if (c == nullptr) {
        std::fprintf(stderr, "segwal: no command '%s'\n", argv[2]);
        PrintOverview(stderr);
        return kExitError;
      }
      PrintUsage(*c, stdout);
      return kExitHealthy;
    }
    PrintOverview(stdout);
    return kExitHealthy;
  }
  const Command* command = FindCommand(name);
  if (command == nullptr) {
    std::fprintf(stderr, "segwal: no command '%s'\n\n", name.c_str());
    PrintOverview(stderr);
    return kExitError;
  }
  std::vector<std::string> args;
  std::string error;
  if (!ParseArgs(*command, argc, argv, 2, &args, &error)) {
    std::fprintf(stderr, "segwal %s: %s\n", command->name, error.c_str());
    return kExitError;
  }
  if (FLAGS_segwal_help) {
    PrintUsage(*command, stdout);
    return kExitHealthy;
  }
  if (args.size() < command->min_args || args.size() > command->max_args) {
    std::fprintf(stderr, "segwal %s: wrong number of arguments\n\n%s",
                 command->name, command->usage);
    return kExitError;
  }
  return command->run(args);
}

}  // namespace tool
}  // namespace segwal

int main(int argc, char** argv) { return segwal::tool::Main(argc, argv); }
