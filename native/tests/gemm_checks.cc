// The GEMM family (f32-gemm micro-kernels, sweep and GEMV, f32-im2col packing, the task split)
// and Linear, each ISA against float64 sums of the same panels, the portable packer or the scalar
// table.
#include <algorithm>

#include "../kernels/f32-im2col/im2col.h"
#include "../ops/gemm_driver.h"
#include "../ops/linear.h"
#include "../ops/task_split.h"
#include "../ops/work_cost.h"

#include "kernels_test.h"

namespace kernels_test {

namespace {

// What a micro-kernel must leave in c0 (row stride ldc) for an mr x nr tile of the packed panels
// a (MR-row) and b (NR-wide): float64 sums (plus c0 when accumulating), then the epilogue if
// given; c0 as it was outside the tile.
std::vector<float> gemm_tile_want(const GemmConfig& g, size_t mr, size_t nr, size_t kc, const std::vector<float>& a,
                                  const std::vector<float>& b, const std::vector<float>& c0, size_t ldc, bool accumulate,
                                  const Epilogue* ep) {
  std::vector<float> want(c0);
  for (size_t i = 0; i < mr; i++)
    for (size_t j = 0; j < nr; j++) {
      double sum = accumulate ? c0[i * ldc + j] : 0.0;
      for (size_t k = 0; k < kc; k++) sum += static_cast<double>(a[k * g.mr + i]) * b[k * g.nr + j];
      float v = static_cast<float>(sum);
      if (ep != nullptr) {
        if (ep->bias != nullptr) v += ep->bias[i];
        if (ep->residual != nullptr) v += ep->residual[i * ep->residual_stride + j];
        v = activate(v, ep->activation);
      }
      want[i * ldc + j] = v;
    }
  return want;
}

}  // namespace

// The micro-kernels of a table on their own, against a float64 product of the same packed
// panels: every row count 1..MR and column count 1..NR (partial tiles load and store through
// masks on avx512: nothing outside the tile may be written), K of 1 to past a few FMA chains,
// accumulate or not, with and without bias / residual, a vector and a scalar-only activation;
// the narrow kernel on tiles of <= NR/2 columns, the sweep over several tiles, and the GEMV.
void test_gemm_tiles(const KernelConfig& isa) {
  const GemmConfig& g = isa.gemm;
  std::mt19937 rng(77);
  const float sentinel = 4321.0f;
  const size_t ldc = 3 * g.nr + 5;
  size_t tested = 0;
  for (size_t kc : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{33}}) {
    const auto a = random_floats(g.mr * kc, rng);
    const auto b = random_floats(kc * 3 * g.nr, rng);  // three consecutive NR-wide panels
    const auto c0 = random_floats((g.mr + 1) * ldc, rng);
    const auto bias = random_floats(g.mr, rng);
    const auto residual = random_floats(g.mr * ldc, rng);
    for (size_t mr = 1; mr <= g.mr; mr++) {
      for (size_t nr = 1; nr <= g.nr; nr++) {
        const int variant = static_cast<int>(tested++ % 4);
        const bool accumulate = variant % 2 == 1;
        Epilogue ep;
        ep.bias = variant >= 2 ? bias.data() : nullptr;
        ep.residual = variant == 3 ? residual.data() : nullptr;
        ep.residual_stride = ldc;
        ep.activation.kind = (mr + nr) % 3 == 0 ? ActivationKind::Sigmoid : ActivationKind::LeakyRelu;
        ep.activation.alpha = 0.1f;
        const bool with_epilogue = variant != 1;
        const std::vector<float> want = gemm_tile_want(g, mr, nr, kc, a, b, c0, ldc, accumulate, with_epilogue ? &ep : nullptr);
        std::vector<GemmMicrokernel> kernels = {g.kernel};
        if (g.narrow != nullptr && nr <= g.nr / 2) kernels.push_back(g.narrow);
        if (g.columns != nullptr && nr < g.nr && nr <= g.columns_max) kernels.push_back(g.columns);
        for (GemmMicrokernel kernel : kernels) {
          std::vector<float> got(c0);
          kernel(mr, nr, kc, a.data(), b.data(), g.nr, got.data(), ldc, accumulate, with_epilogue ? &ep : nullptr);
          char label[160];
          std::snprintf(label, sizeof label, "%s gemm tile %zux%zu k%zu%s%s%s%s", isa_name(isa.isa), mr, nr, kc,
                        kernel == g.narrow ? " narrow" : (kernel == g.columns ? " columns" : ""), accumulate ? " accumulate" : "",
                        ep.bias != nullptr && with_epilogue ? " bias" : "", ep.residual != nullptr && with_epilogue ? " residual" : "");
          expect_close(got, want, label);
        }
      }
      if (g.sweep != nullptr) {
        // mr rows across 2 full panels and a third of 1..NR columns.
        const size_t nc = 2 * g.nr + 1 + rng() % g.nr;
        Epilogue ep;
        ep.bias = bias.data();
        ep.residual = residual.data();
        ep.residual_stride = ldc;
        ep.activation.kind = mr % 2 == 0 ? ActivationKind::Relu6 : ActivationKind::Sigmoid;
        std::vector<float> want(c0), got(c0);
        for (size_t i = 0; i < mr; i++)
          for (size_t j = 0; j < nc; j++) {
            const size_t panel = j / g.nr, col = j % g.nr;
            double sum = c0[i * ldc + j];
            for (size_t k = 0; k < kc; k++) sum += static_cast<double>(a[k * g.mr + i]) * b[panel * kc * g.nr + k * g.nr + col];
            want[i * ldc + j] = activate(static_cast<float>(sum) + bias[i] + residual[i * ldc + j], ep.activation);
          }
        g.sweep(mr, nc, kc, a.data(), b.data(), got.data(), ldc, true, &ep);
        expect_close(got, want, std::string(isa_name(isa.isa)) + " gemm sweep " + std::to_string(mr) + "x" +
                                    std::to_string(nc) + " k" + std::to_string(kc));
      }
      // GEMV: acc[0..mr) += A x, the rest of acc untouched.
      std::vector<float> acc(g.mr + 1, sentinel), want(acc);
      for (size_t i = 0; i < g.mr; i++) {
        double sum = sentinel;
        for (size_t k = 0; k < kc; k++) sum += static_cast<double>(a[k * g.mr + i]) * b[k];
        want[i] = static_cast<float>(sum);
      }
      g.gemv(g.mr, kc, a.data(), b.data(), acc.data());
      expect_close(acc, want, std::string(isa_name(isa.isa)) + " gemv k" + std::to_string(kc));
    }
  }
  // Every way a tile can be finished, on full-row tiles (avx512 compiles its full tile once per
  // form, chosen per call): accumulating or not, x no epilogue, or one with and without bias and
  // residual x an activation of each kind the kernels tell apart (none, relu, relu6 have their
  // own forms; leakyRelu and silu are read at run time), all columns and a partial tile.
  const ActivationKind kinds[] = {ActivationKind::None, ActivationKind::Relu, ActivationKind::Relu6,
                                  ActivationKind::LeakyRelu, ActivationKind::Silu};
  for (size_t kc : {size_t{5}, size_t{33}}) {
    const auto a = random_floats(g.mr * kc, rng);
    const auto b = random_floats(kc * g.nr, rng);
    // Values around +-8, so relu6's upper clamp and relu's zero both bite.
    auto c0 = random_floats((g.mr + 1) * ldc, rng);
    for (float& v : c0) v *= 8.0f;
    const auto bias = random_floats(g.mr, rng);
    const auto residual = random_floats(g.mr * ldc, rng);
    for (size_t nr : {g.nr, g.nr - 3}) {
      for (bool accumulate : {false, true}) {
        for (int form = -1; form < 4 * 5; form++) {
          Epilogue ep;
          if (form >= 0) {
            ep.bias = (form / 5) & 2 ? bias.data() : nullptr;
            ep.residual = (form / 5) & 1 ? residual.data() : nullptr;
            ep.residual_stride = ldc;
            ep.activation.kind = kinds[form % 5];
            ep.activation.alpha = 0.1f;
          }
          const Epilogue* given = form >= 0 ? &ep : nullptr;
          const std::vector<float> want = gemm_tile_want(g, g.mr, nr, kc, a, b, c0, ldc, accumulate, given);
          std::vector<float> got(c0);
          g.kernel(g.mr, nr, kc, a.data(), b.data(), g.nr, got.data(), ldc, accumulate, given);
          char label[160];
          std::snprintf(label, sizeof label, "%s gemm full-row tile x%zu k%zu%s%s%s%s act %d", isa_name(isa.isa), nr, kc,
                        accumulate ? " accumulate" : "", given != nullptr ? " epilogue" : "",
                        ep.bias != nullptr ? " bias" : "", ep.residual != nullptr ? " residual" : "",
                        static_cast<int>(ep.activation.kind));
          expect_close(got, want, label);
        }
      }
    }
  }
}

