#pragma once
// A BN network (conv stem, one reduced Inception block, global pool, linear) on synthetic 1x12x12 images: trains
// an epoch of 512 images in about 0.2 s on one thread. Shared by the training and reliability tests.

namespace incept::testing {

inline const char* kTinyTrainingConfig = R"(name = "tiny"
[data]
dataset = "synthetic"
synthetic_train = 512
synthetic_test = 64
synthetic_shape = [1, 12, 12]

[model]
input = [1, 12, 12]
bn = true

[[model.layers]]
name = "stem"
block = "conv"
out = 8
kernel = 3
padding = 1

[[model.layers]]
name = "mix"
block = "inception_reduced"
out = 8

[[model.layers]]
name = "pool"
block = "global_avgpool"

[[model.layers]]
name = "head"
block = "linear"
out = 10

[train]
epochs = 2
batch_size = 32
lr = 0.1
momentum = 0.9
seed = 7
threads = 1
)";

}  // namespace incept::testing
