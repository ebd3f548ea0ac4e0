// Which instruction sets this CPU (and OS) can run. Asked once; the answer never changes.
#pragma once

namespace convnode {

enum class Isa { Scalar, Avx2, Neon };

const char* isa_name(Isa isa);
bool isa_from_name(const char* name, Isa* out);
bool cpu_supports(Isa isa);
Isa best_isa();

}  // namespace convnode
