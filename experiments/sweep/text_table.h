#pragma once
// A plain-text table whose columns are as wide as their widest cell; numbers right-aligned.
#include <string>
#include <vector>

namespace incept {

class TextTable {
 public:
  // A header ending in '>' marks a right-aligned column (the '>' is not printed).
  explicit TextTable(const std::vector<std::string>& headers);
  void add_row(std::vector<std::string> cells);
  std::string str() const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace incept
