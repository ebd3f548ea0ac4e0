// 3x3 stride-2 depthwise, any dilation and padding, AVX-512 F/BW/DQ/VL (built with the AVX-512 flags).
// Tile: 2 output rows x 2 vector(s) along W per step (dwconv-kxk.inc).
#include "dwconv-avx512.inc"

namespace convnode {
void f32_dwconv_3x3s2__avx512(const DwconvPlane& plane) { dwconv_avx512::dw_kxk<dwconv_avx512::Avx512Vec16, 3, 2, 2, 2>(plane); }
}  // namespace convnode
