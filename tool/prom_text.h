// Prometheus text exposition (format 0.0.4) as the stats subcommand needs
// it: several expositions merged into one (each metric family once, its
// samples from every log together, as the format requires), families kept
// or dropped by name, and samples parsed for --json.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tool/json.h"

namespace segwal {
namespace tool {

class PromText {
 public:
  // Adds the families and samples of one exposition; `keep` (if not
  // empty) lists the family names to take from it.
  void Add(const std::string& exposition,
           const std::vector<std::string>& keep = {});
  // A gauge with one sample labelled log_dir.
  void Gauge(const std::string& name, const std::string& help,
             const std::string& log_dir, double value);
  // A comment line ("# ...") printed before the families.
  void Comment(const std::string& text);

  std::string str() const;
  // {"samples": [{"name", "labels": {...}, "value"}]}; comments as "notes".
  Json ToJson() const;

 private:
  struct Family {
    std::string name;
    std::vector<std::string> meta;     // HELP and TYPE lines
    std::vector<std::string> samples;  // sample lines
  };
  Family* Find(const std::string& name);

  std::vector<std::string> comments_;
  std::vector<Family> families_;
};

// A label value escaped for the text format.
std::string PromLabelValue(const std::string& value);

}  // namespace tool
}  // namespace segwal
