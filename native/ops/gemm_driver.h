// Drives a micro-kernel over one block of C = A * B: for each pixel block of nc columns, for each
// K block, pack B once, then run each MR-row A panel of the block across all the block's NR-wide
// B micro-panels (row panels outermost, so every output row is written left to right as one
// stream; see gemm_block). The epilogue runs with the last
// K block, so each C tile is finished while it is still in cache. A 1x1 conv's B (contiguous
// channel rows) is packed in blocks of ~48 KiB instead, just before use, with the rows of a later
// block prefetched (see gemm_block).
#pragma once
#include <cstddef>

#include "../kernels/epilogue.h"
#include "../kernels/f32-im2col/im2col.h"
#include "../runtime/dispatch.h"

namespace convnode {

// How K is cut into blocks; A is packed with the same cuts.
struct KBlocks {
  size_t k, step;
  explicit KBlocks(size_t k_total, size_t kc_max)
      : k(k_total), step((k_total + ((k_total + kc_max - 1) / kc_max) - 1) / ((k_total + kc_max - 1) / kc_max)) {}
  size_t count() const { return (k + step - 1) / step; }
};

// Packs a row-major M x K matrix (rows are output channels) into the MR-panel, K-blocked layout
// gemm_block reads. dst holds packed_a_size floats.
size_t packed_a_size(const GemmConfig& cfg, size_t m, size_t k);
void pack_a(const GemmConfig& cfg, size_t m, size_t k, const float* src, float* dst);
// Where element (row, col) of the M x K matrix sits in pack_a's layout.
size_t packed_a_index(const GemmConfig& cfg, size_t m, size_t k, size_t row, size_t col);
// Whether pack_a's layout is the one the paths that read packed A outside gemm_block assume
// (pointwise_few.cc, conv_phase_rows.cc): KBlocks(k, kc_max)'s blocks one after another, each
// MR-row panels of kc x MR, so A[row][kk] of block k0 is at M_padded k0 + row / MR * MR kc +
// (kk - k0) MR + row % MR (one block: panel after panel, MR k floats each). Checked at the last
// element, not assumed, so a change of pack_a's layout makes those paths fall back instead of
// computing garbage.
bool packed_a_in_k_blocked_panels(const GemmConfig& cfg, size_t m, size_t k);

// Where B comes from. Exactly one form is used:
//  im2col:  B = im2col(input) with the shape       (convs other than 1x1 stride 1 unpadded)
//  strided: B[k][n] = strided[k * k_stride + n * n_stride]
//           (1x1 convs: the input's channel rows, n_stride 1; Linear: x transposed)
// Reading B in place with a row stride instead of packing it measured ~8% slower on the 1x1
// layers: kc rows a channel plane apart are too many streams for the prefetcher.
//  packed:  B = W^T for an N x K matrix W packed by pack_a, on a table whose MR equals NR
//           (avx512's 16x16): pack_a's MR-row panels of W, K-blocked, are then exactly the
//           NR-wide B panels, so B is read in place and never packed (Linear with many rows).
struct BSource {
  const Im2colShape* im2col = nullptr;
  const float* im2col_input = nullptr;
  const float* strided = nullptr;
  size_t k_stride = 0, n_stride = 0;
  const float* packed = nullptr;
};

struct GemmBlock {
  const GemmConfig* cfg;
  size_t m, k, n;         // full problem (one group of one image)
  const float* packed_a;  // from pack_a
  BSource b;
  float* c;  // row-major M x N, row stride ldc
  size_t ldc;
  Epilogue epilogue;  // bias indexed by row, residual laid out like c
};

// Computes rows [m0, m1) (m0 a multiple of MR) and columns [n0, n1) of C.
void gemm_block(const GemmBlock& g, size_t m0, size_t m1, size_t n0, size_t n1);

// The micro-kernel for a tile of `cols` <= NR columns: a last tile of at most half its columns
// goes to the narrow kernel (3x3 512->512 @7: 49 pixels = 3 x 16 + 1, so the fourth full-width
// tile was 1/16 used), fewer than columns_max to the column kernel where the table has one and
// `columns_fit` (cols FMAs per k, not NR: 49 pixels' last one), else the full tile.
GemmMicrokernel edge_tile_kernel(const GemmConfig& cfg, size_t cols, bool columns_fit = true);

// How a problem of batch x groups independent GEMMs is split into pool tasks.
struct GemmSplit {
  size_t n_chunk, n_chunks;  // pixel columns per task, multiple of NR
  size_t m_chunk, m_chunks;  // rows per task, multiple of MR
  size_t tasks(size_t independent) const { return independent * n_chunks * m_chunks; }
};
// k (the sum's length), when given, lets a cut with few tasks be rebalanced over 2-4 threads
// (task_split.h, balanced_gemm_cut; CONVNODE_GEMM_BALANCE=0 turns that off).
GemmSplit split_gemm(const GemmConfig& cfg, size_t independent, size_t m, size_t n, size_t threads, size_t k = 0);

}  // namespace convnode
