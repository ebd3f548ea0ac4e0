// 7x7 stride-1 depthwise, any dilation and padding, AVX2+FMA (built with -mavx2 -mfma).
// Tile: 2 output rows x 1 vector(s) along W per step (dwconv-kxk.inc).
#include "dwconv-avx2.inc"

namespace convnode {
void f32_dwconv_7x7s1__avx2(const DwconvPlane& plane) { dwconv_avx2::dw_kxk<dwconv_avx2::Avx2Vec, 7, 1, 2, 1>(plane); }
}  // namespace convnode
