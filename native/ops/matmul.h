// MatMul with both operands computed at run time (attention's Q K^T and attn V), numpy.matmul
// semantics: the leading (batch) dimensions of A [..., m, k] and B [..., k, n] broadcast. Each
// batch is one C = A B on the conv GEMM driver: the A matrices are packed into MR-row panels per
// call (they change every call), B is read as the "strided" source (row stride n, like a 1x1
// conv's channel rows), and the activation runs in the GEMM epilogue.
#pragma once
#include <cstddef>
#include <vector>

#include "../kernels/epilogue.h"
#include "../runtime/dispatch.h"

namespace convnode {

struct MatMulRun {
  std::vector<size_t> a_shape, b_shape;  // rank >= 2 each (rank-1 operands promoted by the caller)
  Activation activation;
  // Derived by plan_matmul.
  size_t m = 0, k = 0, n = 0, batches = 0, a_matrices = 0, b_matrices = 0;
  std::vector<size_t> a_index, b_index;  // per output batch: which A / B matrix it multiplies
};

// Checks the shapes (inner dimensions equal, batch dimensions broadcastable) and fills the
// derived fields. Throws ArgumentError naming the rule.
void plan_matmul(MatMulRun& run);
// Throws unless a, b and output hold exactly what the shapes need.
void check_matmul(const MatMulRun& run, size_t a_length, size_t b_length, size_t output_length);
void run_matmul(const KernelConfig& config, const MatMulRun& run, const float* a, const float* b, float* output);

}  // namespace convnode
