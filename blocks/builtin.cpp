#include "blocks/block_helpers.h"

namespace incept {

void register_builtin_blocks(BlockRegistry& registry) {
  blocks::register_basic_blocks(registry);
  blocks::register_inception_naive(registry);
  blocks::register_inception_reduced(registry);
  blocks::register_inception_v1(registry);
  blocks::register_inception_v3(registry);
  blocks::register_aux_heads(registry);
}

}  // namespace incept
