#pragma once
// Reading a whole file into memory, transparently decompressing gzip (detected by content, not by name,
// so a renamed `.gz` or an already-unpacked file both work).
#include <cstdint>
#include <string>
#include <vector>

namespace incept {

struct FileBytes {
  std::vector<std::uint8_t> bytes;  // decompressed content
  bool gzipped = false;             // the file on disk was gzip-compressed
};

// Throws UserError naming `path` if the file cannot be read or its gzip stream is corrupt or truncated.
FileBytes read_file_bytes(const std::string& path);

}  // namespace incept
