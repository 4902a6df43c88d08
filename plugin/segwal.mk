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

segwal_SOURCES = env/engine/catalog.cc env/engine/clock.cc env/engine/decode_ahead.cc env/engine/durability.cc env/engine/group_commit.cc env/engine/housekeeper.cc env/engine/interval_syncer.cc env/engine/log.cc env/engine/log_follower.cc env/engine/log_options.cc env/engine/payload_encoder.cc env/engine/reader.cc env/engine/recovery_apply.cc env/engine/segment_preparer.cc env/engine/segment_writer.cc env/engine/space_reclaimer.cc env/engine/writable_log.cc env/engine/zero_fill_policy.cc env/format/codec.cc env/format/crc32c.cc env/format/file_names.cc env/format/format.cc env/format/group_codec.cc env/fs/export.cc env/fs/log_registry.cc env/fs/open_logs.cc env/fs/segwal_fs.cc env/fs/segwal_fs_impl.cc env/fs/wal_files.cc env/fs/wal_path.cc env/fs/wal_router.cc env/recovery/damage.cc env/recovery/frame_check.cc env/recovery/recovery_mode.cc env/recovery/scanner.cc env/recovery/segment_window.cc env/recovery/tail_scan.cc env/stats/histogram.cc env/stats/info_log.cc env/stats/log_metrics.cc env/stats/metrics_file.cc env/storage/guarded_copy.cc env/storage/posix_storage.cc env/table/file_table.cc options/segwal_options.cc plugin/segwal_plugin.cc
segwal_HEADERS = plugin/segwal_plugin.h env/fs/segwal_fs.h options/segwal_options.h env/engine/log_options.h env/format/format.h env/recovery/recovery_mode.h env/recovery/damage.h
segwal_FUNC = RegisterSegWal
segwal_LIBS = lz4 zstd
segwal_LDFLAGS = -llz4 -lzstd
# segwal's sources include "env/...", "options/..." from its own root.
segwal_CXXFLAGS = -I./plugin/segwal
