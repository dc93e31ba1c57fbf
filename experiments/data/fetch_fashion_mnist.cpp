#include <filesystem>

#include <fmt/format.h>

#include "experiments/data/fetch.h"
#include "experiments/data/idx.h"
#include "experiments/data/idx_files.h"
#include "experiments/data/md5.h"
#include "framework/diagnostics.h"
#include "framework/text.h"

namespace incept {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kFashionMnistClasses = 10;

bool same_content(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::is_regular_file(b, ec) && fs::file_size(a, ec) == fs::file_size(b, ec) && !ec &&
         md5_file(a) == md5_file(b);
}

// Reads both files of a split and checks them together, so a broken package is reported before copying.
void validate_split(const std::string& images_path, const std::string& labels_path) {
  const IdxArray images = read_idx(images_path);
  validate_images(images, images_path);
  const IdxArray labels = read_idx(labels_path);
  validate_labels(labels, kFashionMnistClasses, labels_path);
  validate_same_count(images, images_path, labels, labels_path);
}

}  // namespace

std::string fetch_fashion_mnist(const std::string& target_dir, std::ostream& log, const std::string& source_dir) {
  std::vector<std::string> sources, missing;
  for (const std::string& name : idx_file_names()) {
    sources.push_back((fs::path(source_dir) / (name + ".gz")).string());
    if (!fs::is_regular_file(sources.back())) missing.push_back(sources.back());
  }
  if (!missing.empty())
    throw UserError(fmt::format(
        "cannot fetch fashion-mnist: missing {}; it comes from the Debian package dataset-fashion-mnist: "
        "run `apt-get install dataset-fashion-mnist`",
        join(missing, ", ")));

  log << "fashion-mnist: validating the IDX files in " << source_dir << "\n";
  validate_split(sources[0], sources[1]);
  validate_split(sources[2], sources[3]);

  for (const std::string& source : sources) {
    const std::string destination = (fs::path(target_dir) / fs::path(source).filename()).string();
    if (same_content(source, destination)) {
      log << "fashion-mnist: " << destination << " is already up to date\n";
      continue;
    }
    copy_file_atomically(source, destination);
    log << "fashion-mnist: wrote " << destination << "\n";
  }
  return target_dir;
}

}  // namespace incept
