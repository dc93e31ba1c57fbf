// Output files (pictures, reports, job scripts) are written whole or not at all.
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "framework/diagnostics.h"
#include "platform/write_file.h"
#include "tests/support/temp_files.h"

using incept::testing::TempDir;

namespace {
std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
std::size_t files_in(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
  return n;
}
}  // namespace

TEST_CASE("a file that cannot be written whole leaves the old one and no partial file", "[cli]") {
  TempDir tmp;
  const std::string path = tmp.write("picture.svg", "OLD");
  incept::write_file_atomically(path, std::string(1000, 'a'));
  CHECK(read(path) == std::string(1000, 'a'));
  // A file-size limit stands in for a full disk or a quota: the write fails part way.
  rlimit before{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &before) == 0);
  rlimit small = before;
  small.rlim_cur = 8192;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  bool refused = false;
  std::string message;
  try {
    incept::write_file_atomically(path, std::string(100000, 'b'));
  } catch (const incept::UserError& e) {
    refused = true;
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &before);
  CHECK(refused);
  CHECK(message.find("cannot write " + path) != std::string::npos);
  CHECK(read(path) == std::string(1000, 'a'));
  CHECK(files_in(tmp.path()) == 1);
}
