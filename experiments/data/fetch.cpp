#include "experiments/data/fetch.h"

#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include "framework/diagnostics.h"
#include "framework/text.h"

namespace incept {

namespace fs = std::filesystem;

std::vector<std::string> fetchable_datasets() { return {"mnist", "fashion-mnist"}; }

namespace {

// Checked before anything is downloaded: the folder the dataset goes into must be a folder this process can create
// or write, so a typo in --dir costs no download and leaves nothing behind.
void require_writable_folder(const fs::path& target) {
  fs::path existing = target;
  std::error_code ec;
  while (!existing.empty() && !fs::exists(existing, ec)) existing = existing.parent_path();
  if (existing.empty()) existing = ".";
  if (!fs::is_directory(existing, ec))
    throw UserError(fmt::format("cannot put the dataset in {}: {} is not a directory", target.string(),
                                existing.string()));
  if (::access(existing.c_str(), W_OK | X_OK) != 0)
    throw UserError(fmt::format("cannot put the dataset in {}: directory {} is not writable", target.string(),
                                existing.string()));
}

}  // namespace

std::string fetch_dataset(const std::string& name, const std::string& dir, std::ostream& log) {
  const std::string target = (fs::path(dir) / name).string();
  if (name == "mnist" || name == "fashion-mnist") require_writable_folder(target);
  if (name == "mnist") return fetch_mnist(target, log);
  if (name == "fashion-mnist") return fetch_fashion_mnist(target, log);
  throw UserError(fmt::format("unknown dataset '{}' for `incept data fetch`; known: {}{}", name,
                              join(fetchable_datasets(), ", "), did_you_mean(name, fetchable_datasets())));
}

void copy_file_atomically(const std::string& from, const std::string& to) {
  const std::string partial = to + ".part";
  std::error_code ec;
  fs::create_directories(fs::path(to).parent_path(), ec);
  if (ec)
    throw UserError(
        fmt::format("cannot create directory {}: {}", fs::path(to).parent_path().string(), ec.message()));
  fs::copy_file(from, partial, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(partial, to, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(partial, ignored);
    throw UserError(fmt::format("cannot copy {} to {}: {}", from, to, ec.message()));
  }
}

}  // namespace incept
