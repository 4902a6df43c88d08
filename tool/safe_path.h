// Writing files whose names come from a log (untrusted) beneath a
// directory the user gave, and never anywhere else: every name is checked
// component by component ("", ".", ".." and NUL refused, lengths bounded),
// and every directory on the way is opened relative to the one before
// with O_NOFOLLOW, so neither a crafted name nor a symbolic link met on the
// way leads outside.
#pragma once

#include <string>
#include <vector>

#include "rocksdb/io_status.h"

namespace segwal {
namespace tool {

// The components of `name` as a path beneath a directory: a leading "/"
// (a shared log's absolute names) is dropped; false with *why for a name
// that is empty, too long, too deep, or has an empty, "." or ".."
// component or a NUL byte.
bool SafeComponents(const std::string& name, std::vector<std::string>* parts,
                    std::string* why);

// Creates the file `parts` beneath the directory open as `root_fd`
// (intermediate directories as needed, none of them followed if a
// symbolic link) and returns its descriptor, open for writing; an existing
// file is an error (O_EXCL).
rocksdb::IOStatus CreateBeneath(int root_fd,
                                const std::vector<std::string>& parts, int* fd);

// The resolved (realpath) form of `path`; false if it cannot be resolved.
bool RealPath(const std::string& path, std::string* real);

// True if `path` exists and is a symbolic link.
bool IsSymlink(const std::string& path);

}  // namespace tool
}  // namespace segwal
