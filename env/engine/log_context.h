// What every unit of one log shares, fixed once the log is open.
#pragma once

#include <cstdint>
#include <string>

#include "env/engine/clock.h"
#include "env/engine/log_options.h"
#include "env/storage/storage.h"

namespace segwal {

struct LogContext {
  Storage* storage = nullptr;
  std::string dir;
  LogOptions options;
  Clock* clock = nullptr;
  uint64_t log_uid = 0;  // shared by every segment of the log

  std::string PathOf(const std::string& name) const {
    return dir + "/" + name;
  }
};

}  // namespace segwal
