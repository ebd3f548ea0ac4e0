// The direct grouped conv, AVX2+FMA: gconv-direct.inc compiled with -mavx2 -mfma (one ymm per
// 8 pixels; 8 accumulators, the input vector and a broadcast weight fit the 16 registers).
#define GCONV_ISA gconv_avx2
#include "gconv-direct.inc"

namespace convnode {
void f32_gconv_direct__avx2(const GconvRows& rows) { GCONV_ISA::gconv_rows(rows); }
}  // namespace convnode
