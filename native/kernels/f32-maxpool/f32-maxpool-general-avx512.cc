// Max pooling, any window, AVX-512: the loop of pool-general-avx512.h.
#include "pool-general-avx512.h"

namespace convnode {

void f32_maxpool_general__avx512(const PoolPlane& p) { pool_general_avx512<true>(p); }

}  // namespace convnode
