// 3x3 stride-1 depthwise, any dilation and padding, AVX2+FMA (built with -mavx2 -mfma).
// Tile: 2 output rows x 2 vector(s) along W per step (dwconv-kxk.inc).
#include "dwconv-avx2.inc"

namespace convnode {
void f32_dwconv_3x3s1__avx2(const DwconvPlane& plane) { dwconv_avx2::dw_kxk<dwconv_avx2::Avx2Vec, 3, 1, 2, 2>(plane); }
}  // namespace convnode
