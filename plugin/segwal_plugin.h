// Registration of segwal with RocksDB's object registry.
//
// Loading libsegwal registers everything in ObjectLibrary::Default() (a
// static initializer calls RegisterSegWal), so with LD_PRELOAD, or when the
// library is really linked (-Wl,--no-as-needed; --whole-archive for
// libsegwal.a), these work without code changes:
//
//   FileSystem  "segwal", "id=segwal;sync_mode=group;log_dir=/fast/wal",
//               "segwal://" (defaults), "segwal:///fast/wal" (log_dir)
//   Env         the same ids and URIs, e.g. the DBOptions string
//               "env={id=segwal;sync_mode=group;log_dir=/fast/wal}"
//
// The options after the id are applied by RocksDB once the factory has
// returned; unknown options and bad values are InvalidArgument.
#pragma once

#include <string>

#include "rocksdb/utilities/object_registry.h"

// Adds segwal's factories (FileSystem and Env, each by id and by URI) to
// `library` and returns how many segwal factories it now holds (4). A
// factory is added only where `library` does not already resolve its id, so
// calling this again on the same library adds nothing. `arg` is unused.
//
// C linkage because RocksDB's in-tree plugin build (ROCKSDB_PLUGINS=segwal,
// segwal_FUNC = RegisterSegWal) declares the registrar inside extern "C" in
// util/build_version.cc. The signature is RocksDB's RegistrarFunc, so C++
// callers use it as usual:
//   rocksdb::ObjectRegistry::Default()->AddLibrary("segwal", RegisterSegWal, "");
extern "C" int RegisterSegWal(rocksdb::ObjectLibrary& library,
                              const std::string& arg);
