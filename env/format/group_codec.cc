#include "env/format/group_codec.h"

#include <lz4.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_c_format: magicless frames
#include <zstd.h>
#include <zdict.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <vector>

#include "env/format/varint.h"

namespace segwal {
namespace {

using rocksdb::IOStatus;
using rocksdb::Slice;

// lz4 matches reach back at most this far.
constexpr size_t kLz4Window = 64 * 1024;
// lz4's acceleration at compression_level 0. Compression runs before
// Append returns, on every write: at 2 it cost 30-40% less time than at 1
// per 551-byte db_bench record for ~1% more bytes; at 3 the bytes grew
// 11% (docs/compression.md, "lz4 acceleration").
constexpr int kLz4DefaultAcceleration = 2;
// zstd: the window a group needs; the decoder refuses larger ones.
constexpr int kZstdMaxWindowLog = 20;
static_assert((1u << kZstdMaxWindowLog) >= kMaxGroupRawBytes,
              "a group must fit the decoder's window");

// zstd dictionaries: a group of at least kDictionaryGroup bytes starts
// with entropy tables fitted to the last kSampleBytes the encoder
// compressed before it (so that the literals of small blocks are Huffman
// coded: a table of their own would cost more than it saves, and one
// inherited from an earlier block does not cover every byte value), with
// kDictionaryContent bytes of content, the least zstd accepts.
constexpr uint32_t kDictionaryGroup = 64 * 1024;
constexpr size_t kSampleBytes = 8 * 1024;
constexpr size_t kDictionaryContent = 8;
constexpr size_t kMaxDictionary = 4096;

int WindowLogFor(uint32_t bytes) {
  int log = 10;  // ZSTD_WINDOWLOG_MIN
  while (log < kZstdMaxWindowLog && (1u << log) < bytes) ++log;
  return log;
}

IOStatus Bad(Codec codec, const std::string& what) {
  return IOStatus::Corruption(std::string(codec == Codec::kLz4Group
                                              ? "lz4 group"
                                              : "zstd group") +
                              " payload " + what);
}

}  // namespace

struct GroupEncoder::State {
  // lz4: the stream and the group's bytes, kept in place for its matches.
  LZ4_stream_t* lz4 = nullptr;
  std::unique_ptr<char[]> lz4_bytes;
  ZSTD_CCtx* zstd = nullptr;
  // zstd: the last chunks compressed (at most kSampleBytes), a
  // dictionary's samples.
  std::deque<std::string> samples;
  size_t sample_bytes = 0;
  std::string dictionary;
  ~State() {
    if (lz4 != nullptr) LZ4_freeStream(lz4);
    if (zstd != nullptr) ZSTD_freeCCtx(zstd);
  }
};

GroupEncoder::GroupEncoder(Codec codec, int level, uint32_t group_bytes,
                           bool dictionaries)
    : codec_(codec),
      level_(level),
      group_bytes_(std::min(group_bytes, kMaxGroupRawBytes)),
      dictionaries_(dictionaries && group_bytes_ >= kDictionaryGroup),
      state_(std::make_unique<State>()) {
  if (codec_ == Codec::kLz4Group) {
    state_->lz4 = LZ4_createStream();
    state_->lz4_bytes.reset(new char[group_bytes_]);
  } else {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    state_->zstd = c;
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level != 0 ? level : 1);
    ZSTD_CCtx_setParameter(c, ZSTD_c_format, ZSTD_f_zstd1_magicless);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0);
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
    ZSTD_CCtx_setParameter(c, ZSTD_c_dictIDFlag, 0);
    // A group's window; at least 128 KiB, for chunks that are a group of
    // their own.
    ZSTD_CCtx_setParameter(
        c, ZSTD_c_windowLog,
        WindowLogFor(std::max<uint32_t>(group_bytes_, 128 * 1024)));
  }
}

GroupEncoder::~GroupEncoder() = default;

bool GroupEncoder::Compress(const Slice& chunk, std::string* out) {
  bool start = !started_ || group_raw_ + chunk.size() > group_bytes_;
  if (codec_ == Codec::kLz4Group) {
    start = CompressLz4(chunk, start, out);
  } else {
    CompressZstd(chunk, start, out);
  }
  if (start) group_raw_ = 0;
  group_raw_ += chunk.size();
  started_ = true;
  return start;
}

