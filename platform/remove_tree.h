#pragma once
// Deletes a directory tree (or a file), best effort: what cannot be removed is left. Used instead of
// std::filesystem::remove_all, which the pip-installed LibTorch (libtorch.so) exports from its own, newer
// libstdc++: with a CUDA LibTorch from pip, a remove_all call from code built by Debian's GCC 12 binds to that
// copy and crashes.
#include <string>

namespace incept {

void remove_tree(const std::string& path);

}  // namespace incept
