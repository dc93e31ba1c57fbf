#include "blocks/builtin.h"

#include "blocks/block_helpers.h"

namespace incept {

void register_builtin_blocks(BlockRegistry& registry) {
  blocks::register_basic_blocks(registry);
  blocks::register_inception_naive(registry);
  blocks::register_inception_reduced(registry);
  blocks::register_inception_v1(registry);
  blocks::register_inception_v3(registry);
  blocks::register_inception_v4(registry);
  blocks::register_inception_resnet(registry);
  blocks::register_xception(registry);
  blocks::register_aux_heads(registry);
}

const BlockRegistry& builtin_registry() {
  static const BlockRegistry registry = [] {
    BlockRegistry r;
    register_builtin_blocks(r);
    return r;
  }();
  return registry;
}

}  // namespace incept
