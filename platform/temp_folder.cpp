#include "platform/temp_folder.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "framework/diagnostics.h"
#include "platform/remove_tree.h"

namespace incept {

TempFolder::TempFolder(const std::string& stem, const std::string& purpose) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + stem + "-XXXXXX";
  if (!::mkdtemp(pattern.data()))
    throw UserError(fmt::format("cannot create a folder for {} ({}): {}", purpose, pattern, std::strerror(errno)));
  path_ = pattern;
}

TempFolder::~TempFolder() { remove_tree(path_); }

std::string TempFolder::write(const std::string& name, const std::string& text) const {
  const std::string path = file(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw UserError(fmt::format("cannot write {}", path));
  return path;
}

}  // namespace incept
