// What a unit of each op's work costs on one thread, in ns: the estimates ops give
// ThreadPool::threads_for (the one grain rule: runtime/thread_pool.h) to decide whether a job is
// worth splitting. Rough on purpose, within ~2x of what `node bench/pool-jobs.mjs --threads 1`
// measures per job (AMD EPYC Zen 4, avx512 tier, batch 1): the rule only has to tell a 5 us job
// from a 100 us one.
#pragma once

namespace convnode {

// A multiply-add of a packed GEMM (convs, Linear at batch > 2): ~45 GMAC/s at ~80% of the FMA
// peak, less on the small maps that are the ones near the threshold.
constexpr double kNsPerGemmMac = 0.025;
// A float streamed once through a cheap vector op (copy, add, ReLU, a global pool's sum, the
// GEMV's packed weights at batch 1-2): ~25 GB/s from L2 / L3 on one core.
constexpr double kNsPerStreamedFloat = 0.15;
// A float through an exp-based activation (Sigmoid, SiLU, GELU, ...).
constexpr double kNsPerTranscendentalFloat = 1.0;
// An output of the vector 3x3 stride-2 max pool (64x112x112 in ~78 us), and a window tap of the
// scalar pooling kernels (avg 3x3/2 16x56x56 in ~88 us).
constexpr double kNsPerMaxPool3x3s2Output = 0.4;
constexpr double kNsPerScalarPoolTap = 3.0;

}  // namespace convnode
