// The one translation unit that compiles toml++'s implementation for the fuzz build (see CMakeLists.txt).
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
