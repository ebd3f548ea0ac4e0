#include "winograd.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#if defined(__linux__) && !defined(__EMSCRIPTEN__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "../kernels/f32-winograd/winograd-transforms.h"
#include "../runtime/env_switch.h"
#include "../runtime/scratch.h"
#include "../runtime/thread_pool.h"
#include "gemm_driver.h"

namespace convnode {

namespace {

size_t div_up(size_t v, size_t m) { return (v + m - 1) / m; }

// Tiles per task: the transformed input of a chunk (16 x Cin x tiles floats) should stay within
// about kChunkBytes so the GEMMs find it in L2.
constexpr size_t kChunkBytes = 256 * 1024;
constexpr size_t kPointPad = 16;

// A last panel of at most this many tiles is multiplied column by column with the GEMV kernel:
// a micro-kernel call costs the same for 1 column as for NR (or NR / 2 with the narrow one). A
// 14x14 map has 49 tiles = 3 x 16 + 1: the 6x8 kernel on that one tile took 15% of a
// 256->256 @14 run.
constexpr size_t kGemvColumns = 2;

// Only where the table's GEMV is vectorised: the portable one (the scalar and NEON tables) took
// 0.83 ms for the one remaining tile of a 256->256 @14 run on the scalar table, 18% of the run,
// where the 4x8 kernel's pass over 8 columns costs less (4.41 vs 4.61 ms a run).
size_t gemv_columns_max(const GemmConfig& gc) { return gc.gemv != f32_gemv_general__scalar ? kGemvColumns : 0; }

// c[row * ldc + col] = (A b)[row][col] for the first `cols` columns of one B panel (NR wide,
// k rows): each column is copied out contiguous, then one GEMV per MR-row panel of A.
void gemv_columns(const GemmConfig& gc, size_t m, size_t k, const float* a, const float* b, size_t cols, float* c,
                  size_t ldc) {
  float* x = scratch_floats(ScratchSlot::Transpose, k);
  for (size_t col = 0; col < cols; col++) {
    for (size_t i = 0; i < k; i++) x[i] = b[i * gc.nr + col];
    for (size_t row = 0; row < m; row += gc.mr) {
      float acc[16] = {};  // mr <= 16 in every table
      gc.gemv(gc.mr, k, a + row * k, x, acc);
      for (size_t i = 0; i < std::min(gc.mr, m - row); i++) c[(row + i) * ldc + col] = acc[i];
    }
  }
}

// How a run is cut into pool tasks: each image's tiles into chunks, and each chunk's output
// channels into parts when the chunks alone give the threads fewer than two tasks each. Chunks
// are whole NR-tile panels of the image's tiles (the last panel may be partial), the panels
// shared out evenly: so every chunk starts on the image's own panel grid, and each tile meets the
// same kernel (full, narrow, column or GEMV tile, whose sums differ in their last bits) whatever
// the thread count. Cut anywhere (smaller chunks for more threads: 131 tiles on 3 threads), F(2x2)
// 16->48 @56 gave 0.8% of its outputs (a 3-tile panel's, through the column kernel's 2
// accumulator sets) other bits than on 1 thread.
struct WinogradSplit {
  size_t chunks;  // per image
  size_t panels;  // NR-tile panels per image
  size_t nr;
  size_t nt;      // tiles of the largest chunk: buffer strides
  size_t parts;   // output channel ranges per chunk
  size_t begin(size_t c) const { return c * panels / chunks * nr; }  // chunk c's first tile
  size_t end(size_t c, size_t tiles) const { return std::min(tiles, (c + 1) * panels / chunks * nr); }
};

// Parts of at least this many output channels, in whole MR-row blocks (4 of avx2's 6 rows, 2 of
// avx512's 16: 512 channels still make 16 parts for 16 threads). A part per thread streams only
// its share of U, at the price of transforming the chunk's input once per part (~3-5% of these
// layers); cutting the tiles into smaller chunks instead had every task stream all of U,
// through the narrow kernel. On 2 threads, batch 1: 512->512 @7 (16 tiles) 0.980 -> 0.795 ms with 2 parts (0.919
// with 4), 256->256 @14 (49 tiles: 16 + 16 + 17) 0.696 -> 0.633 ms with 2 parts.
constexpr size_t kMinPartRows = 24;

WinogradSplit split_run(size_t points, size_t in_channels, size_t out_channels, size_t mr, size_t nr,
                        size_t gemv_columns, size_t tiles, size_t batch, size_t threads) {
  size_t chunk = kChunkBytes / (points * in_channels * sizeof(float));
  chunk = std::min(tiles, std::max<size_t>(16, chunk / 16 * 16));  // 16: a multiple of every table's NR
  size_t chunks = div_up(tiles, chunk), parts = 1;
  // A batch of one still gives every thread two tasks: by output-channel parts (one per
  // thread), or else by smaller chunks.
  const size_t wanted = threads > 1 ? 2 * threads : 1;
  const size_t row_blocks = div_up(out_channels, mr);
  const size_t min_part_blocks = div_up(kMinPartRows, mr);
  // A remainder chunk of GEMV size will join the last one: count whole chunks only.
  const size_t whole = std::max<size_t>(1, tiles % chunk != 0 && tiles % chunk <= gemv_columns ? chunks - 1 : chunks);
  if (batch * whole < wanted && row_blocks >= 2 * min_part_blocks) {
    parts = std::min(threads, row_blocks / min_part_blocks);
  }
  if (parts == 1 && batch * chunks < wanted) chunks = div_up(wanted, batch);  // (then never joined below)
  // A remainder of a GEMV's worth of tiles joins the last whole chunk, whose pass over U then
  // covers it with U still in cache (49 tiles: 16 + 16 + 17, not 16 + 16 + 16 + 1), unless the
  // threads need that task (256->256 @14 on 2 threads: 0.773 ms in 3 tasks, 0.693 in 4).
  if (chunks > 1 && tiles % chunk != 0 && tiles % chunk <= gemv_columns &&
      (threads == 1 || batch * (chunks - 1) * parts >= wanted)) {
    chunks--;
  }
  // No chunk without a panel (a 7x7 map on 8 threads: 49 tiles, 4 panels).
  const size_t panels = div_up(tiles, nr);
  chunks = std::min(chunks, panels);
  return {chunks, panels, nr, std::min(tiles, div_up(panels, chunks) * nr), parts};
}

// Rows [begin, end) of a plane (input rows read by a chunk's tiles, or output rows written).
struct InputRows {
  size_t begin, end;
};

InputRows input_rows(const WinogradPlane& g, size_t tile, size_t t0, size_t count) {
  const long first = static_cast<long>(tile * (t0 / g.tiles_w)) - static_cast<long>(g.pad_top);
  const long last = static_cast<long>(tile * ((t0 + count - 1) / g.tiles_w) + tile + 1) - static_cast<long>(g.pad_top);
  const long h = static_cast<long>(g.in_h);
  return {static_cast<size_t>(std::clamp<long>(first, 0, h)), static_cast<size_t>(std::clamp<long>(last + 1, 0, h))};
}

constexpr size_t kPrefetchAhead = 2;  // channels

// CONVNODE_WINOGRAD_PREFETCH=0: the K-blocked point GEMMs run the table's main GEMM tile instead
// of its f32-winograd-gemm tile (avx512: f32_winograd_gemm_16x16__avx512), which requests U
// kUPrefetchFloats ahead from its k loop.
// CONVNODE_WINOGRAD_HUGE_PAGES=0: packed U stays on the pages the allocator gave it. Read once
// (env_switch.h: why the cache is an atomic).
// (The huge pages one goes unused off Linux.)
EnvSwitch prefetch_switch("CONVNODE_WINOGRAD_PREFETCH");
[[maybe_unused]] EnvSwitch huge_pages_switch("CONVNODE_WINOGRAD_HUGE_PAGES");

// How far ahead of the A row a k step reads the prefetching tile requests U: 64 lines (4 KiB).
// A simulation of 512->512 @7's point GEMMs (16 x 3 K blocks x 32 panels, U 16.8 MB written
// out of cache before each run; AMD EPYC Zen 4, 1 thread, minima of 30 runs) took 1.34 ms with
// the hardware prefetcher alone, 1.25-1.27 / 1.21-1.27 / 1.21-1.30 ms requesting 32 / 64 / 128
// lines ahead on 4 KiB pages, and 1.20 / 1.16 / 1.18 ms on 2 MiB pages; U in L2 (compute
// bound): 1.15 ms.
constexpr size_t kUPrefetchFloats = 64 * 16;

// U of a layer is megabytes read once per run in address order: on 4 KiB pages that is a TLB
// miss every 64 lines (512->512: 4,100 pages, more than the L2 TLB's 3,072 entries), and the
// requests ahead cross page boundaries. The whole 2 MiB pages inside it are asked to become
// huge pages (MADV_COLLAPSE, Linux 6.1+, works whatever the THP setting short of 'never';
// older kernels refuse it and nothing changes). See kUPrefetchFloats for the effect.
void prefer_huge_pages(float* data, size_t floats) {
#if defined(__linux__) && !defined(__EMSCRIPTEN__)
  if (!huge_pages_switch.on()) return;
  constexpr uintptr_t kHuge = 2u << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(data + floats) & ~(kHuge - 1);
  if (end <= begin) return;
#ifndef MADV_COLLAPSE
  constexpr int MADV_COLLAPSE = 25;
#endif
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_COLLAPSE);
#else
  (void)data;
  (void)floats;
#endif
}

void prefetch_rows(const float* plane, const InputRows& rows, size_t width, bool for_write = false) {
  const char* begin = reinterpret_cast<const char*>(plane + rows.begin * width);
  const char* end = reinterpret_cast<const char*>(plane + rows.end * width);
  for (const char* line = begin; line < end; line += 64) {
    if (for_write) {
      __builtin_prefetch(line, 1);
    } else {
      __builtin_prefetch(line);
    }
  }
}

}  // namespace

