// AVX2 f32-vbinary: the op over a block of kElementwiseBlock floats, then the activation over
// that block while it is in L1 (f32_vunary__avx2, in place).
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "../f32-vunary/vunary.h"
#include "vbinary.h"

namespace convnode {

namespace {

template <BinaryOp OP>
inline __m256 apply_avx2(__m256 x, __m256 y) {
  switch (OP) {
    case BinaryOp::Add: return _mm256_add_ps(x, y);
    case BinaryOp::Sub: return _mm256_sub_ps(x, y);
    case BinaryOp::Mul: return _mm256_mul_ps(x, y);
    case BinaryOp::Div: return _mm256_div_ps(x, y);
  }
  return x;
}

// A scalar operand is passed as a broadcast vector with step 0; a vector one with step 8.
template <BinaryOp OP, size_t STEP_A, size_t STEP_B>
void run_avx2(size_t n, const float* a, const float* b, float* output) {
  const auto load_a = [&](size_t i) { return STEP_A ? _mm256_loadu_ps(a + i) : _mm256_broadcast_ss(a); };
  const auto load_b = [&](size_t i) { return STEP_B ? _mm256_loadu_ps(b + i) : _mm256_broadcast_ss(b); };
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 r0 = apply_avx2<OP>(load_a(i), load_b(i));
    const __m256 r1 = apply_avx2<OP>(load_a(i + 8), load_b(i + 8));
    _mm256_storeu_ps(output + i, r0);
    _mm256_storeu_ps(output + i + 8, r1);
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(output + i, apply_avx2<OP>(load_a(i), load_b(i)));
  if (i < n) {
    const size_t rest = n - i;
    float ta[8] = {1, 1, 1, 1, 1, 1, 1, 1}, tb[8] = {1, 1, 1, 1, 1, 1, 1, 1}, out[8];
    std::memcpy(ta, STEP_A ? a + i : a, (STEP_A ? rest : 1) * sizeof(float));
    std::memcpy(tb, STEP_B ? b + i : b, (STEP_B ? rest : 1) * sizeof(float));
    const __m256 x = STEP_A ? _mm256_loadu_ps(ta) : _mm256_broadcast_ss(ta);
    const __m256 y = STEP_B ? _mm256_loadu_ps(tb) : _mm256_broadcast_ss(tb);
    _mm256_storeu_ps(out, apply_avx2<OP>(x, y));
    std::memcpy(output + i, out, rest * sizeof(float));
  }
}

template <BinaryOp OP>
void run_form_avx2(BinaryForm form, size_t n, const float* a, const float* b, float* output) {
  switch (form) {
    case BinaryForm::VectorVector: return run_avx2<OP, 8, 8>(n, a, b, output);
    case BinaryForm::VectorScalar: return run_avx2<OP, 8, 0>(n, a, b, output);
    case BinaryForm::ScalarVector: return run_avx2<OP, 0, 8>(n, a, b, output);
  }
}

void run_op_avx2(BinaryOp op, BinaryForm form, size_t n, const float* a, const float* b, float* output) {
  switch (op) {
    case BinaryOp::Add: return run_form_avx2<BinaryOp::Add>(form, n, a, b, output);
    case BinaryOp::Sub: return run_form_avx2<BinaryOp::Sub>(form, n, a, b, output);
    case BinaryOp::Mul: return run_form_avx2<BinaryOp::Mul>(form, n, a, b, output);
    case BinaryOp::Div: return run_form_avx2<BinaryOp::Div>(form, n, a, b, output);
  }
}

}  // namespace

void f32_vbinary__avx2(BinaryOp op, BinaryForm form, size_t n, const float* a, const float* b, float* output,
                       const Activation& activation) {
  if (activation.kind == ActivationKind::None) return run_op_avx2(op, form, n, a, b, output);
  const bool a_moves = form != BinaryForm::ScalarVector;
  const bool b_moves = form != BinaryForm::VectorScalar;
  for (size_t i = 0; i < n; i += kElementwiseBlock) {
    const size_t count = std::min(kElementwiseBlock, n - i);
    run_op_avx2(op, form, count, a_moves ? a + i : a, b_moves ? b + i : b, output + i);
    f32_vunary__avx2(count, output + i, output + i, activation);
  }
}

}  // namespace convnode
