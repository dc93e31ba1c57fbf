#include "platform/remove_tree.h"

#include <ftw.h>

#include <cstdio>

namespace incept {

namespace {

int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  std::remove(path);  // files, links and (visited after their contents) directories
  return 0;
}

}  // namespace

void remove_tree(const std::string& path) {
  // FTW_DEPTH: a directory after its contents; FTW_PHYS: links are removed, never followed.
  ::nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

}  // namespace incept
