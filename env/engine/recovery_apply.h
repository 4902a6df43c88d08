// What a recovery scan decided, made durable: run once, by a log's first
// change (opening only scans, so that readers leave no trace).
//
// The crash-safe order:
//  1. segments recovery gave up on are set aside (".quarantined"), and
//     that is durable before a new segment names its predecessor (else
//     the next recovery would find them between the two);
//  2. unused segments (prepared, never written) become free for reuse;
//  3. the old head's frames are made durable: after a killed process they
//     may be in the OS's cache only, and the new segment's header is about
//     to say where they end;
//  4. a new segment starts, sealing the old head where its valid frames
//     end, so that a torn tail beyond is never scanned again; or, when no
//     frame of the old head checks out past that end (a clean close),
//     writing goes on in the old head, so that each reopen does not leave
//     a segment behind;
//  5. repairs (files cut or zero-filled where frames were lost) are written
//     as frames and made durable, so the next recovery reaches the same
//     table.
#pragma once

#include "env/engine/durability.h"
#include "env/engine/log_context.h"
#include "env/engine/segment_preparer.h"
#include "env/engine/segment_writer.h"
#include "env/recovery/scanner.h"

namespace segwal {

IOStatus ApplyRecovery(const LogContext& context, const ScanResult& scan,
                       SegmentPreparer* preparer, SegmentWriter* writer,
                       Durability* durability);

}  // namespace segwal
