#include <catch2/catch.hpp>

#include <string>

#include "experiments/data/idx.h"
#include "experiments/data/shell.h"
#include "framework/diagnostics.h"
#include "idx_fixtures.h"

using namespace incept;
using incept::test::idx_bytes;
using incept::test::write_bytes;
using Catch::Matchers::Contains;

namespace {

// read_idx must fail with a UserError mentioning the path and every given fragment.
void require_idx_error(const std::string& path, const std::vector<std::string>& fragments) {
  try {
    read_idx(path);
    FAIL("read_idx accepted " << path);
  } catch (const UserError& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK_THAT(message, Contains(path));
    for (const auto& f : fragments) CHECK_THAT(message, Contains(f));
  }
}

}  // namespace

TEST_CASE("read_idx round-trips raw and gzipped files", "[data][idx]") {
  TempDir dir("incept-idx-test-");
  const auto pixels = test::image_payload(3, 2, 4);
  for (bool gzip : {false, true}) {
    const std::string path = dir.path() + (gzip ? "/images.gz" : "/images");
    write_bytes(path, idx_bytes({3, 2, 4}, pixels), gzip);
    const IdxArray a = read_idx(path);
    CHECK(a.dims == std::vector<std::int64_t>{3, 2, 4});
    CHECK(a.data == pixels);
    CHECK(a.count() == 3);
    CHECK(a.dims_str() == "3x2x4");
  }
  write_bytes(dir.path() + "/labels", idx_bytes({4}, {0, 9, 3, 1}));
  const IdxArray labels = read_idx(dir.path() + "/labels");
  CHECK(labels.dims == std::vector<std::int64_t>{4});
  CHECK(labels.data == std::vector<std::uint8_t>{0, 9, 3, 1});
}

TEST_CASE("read_idx detects gzip by content, not by name", "[data][idx]") {
  TempDir dir("incept-idx-test-");
  const std::string path = dir.path() + "/no-suffix";
  write_bytes(path, idx_bytes({2}, {1, 2}), /*gzip=*/true);
  CHECK(read_idx(path).data == std::vector<std::uint8_t>{1, 2});
}

TEST_CASE("read_idx rejects truncated payloads with both sizes", "[data][idx]") {
  TempDir dir("incept-idx-test-");
  auto bytes = idx_bytes({5, 28, 28}, test::image_payload(5, 28, 28));
  bytes.resize(bytes.size() - 100);
  for (bool gzip : {false, true}) {
    const std::string path = dir.path() + (gzip ? "/t.gz" : "/t");
    write_bytes(path, bytes, gzip);
    require_idx_error(path, {"truncated", "5x28x28 = 3920 bytes of pixels", "file has 3820"});
  }
}

TEST_CASE("read_idx rejects a truncated header", "[data][idx]") {
  TempDir dir("incept-idx-test-");
  const std::string path = dir.path() + "/h";
  auto bytes = idx_bytes({5, 28, 28}, {});
  bytes.resize(10);
  write_bytes(path, bytes);
  require_idx_error(path, {"truncated", "header needs 16 bytes"});
  write_bytes(path, {0, 0});
  require_idx_error(path, {"too short"});
}

TEST_CASE("read_idx rejects trailing garbage", "[data][idx]") {
  TempDir dir("incept-idx-test-");
  auto bytes = idx_bytes({3}, {1, 2, 3, 4, 5});
  const std::string path = dir.path() + "/labels";
  write_bytes(path, bytes);
  require_idx_error(path, {"trailing garbage", "3 = 3 bytes of labels", "file has 5", "2 bytes too many"});
}

TEST_CASE("read_idx rejects garbage after the gzip stream", "[data][idx]") {
  TempDir dir("incept-idx-test-");
  const std::string path = dir.path() + "/labels.gz";
  write_bytes(path, idx_bytes({3}, {1, 2, 3}), /*gzip=*/true);
  auto compressed = test::read_bytes(path);
  compressed.push_back('x');
  write_bytes(path, compressed);
  require_idx_error(path, {"trailing garbage after the gzip data"});
}

