// Average pooling, any window, AVX-512: the loop of f32-maxpool/pool-general-avx512.h (the
// divisor rule is the scalar kernel's, f32-avgpool-general-scalar.cc).
#include "../f32-maxpool/pool-general-avx512.h"

namespace convnode {

void f32_avgpool_general__avx512(const PoolPlane& p) { pool_general_avx512<false>(p); }

}  // namespace convnode
