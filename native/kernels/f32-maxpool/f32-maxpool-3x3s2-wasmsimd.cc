// 3x3 stride-2 max pooling, WebAssembly SIMD (the wasm module only). The NEON kernel's scheme:
// per output row, the vertical max of the three window rows, then the horizontal 3-tap max in
// registers, the left taps being the right taps shifted one lane with the first carried from the
// previous step. Two loads of 4 and two shuffles split even (middle tap) and odd (right tap)
// columns, so a step of 4 outputs is 6 loads, 6 shuffles, 7 max. f32x4.max returns NaN when
// either input is NaN, so NaN propagates with no extra work.
#include <wasm_simd128.h>

#include <limits>

#include "maxpool-3x3s2.h"

namespace convnode {

namespace {

// The even and odd columns of p[0 .. 8).
inline void load_split(const float* p, v128_t* even, v128_t* odd) {
  const v128_t a = wasm_v128_load(p);
  const v128_t b = wasm_v128_load(p + 4);
  *even = wasm_i32x4_shuffle(a, b, 0, 2, 4, 6);
  *odd = wasm_i32x4_shuffle(a, b, 1, 3, 5, 7);
}

void row_steps(const PoolPlane& p, const MaxpoolRows& rows, const MaxpoolSteps& steps, float* out) {
  v128_t carry = wasm_f32x4_splat(0.0f);
  size_t carried_for = static_cast<size_t>(-1);  // the step whose left tap `carry` holds
  for (size_t step = steps.first;; step = step + 4 < steps.last ? step + 4 : steps.last) {
    const size_t s = 2 * step + 1 - p.pad_left;  // middle tap of output `step`
    if (step != carried_for) {
      // First step, or the last one overlapping its predecessor: the left tap from scratch.
      carry = wasm_f32x4_splat(s >= 1 ? maxpool_3x3s2_column(rows, s - 1) : -std::numeric_limits<float>::infinity());
    }
    v128_t a_even, a_odd, b_even, b_odd, d_even, d_odd;
    load_split(rows.r0 + s, &a_even, &a_odd);
    load_split(rows.r1 + s, &b_even, &b_odd);
    load_split(rows.r2 + s, &d_even, &d_odd);
    const v128_t middle = wasm_f32x4_max(wasm_f32x4_max(a_even, b_even), d_even);
    const v128_t right = wasm_f32x4_max(wasm_f32x4_max(a_odd, b_odd), d_odd);
    // Left taps: the previous step's last right tap, then this step's first three.
    const v128_t left = wasm_i32x4_shuffle(carry, right, 3, 4, 5, 6);
    wasm_v128_store(out + step, wasm_f32x4_max(left, wasm_f32x4_max(middle, right)));
    carry = right;
    carried_for = step + 4;
    if (step == steps.last) break;
  }
}

}  // namespace

void f32_maxpool_3x3s2__wasmsimd(const PoolPlane& p) {
  maxpool_3x3s2_plane<4>(p, [&](const MaxpoolRows& rows, const MaxpoolSteps& steps, size_t, float* out) {
    row_steps(p, rows, steps, out);
  });
}

}  // namespace convnode
