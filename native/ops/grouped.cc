// Conv2d's direct grouped path (ConvAlgorithm::GroupedDirect): each task copies one image's group
// of input channels into a zero-padded block in per-thread scratch (about 1/9 of what im2col
// writes for a 3x3 window) and runs the f32-gconv kernel over one block of up to 8 of the
// group's output channels.
#include <algorithm>
#include <cstring>

#include "../runtime/scratch.h"
#include "../runtime/thread_pool.h"
#include "conv2d.h"

namespace convnode {

namespace {

size_t div_up(size_t v, size_t m) { return (v + m - 1) / m; }

}  // namespace

// Per group, per block of kGconvBlock output channels: [group_in * KH * KW][kGconvBlock].
void Conv2d::pack_grouped_direct(const float* weight) {
  const ConvParams& p = params_;
  const size_t group_out = p.out_channels / p.groups;
  const size_t blocks = div_up(group_out, kGconvBlock);
  const size_t block_size = group_k_ * kGconvBlock;
  packed_.assign(p.groups * blocks * block_size, 0.0f);
  for (size_t g = 0; g < p.groups; g++) {
    for (size_t o = 0; o < group_out; o++) {
      float* block = packed_.data() + (g * blocks + o / kGconvBlock) * block_size;
      const float* filter = weight + (g * group_out + o) * group_k_;
      for (size_t k = 0; k < group_k_; k++) block[k * kGconvBlock + o % kGconvBlock] = filter[k];
    }
  }
}

void Conv2d::run_grouped_direct(const ConvRun& r, const float* input, float* output, const float* residual) const {
  const Window& w = r.window;
  const ConvParams& p = params_;
  const size_t groups = p.groups, group_in = p.in_channels / groups, group_out = p.out_channels / groups;
  const size_t blocks = div_up(group_out, kGconvBlock);
  // The padded block: the rows and columns stride-1 outputs read, widened so every 8-pixel step
  // of the last (cut) vector stays inside its row, plus slack after the last plane.
  const size_t span_w = (w.kernel_w - 1) * w.dilation_w;
  const size_t padded_w = div_up(w.out_w, 8) * 8 + span_w;
  const size_t padded_h = w.out_h + (w.kernel_h - 1) * w.dilation_h;
  const size_t in_plane = w.in_h * w.in_w, out_plane = w.out_h * w.out_w;
  const size_t block_floats = group_in * padded_h * padded_w + kGconvBlock;
  ThreadPool::instance().parallel_for(r.batch * groups * blocks, [&](size_t task) {
    const size_t block = task % blocks, g = task / blocks % groups, n = task / blocks / groups;
    float* padded = scratch_floats(ScratchSlot::PackedB, block_floats);
    std::memset(padded, 0, block_floats * sizeof(float));
    for (size_t ci = 0; ci < group_in; ci++) {
      const float* plane = input + (n * p.in_channels + g * group_in + ci) * in_plane;
      float* dst = padded + ci * padded_h * padded_w;
      // Padded row py holds input row py - pad_top, columns shifted right by pad_left.
      for (size_t py = 0; py < padded_h; py++) {
        const long iy = static_cast<long>(py) - static_cast<long>(w.pad_top);
        if (iy < 0 || iy >= static_cast<long>(w.in_h)) continue;
        const size_t x_begin = std::min(padded_w, w.pad_left);
        const size_t count = std::min(w.in_w, padded_w - x_begin);
        std::memcpy(dst + py * padded_w + x_begin, plane + iy * w.in_w, count * sizeof(float));
      }
    }
    const size_t o0 = g * group_out + block * kGconvBlock;
    GconvRows rows;
    rows.padded = padded;
    rows.group_in = group_in;
    rows.padded_h = padded_h;
    rows.padded_w = padded_w;
    rows.weights = packed_.data() + (g * blocks + block) * group_k_ * kGconvBlock;
    rows.out_count = std::min(kGconvBlock, group_out - block * kGconvBlock);
    rows.kernel_h = w.kernel_h;
    rows.kernel_w = w.kernel_w;
    rows.dilation_h = w.dilation_h;
    rows.dilation_w = w.dilation_w;
    rows.row_begin = 0;
    rows.row_end = w.out_h;
    rows.out_w = w.out_w;
    rows.out = output + (n * p.out_channels + o0) * out_plane;
    rows.out_plane = out_plane;
    rows.residual = residual != nullptr ? residual + (n * p.out_channels + o0) * out_plane : nullptr;
    rows.bias = bias_.empty() ? nullptr : bias_.data() + o0;
    rows.activation = p.activation;
    config_->gconv_direct(rows);
  });
}

}  // namespace convnode
