# segwal in RocksDB's own build: ROCKSDB_PLUGINS=segwal (make or cmake).
#
# RocksDB reads plugin/segwal/segwal.mk, with segwal's tree placed at
# rocksdb/plugin/segwal and this file reachable there as segwal.mk (a
# symlink to plugin/segwal.mk; see README "Enabling segwal"). Make includes
# it; CMake reads the segwal_SOURCES, segwal_FUNC and segwal_LIBS lines with
# regular expressions, so each stays on one line and lists literal paths,
# relative to plugin/segwal. tests/plugin_test.cc checks that the list
# matches the library sources of segwal's own build.
#
# The registrar (RegisterSegWal, C linkage) is called by RocksDB when its
# default ObjectRegistry is created, so "segwal" resolves in every program
# linked with that RocksDB.

segwal_SOURCES = env/format/codec.cc env/format/crc32c.cc env/fs/export.cc env/table/file_table.cc env/format/format.cc env/stats/histogram.cc env/engine/log.cc env/stats/log_metrics.cc env/engine/log_options.cc env/fs/log_registry.cc env/engine/log_sync.cc env/storage/posix_storage.cc env/recovery/recovery.cc env/fs/segwal_fs.cc env/fs/wal_files.cc env/fs/wal_path.cc options/segwal_options.cc plugin/segwal_plugin.cc
segwal_HEADERS = plugin/segwal_plugin.h env/fs/segwal_fs.h options/segwal_options.h env/engine/log_options.h env/format/format.h
segwal_FUNC = RegisterSegWal
segwal_LIBS = lz4 zstd
segwal_LDFLAGS = -llz4 -lzstd
# segwal's sources include "env/...", "options/..." from its own root.
segwal_CXXFLAGS = -I./plugin/segwal
