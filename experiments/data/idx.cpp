#include "experiments/data/idx.h"

#include <fmt/format.h>

#include "experiments/data/file_bytes.h"
#include "framework/diagnostics.h"

namespace incept {
namespace {

constexpr std::uint8_t kUnsignedByteType = 0x08;
// No real IDX file comes near this; a larger product means the header is garbage (and guards the
// multiplication below against overflow).
constexpr std::int64_t kMaxPayloadBytes = std::int64_t(1) << 34;

std::uint32_t load_be32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | std::uint32_t(p[3]);
}

const char* payload_noun(std::size_t ndims) { return ndims == 1 ? "labels" : "pixels"; }

}  // namespace

std::string IdxArray::dims_str() const {
  std::string s;
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? "x" : "") + std::to_string(dims[i]);
  return s;
}

IdxArray read_idx(const std::string& path) {
  const FileBytes file = read_file_bytes(path);
  const std::vector<std::uint8_t>& bytes = file.bytes;
  const char* decompressed = file.gzipped ? " (after decompression)" : "";

  if (bytes.size() < 4)
    throw UserError(fmt::format("{}: too short to be an IDX file: {} bytes{}", path, bytes.size(), decompressed));
  if (bytes[0] != 0 || bytes[1] != 0)
    throw UserError(fmt::format(
        "{}: not an IDX file: wrong magic number {:02x} {:02x} {:02x} {:02x}{}; expected 00 00 08 01 (labels) "
        "or 00 00 08 03 (images)",
        path, bytes[0], bytes[1], bytes[2], bytes[3], decompressed));
  if (bytes[2] != kUnsignedByteType)
    throw UserError(fmt::format(
        "{}: unsupported IDX element type 0x{:02x}; only 0x08 (unsigned byte) is supported", path, bytes[2]));
  const std::size_t ndims = bytes[3];
  if (ndims != 1 && ndims != 3)
    throw UserError(fmt::format("{}: unsupported IDX rank {}; expected 1 (labels) or 3 (images)", path, ndims));

  const std::size_t header_bytes = 4 + 4 * ndims;
  if (bytes.size() < header_bytes)
    throw UserError(fmt::format("{}: truncated: the {}-dimensional header needs {} bytes, file has {}{}", path,
                                ndims, header_bytes, bytes.size(), decompressed));

  IdxArray array;
  for (std::size_t i = 0; i < ndims; ++i) {
    // IDX stores dimensions as big-endian signed 32-bit integers.
    const auto dim = static_cast<std::int32_t>(load_be32(bytes.data() + 4 + 4 * i));
    if (dim <= 0)
      throw UserError(fmt::format("{}: dimension {} in the header is {}; dimensions must be positive", path, i, dim));
    array.dims.push_back(dim);
  }
  std::int64_t payload = 1;
  for (std::int64_t dim : array.dims) {
    if (payload > kMaxPayloadBytes / dim)
      throw UserError(fmt::format("{}: header dimensions {} describe more than {} bytes; the header is corrupt",
                                  path, array.dims_str(), kMaxPayloadBytes));
    payload *= dim;
  }

  const auto present = static_cast<std::int64_t>(bytes.size() - header_bytes);
  if (present != payload) {
    const std::string problem = present < payload ? "truncated" : "trailing garbage";
    const std::string extra =
        present > payload ? fmt::format(" ({} bytes too many)", present - payload) : std::string();
    throw UserError(fmt::format("{}: {}: header says {} = {} bytes of {}, file has {} after the {}-byte header{}{}",
                                path, problem, array.dims_str(), payload, payload_noun(ndims), present,
                                header_bytes, decompressed, extra));
  }
  array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header_bytes), bytes.end());
  return array;
}

void validate_images(const IdxArray& images, const std::string& path) {
  if (images.dims.size() != 3)
    throw UserError(fmt::format("{}: expected an image file (N x H x W), got {} dimension(s) ({})", path,
                                images.dims.size(), images.dims_str()));
}

void validate_labels(const IdxArray& labels, std::int64_t classes, const std::string& path) {
  if (labels.dims.size() != 1)
    throw UserError(fmt::format("{}: expected a label file (one dimension), got {} dimensions ({})", path,
                                labels.dims.size(), labels.dims_str()));
  for (std::size_t i = 0; i < labels.data.size(); ++i)
    if (labels.data[i] >= classes)
      throw UserError(fmt::format("{}: label at index {} is {}, out of range for {} classes (expected 0..{})",
                                  path, i, labels.data[i], classes, classes - 1));
}

void validate_same_count(const IdxArray& images, const std::string& images_path, const IdxArray& labels,
                         const std::string& labels_path) {
  if (images.count() != labels.count())
    throw UserError(fmt::format("image/label count mismatch: {} has {} images but {} has {} labels", images_path,
                                images.count(), labels_path, labels.count()));
}

}  // namespace incept
