// NEON f32-vbinary: the op over a block of kElementwiseBlock floats, then the activation over
// that block while it is in L1 (f32_vunary__neon, in place).
#include <arm_neon.h>

#include <algorithm>
#include <cstring>

#include "../f32-vunary/vunary.h"
#include "vbinary.h"

namespace convnode {

namespace {

template <BinaryOp OP>
inline float32x4_t apply_neon(float32x4_t x, float32x4_t y) {
  switch (OP) {
    case BinaryOp::Add: return vaddq_f32(x, y);
    case BinaryOp::Sub: return vsubq_f32(x, y);
    case BinaryOp::Mul: return vmulq_f32(x, y);
    case BinaryOp::Div: return vdivq_f32(x, y);
  }
  return x;
}

template <BinaryOp OP, bool A_MOVES, bool B_MOVES>
void run_neon(size_t n, const float* a, const float* b, float* output) {
  const float32x4_t sa = vdupq_n_f32(a[0]);
  const float32x4_t sb = vdupq_n_f32(b[0]);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    vst1q_f32(output + i, apply_neon<OP>(A_MOVES ? vld1q_f32(a + i) : sa, B_MOVES ? vld1q_f32(b + i) : sb));
  }
  if (i < n) {
    const size_t rest = n - i;
    float ta[4] = {1, 1, 1, 1}, tb[4] = {1, 1, 1, 1}, out[4];
    if (A_MOVES) std::memcpy(ta, a + i, rest * sizeof(float));
    if (B_MOVES) std::memcpy(tb, b + i, rest * sizeof(float));
    vst1q_f32(out, apply_neon<OP>(A_MOVES ? vld1q_f32(ta) : sa, B_MOVES ? vld1q_f32(tb) : sb));
    std::memcpy(output + i, out, rest * sizeof(float));
  }
}

template <BinaryOp OP>
void run_form_neon(BinaryForm form, size_t n, const float* a, const float* b, float* output) {
  switch (form) {
    case BinaryForm::VectorVector: return run_neon<OP, true, true>(n, a, b, output);
    case BinaryForm::VectorScalar: return run_neon<OP, true, false>(n, a, b, output);
    case BinaryForm::ScalarVector: return run_neon<OP, false, true>(n, a, b, output);
  }
}

void run_op_neon(BinaryOp op, BinaryForm form, size_t n, const float* a, const float* b, float* output) {
  switch (op) {
    case BinaryOp::Add: return run_form_neon<BinaryOp::Add>(form, n, a, b, output);
    case BinaryOp::Sub: return run_form_neon<BinaryOp::Sub>(form, n, a, b, output);
    case BinaryOp::Mul: return run_form_neon<BinaryOp::Mul>(form, n, a, b, output);
    case BinaryOp::Div: return run_form_neon<BinaryOp::Div>(form, n, a, b, output);
  }
}

}  // namespace

void f32_vbinary__neon(BinaryOp op, BinaryForm form, size_t n, const float* a, const float* b, float* output,
                       const Activation& activation) {
  if (activation.kind == ActivationKind::None) return run_op_neon(op, form, n, a, b, output);
  const bool a_moves = form != BinaryForm::ScalarVector;
  const bool b_moves = form != BinaryForm::VectorScalar;
  for (size_t i = 0; i < n; i += kElementwiseBlock) {
    const size_t count = std::min(kElementwiseBlock, n - i);
    run_op_neon(op, form, count, a_moves ? a + i : a, b_moves ? b + i : b, output + i);
    f32_vunary__neon(count, output + i, output + i, activation);
  }
}

}  // namespace convnode
