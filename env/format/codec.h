// Frame payload compression (lz4, zstd).
#pragma once

#include <string>

#include "env/format/format.h"
#include "rocksdb/io_status.h"
#include "rocksdb/slice.h"

namespace segwal {

// Compresses `input` with `codec` into *output. Returns false when the codec
// would not make the payload smaller; the caller then stores it raw.
bool CompressPayload(Codec codec, int level, const rocksdb::Slice& input,
                     std::string* output);

// Decodes a stored payload into exactly `raw_len` bytes at dst. An error
// names the codec and what went wrong; the caller adds the place.
rocksdb::IOStatus DecompressPayload(Codec codec, const rocksdb::Slice& stored,
                                    char* dst, size_t raw_len);

const char* CodecName(Codec codec);
// Parses "none", "lz4" or "zstd".
bool ParseCodec(const std::string& name, Codec* codec);

}  // namespace segwal
