#include "env/stats/log_metrics.h"

#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "env/format/codec.h"

namespace segwal {
namespace {

constexpr double kQuantiles[] = {0.5, 0.9, 0.99, 0.999};

// Escapes a label value: backslash, double quote and newline.
std::string LabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

class Exposition {
 public:
  explicit Exposition(const std::string& log_dir)
      : labels_("log_dir=\"" + LabelValue(log_dir) + "\"") {}

  void Counter(const std::string& name, const std::string& help,
               uint64_t value) {
    Header(name + "_total", help, "counter");
    Sample(name + "_total", "", std::to_string(value));
  }
  void Gauge(const std::string& name, const std::string& help,
             uint64_t value) {
    Header(name, help, "gauge");
    Sample(name, "", std::to_string(value));
  }
  // A latency histogram kept in microseconds, as a summary in seconds.
  void Summary(const std::string& name, const std::string& help,
               const LatencyHistogram& h) {
    Header(name, help, "summary");
    for (double q : kQuantiles) {
      Sample(name, Quantile(q), Seconds(h.Percentile(q)));
    }
    Sample(name, Quantile(1.0), Seconds(h.max()));
    Sample(name + "_sum", "", Seconds(h.sum()));
    Sample(name + "_count", "", std::to_string(h.count()));
  }
  std::string str() const { return out_.str(); }

 private:
  void Header(const std::string& name, const std::string& help,
              const char* type) {
    out_ << "# HELP " << name << " " << help << "\n"
         << "# TYPE " << name << " " << type << "\n";
  }
  void Sample(const std::string& name, const std::string& extra,
              const std::string& value) {
    out_ << name << "{" << labels_ << extra << "} " << value << "\n";
  }
  static std::string Quantile(double q) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), ",quantile=\"%g\"", q);
    return buf;
  }
  static std::string Seconds(uint64_t micros) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.6f", static_cast<double>(micros) / 1e6);
    return buf;
  }

  const std::string labels_;
  std::ostringstream out_;
};

double Ratio(uint64_t total, uint64_t count) {
  return count == 0 ? 0.0 : static_cast<double>(total) / count;
}

std::string Latencies(const char* what, const LatencyHistogram& h) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "%s_us: count=%" PRIu64 " avg=%.1f p50=%" PRIu64
                " p90=%" PRIu64 " p99=%" PRIu64 " p99.9=%" PRIu64
                " max=%" PRIu64,
                what, h.count(), h.Mean(), h.Percentile(0.5),
                h.Percentile(0.9), h.Percentile(0.99), h.Percentile(0.999),
                h.max());
  return buf;
}

}  // namespace

const char kSyncModeNoneWarning[] =
    "WARNING: UNSAFE: sync_mode=none: Sync and SyncAll never call fdatasync "
    "(only the log's own needs do: sealing a full segment, reclaiming); a "
    "power loss or OS crash may lose any write, acknowledged or not";

