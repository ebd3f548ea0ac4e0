// 3x3 stride-1 depthwise, any dilation and padding, NEON (arm64 only).
// Tile: 2 output rows x 2 vector(s) along W per step (dwconv-kxk.inc).
#include "dwconv-neon.inc"

namespace convnode {
void f32_dwconv_3x3s1__neon(const DwconvPlane& plane) { dwconv_neon::dw_kxk<dwconv_neon::NeonVec, 3, 1, 2, 2>(plane); }
}  // namespace convnode
