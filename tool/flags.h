// The tool's flags: gflags definitions, registered as segwal_<name> since
// librocksdb registers flags of its own tools (db, output_dir, ...) in the
// same registry; on the command line they are --<name>. Parsed per
// subcommand by our own loop over gflags' registry, so that a flag another
// subcommand owns, an
// unknown flag or a bad value is a usage error with exit code 2 (gflags'
// own parser exits with 1, which means "damage" here).
#pragma once

#include <string>
#include <vector>

#include "gflags/gflags.h"
#include "tool/command.h"

DECLARE_bool(segwal_json);
DECLARE_string(segwal_recovery_mode);
DECLARE_string(segwal_file);
DECLARE_string(segwal_output);
DECLARE_string(segwal_output_dir);
DECLARE_string(segwal_db);
DECLARE_string(segwal_wal_dir);
DECLARE_string(segwal_log_dir);
DECLARE_string(segwal_segment_size);
DECLARE_string(segwal_compression);
DECLARE_bool(segwal_yes);
DECLARE_bool(segwal_dry_run);
DECLARE_int64(segwal_pid);
DECLARE_bool(segwal_help);

namespace segwal {
namespace tool {

// Parses argv[first..argc) for `command`: flags it accepts
// (--name=value, --name value, --name and --noname for booleans, "--"
// ends flags) and positional arguments. False with *error on a usage
// error.
bool ParseArgs(const Command& command, int argc, char** argv, int first,
               std::vector<std::string>* positional, std::string* error);

// The lines describing `command`'s flags, for its help text.
std::string FlagHelp(const Command& command);

}  // namespace tool
}  // namespace segwal