size_t winograd_points(WinogradTile tile) {
  return tile == WinogradTile::F6x6 ? kWinograd6x6Points
         : tile == WinogradTile::F4x4 ? kWinograd4x4Points
                                      : kWinogradPoints;
}

bool winograd_applies(size_t kernel_h, size_t kernel_w, size_t stride_h, size_t stride_w, size_t dilation_h,
                      size_t dilation_w, size_t groups) {
  return kernel_h == 3 && kernel_w == 3 && stride_h == 1 && stride_w == 1 && dilation_h == 1 && dilation_w == 1 &&
         groups == 1;
}

size_t winograd_packed_size(const GemmConfig& cfg, WinogradTile tile, size_t out_channels, size_t in_channels) {
  return winograd_points(tile) * packed_a_size(cfg, out_channels, in_channels);
}

void winograd_pack(const GemmConfig& cfg, WinogradTile tile, size_t out_channels, size_t in_channels,
                   const float* weight, float* dst) {
  const size_t points = winograd_points(tile);
  std::vector<float> u(points * out_channels * in_channels);  // [point][cout][cin]
  float point_values[kWinograd6x6Points];
  for (size_t co = 0; co < out_channels; co++) {
    for (size_t ci = 0; ci < in_channels; ci++) {
      const float* filter = weight + (co * in_channels + ci) * 9;
      if (tile == WinogradTile::F6x6) {
        f32_winograd_6x6_filter(filter, point_values);
      } else if (tile == WinogradTile::F4x4) {
        f32_winograd_4x4_filter(filter, point_values);
      } else {
        f32_winograd_2x2_filter(filter, point_values);
      }
      for (size_t p = 0; p < points; p++) u[(p * out_channels + co) * in_channels + ci] = point_values[p];
    }
  }
  const size_t point_size = packed_a_size(cfg, out_channels, in_channels);
  for (size_t p = 0; p < points; p++) {
    pack_a(cfg, out_channels, in_channels, u.data() + p * out_channels * in_channels, dst + p * point_size);
  }
  prefer_huge_pages(dst, points * point_size);
}

