#include "env/format/codec.h"

#include <lz4.h>
#include <zstd.h>

namespace segwal {

bool CompressPayload(Codec codec, int level, const rocksdb::Slice& input,
                     std::string* output) {
  switch (codec) {
    case Codec::kNone:
      return false;
    case Codec::kLz4: {
      int bound = LZ4_compressBound(static_cast<int>(input.size()));
      output->resize(static_cast<size_t>(bound));
      int n = LZ4_compress_fast(input.data(), &(*output)[0],
                                static_cast<int>(input.size()), bound,
                                level > 0 ? level : 1);
      if (n <= 0 || static_cast<size_t>(n) >= input.size()) return false;
      output->resize(static_cast<size_t>(n));
      return true;
    }
    case Codec::kZstd: {
      size_t bound = ZSTD_compressBound(input.size());
      output->resize(bound);
      size_t n = ZSTD_compress(&(*output)[0], bound, input.data(),
                               input.size(), level != 0 ? level : 1);
      if (ZSTD_isError(n) || n >= input.size()) return false;
      output->resize(n);
      return true;
    }
  }
  return false;
}

rocksdb::IOStatus DecompressPayload(Codec codec, const rocksdb::Slice& stored,
                                    char* dst, size_t raw_len) {
  switch (codec) {
    case Codec::kNone:
      if (stored.size() != raw_len) {
        return rocksdb::IOStatus::Corruption("raw payload length mismatch");
      }
      std::copy(stored.data(), stored.data() + stored.size(), dst);
      return rocksdb::IOStatus::OK();
    case Codec::kLz4: {
      int n = LZ4_decompress_safe(stored.data(), dst,
                                  static_cast<int>(stored.size()),
                                  static_cast<int>(raw_len));
      if (n < 0 || static_cast<size_t>(n) != raw_len) {
        return rocksdb::IOStatus::Corruption("lz4 payload does not decode");
      }
      return rocksdb::IOStatus::OK();
    }
    case Codec::kZstd: {
      size_t n = ZSTD_decompress(dst, raw_len, stored.data(), stored.size());
      if (ZSTD_isError(n) || n != raw_len) {
        return rocksdb::IOStatus::Corruption("zstd payload does not decode");
      }
      return rocksdb::IOStatus::OK();
    }
  }
  return rocksdb::IOStatus::Corruption("unknown payload codec " +
                                       std::to_string(static_cast<int>(codec)));
}

const char* CodecName(Codec codec) {
  switch (codec) {
    case Codec::kNone: return "none";
    case Codec::kLz4: return "lz4";
    case Codec::kZstd: return "zstd";
  }
  return "unknown";
}

bool ParseCodec(const std::string& name, Codec* codec) {
  for (Codec c : {Codec::kNone, Codec::kLz4, Codec::kZstd}) {
    if (name == CodecName(c)) {
      *codec = c;
      return true;
    }
  }
  return false;
}

}  // namespace segwal
