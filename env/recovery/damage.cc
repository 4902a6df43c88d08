#include "env/recovery/damage.h"

#include <sstream>

namespace segwal {

const char* DamageKindName(DamageKind kind) {
  switch (kind) {
    case DamageKind::kSegmentHeader: return "segment_header";
    case DamageKind::kForeignSegment: return "foreign_segment";
    case DamageKind::kMissingSegment: return "missing_segment";
    case DamageKind::kBrokenChain: return "broken_chain";
    case DamageKind::kBadSealedEnd: return "bad_sealed_end";
    case DamageKind::kBadFrameHeader: return "bad_frame_header";
    case DamageKind::kBadPayload: return "bad_payload";
    case DamageKind::kMissingSnapshot: return "missing_snapshot";
    case DamageKind::kRejectedFrame: return "rejected_frame";
    case DamageKind::kDamagedDurable: return "damaged_durable";
    case DamageKind::kTornTail: return "torn_tail";
    case DamageKind::kMissingBytes: return "missing_bytes";
    case DamageKind::kBrokenGroup: return "broken_group";
  }
  return "unknown";
}

std::string Damage::ToString() const {
  std::ostringstream out;
  out << "segment " << segment_id << " offset " << offset << ": " << reason;
  if (bytes > 0) out << " (" << bytes << " bytes not replayed)";
  return out.str();
}

std::string RecoveryInfo::ToString() const {
  std::ostringstream out;
  out << "segments_scanned=" << segments_scanned << " frames=" << frames
      << " valid_bytes=" << valid_bytes << " bytes_scanned=" << bytes_scanned
      << " bytes_cut=" << bytes_cut << " files=" << files
      << " elapsed_us=" << elapsed_micros
      << " torn_tail=" << (torn_tail ? "yes" : "no")
      << " damages=" << damages.size();
  for (const Damage& d : damages) out << "\n  " << d.ToString();
  return out.str();
}

}  // namespace segwal
