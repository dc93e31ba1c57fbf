#pragma once
// MD5 (RFC 1321): verifies downloaded dataset files against published checksums, and checkpoints against the
// checksum their run log recorded (damage, not tampering, is what it guards against).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace incept {

class Md5 {
 public:
  Md5();
  void update(const void* data, std::size_t size);
  void update(const std::string& s) { update(s.data(), s.size()); }
  // Finishes the digest and returns it as 32 lowercase hex digits. The object must not be updated afterwards.
  std::string hex_digest();

 private:
  void process_block(const std::uint8_t* block);

  std::array<std::uint32_t, 4> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::uint64_t total_bytes_ = 0;
};

std::string md5_hex(const std::string& data);
// Digest of a file's raw bytes; throws UserError if the file cannot be read.
std::string md5_file(const std::string& path);

}  // namespace incept
