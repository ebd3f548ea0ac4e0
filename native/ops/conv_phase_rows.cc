// Why: im2col writes every input value KH x KW / 4 times into the B panels (the 7x7/2 stem:
// 147 x 12544 floats, 7.4 MB, for a 0.6 MB input) and the tiles read the copies back; perf put
// im2col at ~14% of the stem's samples on Zen 4. At stride 2, tap (ky, kx) of the 16 outputs
// ox0 .. ox0 + 15 of output row oy reads padded row 2 oy + ky at columns 2 (ox0 + t) + kx: the
// 16 consecutive values from index ox0 + kx / 2 of that row's even (kx even) or odd (kx odd)
// columns. So the padded input is split once per run into its rows' two column phases (zeros
// for the padding), and B row k = (c, ky, kx) of any tile is a fixed offset from the tile's
// base: the indirect tile (f32_igemm_16x16__avx512) loads it from there, no B panel is written.
// A tile never spans two output rows (the im2col panels wrap onto the next row), so rows whose
// width is not a multiple of 16 leave lanes unused: only rows that waste at most 1/8 come here.
#include "conv_phase_rows.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../runtime/env_switch.h"
#include "../runtime/scratch.h"
#include "gemm_driver.h"
#include "task_split.h"
#include "work_cost.h"

