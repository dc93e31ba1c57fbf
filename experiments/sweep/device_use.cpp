#include "experiments/sweep/device_use.h"

#include <dlfcn.h>

#include <toml++/toml.h>

namespace incept {

bool built_with_cuda() {
  for (const char* lib : {"libtorch_cuda.so", "libc10_cuda.so"}) {
    if (void* h = ::dlopen(lib, RTLD_LAZY | RTLD_NOLOAD)) {
      ::dlclose(h);
      return true;
    }
  }
  return false;
}

bool trains_on_gpu(const ResolvedVariant& v) {
  try {
    const toml::table t = toml::parse(v.config_toml);
    const std::string device = t["train"]["device"].value_or(std::string("auto"));
    return device == "cuda" || (device == "auto" && built_with_cuda());
  } catch (const toml::parse_error&) {
    return false;
  }
}

}  // namespace incept
