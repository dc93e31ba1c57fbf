#pragma once
// The blocks incept ships: every block file's registration function, called explicitly (registries filled by
// static initializers vanish when a static library's object file is not otherwise referenced).
#include "framework/registry.h"

namespace incept {

// Registers every built-in block in `registry`.
void register_builtin_blocks(BlockRegistry& registry);

// The process-wide registry with the built-in blocks, built on first use.
const BlockRegistry& builtin_registry();

}  // namespace incept