// Servers have 8-64 cores: at batch 1 the GEMM split must still give every one of 16 threads
// work (split_gemm aims at two tasks each; rounding to whole panels can leave fewer, e.g. 28 for
// 16 threads, never fewer than the threads where there are that many tiles), with tasks that tile the problem
// exactly (a task claims a whole chunk with one atomic increment, not one per tile). ResNet-50's
// GEMM shapes (M = output channels of a group, N = output pixels) and MobileNetV2's.
void test_split_scales(const KernelConfig& isa) {
  const size_t shapes[][2] = {{64, 112 * 112}, {64, 56 * 56},  {256, 56 * 56}, {128, 28 * 28}, {512, 28 * 28},
                              {256, 14 * 14},  {1024, 14 * 14}, {512, 7 * 7},  {2048, 7 * 7},  {1280, 7 * 7},
                              {16, 112 * 112}, {24, 56 * 56},  {320, 7 * 7},  {1000, 1}};
  for (size_t threads : {size_t{8}, size_t{16}}) {
    for (const auto& shape : shapes) {
      const size_t m = shape[0], n = shape[1];
      const GemmSplit s = split_gemm(isa.gemm, 1, m, n, threads);
      const size_t tiles = ((m + isa.gemm.mr - 1) / isa.gemm.mr) * ((n + isa.gemm.nr - 1) / isa.gemm.nr);
      const size_t wanted = std::min(tiles, threads);
      g_checks++;
      const bool covers = s.n_chunk % isa.gemm.nr == 0 && s.m_chunk % isa.gemm.mr == 0 && s.n_chunks * s.n_chunk >= n &&
                          (s.n_chunks - 1) * s.n_chunk < n && s.m_chunks * s.m_chunk >= m && (s.m_chunks - 1) * s.m_chunk < m;
      if (s.tasks(1) < wanted || !covers) {
        std::printf("FAIL %s split of M %zu x N %zu for %zu threads: %zu tasks (%zu x %zu px, %zu x %zu rows), wanted >= %zu\n",
                    isa_name(isa.isa), m, n, threads, s.tasks(1), s.n_chunks, s.n_chunk, s.m_chunks, s.m_chunk, wanted);
        g_failures++;
      }
    }
  }
}