namespace {

// The tile that runs the point GEMMs' full MR x NR tiles: the table's U-prefetching one where it
// has one (f32-winograd-gemm; the avx512 table's f32_winograd_gemm_16x16__avx512), else none
// (null: gemm.kernel runs them).
WinogradGemmKernel prefetching_tile(const KernelConfig& config) {
  if (config.winograd_gemm == nullptr || !prefetch_switch.on()) return nullptr;
  return config.winograd_gemm;
}

// The point GEMMs M[p] = U[p] V[p] when Cin takes several K blocks (ResNet's 256 and 512
// channels on avx512), rows [co0, co1): point, K block, row panel, then the chunk's column
// panels. Each point's U is pack_a's layout, K block after K block, so with every row panel
// (one thread) this walk reads all of U once, in address order, a 16.8 MB stream on 512->512
// @7 whose rows each feed only one 16-tile panel: that stream, not the FMAs, set the pace
// (~11 GB/s), and the avx512 tile that requests U ahead (f32_winograd_gemm_16x16__avx512) runs
// the full tiles. Later K blocks accumulate into M.
void k_blocked_point_gemms(const KernelConfig& config, const float* packed, size_t point_size, size_t points, size_t cin,
                           size_t cout, size_t co0, size_t co1, const float* v, size_t v_stride, size_t nt_panels,
                           size_t count, float* m, size_t m_stride, size_t ldm) {
  const GemmConfig& gc = config.gemm;
  const KBlocks k_blocks(cin, gc.kc_max);
  const size_t nr = gc.nr, m_padded = div_up(cout, gc.mr) * gc.mr;
  const WinogradGemmKernel prefetching = prefetching_tile(config);
  for (size_t p = 0; p < points; p++) {
    for (size_t k0 = 0; k0 < cin; k0 += k_blocks.step) {
      const size_t kc = std::min(k_blocks.step, cin - k0);
      const float* a_block = packed + p * point_size + m_padded * k0;
      const float* b_block = v + p * v_stride + k0 * nt_panels;
      for (size_t row = co0; row < co1; row += gc.mr) {
        const size_t mr = std::min(gc.mr, co1 - row);
        const float* a = a_block + row * kc;
        for (size_t j = 0; j < count; j += nr) {
          const size_t cols = std::min(nr, count - j);
          const float* b = b_block + (j / nr) * kc * nr;
          float* c = m + p * m_stride + row * ldm + j;
          if (prefetching != nullptr && mr == gc.mr && cols == nr) {
            prefetching(kc, a, b, c, ldm, k0 > 0, kUPrefetchFloats);
            continue;
          }
          // Partial panels as the GEMM driver's edge tiles.
          edge_tile_kernel(gc, cols)(mr, cols, kc, a, b, nr, c, ldm, k0 > 0, nullptr);
        }
      }
    }
  }
}

}  // namespace

