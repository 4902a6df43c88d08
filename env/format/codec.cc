#include "env/format/codec.h"

#include <lz4.h>
#include <zstd.h>

namespace segwal {
namespace {

// One decompression context per thread, created at its first zstd frame.
ZSTD_DCtx* ThreadDCtx() {
  struct Holder {
    ZSTD_DCtx* ctx = ZSTD_createDCtx();
    ~Holder() { ZSTD_freeDCtx(ctx); }
  };
  thread_local Holder holder;
  return holder.ctx;
}

}  // namespace

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
    case Codec::kLz4Group:
    case Codec::kZstdGroup:
    case Codec::kUnknown:
      return false;
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
        return rocksdb::IOStatus::Corruption("lz4v2 payload does not decode");
      }
      return rocksdb::IOStatus::OK();
    }
    case Codec::kZstd: {
      // A zstd frame whose header claims more than raw_len fails here
      // without allocating for it: the frame decodes into dst only.
      size_t n = ZSTD_decompressDCtx(ThreadDCtx(), dst, raw_len, stored.data(),
                                     stored.size());
      if (ZSTD_isError(n) || n != raw_len) {
        return rocksdb::IOStatus::Corruption("zstdv2 payload does not decode");
      }
      return rocksdb::IOStatus::OK();
    }
    case Codec::kLz4Group:
    case Codec::kZstdGroup:
    case Codec::kUnknown:
      break;
  }
  return rocksdb::IOStatus::Corruption(std::string(CodecName(codec)) +
                                       " payload needs its group decoder, or "
                                       "the codec is unknown: " +
                                       std::to_string(static_cast<int>(codec)));
}

const char* CodecName(Codec codec) {
  switch (codec) {
    case Codec::kNone: return "none";
    case Codec::kLz4: return "lz4v2";
    case Codec::kZstd: return "zstdv2";
    case Codec::kLz4Group: return "lz4";
    case Codec::kZstdGroup: return "zstd";
    case Codec::kUnknown: break;
  }
  return "unknown";
}

bool ParseCodec(const std::string& name, Codec* codec) {
  for (Codec c : {Codec::kNone, Codec::kLz4Group, Codec::kZstdGroup}) {
    if (name == CodecName(c)) {
      *codec = c;
      return true;
    }
  }
  return false;
}

}  // namespace segwal
