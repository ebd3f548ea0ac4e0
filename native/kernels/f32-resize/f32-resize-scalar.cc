// scalar f32-resize: the shared loops (resize-impl.h) over plain C++ row primitives. The
// reference every other ISA is tested against.
#include "resize-impl.h"

namespace convnode {

CONVNODE_DEFINE_RESIZE(scalar, ScalarResizeOps)

}  // namespace convnode
