// Pooling ops: sliding-window max / average over batched NCHW planes, and global pooling.
#pragma once
#include <cstddef>

#include "../runtime/dispatch.h"
#include "window.h"

namespace convnode {

enum class PoolKind { Max, Avg };

struct PoolRun {
  size_t batch, channels;
  PoolKind kind;
  bool count_include_pad;
  Window window;
};

// Throws ArgumentError naming the argument. Windows may use the ceilMode output size.
void check_pool(const PoolRun& run, size_t input_length, size_t output_length);
void run_pool(const KernelConfig& config, const PoolRun& run, const float* input, float* output);

void check_global_pool(size_t planes, size_t plane, size_t input_length, size_t output_length);
void run_global_pool(PoolKind kind, size_t planes, size_t plane, const float* input, float* output);
// The same with the given table's kernels (the one above uses active_config()).
void run_global_pool(const KernelConfig& config, PoolKind kind, size_t planes, size_t plane, const float* input,
                     float* output);

}  // namespace convnode
