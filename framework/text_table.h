#pragma once
// A plain-text table whose columns are as wide as their widest cell (counted in characters, not UTF-8 bytes),
// for the listings of `incept runs`, `incept sweep` and the like.
#include <string>
#include <vector>

namespace incept {

class TextTable {
 public:
  // A header ending in '>' marks a right-aligned column, for numbers (the '>' is not printed).
  explicit TextTable(const std::vector<std::string>& headers);
  // Missing cells are blank; extra cells are an error in the caller and are dropped.
  void add_row(std::vector<std::string> cells);
  // Header, a rule of dashes, then the rows; no line ends in blanks.
  std::string str() const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace incept