void winograd_run(const WinogradRun& r, const float* input, float* output, const float* residual) {
  const Window& w = r.window;
  const KernelConfig& config = *r.config;
  const size_t tile = static_cast<size_t>(r.tile), points = winograd_points(r.tile);
  const WinogradInputKernel input_kernel = r.tile == WinogradTile::F6x6   ? config.winograd_6x6_input
                                           : r.tile == WinogradTile::F4x4 ? config.winograd_4x4_input
                                                                          : config.winograd_input;
  const WinogradOutputKernel output_kernel = r.tile == WinogradTile::F6x6   ? config.winograd_6x6_output
                                             : r.tile == WinogradTile::F4x4 ? config.winograd_4x4_output
                                                                            : config.winograd_output;
  const WinogradPlane plane = {w.in_h, w.in_w, w.out_h, w.out_w, w.pad_top, w.pad_left, div_up(w.out_w, tile)};
  const size_t tiles = div_up(w.out_h, tile) * plane.tiles_w;
  const size_t cin = r.in_channels, cout = r.out_channels;
  const WinogradSplit split = split_run(points, cin, cout, config.gemm.mr, config.gemm.nr,
                                        gemv_columns_max(config.gemm), tiles, r.batch,
                                        ThreadPool::instance().threads());
  const size_t chunks = split.chunks, nt = split.nt, parts = split.parts;
  const size_t point_size = packed_a_size(config.gemm, cout, cin);
  const size_t in_plane = w.in_h * w.in_w, out_plane = w.out_h * w.out_w;
  // The transforms read or write all the points of a tile at once; points a power of two apart
  // (64 x 64 floats: 16 KiB) fall into the same L1 sets, so each is padded by kPointPad floats.
  // The input transform writes V straight into the micro-kernel's B panels (NR tiles wide), in
  // the K blocks of pack_a's A panels when Cin is larger than one (Cin 256 and 512 on avx512):
  // K block [k0, k0 + kc) holds its panels, kc deep each, from k0 x NR-rounded tiles on. So the
  // GEMMs never pack B.
  const GemmConfig& gc = config.gemm;
  const KBlocks k_blocks(cin, gc.kc_max);
  const bool one_k_block = k_blocks.count() == 1;
  const size_t nr = gc.nr;
  const size_t nt_panels = div_up(nt, nr) * nr;
  const size_t v_stride = nt_panels * cin + kPointPad;
  const size_t m_stride = cout * nt + kPointPad;
  const size_t row_blocks = div_up(cout, gc.mr);
  ThreadPool::instance().parallel_for(r.batch * chunks * parts, [&](size_t task) {
    const size_t part = task % parts, c = task / parts % chunks, n = task / parts / chunks;
    const size_t t0 = split.begin(c), count = split.end(c, tiles) - t0;
    // This task's output channels [co0, co1), whole MR-row blocks of A.
    const size_t co0 = part * row_blocks / parts * gc.mr;
    const size_t co1 = std::min(cout, (part + 1) * row_blocks / parts * gc.mr);
    // v: [point] of K blocks of B panels [count / NR][kc][NR]; m: [point][cout][nt].
    float* v = scratch_floats(ScratchSlot::WinogradInput, points * v_stride);
    float* m = scratch_floats(ScratchSlot::WinogradProducts, points * m_stride);
    const float* image = input + n * cin * in_plane;
    // The input rows the chunk's tiles read: one contiguous range per channel plane. At batch 8
    // the input comes from memory and the transform waited on it (0.28 ms per image on 64->64
    // @56 vs 0.13 at batch 1); the range of the channel kPrefetchAhead on is prefetched before
    // each channel's transform.
    const InputRows rows = input_rows(plane, tile, t0, count);
    for (size_t ci = 0; ci < cin; ci++) {
      const float* channel = image + ci * in_plane;
      if (ci + kPrefetchAhead < cin) prefetch_rows(channel + kPrefetchAhead * in_plane, rows, w.in_w);
      const size_t k0 = ci / k_blocks.step * k_blocks.step, kc = std::min(k_blocks.step, cin - k0);
      input_kernel(channel, plane, t0, count, v + k0 * nt_panels + (ci - k0) * nr, v_stride, nr, kc * nr);
    }
    if (!one_k_block) {
      k_blocked_point_gemms(config, r.packed, point_size, points, cin, cout, co0, co1, v, v_stride, nt_panels, count,
                            m, m_stride, nt);
    } else {
      for (size_t p = 0; p < points; p++) {
        const float* a = r.packed + p * point_size;
        float* mp = m + p * m_stride;
        // The last panel's columns past count hold stale floats: the kernel computes them but
        // stores only `cols` columns.
        for (size_t j = 0; j < count; j += nr) {
          const size_t cols = std::min(nr, count - j);
          const float* b = v + p * v_stride + (j / nr) * cin * nr;
          if (cols <= gemv_columns_max(gc)) {
            gemv_columns(gc, co1 - co0, cin, a + co0 * cin, b, cols, mp + co0 * nt + j, nt);
            continue;
          }
          // A wider partial panel as the GEMM driver's edge tiles (avx512's column kernel reads
          // B in place).
          const GemmMicrokernel kernel = edge_tile_kernel(gc, cols);
          for (size_t row = co0; row < co1; row += gc.mr) {
            kernel(std::min(gc.mr, co1 - row), cols, cin, a + row * cin, b, nr, mp + row * nt + j, nt, false, nullptr);
          }
        }
      }
    }
    const size_t first = n * cout * out_plane;
    // Likewise the output rows (and residual rows) written for each output channel: 0.19 ms
    // per image at batch 8 (64->64 @56) against 0.09 at batch 1 without this.
    const InputRows out_rows = {std::min(w.out_h, tile * (t0 / plane.tiles_w)),
                                std::min(w.out_h, tile * ((t0 + count - 1) / plane.tiles_w) + tile)};
    for (size_t co = co0; co < co1; co++) {
      if (co + kPrefetchAhead < co1) {
        const size_t ahead = first + (co + kPrefetchAhead) * out_plane;
        prefetch_rows(output + ahead, out_rows, w.out_w, true);
        if (residual != nullptr) prefetch_rows(residual + ahead, out_rows, w.out_w, false);
      }
      output_kernel(m + co * nt, m_stride, plane, t0, count, r.bias != nullptr ? r.bias[co] : 0.0f,
                             residual != nullptr ? residual + first + co * out_plane : nullptr, r.activation,
                             output + first + co * out_plane);
    }
  });
}

}  // namespace convnode
