#include <catch2/catch.hpp>

#include <string>

#include "experiments/data/md5.h"
#include "experiments/data/shell.h"
#include "framework/diagnostics.h"
#include "idx_fixtures.h"

using namespace incept;

TEST_CASE("md5 matches the RFC 1321 test suite", "[data][md5]") {
  CHECK(md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(md5_hex("a") == "0cc175b9c0f1b6a831c399e269772661");
  CHECK(md5_hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(md5_hex("message digest") == "f96b697d7cb7938d525a2f31aaf161d0");
  CHECK(md5_hex("abcdefghijklmnopqrstuvwxyz") == "c3fcd3d76192e4007dfb496cca67e13b");
  CHECK(md5_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
        "d174ab98d277d9f5a5611c2c9f419d9f");
  CHECK(md5_hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890") ==
        "57edf4a22be3c955ac49da2e2107b67a");
}

TEST_CASE("md5 gives the same digest however the input is split", "[data][md5]") {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += static_cast<char>(i * 31 % 251);
  const std::string whole = md5_hex(text);
  for (std::size_t piece : {1u, 3u, 63u, 64u, 65u, 200u}) {
    Md5 md5;
    for (std::size_t at = 0; at < text.size(); at += piece) md5.update(text.substr(at, piece));
    CHECK(md5.hex_digest() == whole);
  }
}

TEST_CASE("md5_file hashes a file's bytes and names a missing file", "[data][md5]") {
  TempDir dir("incept-md5-test-");
  test::write_bytes(dir.path() + "/f", {'a', 'b', 'c'});
  CHECK(md5_file(dir.path() + "/f") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK_THROWS_AS(md5_file(dir.path() + "/missing"), UserError);
}
