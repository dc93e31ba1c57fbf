#include "framework/text_table.h"

#include <algorithm>

namespace incept {

namespace {

// Characters, for alignment: UTF-8 continuation bytes (10xxxxxx) do not start one.
std::size_t display_width(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

TextTable::TextTable(const std::vector<std::string>& headers) {
  for (std::string h : headers) {
    const bool right = !h.empty() && h.back() == '>';
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
    width[c] = display_width(headers_[c]);
    for (const auto& row : rows_) width[c] = std::max(width[c], display_width(row[c]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::string pad(width[c] - display_width(cells[c]), ' ');
      if (c) out += "  ";
      out += right_[c] ? pad + cells[c] : cells[c] + pad;
    }
    // Trailing blanks from a left-aligned last column are noise in diffs and terminals.
    out.erase(out.find_last_not_of(' ') + 1);
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
