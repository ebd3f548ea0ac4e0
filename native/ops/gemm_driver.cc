#include "gemm_driver.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "../kernels/f32-gemm/gemm.h"
#include "../runtime/env_switch.h"
#include "../runtime/scratch.h"
#include "task_split.h"

namespace convnode {

namespace {

size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }
size_t div_up(size_t v, size_t m) { return (v + m - 1) / m; }

// The 1x1 path (contiguous B rows) packs B a few micro-panels at a time, about kRowsPackBytes.
// Each input row visited is a channel plane from the last (a page, a TLB miss), so a block
// should read a few cache lines per row; yet a small block stays in L1 for the kernels. One
// 16 KiB panel, 24, 48 and 96 KiB were measured: 48 KiB was best overall (1x1 144->24 @56 batch
// 1, 1 thread: 0.257, 0.264, 0.254, 0.259 ms; a 240-pixel block packed up front: 0.245-0.248,
// the one layer tried where small blocks lose at batch 1).
constexpr size_t kRowsPackBytes = 48 * 1024;
// ... but only while the weights the kernels sweep for each block stay in L2: every block reads
// all of them again, so a layer with large weights keeps the 240-pixel blocks (1x1 960->320 @7
// batch 8, 1.2 MB of weights: ~3% slower with small blocks).
constexpr size_t kRowsPackMaxWeightBytes = 256 * 1024;
// How many such blocks ahead its input rows are prefetched. Each block's kernels take
// microseconds, so two cover the memory latency (1x1 256->64 @56 batch 8: 2, 3 and 4 ahead
// within noise of each other).
constexpr size_t kBlocksAhead = 2;
// 1x1 convs with at most this many input channels, on ISAs with a sweep kernel
// (GemmConfig::sweep), run each 6-row A panel across kSweepTiles tiles in one call instead of a
// call per tile: with K = 16 a tile is ~100 cycles of FMAs, and the per-call work (epilogue set-up,
// prefetch slicing, the call) was about half that again. Only K <= 32 was measured.
constexpr size_t kSweepMaxK = 32;
// Tiles per sweep call. Whole 240-pixel blocks per call with the row panels outermost were best
// on 1 thread (1x1 16->96 @112 batch 8: 7.6 -> 4.6 ms, 6 write streams instead of 96) but slower
// than before on 2 threads (batch 1 0.34-0.37 -> 0.55-1.8 ms: both threads in the same rows at
// once); 64-pixel pieces with the row panels inside are better than before on both (16->96 @112
// batch 1, 2 threads: 2 tiles 0.34-0.57 ms, 4 tiles 0.37-0.40, 6 tiles 0.34-0.44; 1 thread
// 0.64, 0.54, 0.52-0.55).
constexpr size_t kSweepTiles = 4;

constexpr size_t kColumnsMaxOffset = size_t{1} << 31;

// CONVNODE_PREFETCH_TILES (read once) prefetches the output rows a tile stores (and the residual
// rows it adds) while the tiles before it run: N tiles ahead, or "auto" for max(1,
// kPrefetchKSteps / kc) ahead (a tile is ~16 cycles per k step, so ~4k cycles of kernel work).
// Why: the kernel's own prefetch at its start covers only its FMA loop, which with K = 64
// (ResNet-50's 1x1 64->256 @56, closing each block with the residual) is ~1k cycles, less than
// a miss to memory on a loaded machine; perf put ~18% of that tile's samples on its epilogue's
// residual loads. With "auto" that share went 31% -> 26% of the tile's samples, but ResNet-50
// and -18 whole-model A/Bs (bench/model-ab.mjs, load 20-25) moved within the noise (two copies
// of one build differed by 2.7% there), so it is off by default until timed on a quiet machine.
constexpr size_t kPrefetchKSteps = 256;

// Runs inside pool tasks: env_switch.h says why the cache is an atomic.
size_t prefetch_tiles_ahead(size_t kc) {
  constexpr long kAuto = 1L << 30;
  static std::atomic<long> setting{kEnvUnread};  // 0: off; kAuto: auto; else N tiles
  const long tiles = read_env_once(setting, "CONVNODE_PREFETCH_TILES", [](const char* v) -> long {
    if (v == nullptr || *v == 0) return 0;
    if (std::strcmp(v, "auto") == 0) return kAuto;
    return static_cast<long>(std::min<unsigned long>(std::strtoul(v, nullptr, 10), kAuto - 1));
  });
  return tiles == kAuto ? std::max<size_t>(1, kPrefetchKSteps / kc) : static_cast<size_t>(tiles);
}

// Requests the rows of one tile: mr rows ldc apart, nr floats each (write intent), and the same
// rows of the residual (read), into L2 (T1, as prefetch_rows: the lines are stored a few tiles
// later, and in L1 they would evict the panels the kernel reads).
void prefetch_tile_rows(float* c, size_t ldc, const float* residual, size_t residual_stride, size_t mr, size_t nr) {
  const size_t row_bytes = nr * sizeof(float);
  for (size_t i = 0; i < mr; i++) {
    const char* row = reinterpret_cast<const char*>(c + i * ldc);
    for (size_t byte = 0; byte < row_bytes; byte += 64) __builtin_prefetch(row + byte, 1, 2);
    __builtin_prefetch(row + row_bytes - 1, 1, 2);  // an unaligned row's last line
  }
  if (residual == nullptr) return;
  for (size_t i = 0; i < mr; i++) {
    const char* row = reinterpret_cast<const char*>(residual + i * residual_stride);
    for (size_t byte = 0; byte < row_bytes; byte += 64) __builtin_prefetch(row + byte, 0, 2);
    __builtin_prefetch(row + row_bytes - 1, 0, 2);
  }
}

size_t rows_block_cols(const GemmConfig& cfg, size_t kc) {
  const size_t panels = std::max<size_t>(1, kRowsPackBytes / (kc * cfg.nr * sizeof(float)));
  return std::min(panels * cfg.nr, round_up(cfg.nc, cfg.nr));
}

// Prefetches row_bytes of each row in [k_begin, k_end) of rows k_stride apart, with the T1 hint
// (towards L2): into L1 the lines would evict the panel the kernels are reading (T0 measured ~3%
// slower).
void prefetch_rows(const float* rows, size_t k_stride, size_t row_bytes, size_t k_begin, size_t k_end) {
  for (size_t k = k_begin; k < k_end; k++) {
    const char* row = reinterpret_cast<const char*>(rows + k * k_stride);
    for (size_t byte = 0; byte < row_bytes; byte += 64) __builtin_prefetch(row + byte, 0, 2);
  }
}

// The epilogue of the tile at row m, column col: bias and residual moved to it.
Epilogue tile_epilogue(const Epilogue& whole, size_t m, size_t col) {
  Epilogue ep;
  ep.activation = whole.activation;
  ep.bias = whole.bias != nullptr ? whole.bias + m : nullptr;
  ep.residual_stride = whole.residual_stride;
  ep.residual = whole.residual != nullptr ? whole.residual + m * whole.residual_stride + col : nullptr;
  return ep;
}

}  // namespace

