#include "experiments/sweep/shard.h"

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "framework/diagnostics.h"

namespace incept {

namespace {

bool parse_positive(const std::string& s, int& out) {
  if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  out = std::atoi(s.c_str());
  return out >= 1;
}

}  // namespace

Shard parse_shard(const std::string& text) {
  Shard s;
  auto slash = text.find('/');
  bool ok = slash != std::string::npos && parse_positive(text.substr(0, slash), s.index) &&
            parse_positive(text.substr(slash + 1), s.count) && s.index <= s.count;
  if (!ok)
    throw ConfigError(SourcePos{"--shard " + text},
                      "expected K/N with 1 <= K <= N, e.g. --shard 2/4 (with Slurm: "
                      "--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT and --array=1-N)");
  return s;
}

bool in_shard(std::size_t index, const Shard& shard) {
  return static_cast<int>(index % static_cast<std::size_t>(shard.count)) + 1 == shard.index;
}

std::vector<SweepVariant> variants_of_shard(const std::vector<SweepVariant>& all, const Shard& shard) {
  std::vector<SweepVariant> out;
  for (const SweepVariant& v : all)
    if (in_shard(v.index, shard)) out.push_back(v);
  return out;
}

std::string shard_database(const std::string& db_path, const Shard& shard) {
  if (shard.whole()) return db_path;
  std::filesystem::path p(db_path);
  std::string name = fmt::format("{}.shard-{}-of-{}{}", p.stem().string(), shard.index, shard.count,
                                 p.extension().string());
  return (p.parent_path() / name).string();
}

}  // namespace incept
