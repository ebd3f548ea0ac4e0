// The portable direct grouped conv (the scalar and NEON tables).
#define GCONV_ISA gconv_portable
#include "gconv-direct.inc"

namespace convnode {
void f32_gconv_direct__scalar(const GconvRows& rows) { GCONV_ISA::gconv_rows(rows); }
}  // namespace convnode