// The balanced cut (task_split.h, balanced_gemm_cut) at 2-4 threads on the batch-1 small-map
// shapes: tasks still tile the problem exactly, every thread gets one where there are enough
// tiles, the predicted span is never above the pixel-block cut's (split_gemm without k), and it
// is within 6% of an even share at 2 threads, 12% at 3 and 4 (fewer ways to cut 4 x threads tasks
// evenly; the pixel-block cut of 14x14, 13 tiles as 4 + 4 + 4 + 1, is 30% above it at 2
// threads; 28x28, 49 tiles as 15 + 15 + 15 + 4, 22%).
void test_balanced_cut(const KernelConfig& isa) {
  const size_t shapes[][3] = {{256, 784, 128}, {512, 784, 256}, {128, 784, 512}, {256, 196, 1024}, {1024, 196, 256},
                              {2048, 49, 1024}, {512, 49, 2048}, {80, 196, 240},  {480, 196, 80},   {96, 196, 480},
                              {576, 196, 96},   {1152, 49, 192}, {192, 49, 1152}, {1280, 49, 320},  {40, 784, 120},
                              {24, 143, 24},    {200, 196, 432}, {160, 49, 576},  {64, 3136, 256},  {128, 3136, 64},
                              {256, 3136, 64},  {64, 12544, 147}, {48, 3025, 64}};
  const GemmConfig& cfg = isa.gemm;
  for (size_t threads : {size_t{2}, size_t{3}, size_t{4}}) {
    for (size_t independent : {size_t{1}, size_t{2}}) {
      for (const auto& shape : shapes) {
        const size_t m = shape[0], n = shape[1], k = shape[2];
        const GemmSplit plain = split_gemm(cfg, independent, m, n, threads);
        const GemmSplit s = split_gemm(cfg, independent, m, n, threads, k);
        // Asked again, the cut comes from gemm_cut_for's table: it must be the one just scored.
        const GemmSplit again = split_gemm(cfg, independent, m, n, threads, k);
        const bool kept = again.n_chunk == s.n_chunk && again.m_chunk == s.m_chunk;
        const GemmGridShape grid = {independent, m, cfg.mr, n, cfg.nr, k};
        const double span = gemm_cut_span_ns(grid, threads, {s.n_chunk / cfg.nr, s.m_chunk / cfg.mr});
        const double plain_span = gemm_cut_span_ns(grid, threads, {plain.n_chunk / cfg.nr, plain.m_chunk / cfg.mr});
        const double even = gemm_cut_span_ns(grid, 1, {s.n_chunk / cfg.nr, s.m_chunk / cfg.mr}) / static_cast<double>(threads);
        const size_t tiles = independent * ((m + cfg.mr - 1) / cfg.mr) * ((n + cfg.nr - 1) / cfg.nr);
        const bool covers = s.n_chunk % cfg.nr == 0 && s.m_chunk % cfg.mr == 0 && s.n_chunks * s.n_chunk >= n &&
                            (s.n_chunks - 1) * s.n_chunk < n && s.m_chunks * s.m_chunk >= m && (s.m_chunks - 1) * s.m_chunk < m;
        // An even share also pays the workers' late start and each task's claim: a share of it,
        // or the fixed costs of one task, whichever is more.
        const double slack = threads == 2 ? 1.06 : 1.12;
        const bool balanced = span <= std::max(slack * even, even + kGemmHelperStartNs + 2 * kNsPerGemmTask);
        g_checks++;
        if (!covers || !kept || s.tasks(independent) < std::min(tiles, threads) || span > plain_span || !balanced) {
          std::printf("FAIL %s balanced cut of %zu x M %zu x N %zu (K %zu) for %zu threads: %zu tasks (%zu x %zu px, %zu x %zu rows), "
                      "span %.1f us, pixel-block cut %.1f, even share %.1f\n",
                      isa_name(isa.isa), independent, m, n, k, threads, s.tasks(independent), s.n_chunks, s.n_chunk, s.m_chunks,
                      s.m_chunk, span / 1e3, plain_span / 1e3, even / 1e3);
          g_failures++;
        }
      }
    }
  }
}