// Returns whether the chunk starts a group (a chunk larger than a group
// is one alone, and the next chunk starts another).
bool GroupEncoder::CompressLz4(const Slice& chunk, bool start,
                               std::string* out) {
  const int n = static_cast<int>(chunk.size());
  const int bound = LZ4_compressBound(n);
  out->resize(static_cast<size_t>(bound));
  const int accel = level_ > 0 ? level_ : kLz4DefaultAcceleration;
  if (start) LZ4_resetStream_fast(state_->lz4);
  int written;
  if (chunk.size() > group_bytes_) {
    // A group of its own, which the next chunk cannot join (Compress).
    written = LZ4_compress_fast_extState(state_->lz4, chunk.data(), &(*out)[0],
                                         n, bound, accel);
    out->resize(static_cast<size_t>(std::max(written, 0)));
    return true;
  }
  const uint64_t at = start ? 0 : group_raw_;
  char* place = state_->lz4_bytes.get() + at;
  std::memcpy(place, chunk.data(), chunk.size());
  written = LZ4_compress_fast_continue(state_->lz4, place, &(*out)[0], n,
                                       bound, accel);
  out->resize(static_cast<size_t>(std::max(written, 0)));
  return start;
}

// A group's first frame: varint(dictionary length), the dictionary (zstd's
// format, entropy tables and content; length 0: none), then the frame's
// zstd bytes. Later frames: their zstd bytes.
void GroupEncoder::CompressZstd(const Slice& chunk, bool start,
                                std::string* out) {
  ZSTD_CCtx* c = state_->zstd;
  out->clear();
  if (start) {
    ZSTD_CCtx_reset(c, ZSTD_reset_session_only);
    MakeDictionary();
    const std::string& dict = state_->dictionary;
    PutVarint64(out, dict.size());
    out->append(dict);
    ZSTD_CCtx_loadDictionary_advanced(c, dict.data(), dict.size(),
                                      ZSTD_dlm_byRef, ZSTD_dct_fullDict);
  }
  const size_t head = out->size();
  out->resize(head + ZSTD_compressBound(chunk.size()) + 32);
  ZSTD_inBuffer in{chunk.data(), chunk.size(), 0};
  ZSTD_outBuffer o{&(*out)[0], out->size(), head};
  size_t left;
  do {
    left = ZSTD_compressStream2(c, &o, &in, ZSTD_e_flush);
    if (o.pos == o.size && left != 0 && !ZSTD_isError(left)) {
      out->resize(out->size() * 2);
      o.dst = &(*out)[0];
      o.size = out->size();
    }
  } while (left != 0 && !ZSTD_isError(left));
  // Compression into memory of the bound's size cannot fail short of
  // memory exhaustion; the frame checksum and the decoder's length check
  // would catch such a payload.
  out->resize(o.pos);
  if (dictionaries_) {
    state_->samples.emplace_back(chunk.data(),
                                 std::min(chunk.size(), kSampleBytes));
    state_->sample_bytes += state_->samples.back().size();
    while (state_->sample_bytes > kSampleBytes) {
      state_->sample_bytes -= state_->samples.front().size();
      state_->samples.pop_front();
    }
  }
}

// Fits entropy tables to the samples; none (an empty dictionary) for small
// groups, before anything was compressed, or if zstd declines.
void GroupEncoder::MakeDictionary() {
  std::string& dict = state_->dictionary;
  dict.clear();
  const auto& samples = state_->samples;
  if (samples.size() < 4) return;
  std::string joined;
  std::vector<size_t> sizes;
  for (const std::string& sample : samples) {
    joined += sample;
    sizes.push_back(sample.size());
  }
  ZDICT_params_t params;
  std::memset(&params, 0, sizeof(params));
  params.compressionLevel = std::max(level_, 1);
  dict.resize(kMaxDictionary);
  const size_t n = ZDICT_finalizeDictionary(
      &dict[0], dict.size(), joined.data() + joined.size() - kDictionaryContent,
      kDictionaryContent, joined.data(), sizes.data(),
      static_cast<unsigned>(sizes.size()), params);
  dict.resize(ZDICT_isError(n) ? 0 : n);
}

struct GroupDecoder::State {
  std::string lz4_bytes;  // the group's decoded bytes (lz4's dictionary)
  ZSTD_DCtx* zstd = nullptr;
  ~State() {
    if (zstd != nullptr) ZSTD_freeDCtx(zstd);
  }
};

