// A tiny JSON value for the tool's --json output: objects keep their keys
// in insertion order; strings are bytes (a logical file name need not be
// UTF-8): valid UTF-8 passes through, any other byte is written as \u00XX.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace segwal {
namespace tool {

class Json {
 public:
  static Json Object();
  static Json Array();
  static Json Null();
  Json(const std::string& s);  // NOLINT: implicit on purpose
  Json(const char* s);         // NOLINT
  Json(uint64_t n);            // NOLINT
  Json(int64_t n);             // NOLINT
  Json(int n);                 // NOLINT
  Json(unsigned n);            // NOLINT
  Json(double d);              // NOLINT
  Json(bool b);                // NOLINT

  // Object: adds (or replaces) a member. Array: appends.
  Json& Set(const std::string& key, Json value);
  Json& Push(Json value);

  std::string Dump() const;

 private:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Json() = default;
  void DumpTo(std::string* out) const;

  Kind kind_ = Kind::kNull;
  std::string text_;  // number (formatted) or string
  bool bool_ = false;
  std::vector<std::string> keys_;
  std::vector<Json> values_;
};

// Length of the valid UTF-8 sequence of 2 to 4 bytes at s[i], or 0.
size_t Utf8Length(const std::string& s, size_t i);

// A JSON string literal of `bytes`, quotes included.
std::string JsonQuote(const std::string& bytes);

}  // namespace tool
}  // namespace segwal
