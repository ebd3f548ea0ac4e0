// Conv2d's direct grouped path (ConvAlgorithm::GroupedDirect). Groups whose blocks of 16 outputs are 3/4 full run
// the channels-in-lanes kernel (f32-gconv lanes, gconv.h), which reads the input in place; the
// others the flat grid below. There each task copies one image's group
// of input channels into zero-padded planes in per-thread scratch (about 1/9 of what im2col
// writes for a 3x3 window), split into stride_h x stride_w phase planes, and runs the f32-gconv
// kernel over each block of up to 8 of the group's output channels. With the phases, tap
// (ky, kx) of output (y, x) reads phase (ky dh % sh, kx dw % sw) at (y + ky dh / sh, x + kx dw / sw):
// a stride-2 window is a plain shifted read, as a stride-1 one is, and one kernel runs both.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../runtime/env_switch.h"
#include "../runtime/scratch.h"
#include "../runtime/thread_pool.h"
#include "conv2d.h"
#include "task_split.h"
#include "window.h"
#include "work_cost.h"

namespace convnode {

namespace {

size_t div_up(size_t v, size_t m) { return (v + m - 1) / m; }

// The padded extent the outputs read, cut into phases: phase (a, b) holds padded rows a, a + sh,
// ... and columns b, b + sw, ...; padded (py, px) is input (py - pad_top, px - pad_left) or 0.
struct PhaseLayout {
  size_t padded_h, padded_w, phase_h, phase_w, phase_floats, plane_floats;
};

PhaseLayout phase_layout(const Window& w) {
  PhaseLayout l;
  l.padded_h = (w.out_h - 1) * w.stride_h + (w.kernel_h - 1) * w.dilation_h + 1;
  l.padded_w = (w.out_w - 1) * w.stride_w + (w.kernel_w - 1) * w.dilation_w + 1;
  l.phase_h = div_up(l.padded_h, w.stride_h);
  l.phase_w = div_up(l.padded_w, w.stride_w);
  l.phase_floats = l.phase_h * l.phase_w;
  l.plane_floats = w.stride_h * w.stride_w * l.phase_floats;
  return l;
}

// One input row's columns into the even and odd phase rows: even[j] = pair[2j], odd[j] =
// pair[2j + 1]. Restrict-qualified so the compiler de-interleaves in vectors without the
// run-time overlap checks it otherwise puts before every row (on 14-wide rows those checks and
// the loop set-up were most of the copy, which perf put at 40% of a 14x14 stride-2 layer).
void deinterleave_row(const float* __restrict pair, size_t count, float* __restrict even, float* __restrict odd) {
  for (size_t j = 0; j < count; j++) {
    even[j] = pair[2 * j];
    odd[j] = pair[2 * j + 1];
  }
}

// One input channel plane into its phase planes (dst zeroed beforehand).
void copy_into_phases(const float* plane, const Window& w, const PhaseLayout& l, float* dst) {
  const size_t sh = w.stride_h, sw = w.stride_w;
  // Padded columns [x_lo, x_hi) hold input columns; the rest stay zero.
  const size_t x_lo = std::min(l.padded_w, w.pad_left);
  const size_t x_hi = std::min(l.padded_w, w.pad_left + w.in_w);
  if (x_lo >= x_hi) return;
  // Padded rows [y_lo, y_hi) hold input rows. Walked with the phase row and its row within the
  // phase kept incrementally: a division by the run-time stride per row cost more than copying
  // a 14-float row.
  const size_t y_lo = std::min(l.padded_h, w.pad_top);
  const size_t y_hi = std::min(l.padded_h, w.pad_top + w.in_h);
  size_t phase_row = y_lo % sh, within = y_lo / sh;
  for (size_t py = y_lo; py < y_hi; py++) {
    const float* in_row = plane + (py - w.pad_top) * w.in_w;  // padded column px is in_row[px - pad_left]
    float* row = dst + phase_row * sw * l.phase_floats + within * l.phase_w;
    if (++phase_row == sh) phase_row = 0, within++;
    if (sw == 1) {
      std::memcpy(row + x_lo, in_row + (x_lo - w.pad_left), (x_hi - x_lo) * sizeof(float));
      continue;
    }
    if (sw == 2) {  // both phases in one pass
      float* even = row;
      float* odd = row + l.phase_floats;
      const float* from = in_row + (x_lo - w.pad_left);  // from[c]: padded column x_lo + c
      const size_t j_a = (x_lo + 1) / 2, j_b = x_hi / 2;  // 2j, 2j + 1 in [x_lo, x_hi) for j in [j_a, j_b)
      if (j_b > j_a) deinterleave_row(from + (2 * j_a - x_lo), j_b - j_a, even + j_a, odd + j_a);
      if (x_lo % 2 == 1) odd[x_lo / 2] = from[0];                      // a first odd column
      if (x_hi % 2 == 1) even[x_hi / 2] = from[x_hi - 1 - x_lo];       // a last even column
      continue;
    }
    // Phase b's column j is padded column j sw + b (no division per element: an integer divide
    // per float made the stride-2 copy cost 4x the FMAs).
    for (size_t b = 0; b < sw; b++) {
      float* phase = row + b * l.phase_floats;
      if (x_hi <= b) break;
      const size_t j_lo = x_lo / sw + (x_lo % sw > b ? 1 : 0), j_hi = (x_hi - b + sw - 1) / sw;
      for (size_t j = j_lo; j < j_hi; j++) phase[j] = in_row[j * sw + b - w.pad_left];
    }
  }
}

// Whether a grouped conv runs the channels-in-lanes kernel (f32-gconv lanes: the input read in
// place, blocks of 16 output channels) rather than the flat grid on copied phase planes: when
// its blocks of 16 are at least 3/4 full (RegNetX's 16-wide groups; not RegNetY's 8, where half
// the lanes would be zeros). CONVNODE_GCONV_LANES=0 (read once) keeps every grouped conv on
// the flat grid, for an A/B of the two.
EnvSwitch gconv_lanes("CONVNODE_GCONV_LANES");

bool runs_in_lanes(size_t group_out) {
  return gconv_lanes.on() && 4 * group_out >= 3 * div_up(group_out, kGconvLanesBlock) * kGconvLanesBlock;
}

// The block size of a grouped conv's packed weights: the lanes kernel's or the flat grid's.
size_t grouped_block(size_t group_out) { return runs_in_lanes(group_out) ? kGconvLanesBlock : kGconvBlock; }

}  // namespace

// Per group, per block of output channels (16 for the lanes kernel, kGconvBlock for the flat
// grid): [group_in * KH * KW][block], output channel fastest.
void Conv2d::pack_grouped_direct(const float* weight) {
  const ConvParams& p = params_;
  const size_t group_out = p.out_channels / p.groups;
  const size_t width = grouped_block(group_out);
  const size_t blocks = div_up(group_out, width);
  const size_t block_size = group_k_ * width;
  packed_.assign(p.groups * blocks * block_size, 0.0f);
  for (size_t g = 0; g < p.groups; g++) {
    for (size_t o = 0; o < group_out; o++) {
      float* block = packed_.data() + (g * blocks + o / width) * block_size;
      const float* filter = weight + (g * group_out + o) * group_k_;
      for (size_t k = 0; k < group_k_; k++) block[k * width + o % width] = filter[k];
    }
  }
}

// The lanes kernel: one task per (image, group), every block of 16 of the group's outputs read
// from the input planes in place.
void Conv2d::run_grouped_lanes(const ConvRun& r, const float* input, float* output, const float* residual) const {
  const Window& w = r.window;
  const ConvParams& p = params_;
  const size_t groups = p.groups, group_in = p.in_channels / groups, group_out = p.out_channels / groups;
  const size_t blocks = div_up(group_out, kGconvLanesBlock);
  const size_t in_plane = w.in_h * w.in_w, out_plane = w.out_h * w.out_w;
  const double macs = static_cast<double>(r.batch * groups * group_out) * static_cast<double>(out_plane) *
                      static_cast<double>(group_in * w.kernel_h * w.kernel_w);
  parallel_for_threads(r.batch * groups, ThreadPool::instance().threads_for(macs * kNsPerGemmMac), [&](size_t task) {
    const size_t g = task % groups, n = task / groups;
    float* tile = scratch_floats(ScratchSlot::PackedB, gconv_lanes_tile_floats(out_plane));
    for (size_t block = 0; block < blocks; block++) {
      const size_t o0 = g * group_out + block * kGconvLanesBlock;
      GconvLanes k;
      k.input = input + (n * p.in_channels + g * group_in) * in_plane;
      k.group_in = group_in;
      set_plane_window(w, &k);
      k.weights = packed_.data() + (g * blocks + block) * group_k_ * kGconvLanesBlock;
      k.out_count = std::min(kGconvLanesBlock, group_out - block * kGconvLanesBlock);
      k.tile = tile;
      k.out = output + (n * p.out_channels + o0) * out_plane;
      k.residual = residual != nullptr ? residual + (n * p.out_channels + o0) * out_plane : nullptr;
      k.bias = bias_.empty() ? nullptr : bias_.data() + o0;
      k.activation = p.activation;
      config_->gconv_lanes(k);
    }
  });
}

void Conv2d::run_grouped_direct(const ConvRun& r, const float* input, float* output, const float* residual) const {
  const Window& w = r.window;
  const ConvParams& p = params_;
  const size_t groups = p.groups, group_in = p.in_channels / groups, group_out = p.out_channels / groups;
  if (r.batch == 0 || w.out_h == 0 || w.out_w == 0) return;
  if (runs_in_lanes(group_out)) return run_grouped_lanes(r, input, output, residual);
  const size_t blocks = div_up(group_out, kGconvBlock);
  const PhaseLayout l = phase_layout(w);
  std::vector<size_t> taps(w.kernel_h * w.kernel_w);
  for (size_t ky = 0; ky < w.kernel_h; ky++) {
    for (size_t kx = 0; kx < w.kernel_w; kx++) {
      const size_t dy = ky * w.dilation_h, dx = kx * w.dilation_w;
      taps[ky * w.kernel_w + kx] = ((dy % w.stride_h) * w.stride_w + dx % w.stride_w) * l.phase_floats +
                                   (dy / w.stride_h) * l.phase_w + dx / w.stride_w;
    }
  }
  const size_t in_plane = w.in_h * w.in_w, out_plane = w.out_h * w.out_w;
  const size_t block_floats = group_in * l.plane_floats + kGconvSlack;
  // Whether to split is the pool's grain rule (the direct kernel at ~half the packed GEMM's rate).
  const double macs = static_cast<double>(r.batch * groups * group_out) * static_cast<double>(out_plane) *
                      static_cast<double>(group_in * w.kernel_h * w.kernel_w);
  parallel_for_threads(r.batch * groups, ThreadPool::instance().threads_for(macs * 2 * kNsPerGemmMac), [&](size_t task) {
    const size_t g = task % groups, n = task / groups;
    float* padded = scratch_floats(ScratchSlot::PackedB, block_floats);
    std::memset(padded, 0, block_floats * sizeof(float));
    for (size_t ci = 0; ci < group_in; ci++) {
      copy_into_phases(input + (n * p.in_channels + g * group_in + ci) * in_plane, w, l, padded + ci * l.plane_floats);
    }
    for (size_t block = 0; block < blocks; block++) {
      const size_t o0 = g * group_out + block * kGconvBlock;
      GconvRows rows;
      rows.padded = padded;
      rows.group_in = group_in;
      rows.plane_floats = l.plane_floats;
      rows.tap_offsets = taps.data();
      rows.taps = taps.size();
      rows.weights = packed_.data() + (g * blocks + block) * group_k_ * kGconvBlock;
      rows.out_count = std::min(kGconvBlock, group_out - block * kGconvBlock);
      rows.out_h = w.out_h;
      rows.out_w = w.out_w;
      rows.grid_w = l.phase_w;
      rows.out = output + (n * p.out_channels + o0) * out_plane;
      rows.residual = residual != nullptr ? residual + (n * p.out_channels + o0) * out_plane : nullptr;
      rows.bias = bias_.empty() ? nullptr : bias_.data() + o0;
      rows.activation = p.activation;
      config_->gconv_direct(rows);
    }
  });
}

}  // namespace convnode
