#include "tool/prom_text.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace segwal {
namespace tool {
namespace {

// "# HELP name ..." / "# TYPE name ...": the family name, else empty.
std::string MetaName(const std::string& line) {
  if (line.compare(0, 7, "# HELP ") != 0 &&
      line.compare(0, 7, "# TYPE ") != 0) {
    return "";
  }
  const size_t end = line.find(' ', 7);
  return line.substr(7, end == std::string::npos ? std::string::npos : end - 7);
}

// Parses `{a="x",b="y"}` starting at line[*i] into labels; advances *i.
bool ParseLabels(const std::string& line, size_t* i, Json* labels) {
  if (*i >= line.size() || line[*i] != '{') return true;
  ++*i;
  while (*i < line.size() && line[*i] != '}') {
    const size_t eq = line.find('=', *i);
    if (eq == std::string::npos || eq + 1 >= line.size() ||
        line[eq + 1] != '"') {
      return false;
    }
    const std::string key = line.substr(*i, eq - *i);
    std::string value;
    size_t k = eq + 2;
    for (; k < line.size() && line[k] != '"'; ++k) {
      if (line[k] == '\\' && k + 1 < line.size()) {
        ++k;
        value += line[k] == 'n' ? '\n' : line[k];
      } else {
        value += line[k];
      }
    }
    if (k >= line.size()) return false;
    labels->Set(key, value);
    *i = k + 1;
    if (*i < line.size() && line[*i] == ',') ++*i;
  }
  if (*i >= line.size()) return false;
  ++*i;  // '}'
  return true;
}

}  // namespace

std::string PromLabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

PromText::Family* PromText::Find(const std::string& name) {
  for (Family& f : families_) {
    if (f.name == name) return &f;
  }
  families_.push_back(Family{name, {}, {}});
  return &families_.back();
}

void PromText::Add(const std::string& exposition,
                   const std::vector<std::string>& keep) {
  std::istringstream in(exposition);
  std::string line;
  std::string current;
  bool take = false;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const std::string name = MetaName(line);
    if (!name.empty()) {
      take = keep.empty() ||
             std::find(keep.begin(), keep.end(), name) != keep.end();
      current = name;
      if (!take) continue;
      Family* f = Find(name);
      // Each family's HELP and TYPE once, from the first exposition.
      const bool seen = std::any_of(
          f->meta.begin(), f->meta.end(), [&](const std::string& m) {
            return m.compare(0, 7, line.substr(0, 7)) == 0;
          });
      if (!seen) f->meta.push_back(line);
      continue;
    }
    if (line[0] == '#') {
      if (std::find(comments_.begin(), comments_.end(), line) ==
          comments_.end()) {
        comments_.push_back(line);
      }
      continue;
    }
    if (take && !current.empty()) Find(current)->samples.push_back(line);
  }
}

void PromText::Gauge(const std::string& name, const std::string& help,
                     const std::string& log_dir, double value) {
  Family* f = Find(name);
  if (f->meta.empty()) {
    f->meta.push_back("# HELP " + name + " " + help);
    f->meta.push_back("# TYPE " + name + " gauge");
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", value);
  f->samples.push_back(name + "{log_dir=\"" + PromLabelValue(log_dir) + "\"} " +
                       buf);
}

void PromText::Comment(const std::string& text) {
  comments_.push_back("# " + text);
}

std::string PromText::str() const {
  std::string out;
  for (const std::string& c : comments_) out += c + "\n";
  for (const Family& f : families_) {
    for (const std::string& m : f.meta) out += m + "\n";
    for (const std::string& s : f.samples) out += s + "\n";
  }
  return out;
}

Json PromText::ToJson() const {
  Json samples = Json::Array();
  for (const Family& f : families_) {
    for (const std::string& line : f.samples) {
      size_t i = 0;
      while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
      Json sample = Json::Object();
      sample.Set("name", line.substr(0, i));
      Json labels = Json::Object();
      if (!ParseLabels(line, &i, &labels)) continue;
      sample.Set("labels", labels);
      sample.Set("value", std::strtod(line.c_str() + i, nullptr));
      samples.Push(sample);
    }
  }
  Json notes = Json::Array();
  for (const std::string& c : comments_) notes.Push(c.substr(2));
  Json j = Json::Object();
  j.Set("notes", notes);
  j.Set("samples", samples);
  return j;
}

}  // namespace tool
}  // namespace segwal
