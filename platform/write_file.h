#pragma once
// Writes a whole file or nothing: the text goes to a temporary file beside `path`, which replaces `path` only once
// every byte is written (rename is atomic within a folder). A full disk, a quota or a file-size limit leaves the
// old file as it was and no partial file behind: a cut-off SVG or report still opens and could end up in a paper.
// POSIX calls rather than std::filesystem, for the reason remove_tree.h gives.
#include <string>

namespace incept {

// Throws UserError("cannot write PATH: reason") when it cannot.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace incept