std::string FormatPrometheus(const LogStats& s, const std::string& log_dir) {
  Exposition e(log_dir);
  e.Counter("segwal_write_requests", "Append and WriteAt calls",
            s.write_request_count);
  e.Counter("segwal_write_bytes", "Logical bytes appended or written",
            s.write_bytes);
  e.Gauge("segwal_write_max_microseconds",
          "Longest timed Append or WriteAt call", s.write_max_us);
  e.Counter("segwal_frames_written", "Frames written to segments",
            s.frames_written);
  e.Counter("segwal_frame_bytes_written",
            "Bytes of frames written, headers included",
            s.frame_bytes_written);
  e.Counter("segwal_writeback_starts",
            "Writebacks started early for a MiB of unsynced frames",
            s.writeback_starts);
  e.Counter("segwal_sync_requests", "Sync and SyncAll calls",
            s.sync_request_count);
  e.Counter("segwal_batches",
            "fdatasyncs of head segments, for any cause", s.batch_count);
  e.Counter("segwal_sync_batches",
            "fdatasyncs that acknowledged sync requests", s.sync_batch_count);
  e.Counter("segwal_sync_microseconds",
            "Time spent in fdatasyncs that acknowledged sync requests",
            s.sync_us);
  e.Gauge("segwal_sync_max_microseconds",
          "Longest fdatasync that acknowledged sync requests", s.sync_max_us);
  e.Gauge("segwal_batch_size_max",
          "Most sync requests acknowledged by one fdatasync",
          s.batch_size_max);
  e.Gauge("segwal_batch_max_microseconds",
          "Longest group leader round (window wait and fdatasync)",
          s.batch_max_us);
  e.Counter("segwal_group_waits",
            "Group leader rounds that waited for more syncers",
            s.group_wait_count);
  e.Counter("segwal_group_wait_microseconds",
            "Time group leaders waited for more syncers", s.group_wait_us);
  e.Gauge("segwal_group_wait_max_microseconds",
          "Longest wait of a group leader for more syncers",
          s.group_wait_max_us);
  e.Gauge("segwal_queued_wait_max_microseconds",
          "Longest wait of a sync follower for its group leader",
          s.queued_wait_max_us);
  e.Summary("segwal_append_duration_seconds",
            "Latency of timed Append and WriteAt calls (one in "
            "append_timing_interval)",
            s.append_latency_us);
  e.Summary("segwal_sync_duration_seconds",
            "Latency of Sync and SyncAll calls", s.sync_latency_us);
  e.Counter("segwal_segment_rotations", "Segment rotations", s.rotations);
  e.Counter("segwal_segment_extensions",
            "Windows of blocks added to growing segments ahead of the writer",
            s.segment_extensions);
  e.Counter("segwal_prepared_bytes",
            "Bytes of segment windows allocated (and zero-filled) ahead",
            s.bytes_prepared);
  e.Counter("segwal_prefaults",
            "Runs of mapped segment pages faulted in ahead of the writer",
            s.prefaults);
  e.Counter("segwal_mapped_writes",
            "Frames stored through a segment's mapping (no system call)",
            s.mapped_writes);
  e.Counter("segwal_prepare_requests",
            "Next segments asked for ahead of need (the head half full)",
            s.prepare_requests);
  e.Counter("segwal_segments_created",
            "Segment files created and preallocated", s.segments_created);
  e.Counter("segwal_segments_zero_filled",
            "Created segment files zero-filled rather than only fallocated",
            s.segments_zero_filled);
  e.Counter("segwal_segments_recycled", "Reclaimed segment files reused",
            s.segments_recycled);
  e.Counter("segwal_segments_removed", "Segment files removed",
            s.segments_removed);
  e.Counter("segwal_segments_reclaimed",
            "Segments taken out of the log once no live file used them",
            s.segments_reclaimed);
  e.Counter("segwal_reclaimed_bytes", "Bytes of reclaimed segments",
            s.bytes_reclaimed);
  e.Counter("segwal_relocated_bytes",
            "Live bytes copied forward out of old segments",
            s.bytes_relocated);
  e.Gauge("segwal_live_bytes", "Bytes of live logical files in segments",
          s.live_bytes);
  e.Gauge("segwal_active_segments", "Segments in the log", s.active_segments);
  e.Gauge("segwal_log_bytes", "Bytes of the segments in the log",
          s.log_bytes);
  e.Gauge("segwal_active_segment_bytes",
          "Used bytes of the segment written now", s.head_segment_bytes);
  e.Counter("segwal_follow_refreshes",
            "Catalog refreshes while following a log another process "
            "writes",
            s.follow_refreshes);
  e.Counter("segwal_follow_rescans",
            "Full rescans of a followed log (a refresh that could not go "
            "on, or the first change after another process wrote)",
            s.follow_rescans);
  e.Counter("segwal_follow_read_bytes",
            "Segment bytes read by incremental refreshes",
            s.follow_bytes_read);
  return e.str();
}

