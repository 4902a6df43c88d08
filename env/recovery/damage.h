// What a recovery scan finds wrong with a log, as data: each piece of damage
// is detected by the scanner (env/recovery/scanner.h) and handed to a
// DamageReporter, which decides what the scan does about it (a recovery
// mode's policy, env/recovery/recovery_mode.h; or a tool listing every
// problem). Detection never decides policy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace segwal {

enum class DamageKind {
  kSegmentHeader,     // a header that does not check out, or names another id
  kForeignSegment,    // a valid header of another log (uid)
  kMissingSegment,    // a header names a predecessor that is not there
  kBrokenChain,       // a header names another predecessor than the one found
  kBadSealedEnd,      // where a successor says this segment ends is impossible
  kBadFrameHeader,    // header checksum, reserved bits, length past the end
  kBadPayload,        // payload checksum, codec or decoded length
  kMissingSnapshot,   // frames before the first file-table snapshot
  kRejectedFrame,     // a valid frame that cannot follow the table's state
  kDamagedDurable,    // bad bytes at the tail below a later frame's durable mark
  kTornTail,          // the newest segment ends in a frame of ours cut short
  kMissingBytes,      // a logical file lacks bytes no frame holds any more
  kBrokenGroup,       // a valid frame of a compression group whose earlier
                      // frame is damaged or missing: it cannot be decoded
};
const char* DamageKindName(DamageKind kind);

// One place where recovery found damage.
struct Damage {
  DamageKind kind = DamageKind::kBadFrameHeader;
  uint64_t segment_id = 0;  // 0: not in one segment (kMissingBytes)
  uint64_t offset = 0;      // segment offset
  uint64_t bytes = 0;       // bytes not replayed because of it (0: unknown)
  std::string reason;       // for people: what is wrong, with the numbers
  // "segment S offset O: reason (N bytes not replayed)".
  std::string ToString() const;
};

// What the scan does after a piece of damage before the tail.
enum class DamageAction {
  kFail,  // stop with an error (Corruption, data loss)
  kStop,  // keep everything before it; set the rest aside
  kSkip,  // leave the damaged bytes out and go on
};

// Told of every piece of damage, in log order (as LevelDB's
// log::Reader::Reporter is). Called on the scanning thread.
class DamageReporter {
 public:
  virtual ~DamageReporter() = default;
  virtual DamageAction OnDamage(const Damage& damage) = 0;
  // The newest segment ends in one of our frames cut short: the write a
  // crash interrupted. True cuts it (the log ends before it); false makes
  // it damage that fails the scan.
  virtual bool CutTornTail(const Damage& torn) = 0;
  // Appended to a failure's message: what the user can do instead.
  virtual std::string Advice(const Damage& damage) const = 0;
};

// What a recovery scan did and found.
struct RecoveryInfo {
  uint64_t segments_scanned = 0;
  uint64_t frames = 0;             // valid frames replayed
  uint64_t valid_bytes = 0;        // bytes of valid frames
  uint64_t bytes_scanned = 0;      // bytes read from segments
  uint64_t bytes_cut = 0;          // torn-tail bytes discarded
  uint64_t files = 0;              // logical files after recovery
  uint64_t elapsed_micros = 0;
  bool torn_tail = false;
  std::vector<Damage> damages;     // damage the reporter let the scan pass
  std::string ToString() const;
};

}  // namespace segwal
