// Whole-payload codecs of format versions 1 and 2 (Codec::kLz4, kZstd:
// each payload one lz4 block or zstd frame), the codec names, and the
// decoding of any one frame's payload that needs nothing before it. The
// group codecs of version 3 are in env/format/group_codec.h.
#pragma once

#include <string>

#include "env/format/format.h"
#include "rocksdb/io_status.h"
#include "rocksdb/slice.h"

namespace segwal {

// Compresses `input` with kLz4 or kZstd into *output, as segwal before
// format version 3 did (tests and fuzzers write such logs). Returns false
// when the codec would not make the payload smaller; the caller then
// stores it raw.
bool CompressPayload(Codec codec, int level, const rocksdb::Slice& input,
                     std::string* output);

// Decodes a stored kNone, kLz4 or kZstd payload into exactly `raw_len`
// bytes at dst, with codec contexts reused per thread. An error names the
// codec and what went wrong; the caller adds the place.
rocksdb::IOStatus DecompressPayload(Codec codec, const rocksdb::Slice& stored,
                                    char* dst, size_t raw_len);

// "none", "lz4", "zstd" (the group codecs, what the compression option
// names), "lz4v2", "zstdv2" (the whole-payload codecs of older logs).
const char* CodecName(Codec codec);
// Parses "none", "lz4" or "zstd" into kNone, kLz4Group or kZstdGroup.
bool ParseCodec(const std::string& name, Codec* codec);

}  // namespace segwal
