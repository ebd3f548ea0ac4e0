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
// A GEMM task's fixed costs beside its multiply-adds (ops/task_split.cc, balanced_gemm_cut): a
// float of B packed (a copy of channel rows or an im2col gather into the tile layout: each task
// packs the B of its own columns, so cutting rows packs it again), the claim and set-up of a task,
// and how late a polling worker starts on a job's first task (bench/pool-jobs.mjs: wake-up p50
// 1-2 us at 2 threads with the workers polling, Zen 4).
constexpr double kNsPerPackedBFloat = 0.1;
constexpr double kNsPerGemmTask = 1000;
constexpr double kGemmHelperStartNs = 2000;
// A float streamed once through a cheap vector op (copy, add, ReLU, a global pool's sum, the
// GEMV's packed weights at batch 1-2): ~25 GB/s from L2 / L3 on one core.
constexpr double kNsPerStreamedFloat = 0.15;
// A float through an exp-based activation (Sigmoid, SiLU, GELU, ...).
constexpr double kNsPerTranscendentalFloat = 1.0;
// An output of the vector 3x3 stride-2 max pool (64x112x112 in ~78 us), and a window tap of the
// scalar pooling kernels (avg 3x3/2 16x56x56 in ~88 us).
constexpr double kNsPerMaxPool3x3s2Output = 0.4;
constexpr double kNsPerScalarPoolTap = 3.0;
// A multiply-add of a depthwise conv (output x tap): MobileNetV2 at 1 thread batch 1 ran its 6
// depthwise layers on maps over 16x16 (14.1 M MACs) in 0.93 ms of CPU and its 11 on smaller
// maps (6.6 M) in 0.59 ms: 0.066 and 0.09 ns (bench/pool-jobs.mjs, avx512 tier, load ~11).
constexpr double kNsPerDwconvMac = 0.08;
// A value of LayerNorm / Softmax over a row or column block: two to three passes, one of them
// with a divide or an exp.
constexpr double kNsPerNormalizedFloat = 0.6;
// An output of Resize: a gather (nearest) or a blend of four source values (bilinear).
constexpr double kNsPerNearestOutput = 0.2;
constexpr double kNsPerBilinearOutput = 0.6;
// A contribution col2im sums (one column value added into its output pixel).
constexpr double kNsPerCol2imTap = 0.3;

}  // namespace convnode
