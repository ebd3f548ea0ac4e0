// 7x7 stride-2 depthwise, any dilation and padding, WebAssembly SIMD (the wasm module only).
// Tile: 2 output rows x 1 vector(s) along W per step (dwconv-kxk.inc), AVX2's tile (16 vector registers, as V8 has on x86-64).
#include "dwconv-wasmsimd.inc"

namespace convnode {
void f32_dwconv_7x7s2__wasmsimd(const DwconvPlane& plane) { dwconv_wasmsimd::dw_kxk_wasm<7, 2, 2, 1>(plane); }
}  // namespace convnode