namespace convnode {

namespace {

// Tile width: the indirect tile is the 16x16 one.
constexpr size_t kTile = 16;

// CONVNODE_PHASE_ROWS=0 sends these convs back to im2col + GEMM (an A/B switch). Read once
// (env_switch.h: why the cache is an atomic).
EnvSwitch phase_rows("CONVNODE_PHASE_ROWS");

size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

// The split input of one image: per channel, per padded row, the even columns then the odd
// ones, each `phase_w` floats (the columns a tile of the row's last 16 outputs reads, and zeros
// past the padded input).
struct PhaseRows {
  size_t rows;     // padded rows read: 2 (out_h - 1) + kernel_h
  size_t phase_w;  // floats per phase of a row
  size_t row_floats() const { return 2 * phase_w; }
  size_t channel_floats() const { return rows * row_floats(); }
};

// Fills phase rows [py0, py1) of a channel from its input plane (dst: the channel's first row).
void split_channel(const Window& w, const PhaseRows& p, const float* plane, float* dst, size_t py0, size_t py1) {
  dst += py0 * p.row_floats();
  for (size_t py = py0; py < py1; py++, dst += p.row_floats()) {
    const ptrdiff_t iy = static_cast<ptrdiff_t>(py) - static_cast<ptrdiff_t>(w.pad_top);
    if (iy < 0 || iy >= static_cast<ptrdiff_t>(w.in_h)) {
      std::memset(dst, 0, p.row_floats() * sizeof(float));
      continue;
    }
    const float* row = plane + static_cast<size_t>(iy) * w.in_w;
    for (size_t phase = 0; phase < 2; phase++) {
      float* out = dst + phase * p.phase_w;
      // Padded column 2 j + phase is input column 2 j + phase - pad_left.
      for (size_t j = 0; j < p.phase_w; j++) {
        const ptrdiff_t ix = static_cast<ptrdiff_t>(2 * j + phase) - static_cast<ptrdiff_t>(w.pad_left);
        out[j] = ix >= 0 && ix < static_cast<ptrdiff_t>(w.in_w) ? row[ix] : 0.0f;
      }
    }
  }
}

}  // namespace

bool run_conv_phase_rows(const GemmConfig& cfg, const float* packed_a, size_t m, size_t k, size_t batch,
                         size_t in_channels, const Window& w, const float* input, float* output, const float* bias,
                         const float* residual, const Activation& activation) {
  if (cfg.igemm == nullptr || cfg.nr != kTile || !phase_rows.on() || w.stride_h != 2 || w.stride_w != 2 ||
      w.dilation_h != 1 || w.dilation_w != 1 || m == 0 || k == 0 || k > cfg.kc_max || w.out_w < 14 ||
      8 * (round_up(w.out_w, kTile) - w.out_w) > round_up(w.out_w, kTile) ||
      k != in_channels * w.kernel_h * w.kernel_w) {
    return false;
  }
  // One K block: pack_a's layout is then panel after panel, MR x k floats each.
  if (!packed_a_in_k_blocked_panels(cfg, m, k)) return false;
  const size_t panels = (m + cfg.mr - 1) / cfg.mr;
  const size_t panel_size = cfg.mr * k;
  PhaseRows p;
  p.rows = 2 * (w.out_h - 1) + w.kernel_h;
  // The last tile of a row reads columns up to round_up(out_w) - 1 + (kernel_w - 1) / 2.
  p.phase_w = round_up(w.out_w, kTile) + w.kernel_w / 2;
  const size_t image_floats = in_channels * p.channel_floats();
  if (image_floats >= (size_t{1} << 31)) return false;  // offsets are 32-bit
  // B row k = (c, ky, kx) of the tile at (oy, ox0): base(oy) + ox0 + offsets[k].
  std::vector<int32_t> offsets(k);
  for (size_t c = 0, i = 0; c < in_channels; c++) {
    for (size_t ky = 0; ky < w.kernel_h; ky++) {
      for (size_t kx = 0; kx < w.kernel_w; kx++, i++) {
        offsets[i] = static_cast<int32_t>(c * p.channel_floats() + ky * p.row_floats() + (kx & 1) * p.phase_w + kx / 2);
      }
    }
  }
  // The calling thread's scratch, read by every task while this call waits for them.
  float* phases = scratch_floats(ScratchSlot::PhaseRows, batch * image_floats);
  const size_t in_plane = w.in_h * w.in_w;
  const size_t pixels = w.out_h * w.out_w;
  const double macs = static_cast<double>(batch) * static_cast<double>(m) * static_cast<double>(pixels) * static_cast<double>(k);
  const size_t threads = ThreadPool::instance().threads_for(macs * kNsPerGemmMac);
  // Bands of rows, so the threads get equal shares of the split (the stems have 3 channels:
  // whole planes gave one of 2 threads two and the other one).
  const size_t bands = threads > 1 ? std::min(p.rows, 2 * threads) : 1;
  const size_t band_rows = (p.rows + bands - 1) / bands;
  parallel_for_threads(batch * in_channels * bands, threads, [&](size_t unit) {
    const size_t plane = unit / bands, py0 = unit % bands * band_rows;
    split_channel(w, p, input + plane * in_plane, phases + plane * p.channel_floats(), std::min(py0, p.rows),
                  std::min(p.rows, py0 + band_rows));
  });
  // Output rows cut into a few runs per thread (one run per image on one thread).
  const size_t runs_per_image = threads > 1 ? std::min(w.out_h, (2 * threads + batch - 1) / batch) : 1;
  const size_t rows_per_run = (w.out_h + runs_per_image - 1) / runs_per_image;
  const size_t runs = (w.out_h + rows_per_run - 1) / rows_per_run;
  parallel_for_threads(batch * runs, threads, [&](size_t task) {
    const size_t n = task / runs;
    const size_t oy0 = task % runs * rows_per_run;
    const size_t oy1 = std::min(w.out_h, oy0 + rows_per_run);
    const float* image = phases + n * image_floats;
    float* out = output + n * m * pixels;
    const float* res = residual != nullptr ? residual + n * m * pixels : nullptr;
    Epilogue ep;
    ep.activation = activation;
    ep.residual_stride = pixels;
    // Per output row, each row panel across the row's tiles: the row's phase rows (Cin x KH x 2
    // rows, 19 KiB for the stem) stay in L1 for all panels; each A panel for its row of tiles.
    for (size_t oy = oy0; oy < oy1; oy++) {
      const float* base = image + 2 * oy * p.row_floats();
      for (size_t panel = 0; panel < panels; panel++) {
        const size_t row = panel * cfg.mr;
        const size_t mr = std::min(cfg.mr, m - row);
        ep.bias = bias != nullptr ? bias + row : nullptr;
        for (size_t ox0 = 0; ox0 < w.out_w; ox0 += kTile) {
          const size_t at = row * pixels + oy * w.out_w + ox0;
          ep.residual = res != nullptr ? res + at : nullptr;
          cfg.igemm(mr, std::min(kTile, w.out_w - ox0), k, packed_a + panel * panel_size, base + ox0, offsets.data(),
                    out + at, pixels, &ep);
        }
      }
    }
  });
  return true;
}

}  // namespace convnode
