#pragma once
// Helpers for tests that need IDX files on disk: build the bytes, write them raw or gzipped.
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace incept::test {

// An IDX byte image: magic 00 00 <type> <ndims>, big-endian dimensions, then `payload` as is.
inline std::vector<std::uint8_t> idx_bytes(const std::vector<std::int32_t>& dims,
                                           const std::vector<std::uint8_t>& payload, std::uint8_t type = 0x08) {
  std::vector<std::uint8_t> out = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (std::int32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(std::uint32_t(d) >> shift));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes, bool gzip = false) {
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    if (!f || gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) != static_cast<int>(bytes.size()))
      throw std::runtime_error("cannot write " + path);
    gzclose(f);
    return;
  }
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Pixel p of image i is (i * 7 + p) % 256: distinct per image, so tests can tell which images were kept.
inline std::vector<std::uint8_t> image_payload(int n, int h, int w) {
  std::vector<std::uint8_t> px;
  for (int i = 0; i < n; ++i)
    for (int p = 0; p < h * w; ++p) px.push_back(static_cast<std::uint8_t>((i * 7 + p) % 256));
  return px;
}

// Writes a complete MNIST-style directory: `train_n` / `test_n` images of h x w, labels i % 10.
inline void write_idx_dataset(const std::filesystem::path& dir, int train_n, int test_n, int h, int w,
                              bool gzip = false) {
  std::filesystem::create_directories(dir);
  const std::string suffix = gzip ? ".gz" : "";
  auto labels = [](int n) {
    std::vector<std::uint8_t> l;
    for (int i = 0; i < n; ++i) l.push_back(static_cast<std::uint8_t>(i % 10));
    return l;
  };
  write_bytes((dir / ("train-images-idx3-ubyte" + suffix)).string(),
              idx_bytes({train_n, h, w}, image_payload(train_n, h, w)), gzip);
  write_bytes((dir / ("train-labels-idx1-ubyte" + suffix)).string(), idx_bytes({train_n}, labels(train_n)), gzip);
  write_bytes((dir / ("t10k-images-idx3-ubyte" + suffix)).string(),
              idx_bytes({test_n, h, w}, image_payload(test_n, h, w)), gzip);
  write_bytes((dir / ("t10k-labels-idx1-ubyte" + suffix)).string(), idx_bytes({test_n}, labels(test_n)), gzip);
}

}  // namespace incept::test
