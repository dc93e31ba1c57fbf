#pragma once
// Where the four IDX files of an MNIST-format dataset live, shared by the loader and by `incept data fetch`.
#include <string>
#include <vector>

namespace incept {

// Standard (LeCun) file names. On disk each may also carry a `.gz` suffix.
inline const char* const kTrainImagesFile = "train-images-idx3-ubyte";
inline const char* const kTrainLabelsFile = "train-labels-idx1-ubyte";
inline const char* const kTestImagesFile = "t10k-images-idx3-ubyte";
inline const char* const kTestLabelsFile = "t10k-labels-idx1-ubyte";
std::vector<std::string> idx_file_names();  // the four above, in that order

struct IdxFileSet {  // full paths of the files found
  std::string train_images, train_labels, test_images, test_labels;
};

// `configured` if set, else "data/<dataset>" (relative to the working directory, like every other path).
std::string dataset_dir(const std::string& configured, const std::string& dataset);

// `<dir>/<name>` if it exists, else `<dir>/<name>.gz` if that exists, else "".
std::string find_idx_file(const std::string& dir, const std::string& name);

// Finds all four files; if any is missing, throws one UserError listing every missing path and how to fetch.
IdxFileSet locate_idx_files(const std::string& dir, const std::string& dataset);

}  // namespace incept
