#include "env/engine/zero_fill_policy.h"

namespace segwal {
namespace {

constexpr uint64_t kBytesPerSync = 1 << 20;

}  // namespace

bool ZeroFillPolicy::ZeroFill(uint64_t sync_batches, uint64_t frame_bytes) {
  switch (preallocate_) {
    case Preallocation::kZero: return true;
    case Preallocation::kFallocate: return false;
    case Preallocation::kAuto: break;
  }
  const uint64_t syncs = sync_batches - sync_batches_at_decision_;
  const uint64_t bytes = frame_bytes - frame_bytes_at_decision_;
  if (!decided_) {
    decided_ = true;
    zero_fill_ = sync_mode_ == SyncMode::kGroup ||
                 sync_mode_ == SyncMode::kAlways;
  } else if (bytes >= kBytesPerSync) {
    zero_fill_ = syncs * kBytesPerSync >= bytes;
  } else {
    return zero_fill_;
  }
  sync_batches_at_decision_ = sync_batches;
  frame_bytes_at_decision_ = frame_bytes;
  return zero_fill_;
}

}  // namespace segwal
