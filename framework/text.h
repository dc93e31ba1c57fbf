#pragma once
// Small text helpers shared by the config language, the registry and the reports.
#include <cstdint>
#include <string>
#include <vector>

namespace incept {

std::size_t edit_distance(const std::string& a, const std::string& b);

// The candidates closest to `word` (edit distance, at most 3, best first, at most `limit`).
std::vector<std::string> nearest(const std::string& word, const std::vector<std::string>& candidates,
                                 std::size_t limit = 3);

// "; did you mean 'x'?" or "" when nothing is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

std::string join(const std::vector<std::string>& parts, const std::string& sep);
std::vector<std::string> split(const std::string& s, char sep);

// 1234567 -> "1,234,567"
std::string with_commas(std::int64_t v);
// 1234567 -> "1.23M", for compact tables
std::string human_count(double v);

}  // namespace incept