GroupDecoder::GroupDecoder() = default;
GroupDecoder::~GroupDecoder() = default;
GroupDecoder::GroupDecoder(GroupDecoder&&) noexcept = default;
GroupDecoder& GroupDecoder::operator=(GroupDecoder&&) noexcept = default;

IOStatus GroupDecoder::Decode(Codec codec, bool start, const Slice& stored,
                              char* dst, size_t raw_len) {
  if (!IsGroupCodec(codec)) {
    return IOStatus::Corruption("not a group codec: " +
                                std::to_string(static_cast<int>(codec)));
  }
  if (state_ == nullptr) {
    state_ = std::make_unique<State>();
    ready_ = false;
  }
  if (!start && (!ready_ || codec != codec_)) {
    return Bad(codec, "continues a group that was not decoded before it");
  }
  if (start) {
    group_raw_ = 0;
    codec_ = codec;
    state_->lz4_bytes.clear();
  }
  ready_ = false;
  if (group_raw_ + raw_len > kMaxGroupRawBytes) {
    return Bad(codec, "takes its group past " +
                          std::to_string(kMaxGroupRawBytes) + " bytes");
  }
  IOStatus s = codec == Codec::kLz4Group
                   ? DecodeLz4(stored, dst, raw_len)
                   : DecodeZstd(start, stored, dst, raw_len);
  if (!s.ok()) return s;
  group_raw_ += raw_len;
  ready_ = true;
  return IOStatus::OK();
}

IOStatus GroupDecoder::DecodeLz4(const Slice& stored, char* dst,
                                 size_t raw_len) {
  std::string& bytes = state_->lz4_bytes;
  const size_t at = bytes.size();
  bytes.resize(at + raw_len);
  const size_t dict = std::min(at, kLz4Window);
  const int n = LZ4_decompress_safe_usingDict(
      stored.data(), &bytes[at], static_cast<int>(stored.size()),
      static_cast<int>(raw_len), bytes.data() + at - dict,
      static_cast<int>(dict));
  if (n < 0 || static_cast<size_t>(n) != raw_len) {
    return Bad(Codec::kLz4Group, "does not decode to " +
                                     std::to_string(raw_len) + " bytes");
  }
  std::memcpy(dst, &bytes[at], raw_len);
  return IOStatus::OK();
}

IOStatus GroupDecoder::DecodeZstd(bool start, const Slice& stored, char* dst,
                                  size_t raw_len) {
  if (state_->zstd == nullptr) {
    state_->zstd = ZSTD_createDCtx();
    ZSTD_DCtx_setParameter(state_->zstd, ZSTD_d_format,
                           ZSTD_f_zstd1_magicless);
    ZSTD_DCtx_setParameter(state_->zstd, ZSTD_d_windowLogMax,
                           kZstdMaxWindowLog);
  }
  ZSTD_DCtx* d = state_->zstd;
  Slice rest = stored;
  if (start) {
    ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
    uint64_t dict_len = 0;
    if (!GetVarint64(&rest, &dict_len) || dict_len > rest.size()) {
      return Bad(Codec::kZstdGroup, "has a dictionary length past its end");
    }
    // Copied: the payload's buffer is the caller's. An empty one unloads
    // the last group's.
    const size_t r = ZSTD_DCtx_loadDictionary_advanced(
        d, dict_len > 0 ? rest.data() : nullptr, dict_len, ZSTD_dlm_byCopy,
        ZSTD_dct_fullDict);
    if (ZSTD_isError(r)) {
      return Bad(Codec::kZstdGroup,
                 std::string("has a bad dictionary: ") + ZSTD_getErrorName(r));
    }
    rest.remove_prefix(dict_len);
  }
  ZSTD_inBuffer in{rest.data(), rest.size(), 0};
  ZSTD_outBuffer out{dst, raw_len, 0};
  // A flushed payload holds whole blocks: all of it is consumed and yields
  // exactly raw_len bytes. More input once the output is full, or no
  // progress, is damage.
  while (in.pos < in.size || out.pos < out.size) {
    const size_t in_before = in.pos, out_before = out.pos;
    const size_t r = ZSTD_decompressStream(d, &out, &in);
    if (ZSTD_isError(r)) {
      return Bad(Codec::kZstdGroup,
                 std::string("does not decode: ") + ZSTD_getErrorName(r));
    }
    if (in.pos == in_before && out.pos == out_before) {
      return Bad(Codec::kZstdGroup, "does not decode to " +
                                        std::to_string(raw_len) + " bytes");
    }
  }
  return IOStatus::OK();
}

}  // namespace segwal
