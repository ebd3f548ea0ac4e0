// The portable F(2x2, 3x3) transforms (the scalar and NEON tables; on aarch64 the lane loops
// compile to NEON, which is baseline there) and the filter transform used at prepare time.
// Both transforms work on a segment of up to kSegment tiles of one tile row at a time, with every
// loop running along the row over contiguous arrays, so the compiler vectorises them: the input's
// columns are split into even and odd ones once (tile t reads columns 2t .. 2t+3: even[t],
// odd[t], even[t+1], odd[t+1]), and the output's two columns per tile are interleaved back into
// a row buffer where bias, residual and activation run. (Gathering 8 whole tiles into lanes, the
// first version, spent ~0.4 ms on a 16->16 @56 layer whose GEMMs take ~0.07.) The AVX2 file
// computes the same sums in the same order with intrinsics.
#include "winograd-transforms.h"
#include <algorithm>
#include <cstring>

namespace convnode {
namespace {

constexpr size_t kSegment = 64;  // tiles per segment: the row buffers below stay on the stack

// Copies input columns [x0, x0 + width) of row y into dst, with zeros off the plane.
inline void padded_row(const float* plane, const WinogradPlane& g, long y, long x0, size_t width, float* dst) {
  const long h = static_cast<long>(g.in_h), w = static_cast<long>(g.in_w);
  if (y < 0 || y >= h) {
    std::memset(dst, 0, width * sizeof(float));
    return;
  }
  const long lo = std::max<long>(0, -x0), hi = std::min<long>(static_cast<long>(width), w - x0);
  for (long c = 0; c < lo; c++) dst[c] = 0.0f;
  if (hi > lo) std::memcpy(dst + lo, plane + y * w + x0 + lo, (hi - lo) * sizeof(float));
  for (long c = std::max(lo, hi); c < static_cast<long>(width); c++) dst[c] = 0.0f;
}

// Tiles tx0 .. tx0 + n - 1 of tile row ty into v[point * point_stride + t] for t in [0, n).
inline void input_segment(const float* plane, const WinogradPlane& g, size_t ty, size_t tx0, size_t n, float* v,
                          size_t point_stride) {
  alignas(32) float rows[4][2 * kSegment + 2];
  const long y0 = static_cast<long>(2 * ty) - static_cast<long>(g.pad_top);
  const long x0 = static_cast<long>(2 * tx0) - static_cast<long>(g.pad_left);
  for (size_t i = 0; i < 4; i++) padded_row(plane, g, y0 + static_cast<long>(i), x0, 2 * n + 2, rows[i]);
  // Down the columns (B^T d), split into even and odd columns.
  alignas(32) float even[4][kSegment + 1], odd[4][kSegment + 1];
  for (size_t c = 0; c <= n; c++) {
    const float e0 = rows[0][2 * c], e1 = rows[1][2 * c], e2 = rows[2][2 * c], e3 = rows[3][2 * c];
    const float o0 = rows[0][2 * c + 1], o1 = rows[1][2 * c + 1], o2 = rows[2][2 * c + 1], o3 = rows[3][2 * c + 1];
    even[0][c] = e0 - e2, even[1][c] = e1 + e2, even[2][c] = e2 - e1, even[3][c] = e1 - e3;
    odd[0][c] = o0 - o2, odd[1][c] = o1 + o2, odd[2][c] = o2 - o1, odd[3][c] = o1 - o3;
  }
  // Along the rows (... B): tile t's columns are even[t], odd[t], even[t + 1], odd[t + 1].
  for (size_t i = 0; i < 4; i++) {
    float* p0 = v + (i * 4 + 0) * point_stride;
    float* p1 = v + (i * 4 + 1) * point_stride;
    float* p2 = v + (i * 4 + 2) * point_stride;
    float* p3 = v + (i * 4 + 3) * point_stride;
    const float* e = even[i];
    const float* o = odd[i];
    for (size_t t = 0; t < n; t++) {
      p0[t] = e[t] - e[t + 1];
      p1[t] = o[t] + e[t + 1];
      p2[t] = e[t + 1] - o[t];
      p3[t] = o[t] - o[t + 1];
    }
  }
}

// Calls segment(ty, tx0, n, offset) over tiles [t0, t0 + count) cut at tile rows, kSegment and
// multiples of `cut` in offset (t - t0).
template <typename Segment>
inline void for_each_segment(const WinogradPlane& g, size_t t0, size_t count, size_t cut, Segment segment) {
  size_t t = t0;
  const size_t end = t0 + count;
  while (t < end) {
    const size_t ty = t / g.tiles_w, tx = t % g.tiles_w;
    const size_t offset = t - t0;
    const size_t n = std::min({kSegment, g.tiles_w - tx, end - t, cut - offset % cut});
    segment(ty, tx, n, offset);
    t += n;
  }
}

inline void input_tiles(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                        size_t point_stride, size_t panel_width, size_t panel_stride) {
  for_each_segment(g, t0, count, panel_width, [&](size_t ty, size_t tx, size_t n, size_t offset) {
    input_segment(plane, g, ty, tx, n, v + (offset / panel_width) * panel_stride + offset % panel_width,
                  point_stride);
  });
}

// The activation over n values, the switch outside the loop so the cheap cases vectorise.
inline void activate_all(float* x, size_t n, const Activation& act) {
  switch (act.kind) {
    case ActivationKind::None: return;
    case ActivationKind::Relu:
      for (size_t i = 0; i < n; i++) x[i] = x[i] < 0.0f ? 0.0f : x[i];
      return;
    case ActivationKind::Relu6:
      for (size_t i = 0; i < n; i++) x[i] = x[i] < 0.0f ? 0.0f : (x[i] > 6.0f ? 6.0f : x[i]);
      return;
    default:
      for (size_t i = 0; i < n; i++) x[i] = activate(x[i], act);
      return;
  }
}

inline void output_segment(const float* m, size_t point_stride, const WinogradPlane& g, size_t ty, size_t tx0,
                           size_t n, float bias, const float* residual_plane, const Activation& act,
                           float* out_plane) {
  // Along the rows (A^T applied to each row's 4 points): h[c][i][t], c the output column.
  alignas(32) float h[2][4][kSegment];
  for (size_t i = 0; i < 4; i++) {
    const float* m0 = m + (i * 4 + 0) * point_stride;
    const float* m1 = m + (i * 4 + 1) * point_stride;
    const float* m2 = m + (i * 4 + 2) * point_stride;
    const float* m3 = m + (i * 4 + 3) * point_stride;
    for (size_t t = 0; t < n; t++) {
      h[0][i][t] = m0[t] + m1[t] + m2[t];
      h[1][i][t] = m1[t] - m2[t] - m3[t];
    }
  }
  // Down the columns, interleaving each tile's two columns into an output row.
  alignas(32) float row[2][2 * kSegment];
  for (size_t t = 0; t < n; t++) {
    for (size_t c = 0; c < 2; c++) {
      row[0][2 * t + c] = h[c][0][t] + h[c][1][t] + h[c][2][t] + bias;
      row[1][2 * t + c] = h[c][1][t] - h[c][2][t] - h[c][3][t] + bias;
    }
  }
  const size_t x0 = 2 * tx0;
  const size_t width = std::min(2 * n, g.out_w - x0);  // the last tile of an odd width is cut
  for (size_t r = 0; r < 2; r++) {
    const size_t y = 2 * ty + r;
    if (y >= g.out_h) break;
    if (residual_plane != nullptr) {
      const float* res = residual_plane + y * g.out_w + x0;
      for (size_t x = 0; x < width; x++) row[r][x] += res[x];
    }
    activate_all(row[r], width, act);
    std::memcpy(out_plane + y * g.out_w + x0, row[r], width * sizeof(float));
  }
}

inline void output_tiles(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0, size_t count,
                         float bias, const float* residual_plane, const Activation& act, float* out_plane) {
  for_each_segment(g, t0, count, count, [&](size_t ty, size_t tx, size_t n, size_t offset) {
    output_segment(m + offset, point_stride, g, ty, tx, n, bias, residual_plane, act, out_plane);
  });
}

}  // namespace

void f32_winograd_2x2_input__scalar(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                    size_t point_stride, size_t panel_width, size_t panel_stride) {
  input_tiles(plane, g, t0, count, v, point_stride, panel_width, panel_stride);
}

void f32_winograd_2x2_output__scalar(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                     size_t count, float bias, const float* residual_plane, const Activation& act,
                                     float* out_plane) {
  output_tiles(m, point_stride, g, t0, count, bias, residual_plane, act, out_plane);
}

void f32_winograd_2x2_filter(const float* g, float* u) {
  // G (4x3) for the points 0, 1, -1 and infinity; computed in double, rounded once.
  static const double kG[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  double gg[4][3];  // G g
  for (size_t i = 0; i < 4; i++)
    for (size_t j = 0; j < 3; j++) gg[i][j] = kG[i][0] * g[j] + kG[i][1] * g[3 + j] + kG[i][2] * g[6 + j];
  for (size_t i = 0; i < 4; i++)
    for (size_t k = 0; k < 4; k++)
      u[i * 4 + k] = static_cast<float>(gg[i][0] * kG[k][0] + gg[i][1] * kG[k][1] + gg[i][2] * kG[k][2]);
}

}  // namespace convnode
