#include "experiments/data/file_bytes.h"

#include <fstream>

#include <fmt/format.h>
#include <zlib.h>

#include "framework/diagnostics.h"

namespace incept {
namespace {

bool has_gzip_magic(const std::vector<std::uint8_t>& raw, std::size_t at) {
  return raw.size() >= at + 2 && raw[at] == 0x1f && raw[at + 1] == 0x8b;
}

// Inflates every gzip member in `raw` (gzip allows concatenated members; `cat a.gz b.gz` is valid).
// We drive inflate() ourselves rather than gzread() because gzread silently ignores garbage after the last
// member and reports truncation only as a short read; here each problem gets its own message.
std::vector<std::uint8_t> gunzip(const std::vector<std::uint8_t>& raw, const std::string& path) {
  std::vector<std::uint8_t> out;
  out.reserve(raw.size() * 4);
  std::size_t consumed = 0;
  while (consumed < raw.size()) {
    if (!has_gzip_magic(raw, consumed))
      throw UserError(fmt::format("{}: {} bytes of trailing garbage after the gzip data", path,
                                  raw.size() - consumed));
    z_stream zs{};
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)  // 16+: expect a gzip header and check its CRC-32
      throw UserError(fmt::format("{}: cannot initialise zlib", path));
    zs.next_in = const_cast<Bytef*>(raw.data() + consumed);
    zs.avail_in = static_cast<uInt>(raw.size() - consumed);  // our files are far below 4 GiB compressed
    int status = Z_OK;
    std::uint8_t chunk[1 << 16];
    while (status != Z_STREAM_END) {
      zs.next_out = chunk;
      zs.avail_out = sizeof chunk;
      status = inflate(&zs, Z_NO_FLUSH);
      out.insert(out.end(), chunk, chunk + (sizeof chunk - zs.avail_out));
      if (status == Z_STREAM_END) break;
      if (status == Z_BUF_ERROR && zs.avail_in == 0) {
        inflateEnd(&zs);
        throw UserError(fmt::format("{}: truncated gzip file: the compressed stream ends early", path));
      }
      if (status != Z_OK) {
        const std::string why = zs.msg ? zs.msg : fmt::format("zlib error {}", status);
        inflateEnd(&zs);
        throw UserError(fmt::format("{}: corrupt gzip data: {}", path, why));
      }
    }
    consumed = raw.size() - zs.avail_in;
    inflateEnd(&zs);
  }
  return out;
}

}  // namespace

FileBytes read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(fmt::format("{}: cannot open for reading", path));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size < 0) throw UserError(fmt::format("{}: cannot determine the file size", path));
  std::vector<std::uint8_t> raw(static_cast<std::size_t>(size));
  if (!in.read(reinterpret_cast<char*>(raw.data()), size)) throw UserError(fmt::format("{}: read error", path));
  if (!has_gzip_magic(raw, 0)) return FileBytes{std::move(raw), false};
  return FileBytes{gunzip(raw, path), true};
}

}  // namespace incept
