// 3x3 stride 2 depthwise (MobileNet's downsampling case), AVX2+FMA. Built with -mavx2 -mfma.
#include "dwconv-3x3-avx2.inc"

namespace convnode {
void f32_dwconv_3x3s2__avx2(const DwconvPlane& plane) { dwconv_3x3_avx2<2>(plane); }
}  // namespace convnode
