#include "experiments/sweep/text_table.h"

#include <algorithm>

namespace incept {

TextTable::TextTable(const std::vector<std::string>& headers) {
  for (std::string h : headers) {
    bool right = !h.empty() && h.back() == '>';
    if (right) h.pop_back();
    headers_.push_back(h);
    right_.push_back(right);
  }
}

void TextTable::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

std::string TextTable::str() const {
  std::vector<std::size_t> width(headers_.size());
  for (std::size_t c = 0; c < headers_.size(); ++c) {
    width[c] = headers_[c].size();
    for (const auto& row : rows_) width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      std::string pad(width[c] - cells[c].size(), ' ');
      out += right_[c] ? pad + cells[c] : cells[c] + (c + 1 < cells.size() ? pad : "");
      if (c + 1 < cells.size()) out += "  ";
    }
    return out + "\n";
  };
  std::string out = line(headers_);
  std::vector<std::string> rules;
  for (std::size_t w : width) rules.push_back(std::string(w, '-'));
  out += line(rules);
  for (const auto& row : rows_) out += line(row);
  return out;
}

}  // namespace incept
