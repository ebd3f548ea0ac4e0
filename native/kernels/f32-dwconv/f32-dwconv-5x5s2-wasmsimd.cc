// 5x5 stride-2 depthwise, any dilation and padding, WebAssembly SIMD (the wasm module only).
// Tile: 2 output rows x 2 vector(s) along W per step (dwconv-kxk.inc), AVX2's tile (16 vector registers, as V8 has on x86-64).
#include "dwconv-wasmsimd.inc"

namespace convnode {
void f32_dwconv_5x5s2__wasmsimd(const DwconvPlane& plane) { dwconv_wasmsimd::dw_kxk_wasm<5, 2, 2, 2>(plane); }
}  // namespace convnode
