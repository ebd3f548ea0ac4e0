// 5x5 stride-2 depthwise, any dilation and padding, NEON (arm64 only).
// Tile: 2 output rows x 2 vector(s) along W per step (dwconv-kxk.inc).
#include "dwconv-neon.inc"

namespace convnode {
void f32_dwconv_5x5s2__neon(const DwconvPlane& plane) { dwconv_neon::dw_kxk<dwconv_neon::NeonVec, 5, 2, 2, 2>(plane); }
}  // namespace convnode
