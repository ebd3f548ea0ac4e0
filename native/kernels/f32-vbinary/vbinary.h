// f32-vbinary: output[i] = activation(a[i] op b[i]) over n floats, where a scalar operand is one
// value read for every i. Broadcasting over whole tensors is the op's job (native/ops/elementwise.cc):
// it cuts the index space into contiguous runs, each one of the three forms below.
// output may equal a vector operand (in place), but must not otherwise overlap them.
#pragma once
#include <cstddef>

#include "../epilogue.h"

namespace convnode {

enum class BinaryOp : int { Add, Sub, Mul, Div };

// Which operands advance along the run.
enum class BinaryForm : int {
  VectorVector,  // a[i] op b[i]
  VectorScalar,  // a[i] op b[0]
  ScalarVector,  // a[0] op b[i]
};

using VBinaryKernel = void (*)(BinaryOp op, BinaryForm form, size_t n, const float* a, const float* b, float* output,
                               const Activation& activation);

void f32_vbinary__scalar(BinaryOp op, BinaryForm form, size_t n, const float* a, const float* b, float* output,
                         const Activation& activation);
void f32_vbinary__avx2(BinaryOp op, BinaryForm form, size_t n, const float* a, const float* b, float* output,
                       const Activation& activation);
void f32_vbinary__avx512(BinaryOp op, BinaryForm form, size_t n, const float* a, const float* b, float* output,
                         const Activation& activation);
void f32_vbinary__neon(BinaryOp op, BinaryForm form, size_t n, const float* a, const float* b, float* output,
                       const Activation& activation);

// Floats a vector kernel computes before running the activation over them while they are still
// in L1 (4 KiB): a second pass over a hot block costs far less than a switch on the kind per vector.
constexpr size_t kElementwiseBlock = 1024;

}  // namespace convnode