size_t packed_a_size(const GemmConfig& cfg, size_t m, size_t k) { return round_up(m, cfg.mr) * k; }

void pack_a(const GemmConfig& cfg, size_t m, size_t k, const float* src, float* dst) {
  const KBlocks blocks(k, cfg.kc_max);
  const size_t m_padded = round_up(m, cfg.mr);
  for (size_t k0 = 0; k0 < k; k0 += blocks.step) {
    const size_t kc = std::min(blocks.step, k - k0);
    (cfg.pack_a != nullptr ? cfg.pack_a : f32_gemm_pack_a)(cfg.mr, m, k0, kc, src, k, dst + m_padded * k0);
  }
}

size_t packed_a_index(const GemmConfig& cfg, size_t m, size_t k, size_t row, size_t col) {
  const KBlocks blocks(k, cfg.kc_max);
  const size_t k0 = col / blocks.step * blocks.step;
  const size_t kc = std::min(blocks.step, k - k0);
  return round_up(m, cfg.mr) * k0 + (row / cfg.mr) * cfg.mr * kc + (col - k0) * cfg.mr + row % cfg.mr;
}

GemmMicrokernel edge_tile_kernel(const GemmConfig& cfg, size_t cols, bool columns_fit) {
  if (cfg.columns != nullptr && columns_fit && cols < cfg.nr && cols <= cfg.columns_max) return cfg.columns;
  return cfg.narrow != nullptr && cols <= cfg.nr / 2 ? cfg.narrow : cfg.kernel;
}