TEST_CASE("read_idx rejects corrupt and truncated gzip streams", "[data][idx]") {
  TempDir dir("incept-idx-test-");
  const std::string path = dir.path() + "/images.gz";
  write_bytes(path, idx_bytes({4, 8, 8}, test::image_payload(4, 8, 8)), /*gzip=*/true);
  const auto good = test::read_bytes(path);

  auto cut = good;
  cut.resize(cut.size() / 2);
  write_bytes(path, cut);
  require_idx_error(path, {"truncated gzip"});

  auto flipped = good;
  flipped[flipped.size() - 6] ^= 0xff;  // inside the CRC-32 trailer
  write_bytes(path, flipped);
  require_idx_error(path, {"corrupt gzip data"});
}

TEST_CASE("read_idx rejects a wrong magic number, element type or rank", "[data][idx]") {
  TempDir dir("incept-idx-test-");
  const std::string path = dir.path() + "/f";
  write_bytes(path, {'<', 'h', 't', 'm', 'l', '>'});
  require_idx_error(path, {"not an IDX file", "wrong magic number 3c 68 74 6d"});
  write_bytes(path, idx_bytes({2}, {0, 0, 0, 0, 0, 0, 0, 0}, /*type=*/0x0d));
  require_idx_error(path, {"element type 0x0d"});
  write_bytes(path, idx_bytes({2, 2}, {1, 2, 3, 4}));
  require_idx_error(path, {"rank 2"});
}

TEST_CASE("read_idx rejects non-positive and absurd dimensions", "[data][idx]") {
  TempDir dir("incept-idx-test-");
  const std::string path = dir.path() + "/f";
  write_bytes(path, idx_bytes({0, 28, 28}, {}));
  require_idx_error(path, {"dimension 0", "must be positive"});
  write_bytes(path, idx_bytes({-5}, {}));
  require_idx_error(path, {"is -5"});
  write_bytes(path, idx_bytes({2000000000, 2000000000, 2000000000}, {}));
  require_idx_error(path, {"2000000000x2000000000x2000000000", "corrupt"});
}

TEST_CASE("read_idx names a missing file", "[data][idx]") {
  require_idx_error("/nonexistent/train-images-idx3-ubyte", {"cannot open"});
}

TEST_CASE("validate_labels reports the index and value of an out-of-range label", "[data][idx]") {
  const IdxArray labels{{4}, {1, 2, 12, 3}};
  CHECK_NOTHROW(validate_labels(labels, 13, "lab"));
  try {
    validate_labels(labels, 10, "data/x/train-labels-idx1-ubyte");
    FAIL("accepted label 12");
  } catch (const UserError& e) {
    CHECK_THAT(e.what(), Contains("data/x/train-labels-idx1-ubyte") && Contains("index 2") && Contains("is 12") &&
                             Contains("10 classes"));
  }
  CHECK_THROWS_WITH(validate_labels(IdxArray{{1, 1, 1}, {0}}, 10, "p"), Contains("expected a label file"));
}

TEST_CASE("validate_images requires three dimensions", "[data][idx]") {
  CHECK_NOTHROW(validate_images(IdxArray{{1, 1, 1}, {0}}, "p"));
  CHECK_THROWS_WITH(validate_images(IdxArray{{1}, {0}}, "imgs"), Contains("imgs") && Contains("N x H x W"));
}

TEST_CASE("validate_same_count names both files and counts", "[data][idx]") {
  const IdxArray images{{3, 1, 1}, {0, 0, 0}};
  const IdxArray labels{{2}, {0, 0}};
  CHECK_THROWS_WITH(validate_same_count(images, "a/imgs", labels, "a/labs"),
                    Contains("a/imgs has 3 images") && Contains("a/labs has 2 labels"));
  CHECK_NOTHROW(validate_same_count(images, "a", IdxArray{{3}, {0, 0, 0}}, "b"));
}
