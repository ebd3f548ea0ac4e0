// 7x7 stride-2 depthwise, any dilation and padding, AVX-512 F/BW/DQ/VL (built with the AVX-512 flags).
// Tile (zmm; rows of <= 8 outputs on ymm): 2 output rows x 1 vector(s) along W per step (dwconv-kxk.inc).
#include "dwconv-avx512.inc"

namespace convnode {
void f32_dwconv_7x7s2__avx512(const DwconvPlane& plane) { dwconv_avx512::dw_kxk_avx512<7, 2, 2, 1>(plane); }
}  // namespace convnode