bool packed_a_in_k_blocked_panels(const GemmConfig& cfg, size_t m, size_t k) {
  const KBlocks blocks(k, cfg.kc_max);
  const size_t last_k0 = (blocks.count() - 1) * blocks.step;
  return packed_a_index(cfg, m, k, m - 1, k - 1) == round_up(m, cfg.mr) * last_k0 +
                                                       (m - 1) / cfg.mr * cfg.mr * (k - last_k0) +
                                                       (k - 1 - last_k0) * cfg.mr + (m - 1) % cfg.mr;
}

void gemm_block(const GemmBlock& g, size_t m0, size_t m1, size_t n0, size_t n1) {
  const GemmConfig& cfg = *g.cfg;
  const KBlocks blocks(g.k, cfg.kc_max);
  const size_t m_padded = round_up(g.m, cfg.mr);
  float* const pack_to =
      g.b.packed != nullptr ? nullptr : scratch_floats(ScratchSlot::PackedB, blocks.step * round_up(cfg.nc, cfg.nr));
  const float* packed_b = pack_to;
  // Contiguous rows (1x1 convs) are packed a small block at a time (see kRowsPackBytes), and the
  // rows of the block kBlocksAhead further on are prefetched a slice after each kernel call: the
  // copy then writes to L1 and its reads were requested microseconds of kernel time earlier.
  // Packing a 240-pixel block first stalled on memory when the input was not in cache (rows a
  // channel plane apart are too many streams for the hardware prefetcher): on 1x1 256->64 @56 at
  // batch 8 (26 MB of input) packing was a quarter of the time. Prefetching the next 240-pixel
  // block while the kernels ran cost the kernels about what it saved the packing, and a block's
  // prefetches all at once, before or after its copy, were 4-9% slower than slices.
  const bool contiguous_rows = g.b.im2col == nullptr && g.b.n_stride == 1;
  const size_t a_bytes = round_up(m1 - m0, cfg.mr) * g.k * sizeof(float);
  const size_t nc_step =
      contiguous_rows && a_bytes <= kRowsPackMaxWeightBytes ? rows_block_cols(cfg, blocks.step) : cfg.nc;
  const bool sweep = contiguous_rows && g.k <= kSweepMaxK && cfg.sweep != nullptr;
  // The column kernel addresses a column's rows with 32-bit offsets (gather / scatter).
  const bool columns_fit = g.ldc * cfg.mr < kColumnsMaxOffset &&
                           g.epilogue.residual_stride * cfg.mr < kColumnsMaxOffset;
  for (size_t nb = n0; nb < n1; nb += nc_step) {
    const size_t nc = std::min(nc_step, n1 - nb);
    for (size_t k0 = 0; k0 < g.k; k0 += blocks.step) {
      const size_t kc = std::min(blocks.step, g.k - k0);
      const bool last = k0 + kc == g.k;
      const float* prefetch = nullptr;  // rows of a later block, on the 1x1 path
      size_t prefetch_bytes = 0;
      if (g.b.packed != nullptr) {
        // nb is a multiple of NR (task and block cuts are): its panel in this K block.
        packed_b = g.b.packed + round_up(g.n, cfg.nr) * k0 + nb * kc;
      } else if (g.b.im2col != nullptr) {
        (cfg.im2col != nullptr ? cfg.im2col : f32_im2col_pack)(cfg.nr, *g.b.im2col, g.b.im2col_input, k0, kc, nb, nc,
                                                                pack_to);
      } else if (contiguous_rows) {
        const float* rows = g.b.strided + k0 * g.b.k_stride;
        f32_gemm_pack_b_rows(cfg.nr, kc, nc, rows + nb, g.b.k_stride, pack_to);
        const size_t ahead = nb + kBlocksAhead * nc_step;
        if (ahead < g.n) {
          prefetch = rows + ahead;
          prefetch_bytes = std::min(nc_step, g.n - ahead) * sizeof(float);
        }
      } else {
        f32_gemm_pack_b(cfg.nr, kc, nc, g.b.strided + k0 * g.b.k_stride + nb * g.b.n_stride, g.b.k_stride,
                        g.b.n_stride, pack_to);
      }
      // The prefetch rows are cut into one slice per kernel call (a division per block, not per
      // call: small layers' kernel calls are a few hundred cycles).
      const size_t slice = div_up(kc, div_up(nc, cfg.nr) * div_up(m1 - m0, cfg.mr));
      size_t sliced = 0;
      const float* a_block = g.packed_a + m_padded * k0;
      if (sweep) {
        // Pieces of kSweepTiles tiles, each swept by every row panel in turn.
        const size_t piece_cols = kSweepTiles * cfg.nr;
        const size_t sweep_slice = div_up(kc, div_up(m1 - m0, cfg.mr) * div_up(nc, piece_cols));
        for (size_t j = 0; j < nc; j += piece_cols) {
          for (size_t m = m0; m < m1; m += cfg.mr) {
            const Epilogue ep = last ? tile_epilogue(g.epilogue, m, nb + j) : Epilogue();
            cfg.sweep(std::min(cfg.mr, m1 - m), std::min(piece_cols, nc - j), kc,
                      a_block + (m / cfg.mr) * cfg.mr * kc, packed_b + (j / cfg.nr) * kc * cfg.nr,
                      g.c + m * g.ldc + nb + j, g.ldc, k0 > 0, last ? &ep : nullptr);
            if (prefetch != nullptr && sliced < kc) {
              prefetch_rows(prefetch, g.b.k_stride, prefetch_bytes, sliced, std::min(kc, sliced + sweep_slice));
              sliced += sweep_slice;
            }
          }
        }
        continue;
      }
      // Row panels outermost, the block's tiles across: each of a panel's MR output rows (and
      // residual rows) is then written (read) left to right, a few lines after the last, as
      // MR sequential streams the hardware prefetcher follows. Tile after tile down a column of
      // tiles instead (B panel kept in L1, A panels streamed from L2: the same L2 traffic), every
      // tile touched MR rows a channel plane from the last tile's, all M rows of C in flight at
      // once. Measured on Zen 4, 1 thread, CPU time: 1x1 64->256 @56 with a residual 1.21 vs
      // 1.33 ms, 7x7/2 3->64 @224 2.87 vs 3.29 ms, 3x3 64->64 @56 2.37 vs 2.48 ms; layers whose
      // output fits in L2 within noise (native/README.md).
      // Tiles are numbered in walk order (row panel, then column); after tile t runs, the rows
      // of tile t + tiles_ahead are prefetched, and the first tiles_ahead before any runs.
      const size_t tiles_per_panel = div_up(nc, cfg.nr);
      const size_t tiles_in_block = tiles_per_panel * div_up(m1 - m0, cfg.mr);
      const size_t tiles_ahead = std::min(prefetch_tiles_ahead(kc), tiles_in_block);
      const float* residual_rows = last ? g.epilogue.residual : nullptr;
      const auto prefetch_tile = [&](size_t t) {
        if (t >= tiles_in_block) return;
        const size_t tm = m0 + t / tiles_per_panel * cfg.mr, tj = t % tiles_per_panel * cfg.nr;
        const size_t col = nb + tj;
        prefetch_tile_rows(g.c + tm * g.ldc + col, g.ldc,
                           residual_rows != nullptr ? residual_rows + tm * g.epilogue.residual_stride + col : nullptr,
                           g.epilogue.residual_stride, std::min(cfg.mr, m1 - tm), std::min(cfg.nr, nc - tj));
      };
      for (size_t t = 0; t < tiles_ahead; t++) prefetch_tile(t);
      size_t tile = 0;
      for (size_t m = m0; m < m1; m += cfg.mr) {
        const size_t mr = std::min(cfg.mr, m1 - m);
        const float* a_panel = a_block + (m / cfg.mr) * cfg.mr * kc;
        for (size_t j = 0; j < nc; j += cfg.nr) {
          const size_t nr = std::min(cfg.nr, nc - j);
          const float* b = packed_b + (j / cfg.nr) * kc * cfg.nr;
          const GemmMicrokernel kernel = edge_tile_kernel(cfg, nr, columns_fit);
          const size_t col = nb + j;
          const Epilogue ep = last ? tile_epilogue(g.epilogue, m, col) : Epilogue();
          kernel(mr, nr, kc, a_panel, b, cfg.nr, g.c + m * g.ldc + col, g.ldc, k0 > 0, last ? &ep : nullptr);
          if (tiles_ahead > 0) prefetch_tile(tile + tiles_ahead);
          tile++;
          if (prefetch != nullptr && sliced < kc) {
            prefetch_rows(prefetch, g.b.k_stride, prefetch_bytes, sliced, std::min(kc, sliced + slice));
            sliced += slice;
          }
        }
      }
    }
  }
}

