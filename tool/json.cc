#include "tool/json.h"

#include <cmath>
#include <cstdio>

namespace segwal {
namespace tool {

size_t Utf8Length(const std::string& s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t n = 0;
  uint32_t cp = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  // Overlong forms, surrogates and code points past U+10FFFF.
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
    return 0;
  }
  return n;
}

std::string JsonQuote(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = Utf8Length(s, i);
      if (n > 0) {
        out.append(s, i, n);
        i += n;
        continue;
      }
    }
    char buf[8];
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  return out + "\"";
}

Json Json::Object() {
  Json j;
  j.kind_ = Kind::kObject;
  return j;
}

Json Json::Array() {
  Json j;
  j.kind_ = Kind::kArray;
  return j;
}

Json Json::Null() { return Json(); }

Json::Json(const std::string& s) : kind_(Kind::kString), text_(s) {}
Json::Json(const char* s) : kind_(Kind::kString), text_(s) {}
Json::Json(uint64_t n) : kind_(Kind::kNumber), text_(std::to_string(n)) {}
Json::Json(int64_t n) : kind_(Kind::kNumber), text_(std::to_string(n)) {}
Json::Json(int n) : kind_(Kind::kNumber), text_(std::to_string(n)) {}
Json::Json(unsigned n) : kind_(Kind::kNumber), text_(std::to_string(n)) {}
Json::Json(bool b) : kind_(Kind::kBool), bool_(b) {}
Json::Json(double d) : kind_(Kind::kNumber) {
  if (!std::isfinite(d)) {
    kind_ = Kind::kNull;
    return;
  }
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.6g", d);
  text_ = buf;
}

Json& Json::Set(const std::string& key, Json value) {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) {
      values_[i] = std::move(value);
      return *this;
    }
  }
  keys_.push_back(key);
  values_.push_back(std::move(value));
  return *this;
}

Json& Json::Push(Json value) {
  values_.push_back(std::move(value));
  return *this;
}

std::string Json::Dump() const {
  std::string out;
  DumpTo(&out);
  return out;
}

void Json::DumpTo(std::string* out) const {
  switch (kind_) {
    case Kind::kNull:
      *out += "null";
      return;
    case Kind::kBool:
      *out += bool_ ? "true" : "false";
      return;
    case Kind::kNumber:
      *out += text_;
      return;
    case Kind::kString:
      *out += JsonQuote(text_);
      return;
    case Kind::kArray:
      *out += '[';
      for (size_t i = 0; i < values_.size(); ++i) {
        if (i > 0) *out += ',';
        values_[i].DumpTo(out);
      }
      *out += ']';
      return;
    case Kind::kObject:
      *out += '{';
      for (size_t i = 0; i < values_.size(); ++i) {
        if (i > 0) *out += ',';
        *out += JsonQuote(keys_[i]) + ':';
        values_[i].DumpTo(out);
      }
      *out += '}';
      return;
  }
}

}  // namespace tool
}  // namespace segwal
