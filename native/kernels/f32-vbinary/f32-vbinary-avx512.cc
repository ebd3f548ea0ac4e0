// AVX-512 f32-vbinary: the op over a block of kElementwiseBlock floats (masked tail), then the
// activation over that block while it is in L1 (f32_vunary__avx512, in place).
// GCC 12 reports the _mm512_undefined_* inside its own intrinsics (e.g. _mm512_cvtps_epi32) as
// maybe-uninitialized once they are inlined here: a known false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>

#include "../f32-vunary/vunary.h"
#include "vbinary.h"

namespace convnode {

namespace {

template <BinaryOp OP>
inline __m512 apply_avx512(__m512 x, __m512 y) {
  switch (OP) {
    case BinaryOp::Add: return _mm512_add_ps(x, y);
    case BinaryOp::Sub: return _mm512_sub_ps(x, y);
    case BinaryOp::Mul: return _mm512_mul_ps(x, y);
    case BinaryOp::Div: return _mm512_div_ps(x, y);
  }
  return x;
}

// A scalar operand is a broadcast (MOVES false); masked-off lanes are neither read nor written.
template <BinaryOp OP, bool A_MOVES, bool B_MOVES>
void run_avx512(size_t n, const float* a, const float* b, float* output) {
  const __m512 sa = _mm512_set1_ps(a[0]);
  const __m512 sb = _mm512_set1_ps(b[0]);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 r0 = apply_avx512<OP>(A_MOVES ? _mm512_loadu_ps(a + i) : sa, B_MOVES ? _mm512_loadu_ps(b + i) : sb);
    const __m512 r1 =
        apply_avx512<OP>(A_MOVES ? _mm512_loadu_ps(a + i + 16) : sa, B_MOVES ? _mm512_loadu_ps(b + i + 16) : sb);
    _mm512_storeu_ps(output + i, r0);
    _mm512_storeu_ps(output + i + 16, r1);
  }
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(output + i,
                     apply_avx512<OP>(A_MOVES ? _mm512_loadu_ps(a + i) : sa, B_MOVES ? _mm512_loadu_ps(b + i) : sb));
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    // Masked-off lanes load 1 (not 0), so a division there raises no flag worth noticing.
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 x = A_MOVES ? _mm512_mask_loadu_ps(one, m, a + i) : sa;
    const __m512 y = B_MOVES ? _mm512_mask_loadu_ps(one, m, b + i) : sb;
    _mm512_mask_storeu_ps(output + i, m, apply_avx512<OP>(x, y));
  }
}

template <BinaryOp OP>
void run_form_avx512(BinaryForm form, size_t n, const float* a, const float* b, float* output) {
  switch (form) {
    case BinaryForm::VectorVector: return run_avx512<OP, true, true>(n, a, b, output);
    case BinaryForm::VectorScalar: return run_avx512<OP, true, false>(n, a, b, output);
    case BinaryForm::ScalarVector: return run_avx512<OP, false, true>(n, a, b, output);
  }
}

void run_op_avx512(BinaryOp op, BinaryForm form, size_t n, const float* a, const float* b, float* output) {
  switch (op) {
    case BinaryOp::Add: return run_form_avx512<BinaryOp::Add>(form, n, a, b, output);
    case BinaryOp::Sub: return run_form_avx512<BinaryOp::Sub>(form, n, a, b, output);
    case BinaryOp::Mul: return run_form_avx512<BinaryOp::Mul>(form, n, a, b, output);
    case BinaryOp::Div: return run_form_avx512<BinaryOp::Div>(form, n, a, b, output);
  }
}

}  // namespace

void f32_vbinary__avx512(BinaryOp op, BinaryForm form, size_t n, const float* a, const float* b, float* output,
                         const Activation& activation) {
  if (activation.kind == ActivationKind::None) return run_op_avx512(op, form, n, a, b, output);
  const bool a_moves = form != BinaryForm::ScalarVector;
  const bool b_moves = form != BinaryForm::VectorScalar;
  for (size_t i = 0; i < n; i += kElementwiseBlock) {
    const size_t count = std::min(kElementwiseBlock, n - i);
    run_op_avx512(op, form, count, a_moves ? a + i : a, b_moves ? b + i : b, output + i);
    f32_vunary__avx512(count, output + i, output + i, activation);
  }
}

}  // namespace convnode
