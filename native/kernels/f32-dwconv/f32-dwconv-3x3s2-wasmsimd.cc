// 3x3 stride-2 depthwise, any dilation and padding, WebAssembly SIMD (the wasm module only).
//
// Left padding 1, dilation 1 (MobileNet's 3x3/2 layers): a direct row kernel that splits each
// input row into its even and odd columns in registers as it goes (two shuffles per 8 input
// columns, no copy), the idea of XNNPACK's CHW 3x3s2p1 kernels written for our plane struct.
// Output columns ox .. ox + 3 read padded columns 2 ox + kx, i.e. input columns 2 ox - 1 + kx:
//   kx = 1: input 2 ox, 2 ox + 2, ...   the even columns of in[2 ox .. 2 ox + 7]
//   kx = 2: input 2 ox + 1, ...         the odd columns of the same 8
//   kx = 0: input 2 ox - 1, ...         the previous 8's last odd column, then this 8's first three
// Rows above / below the input read a zero row; the row's last columns (past the input, which
// the right padding or the last block's unused outputs read) come through a zeroed 8-float buffer.
// Each of the 3 tap rows sums into its own vector (dependency chains of 2 adds, not 9: V8's wasm
// SIMD has no fused multiply-add).
// Measured against the shared row kernel (dwconv-kxk.inc, 2 rows x 2 vectors from a ring of
// rows de-interleaved on copy), same module otherwise, one process (bench/wasm.mjs --ab): see the
// commit that added it. Any other padding or dilation takes the shared row kernel.
#include "dwconv-wasmsimd.inc"

namespace convnode {
namespace {

using dwconv_wasmsimd::WasmClampVec;
using dwconv_wasmsimd::WasmVec;

// The three taps of one input row for output columns [ox, ox + 4), and this block's odd columns
// (the next block's kx = 0 needs their last lane). `eight` points at input column 2 ox.
struct RowTaps {
  v128_t sum;
  v128_t odd;
};

inline RowTaps row_taps(const float* eight, v128_t previous_odd, v128_t w0, v128_t w1, v128_t w2) {
  const v128_t a = wasm_v128_load(eight);
  const v128_t b = wasm_v128_load(eight + 4);
  const v128_t even = wasm_i32x4_shuffle(a, b, 0, 2, 4, 6);
  const v128_t odd = wasm_i32x4_shuffle(a, b, 1, 3, 5, 7);
  const v128_t left = wasm_i32x4_shuffle(previous_odd, odd, 3, 4, 5, 6);
  const v128_t sum = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(w0, left), wasm_f32x4_mul(w1, even)), wasm_f32x4_mul(w2, odd));
  return {sum, odd};
}

// One output vector's taps at output column ox (input column 2 ox), all 8 columns in the row.
// previous[ky]: the vector whose lane 3 is input column 2 ox - 1.
struct Taps3 {
  const float* rows[3];
  v128_t w[9];
  v128_t bias;

  v128_t at(size_t col, v128_t* odd) const {
    const RowTaps t0 = row_taps(rows[0] + col, odd[0], w[0], w[1], w[2]);
    const RowTaps t1 = row_taps(rows[1] + col, odd[1], w[3], w[4], w[5]);
    const RowTaps t2 = row_taps(rows[2] + col, odd[2], w[6], w[7], w[8]);
    odd[0] = t0.odd, odd[1] = t1.odd, odd[2] = t2.odd;
    return wasm_f32x4_add(wasm_f32x4_add(bias, t0.sum), wasm_f32x4_add(t1.sum, t2.sum));
  }
};

// Stores lanes [skip, 4) of v (+ the residual's, then the activation) at out[skip ..]: the last
// block of an even-width row overlaps the one before, whose lanes are written already (and, in
// place, the residual under them is the output now: those lanes are not stored again).
template <class V, bool VectorAct>
inline void store_lanes_from(float* out, const float* res, v128_t v, size_t skip, const Activation& act) {
  if (res != nullptr) v = wasm_f32x4_add(v, wasm_v128_load(res));
  if (VectorAct) v = V::activate(v, act);
  alignas(16) float lanes[4];
  wasm_v128_store(lanes, v);
  for (size_t i = skip; i < 4; i++) out[i] = lanes[i];
}

