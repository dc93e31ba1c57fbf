#include "experiments/data/idx_files.h"

#include <filesystem>

#include <fmt/format.h>

#include "framework/diagnostics.h"
#include "framework/text.h"

namespace incept {

namespace fs = std::filesystem;

namespace {

// The `incept data fetch` command line that would fill `dir`, since fetch always writes `<parent>/<dataset>`.
std::string fetch_hint(const std::string& dir, const std::string& dataset) {
  if (dataset != "mnist" && dataset != "fashion-mnist")
    return "; point data.dir at a directory holding the IDX files";
  const fs::path path = fs::path(dir).lexically_normal();
  if (path == fs::path(dataset_dir("", dataset)).lexically_normal())
    return fmt::format("; run `incept data fetch {}` to get it", dataset);
  if (path.filename() == dataset)
    return fmt::format("; run `incept data fetch {} --dir {}` to get it", dataset,
                       path.has_parent_path() ? path.parent_path().string() : ".");
  return fmt::format("; run `incept data fetch {}` and point data.dir at the directory it prints", dataset);
}

}  // namespace

std::vector<std::string> idx_file_names() {
  return {kTrainImagesFile, kTrainLabelsFile, kTestImagesFile, kTestLabelsFile};
}

std::string dataset_dir(const std::string& configured, const std::string& dataset) {
  return configured.empty() ? (fs::path("data") / dataset).string() : configured;
}

std::string find_idx_file(const std::string& dir, const std::string& name) {
  std::error_code ec;
  for (const fs::path& candidate : {fs::path(dir) / name, fs::path(dir) / (name + ".gz")})
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
  return "";
}

IdxFileSet locate_idx_files(const std::string& dir, const std::string& dataset) {
  std::vector<std::string> found, missing;
  for (const std::string& name : idx_file_names()) {
    found.push_back(find_idx_file(dir, name));
    if (found.back().empty()) missing.push_back((fs::path(dir) / name).string() + "[.gz]");
  }
  if (!missing.empty()) {
    std::error_code ec;
    const std::string where = fs::is_directory(dir, ec) ? "" : fmt::format(" (directory {} does not exist)", dir);
    throw UserError(fmt::format("dataset '{}' not found: missing {}{}{}", dataset, join(missing, ", "), where,
                                fetch_hint(dir, dataset)));
  }
  return IdxFileSet{found[0], found[1], found[2], found[3]};
}

}  // namespace incept