std::string FormatStatsDump(const LogStats& s) {
  char buf[1024];
  std::string out;
  std::snprintf(
      buf, sizeof(buf),
      "segwal stats: writes=%" PRIu64 " write_bytes=%" PRIu64
      " write_max_us=%" PRIu64 " frames=%" PRIu64 " frame_bytes=%" PRIu64
      " mapped_writes=%" PRIu64 " prefaults=%" PRIu64
      " writeback_starts=%" PRIu64 "\n",
      s.write_request_count, s.write_bytes, s.write_max_us, s.frames_written,
      s.frame_bytes_written, s.mapped_writes, s.prefaults,
      s.writeback_starts);
  out += buf;
  std::snprintf(
      buf, sizeof(buf),
      "segwal stats: sync_requests=%" PRIu64 " batches=%" PRIu64
      " sync_batches=%" PRIu64 " writes/batch=%.2f requests/sync_batch=%.2f"
      " batch_size_max=%" PRIu64 " sync_avg_us=%.1f sync_max_us=%" PRIu64
      " batch_max_us=%" PRIu64 "\n",
      s.sync_request_count, s.batch_count, s.sync_batch_count,
      Ratio(s.write_request_count, s.batch_count),
      Ratio(s.sync_request_count, s.sync_batch_count), s.batch_size_max,
      Ratio(s.sync_us, s.sync_batch_count), s.sync_max_us, s.batch_max_us);
  out += buf;
  std::snprintf(buf, sizeof(buf),
                "segwal stats: group_waits=%" PRIu64
                " group_wait_avg_us=%.1f group_wait_max_us=%" PRIu64
                " queued_wait_max_us=%" PRIu64 "\n",
                s.group_wait_count, Ratio(s.group_wait_us, s.group_wait_count),
                s.group_wait_max_us, s.queued_wait_max_us);
  out += buf;
  out += "segwal stats: " + Latencies("append", s.append_latency_us) + "\n";
  out += "segwal stats: " + Latencies("sync", s.sync_latency_us) + "\n";
  std::snprintf(
      buf, sizeof(buf),
      "segwal stats: rotations=%" PRIu64 " prepare_requests=%" PRIu64
      " segment_extensions=%" PRIu64 " bytes_prepared=%" PRIu64
      " segments_created=%" PRIu64
      " segments_zero_filled=%" PRIu64 " segments_recycled=%" PRIu64 " segments_removed=%" PRIu64
      " segments_reclaimed=%" PRIu64 " bytes_reclaimed=%" PRIu64
      " bytes_relocated=%" PRIu64 " live_bytes=%" PRIu64
      " active_segments=%" PRIu64 " log_bytes=%" PRIu64
      " head_segment_bytes=%" PRIu64 "\n",
      s.rotations, s.prepare_requests, s.segment_extensions, s.bytes_prepared,
      s.segments_created,
      s.segments_zero_filled,
      s.segments_recycled,
      s.segments_removed, s.segments_reclaimed, s.bytes_reclaimed,
      s.bytes_relocated, s.live_bytes, s.active_segments, s.log_bytes,
      s.head_segment_bytes);
  out += buf;
  return out;
}

std::string FormatOptionsLine(const std::string& log_dir,
                              const LogOptions& o) {
  return "segwal log " + log_dir + " opened: sync_mode=" +
         SyncModeName(o.sync_mode) +
         " segment_size=" + std::to_string(o.segment_size) +
         " group_commit_window_us=" +
         std::to_string(o.group_commit_window_us) +
         " group_commit_max_batch=" +
         std::to_string(o.group_commit_max_batch) +
         " sync_interval_ms=" + std::to_string(o.sync_interval_ms) +
         " compression=" + CodecName(o.compression) +
         " preallocate=" + PreallocationName(o.preallocate) +
         " recovery_mode=" + RecoveryModeName(o.recovery_mode) +
         " stats_dump_period_sec=" + std::to_string(o.stats_dump_period_sec) +
         " append_timing_interval=" +
         std::to_string(o.append_timing_interval);
}

std::string FormatRecoverySummary(const RecoveryInfo& info) {
  const double seconds = static_cast<double>(info.elapsed_micros) / 1e6;
  const double gib = static_cast<double>(info.bytes_scanned) / (1ull << 30);
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "segwal recovery: segments_scanned=%" PRIu64
                " frames=%" PRIu64 " valid_bytes=%" PRIu64
                " bytes_scanned=%" PRIu64 " bytes_cut=%" PRIu64
                " files=%" PRIu64 " torn_tail=%s damages=%zu"
                " elapsed_ms=%.3f throughput=%.2f GiB/s",
                info.segments_scanned, info.frames, info.valid_bytes,
                info.bytes_scanned, info.bytes_cut, info.files,
                info.torn_tail ? "yes" : "no", info.damages.size(),
                seconds * 1e3, seconds > 0 ? gib / seconds : 0.0);
  std::string out = buf;
  for (const Damage& d : info.damages) {
    out += "\nsegwal recovery: damage: " + d.ToString();
  }
  return out;
}

}  // namespace segwal
