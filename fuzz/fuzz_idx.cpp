// libFuzzer target: the bytes are an IDX file (raw or gzipped), read and validated as dataset loading
// does (read_idx, then the image or label checks). A UserError is the expected outcome of bad input; any
// other exception, a crash, a hang or a sanitizer report is a bug.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "experiments/data/idx.h"
#include "framework/diagnostics.h"

namespace {

[[noreturn]] void unexpected(const char* what) {
  std::fprintf(stderr, "unexpected exception escaped the IDX reader: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path =
      (std::filesystem::temp_directory_path() / ("incept-fuzz-idx-" + std::to_string(::getpid()))).string();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    incept::IdxArray a = incept::read_idx(path);
    if (a.dims.size() == 3) {
      incept::validate_images(a, path);
      incept::validate_same_count(a, path, a, path);
    } else {
      incept::validate_labels(a, 10, path);
    }
  } catch (const incept::UserError&) {
  } catch (const std::exception& e) {
    unexpected(e.what());
  } catch (...) {
    unexpected("(not a std::exception)");
  }
  return 0;
}
