#include "task_split.h"

#include <algorithm>
#include <limits>
#include <atomic>
#include <cstdint>

#include "work_cost.h"

namespace convnode {

std::vector<size_t> guided_task_bounds(size_t units, size_t threads, size_t min_run) {
  std::vector<size_t> bounds = {0};
  const size_t share = threads <= 1 ? 1 : 2 * threads;
  while (bounds.back() < units) {
    const size_t left = units - bounds.back();
    const size_t run = std::max((left + share - 1) / share, std::max<size_t>(1, min_run));
    bounds.push_back(bounds.back() + std::min(run, left));
  }
  return bounds;
}

std::vector<size_t> equal_task_bounds(size_t units, size_t run) {
  std::vector<size_t> bounds = {0};
  while (bounds.back() < units) bounds.push_back(std::min(units, bounds.back() + std::max<size_t>(1, run)));
  return bounds;
}

namespace {

size_t div_up(size_t a, size_t b) { return (a + b - 1) / b; }

// How much longer (predicted) a cut of two tasks per thread may be than the best cut and still be
// taken (balanced_gemm_cut).
constexpr double kRobustShare = 0.03;

// One task of the grid: its rows (whole panels, as the micro-kernel computes them) times its
// pixels in multiply-adds, its B packing, its claim.
double gemm_task_ns(const GemmGridShape& s, size_t row_panels, size_t cols) {
  const double k = static_cast<double>(s.k);
  return kNsPerGemmMac * k * static_cast<double>(row_panels * s.mr) * static_cast<double>(cols) +
         kNsPerPackedBFloat * k * static_cast<double>(cols) + kNsPerGemmTask;
}

// How many tasks `cut` makes of the grid (problems x column chunks x row chunks).
size_t cut_tasks(const GemmGridShape& s, GemmGridCut cut) {
  return s.independent * div_up(div_up(s.cols, s.nr), cut.col_chunk_tiles) * div_up(div_up(s.rows, s.mr), cut.row_chunk_panels);
}

}  // namespace

double gemm_cut_span_ns(const GemmGridShape& s, size_t threads, GemmGridCut cut) {
  const size_t panels = div_up(s.rows, s.mr);
  const size_t tiles = div_up(s.cols, s.nr);
  const size_t r = div_up(panels, cut.row_chunk_panels);
  const size_t c = div_up(tiles, cut.col_chunk_tiles);
  // The two sizes a chunk can have (the last is shorter), per axis.
  const size_t last_panels = panels - (r - 1) * cut.row_chunk_panels;
  const size_t chunk_cols = cut.col_chunk_tiles * s.nr;
  const size_t last_cols = s.cols - (c - 1) * chunk_cols;
  const double sizes[2][2] = {{gemm_task_ns(s, cut.row_chunk_panels, chunk_cols), gemm_task_ns(s, cut.row_chunk_panels, last_cols)},
                              {gemm_task_ns(s, last_panels, chunk_cols), gemm_task_ns(s, last_panels, last_cols)}};
  // When each thread is next free (split_gemm calls this per cut it scores, on every run: no
  // allocation for the thread counts it searches).
  double local[16];
  std::vector<double> heap;
  const size_t n = std::max<size_t>(1, threads);
  double* free_at = local;
  if (n > 16) {
    heap.resize(n);
    free_at = heap.data();
  }
  std::fill(free_at, free_at + n, kGemmHelperStartNs);
  free_at[0] = 0;
  for (size_t p = 0; p < s.independent; p++) {
    for (size_t cc = 0; cc < c; cc++) {
      for (size_t rr = 0; rr < r; rr++) *std::min_element(free_at, free_at + n) += sizes[rr + 1 == r][cc + 1 == c];
    }
  }
  return *std::max_element(free_at, free_at + n);
}

GemmGridCut balanced_gemm_cut(const GemmGridShape& s, size_t threads, GemmGridCut current) {
  const size_t panels = div_up(s.rows, s.mr);
  const size_t tiles = div_up(s.cols, s.nr);
  if (threads <= 1 || panels == 0 || tiles == 0 || s.independent == 0) return current;
  GemmGridCut best = current;
  double best_span = gemm_cut_span_ns(s, threads, current);
  const size_t most = 4 * threads;
  // Every distinct chunk length per axis (lengths ceil(n / chunks)), with tasks in [threads, 4 x threads]
  // (fewer where the grid has fewer tiles).
  const size_t fewest = std::min(threads, s.independent * panels * tiles);
  GemmGridCut best_split = current;
  double best_split_span = cut_tasks(s, current) >= 2 * threads ? best_span : std::numeric_limits<double>::infinity();
  size_t last_col_len = 0;
  for (size_t cuts = 1; cuts <= tiles && s.independent * cuts <= most; cuts++) {
    const size_t col_len = div_up(tiles, cuts);
    if (col_len == last_col_len) continue;  // the same chunks as the last count
    last_col_len = col_len;
    const size_t c = div_up(tiles, col_len);
    size_t last_row_len = 0;
    for (size_t row_cuts = 1; row_cuts <= panels && s.independent * c * row_cuts <= most; row_cuts++) {
      const size_t row_len = div_up(panels, row_cuts);
      if (row_len == last_row_len) continue;
      last_row_len = row_len;
      const size_t tasks = cut_tasks(s, {col_len, row_len});
      if (tasks < fewest || tasks > most) continue;
      const double span = gemm_cut_span_ns(s, threads, {col_len, row_len});
      if (span < best_span) {
        best_span = span;
        best = {col_len, row_len};
      }
      if (tasks >= 2 * threads && span < best_split_span) {
        best_split_span = span;
        best_split = {col_len, row_len};
      }
    }
  }
  // Two tasks per thread where that costs at most kRobustShare more span: with one each, a
  // worker that starts late or loses its core leaves the caller idle at the join for its whole
  // task; with two, the caller takes the second.
  if (best_split_span <= best_span * (1 + kRobustShare)) return best_split;
  return best;
}

GemmGridCut evened_gemm_cut(const GemmGridShape& s, size_t threads, GemmGridCut current) {
  const size_t tiles = div_up(s.cols, s.nr);
  if (threads <= 1 || tiles == 0 || s.independent == 0 || current.col_chunk_tiles == 0) return current;
  GemmGridCut best = current;
  double best_span = gemm_cut_span_ns(s, threads, current);
  const size_t blocks = div_up(tiles, current.col_chunk_tiles);
  for (size_t c = blocks; c <= blocks + threads && c <= tiles; c++) {
    const GemmGridCut cut = {div_up(tiles, c), current.row_chunk_panels};
    const double span = gemm_cut_span_ns(s, threads, cut);
    if (span < best_span) {
      best_span = span;
      best = cut;
    }
  }
  return best;
}

namespace {

// Few tasks: the search over rows and columns; many: evened pixel blocks.
GemmGridCut search_cut(const GemmGridShape& s, size_t threads, GemmGridCut current) {
  return cut_tasks(s, current) < 4 * threads ? balanced_gemm_cut(s, threads, current) : evened_gemm_cut(s, threads, current);
}

}  // namespace

namespace {

// gemm_cut_for's table: kCutSlots words, each a key's 32-bit hash beside its cut (16 bits per
// chunk size), read and written with one relaxed atomic access: no lock on the run path, so GEMM
// calls from concurrent runs (libuv threads, pool tasks) never wait on each other, as they did on
// the mutex this replaced. A slot holding another key is rescored and overwritten. A key whose
// hash and slot both match another's would take that key's cut: still a partition of its own grid
// (any chunk sizes >= 1 are; the outputs do not depend on the cut, test/native-gemm-balance), only
// a slower one, once in ~2^42 shapes. Cuts of more than 65535 tiles or panels are not kept.
constexpr size_t kCutSlots = 1024;
std::atomic<uint64_t> known_cuts[kCutSlots];  // zero-initialised: an empty slot's cut is 0, never valid

uint64_t mix(uint64_t h, size_t v) {
  h ^= static_cast<uint64_t>(v) + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  return h * 0xBF58476D1CE4E5B9ull;
}

}  // namespace

GemmGridCut gemm_cut_for(const GemmGridShape& s, size_t threads, GemmGridCut current) {
  uint64_t h = 0;
  for (size_t v : {s.independent, s.rows, s.mr, s.cols, s.nr, s.k, threads, current.col_chunk_tiles,
                   current.row_chunk_panels}) {
    h = mix(h, v);
  }
  std::atomic<uint64_t>& slot = known_cuts[(h >> 32) % kCutSlots];
  const uint32_t tag = static_cast<uint32_t>(h);
  const uint64_t held = slot.load(std::memory_order_relaxed);
  const size_t held_cols = (held >> 16) & 0xFFFF, held_rows = held & 0xFFFF;
  if (static_cast<uint32_t>(held >> 32) == tag && held_cols > 0 && held_rows > 0) return {held_cols, held_rows};
  const GemmGridCut cut = search_cut(s, threads, current);
  if (cut.col_chunk_tiles <= 0xFFFF && cut.row_chunk_panels <= 0xFFFF) {
    slot.store(uint64_t{tag} << 32 | uint64_t{cut.col_chunk_tiles} << 16 | cut.row_chunk_panels,
               std::memory_order_relaxed);
  }
  return cut;
}

}  // namespace convnode