// V: WasmClampVec for the clamp kinds (dwconv-wasmsimd.inc), else WasmVec.
template <class V, bool VectorAct>
void dw_3x3s2_pad1_plane(const DwconvPlane& p, const float* zero_row) {
  const size_t in_w = p.in_w;
  Taps3 taps;
  for (int i = 0; i < 9; i++) taps.w[i] = wasm_f32x4_splat(p.weights[i]);
  taps.bias = wasm_f32x4_splat(p.bias);
  // Blocks whose 8 input columns all exist: 2 ox + 8 <= in_w.
  const size_t full_blocks = std::min((p.out_w + 3) / 4, in_w / 8);
  // An even width (2 out_w = in_w) with a block or more: the last block is the 8 columns ending
  // at in_w, overlapping the one before; else the last columns go through a zeroed buffer.
  const bool overlap_last = in_w == 2 * p.out_w && p.out_w >= 4 && full_blocks * 4 < p.out_w;
  const ptrdiff_t in_h = static_cast<ptrdiff_t>(p.in_h);
  for (size_t oy = p.row_begin; oy < p.row_end; oy++) {
    for (int ky = 0; ky < 3; ky++) {
      const ptrdiff_t iy = static_cast<ptrdiff_t>(2 * oy + ky) - static_cast<ptrdiff_t>(p.pad_top);
      taps.rows[ky] = iy < 0 || iy >= in_h ? zero_row : p.input + iy * static_cast<ptrdiff_t>(in_w);
    }
    float* out = p.output + oy * p.out_w;
    const float* res = p.residual != nullptr ? p.residual + oy * p.out_w : nullptr;
    v128_t odd[3] = {wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f)};  // column -1: the padding
    size_t block = 0;
    for (; block < full_blocks; block++) {
      const size_t ox = 4 * block;
      const v128_t acc = taps.at(2 * ox, odd);
      const size_t n = std::min<size_t>(4, p.out_w - ox);
      dwconv_wasmsimd::dw_store<V, VectorAct>(out + ox, res != nullptr ? res + ox : nullptr, acc, n, p.activation);
    }
    if (overlap_last) {
      const size_t ox = p.out_w - 4;
      // Lane 3 of the 4 floats before column 2 ox is column 2 ox - 1 (ox >= 1 here: out_w > 4).
      v128_t before[3];
      for (int ky = 0; ky < 3; ky++) before[ky] = wasm_v128_load(taps.rows[ky] + 2 * ox - 4);
      const v128_t acc = taps.at(2 * ox, before);
      store_lanes_from<V, VectorAct>(out + ox, res != nullptr ? res + ox : nullptr, acc, 4 * block - ox, p.activation);
      continue;
    }
    // The last blocks: their 8 columns through a zeroed buffer (columns past in_w read as 0).
    for (size_t ox = 4 * block; ox < p.out_w; ox += 4) {
      const size_t col = 2 * ox;
      alignas(16) float tail[3][8];
      Taps3 last = taps;
      for (int ky = 0; ky < 3; ky++) {
        for (size_t i = 0; i < 8; i++) tail[ky][i] = col + i < in_w ? taps.rows[ky][col + i] : 0.0f;
        last.rows[ky] = tail[ky];
      }
      const v128_t acc = last.at(0, odd);
      const size_t n = std::min<size_t>(4, p.out_w - ox);
      dwconv_wasmsimd::dw_store<V, VectorAct>(out + ox, res != nullptr ? res + ox : nullptr, acc, n, p.activation);
    }
  }
  if (!VectorAct) WasmVec::activate_span(p.output + p.row_begin * p.out_w, (p.row_end - p.row_begin) * p.out_w, p.activation);
}

// The direct kernel's case: left padding 1 (any other top / bottom / right), dilation 1.
inline bool dw_3x3s2_direct_fits(const DwconvPlane& p) {
  return p.pad_left == 1 && p.dilation_h == 1 && p.dilation_w == 1;
}

}  // namespace

void f32_dwconv_3x3s2__wasmsimd(const DwconvPlane& plane) {
  if (!dw_3x3s2_direct_fits(plane)) {
    dwconv_wasmsimd::dw_kxk_wasm<3, 2, 2, 2>(plane);
    return;
  }
  // A zero row for the rows above / below the input (and whole 8-float blocks past in_w), once
  // per call.
  const size_t zero_len = (plane.in_w + 15) / 8 * 8 + 8;
  float* zero_row = scratch_floats(ScratchSlot::PaddedPlane, zero_len);
  for (size_t i = 0; i < zero_len; i += 4) wasm_v128_store(zero_row + i, wasm_f32x4_splat(0.0f));
  DwconvPlane clamped = plane;
  const bool clamp = dwconv_wasmsimd::clamp_form(plane.activation, &clamped.activation);
  const bool vector_act = WasmVec::vectorizable(plane.activation);
  for (size_t i = 0; i < plane.plane_count; i++) {
    if (clamp) {
      dw_3x3s2_pad1_plane<WasmClampVec, true>(dwconv_plane_at(clamped, i), zero_row);
    } else if (vector_act) {
      dw_3x3s2_pad1_plane<WasmVec, true>(dwconv_plane_at(plane, i), zero_row);
    } else {
      dw_3x3s2_pad1_plane<WasmVec, false>(dwconv_plane_at(plane, i), zero_row);
    }
  }
}

}  // namespace convnode
