#pragma once
// Splitting a sweep into N disjoint slices, one per machine or Slurm array task (`--shard K/N`). Variant i of the
// full ordered list (seeds included) belongs to shard (i % N) + 1, so every shard gets a similar mix of variants.
#include <string>
#include <vector>

#include "experiments/sweep/sweep.h"

namespace incept {

struct Shard {
  int index = 1;  // K, 1-based
  int count = 1;  // N
  bool whole() const { return count == 1; }
};

// Parses "K/N" with 1 <= K <= N; throws ConfigError (exit status 2) otherwise.
Shard parse_shard(const std::string& text);

// Whether variant `index` (of the full ordered list) is in `shard`.
bool in_shard(std::size_t index, const Shard& shard);

std::vector<SweepVariant> variants_of_shard(const std::vector<SweepVariant>& all, const Shard& shard);

// Each shard writes its own database, so shards never share a SQLite file (network file systems lock it badly):
// runs.db -> runs.shard-2-of-4.db. Join them afterwards with `incept db merge runs.db runs.shard-*.db`.
std::string shard_database(const std::string& db_path, const Shard& shard);

}  // namespace incept