namespace {

// CONVNODE_GEMM_SPLIT=rows (read once): at batch 1 on small maps, split the output rows rather
// than the pixel columns (below). Off by default until timed on a quiet machine.
// split_gemm may run inside pool tasks: env_switch.h says why the cache is an atomic.
bool rows_first_on_small_maps() {
  static std::atomic<long> rows{kEnvUnread};
  return env_equals_once(rows, "CONVNODE_GEMM_SPLIT", "rows");
}

// CONVNODE_GEMM_BALANCE=0 (read once) keeps the pixel-block cut below as it is, for an A/B of the
// balanced cut (task_split.h).
EnvSwitch balance_few_tasks("CONVNODE_GEMM_BALANCE");

}  // namespace

GemmSplit split_gemm(const GemmConfig& cfg, size_t independent, size_t m, size_t n, size_t threads, size_t k) {
  GemmSplit s;
  const size_t n_tiles = div_up(n, cfg.nr);
  const size_t m_panels_all = div_up(m, cfg.mr);
  // A 7x7 map is 4 column tiles of 16 (the last holds 1 pixel): cut by columns over 2 threads,
  // one thread gets 32 pixels and the other 17 (a 1.5x ceiling), and every task streams all of
  // the weights (A), which at 7x7 are far larger than the pixels' columns (B). Cut by rows, the
  // tasks are equal and each reads its own slice of A; what is repeated is packing B (K x 49),
  // ~5% of a task's multiply-adds for 3x3 512->512 @7.
  const size_t wanted_tasks = threads > 1 ? 2 * threads : 1;
  if (rows_first_on_small_maps() && threads > 1 && independent < wanted_tasks && n_tiles < 2 * wanted_tasks &&
      m_panels_all >= wanted_tasks) {
    const size_t m_chunks = std::min(m_panels_all, div_up(wanted_tasks, independent));
    const size_t panels_per_chunk = div_up(m_panels_all, m_chunks);
    s.n_chunk = n_tiles * cfg.nr;
    s.n_chunks = 1;
    s.m_chunk = panels_per_chunk * cfg.mr;
    s.m_chunks = div_up(m_panels_all, panels_per_chunk);
    return s;
  }
  size_t chunk_tiles = std::max<size_t>(1, cfg.nc / cfg.nr);
  size_t chunks = div_up(n_tiles, chunk_tiles);
  // Aim for at least two tasks per thread so a batch of one keeps every thread busy. One thread
  // needs no split: cutting the pixels in two made each half stream all of A (the weights), and
  // in ResNet-18, whose weights are never in cache, 3x3 512->512 @7 went 3.3 -> 3.0 ms unsplit.
  const size_t wanted = threads > 1 ? 2 * threads : 1;
  if (independent * chunks < wanted) {
    chunks = std::min(n_tiles, div_up(wanted, independent));
    chunk_tiles = div_up(n_tiles, chunks);
    chunks = div_up(n_tiles, chunk_tiles);
  }
  s.n_chunk = chunk_tiles * cfg.nr;
  s.n_chunks = chunks;
  const size_t m_panels = div_up(m, cfg.mr);
  size_t m_chunks = 1;
  if (independent * chunks < wanted) m_chunks = std::min(m_panels, div_up(wanted, independent * chunks));
  const size_t panels_per_chunk = div_up(m_panels, m_chunks);
  s.m_chunk = panels_per_chunk * cfg.mr;
  s.m_chunks = div_up(m_panels, panels_per_chunk);
  // Few tasks (small maps at batch 1) are rarely equal: rebalanced over rows and columns. With
  // 4 x threads tasks or more, the pixel blocks are evened out (the last one is no longer a
  // sliver). Past 4 threads the search (cuts x tasks x threads) costs more than a small layer's
  // imbalance.
  if (k > 0 && threads >= 2 && threads <= 4 && balance_few_tasks.on()) {
    const GemmGridShape shape = {independent, m, cfg.mr, n, cfg.nr, k};
    const GemmGridCut current = {s.n_chunk / cfg.nr, s.m_chunk / cfg.mr};
    const GemmGridCut cut = gemm_cut_for(shape, threads, current);
    s.n_chunk = cut.col_chunk_tiles * cfg.nr;
    s.n_chunks = div_up(n, s.n_chunk);
    s.m_chunk = cut.row_chunk_panels * cfg.mr;
    s.m_chunks = div_up(m, s.m_chunk);
  }
  return s;
}

}  // namespace convnode
