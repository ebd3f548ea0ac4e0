// Why a path of its own: when all of a 1x1 conv's weights are one MR-row panel (16 outputs on
// AVX-512), every B element is used by exactly one micro-kernel call, so the packed GEMM's copy
// of B into NR-wide panels (gemm_driver.cc) is a whole extra pass over the input for no reuse.
// Here each tile of NR pixels calls the micro-kernel on the input's channel rows directly (B row
// stride = the plane); the micro-kernel reads its NR columns of each of the k rows once. Only
// the last tile of an image, with fewer than NR pixels left, is copied into a small zero-padded
// panel (the micro-kernel reads NR columns of every row, and past the last plane there is no
// memory to read).
#include "pointwise_few.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../runtime/env_switch.h"
#include "../runtime/thread_pool.h"
#include "gemm_driver.h"
#include "work_cost.h"

namespace convnode {

namespace {

// Maps smaller than this keep the packed GEMM (their B panels stay in L1 / L2 either way) ...
constexpr size_t kFewOutputsMinPixels = 56 * 56;
// ... unless the conv runs on one thread: then from 28x28. There the copy into packed panels,
// not cache misses, is what the in-place path saves: MobileNetV2's 144->32 and 192->32 @28 (two
// panels, so each packed B element serves only two kernel calls) took 0.082 / 0.110 ms through
// the packed GEMM and 0.072 / 0.095 in place (sums of per-step minima in the model, 1 thread,
// Zen 4). On more threads the packed GEMM's split is kept (784 pixels are one task here).
constexpr size_t kFewOutputsMinPixelsOneThread = 28 * 28;
// Pixels per pool task: a multiple of every NR, tens of microseconds of work.
constexpr size_t kTaskPixels = 1024;
// At most this many MR-row panels of weights (32 outputs on AVX-512): beyond, the packed GEMM's
// B panels are reused by enough panels to pay for their copy.
constexpr size_t kMaxPanels = 2;
// Inputs (the whole batch's) of at most this many floats (4 MiB: in L2 / L3 after the layer
// that wrote them), or of at most kManyStreams channels, take this path.
constexpr size_t kInPlaceMaxFloats = size_t{1} << 20;
constexpr size_t kManyStreams = 32;
// How far ahead (in tiles of NR pixels) the input rows are prefetched (12 measured the same).
constexpr size_t kPrefetchTiles = 4;

// CONVNODE_PW_IN_PLACE=0 sends these convs back to the packed GEMM (an A/B switch). Read once
// (env_switch.h: why the cache is an atomic).
EnvSwitch in_place("CONVNODE_PW_IN_PLACE");

// Small maps (MobileNetV2's 14x14 projections, 384 -> 64, 576 -> 96, 384 -> 96): the whole
// input is a few hundred KiB, in L2 after the layer that wrote it, and the packed GEMM's copy of
// it into B panels is a pass over all of it for 1..6 row panels of reuse. Here B is read in place
// (row stride = the plane) over pack_a's K-blocked panels, K blocks accumulating in C, and the
// last partial tile through the columns kernel (it reads only its columns) where it can.
// 14x14 projections measured 0.91-0.97x the packed GEMM's per-step minima in MobileNetV2 (1
// thread, Zen 4), the 14x14 expansions (one K block, 24-36 panels) 0.96-1.0x (they keep the
// packed GEMM: kSmallMapMaxPanels); the 7x7 maps (960 -> 160 / 320, 576 -> 160, 160 -> 960: 49
// pixels, 3 tiles and a column) 1.05-1.14x, so they keep the packed GEMM. Maps from 8x8 to 13x13
// take this form untested in a model (none of the zoo has them).
constexpr size_t kSmallMapMaxPixelsDefault = 14 * 14;
constexpr size_t kSmallMapMinPixels = 8 * 8;
// Few output rows over an input that stays in L2: every row panel re-reads all of B. ResNet-50's
// 1024 -> 256 @14 (an 800 KB input, 16 panels) measured 1.02-1.06x the packed GEMM's time here and
// its 256 -> 1024 @14 (64 panels) 0.99-1.03x, so both keep the packed GEMM; the mobile nets' 14x14
// projections (64-112 outputs, inputs up to 576 x 196 floats = 441 KB) take this form.
constexpr size_t kSmallMapMaxPanels = 8;
constexpr size_t kSmallMapMaxInputFloats = 512 * 1024 / sizeof(float);

// CONVNODE_PW_SMALL_MAP=0 sends them back to the packed GEMM (an A/B switch); a number sets the
// largest map (in pixels) that takes this form. Read once (env_switch.h).
size_t small_map_max_pixels() {
  static std::atomic<long> cached{kEnvUnread};
  return static_cast<size_t>(read_env_once(cached, "CONVNODE_PW_SMALL_MAP", [](const char* text) -> long {
    if (text == nullptr || *text == '\0') return static_cast<long>(kSmallMapMaxPixelsDefault);
    return std::max(0L, std::strtol(text, nullptr, 10));
  }));
}

bool run_small_map(const GemmConfig& cfg, const float* packed_a, size_t m, size_t k, size_t batch, size_t pixels,
                   const float* input, float* output, const float* bias, const float* residual,
                   const Activation& activation) {
  if (pixels < kSmallMapMinPixels || pixels > small_map_max_pixels()) return false;
  // Tables with a columns kernel (avx512's 16x16) only: on avx2's 6x16 (a zero-padded copy for
  // the last tile, two row loads per k) the 14x14 projections measured 1.00-1.07x the packed
  // GEMM's time (MobileNetV2, CONVNODE_ISA=avx2, per-step minima).
  if (cfg.columns == nullptr) return false;
  if ((m + cfg.mr - 1) / cfg.mr > kSmallMapMaxPanels || k * pixels > kSmallMapMaxInputFloats) return false;
  const double macs = static_cast<double>(batch) * static_cast<double>(m) * static_cast<double>(pixels) * static_cast<double>(k);
  if (ThreadPool::instance().threads_for(macs * kNsPerGemmMac) > 1) return false;
  const KBlocks blocks(k, cfg.kc_max);
  const size_t m_padded = (m + cfg.mr - 1) / cfg.mr * cfg.mr;
  if (!packed_a_in_k_blocked_panels(cfg, m, k)) return false;
  const size_t nr = cfg.nr;
  const size_t tiles = (pixels + nr - 1) / nr;
  std::vector<float> tail;  // a last tile the columns kernel cannot take: zero-padded k x nr
  for (size_t n = 0; n < batch; n++) {
    const float* b = input + n * k * pixels;
    float* c = output + n * m * pixels;
    const float* res = residual != nullptr ? residual + n * m * pixels : nullptr;
    // The last tile: the columns kernel reads only its columns, so it stays in place; the full
    // and narrow tiles read nr (or nr / 2) columns of every row, past the last plane's end.
    const size_t tail_cols = pixels % nr;
    GemmMicrokernel tail_kernel = cfg.kernel;
    const float* tail_b = b + pixels - tail_cols;
    size_t tail_ldb = pixels;
    if (tail_cols > cfg.columns_max) {
      tail.assign(k * nr, 0.0f);
      for (size_t kk = 0; kk < k; kk++) std::memcpy(tail.data() + kk * nr, tail_b + kk * pixels, tail_cols * sizeof(float));
      tail_b = tail.data();
      tail_ldb = nr;
    } else if (tail_cols != 0) {
      tail_kernel = cfg.columns;
    }
    Epilogue ep;
    ep.residual_stride = pixels;
    ep.activation = activation;
    // One K block of one row panel over one tile.
    auto call = [&](size_t row, size_t k0, size_t kc, size_t tile) {
      const size_t p = tile * nr;
      const bool is_tail = p + nr > pixels;
      const float* tile_b = is_tail ? tail_b : b + p;
      const size_t ldb = is_tail ? tail_ldb : pixels;
      ep.bias = bias != nullptr ? bias + row : nullptr;
      ep.residual = res != nullptr ? res + row * pixels + p : nullptr;
      (is_tail ? tail_kernel : cfg.kernel)(std::min(cfg.mr, m - row), is_tail ? tail_cols : nr, kc,
                                           packed_a + m_padded * k0 + row * kc, tile_b + k0 * ldb, ldb,
                                           c + row * pixels + p, pixels, k0 > 0, k0 + kc == k ? &ep : nullptr);
    };
    // Row panels outside, K blocks, tiles inside: each kc x mr block of A (the weights: 0.2 MiB
    // for 576 -> 96, read from L3 when the layer starts) serves every tile from L1, and each
    // panel's C tiles (mr x pixels) stay in L1 between K blocks. Measured 0.95-0.97x the time of
    // tiles outside, panels inside (MobileNetV2's 14x14 projections, per-step minima, Zen 4); a
    // software prefetch of the next A block, a slice per tile, measured the same as none.
    for (size_t row = 0; row < m; row += cfg.mr) {
      for (size_t k0 = 0; k0 < k; k0 += blocks.step) {
        const size_t kc = std::min(blocks.step, k - k0);
        for (size_t tile = 0; tile < tiles; tile++) call(row, k0, kc, tile);
      }
    }
  }
  return true;
}

}  // namespace

bool run_pointwise_few_outputs(const GemmConfig& cfg, const float* packed_a, size_t m, size_t k, size_t batch,
                               size_t pixels, const float* input, float* output, const float* bias,
                               const float* residual, const Activation& activation) {
  if (!in_place.on() || m == 0 || k == 0) return false;
  if (pixels < kFewOutputsMinPixelsOneThread) {
    return run_small_map(cfg, packed_a, m, k, batch, pixels, input, output, bias, residual, activation);
  }
  if (m > kMaxPanels * cfg.mr || k > cfg.kc_max) return false;
  // An input from memory (batch 8) read as k plane-strided streams lost to the packed GEMM, even
  // prefetched, once k was large: 96 -> 24 and 144 -> 24 @56 at batch 8 1.12-1.22x its time,
  // 32 -> 16 @112 0.82-0.95x (1 thread, CPU time, Zen 4, load ~20).
  if (batch * k * pixels > kInPlaceMaxFloats && k > kManyStreams) return false;
  // One K block: pack_a's layout is then panel after panel, A[kk][row] at panel * mr * k + kk *
  // mr + row % mr.
  if (!packed_a_in_k_blocked_panels(cfg, m, k)) return false;
  const size_t panels = (m + cfg.mr - 1) / cfg.mr;
  const size_t panel_size = cfg.mr * k;
  const size_t nr = cfg.nr;
  const double macs = static_cast<double>(batch) * static_cast<double>(m) * static_cast<double>(pixels) * static_cast<double>(k);
  const size_t threads = ThreadPool::instance().threads_for(macs * kNsPerGemmMac);
  if (pixels < kFewOutputsMinPixels && threads > 1) return false;
  size_t chunk = std::max(nr, kTaskPixels / nr * nr);
  size_t chunks = (pixels + chunk - 1) / chunk;
  // Split: a whole number of equal chunks per thread. Chunks of kTaskPixels leave the threads
  // unequal work where the map is not a multiple of threads x chunk (56x56 is 1024 x 3 + 64
  // pixels: one of 2 threads got 2048, the other 1088, and idled for the difference at the join).
  // Chunks stay whole tiles, so each output is computed by the same kernel call as on one thread.
  if (threads > 1 && batch % threads != 0) {
    chunks = (chunks + threads - 1) / threads * threads;
    chunk = ((pixels + chunks - 1) / chunks + nr - 1) / nr * nr;
    chunks = (pixels + chunk - 1) / chunk;
  }
  auto run_task = [&](size_t task) {
    const size_t n = task / chunks;
    const size_t p0 = (task % chunks) * chunk;
    const size_t p1 = std::min(pixels, p0 + chunk);
    const float* b = input + n * k * pixels;
    float* c = output + n * m * pixels;
    const float* res = residual != nullptr ? residual + n * m * pixels : nullptr;
    Epilogue ep;
    ep.residual_stride = pixels;
    ep.activation = activation;
    // Every panel over one tile of B before the next tile: the second panel reads the tile's
    // k x nr floats from L1.
    auto tile = [&](size_t p, size_t cols, const float* tile_b, size_t ldb) {
      for (size_t panel = 0; panel < panels; panel++) {
        const size_t row = panel * cfg.mr;
        ep.bias = bias != nullptr ? bias + row : nullptr;
        ep.residual = res != nullptr ? res + row * pixels + p : nullptr;
        cfg.kernel(std::min(cfg.mr, m - row), cols, k, packed_a + panel * panel_size, tile_b, ldb, c + row * pixels + p,
                   pixels, false, &ep);
      }
    };
    size_t p = p0;
    for (; p + nr <= p1; p += nr) {
      // The k rows' columns kPrefetchTiles tiles on: k streams a plane apart are more than the
      // hardware prefetcher follows (batch 8, input from memory: 1.1-1.7x the packed GEMM's time
      // without this).
      if (p + (kPrefetchTiles + 1) * nr <= pixels) {
        const float* ahead = b + p + kPrefetchTiles * nr;
        for (size_t kk = 0; kk < k; kk++) __builtin_prefetch(ahead + kk * pixels, 0, 3);
      }
      tile(p, nr, b + p, pixels);
    }
    if (p < p1) {  // the image's last pixels: a zero-padded k x nr copy
      const size_t cols = p1 - p;
      std::vector<float> tail(k * nr, 0.0f);
      for (size_t kk = 0; kk < k; kk++) std::memcpy(tail.data() + kk * nr, b + kk * pixels + p, cols * sizeof(float));
      tile(p, cols, tail.data(), nr);
    }
  };
  const size_t tasks = batch * chunks;
  if (threads == 1) {
    for (size_t t = 0; t < tasks; t++) run_task(t);
  } else {
    ThreadPool::instance().parallel_for(tasks, run_task);
  }
  return true;
}

}  // namespace convnode
