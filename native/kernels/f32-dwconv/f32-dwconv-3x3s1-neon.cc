// 3x3 stride 1 depthwise, NEON (arm64 only).
#include "dwconv-3x3-neon.inc"

namespace convnode {
void f32_dwconv_3x3s1__neon(const DwconvPlane& plane) { dwconv_3x3_neon<1>(plane); }
}  // namespace convnode