// A table's im2col packer against the portable one, value for value (it only moves values):
// strides 1, 2, 4, 3 (masked loads, even-column permute, every-fourth permute, gather), dilation, pads on every side past
// the kernel's reach, maps narrower than a panel (runs wrapping over several output rows),
// K blocks starting mid-window, pixel blocks starting mid-row, and a 1-pixel-wide output. The
// portable packer itself is checked against im2col's definition (so the two cannot agree on a
// wrong answer).
void test_im2col(const KernelConfig& isa) {
  if (isa.gemm.im2col == nullptr) return;
  std::mt19937 rng(63);
  struct S {
    size_t c, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  };
  const S shapes[] = {{3, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  {4, 29, 31, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
                      {3, 40, 37, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3},  {2, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
                      {2, 14, 13, 3, 3, 3, 3, 1, 1, 2, 0, 1, 2},  {3, 15, 17, 3, 3, 1, 1, 2, 3, 2, 2, 2, 2},
                      {2, 9, 5, 2, 3, 1, 2, 1, 1, 0, 2, 1, 0},     {1, 6, 1, 3, 1, 1, 1, 1, 1, 1, 0, 1, 0},
                      {2, 33, 40, 5, 5, 2, 3, 2, 1, 4, 4, 4, 4},  {2, 20, 70, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0},
                      // stride 4 (four loads and permutes): AlexNet's 11x11/4 on a narrower map,
                      // a map narrower than a panel, dilation within the loads' 64 columns
                      {3, 23, 227, 11, 11, 4, 4, 1, 1, 2, 2, 2, 2}, {2, 30, 26, 5, 5, 3, 4, 1, 1, 2, 1, 0, 3},
                      {2, 21, 45, 3, 3, 4, 4, 2, 2, 1, 1, 1, 1},
                      // ResNet's 3x3/2 on 28 and 14 (14- and 7-wide outputs: every panel wraps,
                      // over 2 to 4 rows), a 6-wide output (4 runs) and a 5-wide one (5 runs: the
                      // general loop), stride 1 on a 9-wide map, stride 3 and 4 wrapping
                      {3, 28, 28, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, {2, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
                      {2, 11, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, {2, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
                      {2, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   {2, 20, 26, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1},
                      {2, 27, 27, 3, 3, 4, 4, 1, 1, 0, 1, 2, 2}, {2, 14, 14, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2},
                      // 1x1 kernels (ResNet's 1x1/2 on 56, 28 and 14: 28-, 14- and 7-wide outputs,
                      // 1 to 4 runs a panel), an odd map, 5 runs (the general loop), strides 3
                      // and 1, unequal strides, a bottom / right padding
                      {5, 56, 56, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0}, {3, 28, 28, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0},
                      {3, 14, 14, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0}, {2, 13, 13, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0},
                      {2, 9, 9, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0},   {2, 20, 31, 1, 1, 3, 3, 1, 1, 0, 0, 0, 0},
                      {2, 11, 15, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, {2, 15, 9, 1, 1, 2, 1, 1, 1, 0, 0, 0, 0},
                      {2, 8, 9, 1, 1, 2, 2, 1, 1, 0, 0, 1, 1}};
  for (const S& sh : shapes) {
    const size_t out_h = (sh.h + sh.pt + sh.pb - (sh.dh * (sh.kh - 1) + 1)) / sh.sh + 1;
    const size_t out_w = (sh.w + sh.pl + sh.pr - (sh.dw * (sh.kw - 1) + 1)) / sh.sw + 1;
    const Im2colShape shape = {sh.c, sh.h, sh.w, sh.kh, sh.kw, sh.sh, sh.sw, sh.dh, sh.dw, sh.pt, sh.pl, out_w};
    const auto in = random_floats(sh.c * sh.h * sh.w, rng);
    const size_t k_total = sh.c * sh.kh * sh.kw, n_total = out_h * out_w;
    const size_t nr = isa.gemm.nr;
    const size_t blocks[][4] = {{0, k_total, 0, n_total}, {k_total / 3, k_total - k_total / 3, n_total / 3, n_total / 2 + 1}};
    for (const auto& b : blocks) {
      const size_t k0 = b[0], kc = b[1], n0 = b[2], nc = std::min(b[3], n_total - n0);
      const size_t size = (nc + nr - 1) / nr * nr * kc;
      std::vector<float> want(size, 777.0f), got(size, 555.0f);
      f32_im2col_pack(nr, shape, in.data(), k0, kc, n0, nc, want.data());
      isa.gemm.im2col(nr, shape, in.data(), k0, kc, n0, nc, got.data());
      char label[160];
      std::snprintf(label, sizeof label, "%s im2col c%zu %zux%zu k%zux%zu s%zux%zu d%zux%zu k[%zu,+%zu) n[%zu,+%zu)",
                    isa_name(isa.isa), sh.c, sh.h, sh.w, sh.kh, sh.kw, sh.sh, sh.sw, sh.dh, sh.dw, k0, kc, n0, nc);
      expect_same(got, want, label);
      // The portable packer itself against im2col's definition, element by element.
      std::vector<float> naive(size, 0.0f);
      for (size_t k = k0; k < k0 + kc; k++) {
        const size_t c = k / (sh.kh * sh.kw), ky = k % (sh.kh * sh.kw) / sh.kw, kx = k % sh.kw;
        for (size_t n = n0; n < n0 + nc; n++) {
          const ptrdiff_t iy = static_cast<ptrdiff_t>(n / out_w * sh.sh + ky * sh.dh) - static_cast<ptrdiff_t>(sh.pt);
          const ptrdiff_t ix = static_cast<ptrdiff_t>(n % out_w * sh.sw + kx * sh.dw) - static_cast<ptrdiff_t>(sh.pl);
          const bool inside = iy >= 0 && iy < static_cast<ptrdiff_t>(sh.h) && ix >= 0 && ix < static_cast<ptrdiff_t>(sh.w);
          naive[(n - n0) / nr * kc * nr + (k - k0) * nr + (n - n0) % nr] =
              inside ? in[(c * sh.h + static_cast<size_t>(iy)) * sh.w + static_cast<size_t>(ix)] : 0.0f;
        }
      }
      std::snprintf(label, sizeof label, "portable im2col c%zu %zux%zu k%zux%zu s%zux%zu d%zux%zu k[%zu,+%zu) n[%zu,+%zu)",
                    sh.c, sh.h, sh.w, sh.kh, sh.kw, sh.sh, sh.sw, sh.dh, sh.dw, k0, kc, n0, nc);
      expect_same(want, naive, label);
    }
  }
}

// A table's A packer against the portable one, value for value: partial row panels, K blocks
// that start mid-row and end off a multiple of 16, a row stride wider than the block.
void test_pack_a(const KernelConfig& isa) {
  if (isa.gemm.pack_a == nullptr) return;
  std::mt19937 rng(64);
  const size_t shapes[][4] = {{16, 16, 0, 16}, {37, 300, 5, 250}, {3, 40, 0, 40}, {64, 96, 0, 96}, {33, 17, 1, 15}};
  for (const auto& s : shapes) {
    const size_t m = s[0], lda = s[1], k0 = s[2], kc = s[3];
    const auto src = random_floats(m * lda, rng);
    const size_t size = (m + isa.gemm.mr - 1) / isa.gemm.mr * isa.gemm.mr * kc;
    std::vector<float> want(size, 777.0f), got(size, 555.0f);
    f32_gemm_pack_a(isa.gemm.mr, m, k0, kc, src.data(), lda, want.data());
    isa.gemm.pack_a(isa.gemm.mr, m, k0, kc, src.data(), lda, got.data());
    char label[96];
    std::snprintf(label, sizeof label, "%s pack_a m%zu lda%zu k[%zu,+%zu)", isa_name(isa.isa), m, lda, k0, kc);
    expect_same(got, want, label);
  }
}

void test_linear(const KernelConfig& isa, const KernelConfig& scalar) {
  std::mt19937 rng(9);
  // {in, out, batch}: batches up to 2 take the GEMV path, larger ones the GEMM; K over one block
  // (256), K not a multiple of 4 or 8, out not a multiple of any MR.
  const size_t shapes[][3] = {{10, 3, 1},   {300, 37, 5}, {84, 10, 33}, {1280, 1000, 1}, {517, 13, 2},
                              {7, 5, 4},    {3, 1, 1},    {260, 31, 3},   {260, 31, 2},
                              // batches of a row panel and more (avx512: x as the GEMM's rows, the
                              // packed weights as B in place): K over a block, outFeatures not a
                              // multiple of 16, a partial last row panel
                              {96, 384, 100}, {300, 37, 16}, {520, 45, 51}, {33, 16, 17}};
  for (const auto& s : shapes) {
    const auto w = random_floats(s[0] * s[1], rng);
    const auto b = random_floats(s[1], rng);
    const auto x = random_floats(s[0] * s[2], rng);
    std::vector<float> want(s[1] * s[2]), got(want.size(), NAN);
    Linear(s[0], s[1], w.data(), w.size(), b.data(), b.size(), {ActivationKind::Relu, 0.01f}, scalar)
        .run(s[2], x.data(), want.data());
    Linear(s[0], s[1], w.data(), w.size(), b.data(), b.size(), {ActivationKind::Relu, 0.01f}, isa)
        .run(s[2], x.data(), got.data());
    // Scalar against the definition.
    std::vector<float> naive(want.size());
    for (size_t n = 0; n < s[2]; n++)
      for (size_t o = 0; o < s[1]; o++) {
        double sum = b[o];
        for (size_t i = 0; i < s[0]; i++) sum += static_cast<double>(w[o * s[0] + i]) * x[n * s[0] + i];
        naive[n * s[1] + o] = sum > 0 ? static_cast<float>(sum) : 0.0f;
      }
    expect_close(want, naive, "scalar linear vs naive");
    expect_close(got, want, std::string(isa_name(isa.isa)) + " linear vs scalar");
  }
}

}  // namespace kernels_test
