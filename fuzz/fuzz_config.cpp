// libFuzzer target: the bytes are a config file, loaded as `incept summary FILE` loads it (load_config,
// resolve_experiment), then summarised and compared. A ConfigError or UserError is the expected outcome
// of bad input; any other exception, a crash, a hang or a sanitizer report is a bug.
//
// The config lives in a private directory next to a valid base.toml, so `extends = "base.toml"` (and a
// self-reference, `extends = "fuzz.toml"`) exercise the merge and cycle paths.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli/compare.h"
#include "cli/summary.h"
#include "experiments/config/experiment_config.h"
#include "framework/config_loader.h"
#include "framework/diagnostics.h"

namespace {

const char* kBase = R"(name = "base"
[model]
input = [1, 12, 12]
[[model.layers]]
name = "stem"
block = "conv"
out = 4
kernel = 3
[[model.layers]]
name = "mix"
block = "inception_reduced"
out = 4
[[model.layers]]
name = "pool"
block = "global_avgpool"
[[model.layers]]
name = "head"
block = "linear"
out = 10
[train]
epochs = 1
)";

std::string make_dir() {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("incept-fuzz-config-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "base.toml") << kBase;
  return dir.string();
}

[[noreturn]] void unexpected(const char* what) {
  std::fprintf(stderr, "unexpected exception escaped the config loader: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string dir = make_dir();
  const std::string path = dir + "/fuzz.toml";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    incept::ExperimentConfig cfg = incept::resolve_experiment(incept::load_config(path), path);
    (void)incept::summary_text(cfg.model, path, 3);
    (void)incept::summary_json(cfg.model, path, 3);
    (void)incept::compare_text({{path, cfg.model}, {path, cfg.model}}, 3);
  } catch (const incept::ConfigError&) {
  } catch (const incept::UserError&) {
  } catch (const std::exception& e) {
    unexpected(e.what());
  } catch (...) {
    unexpected("(not a std::exception)");
  }
  return 0;
}
