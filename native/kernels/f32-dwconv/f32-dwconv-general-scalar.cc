// Any kernel size, stride, dilation and padding: the reference depthwise kernel and the fallback.
#include "dwconv.h"

namespace convnode {

void f32_dwconv_general__scalar(const DwconvPlane& planes) {
  for (size_t i = 0; i < planes.plane_count; i++) {
    const DwconvPlane p = dwconv_plane_at(planes, i);
    for (size_t oy = p.row_begin; oy < p.row_end; oy++) {
      for (size_t ox = 0; ox < p.out_w; ox++) dwconv_store(p, oy, ox, dwconv_pixel(p, oy, ox));
    }
  }
}

}  // namespace convnode
