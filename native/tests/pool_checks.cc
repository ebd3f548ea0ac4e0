// The pooling families (f32-maxpool, f32-avgpool, f32-gpool) of each ISA against the scalar
// kernels, bit for bit, and the scalar 3x3 stride-2 max pool against the definition.
#include "../kernels/pool-plane.h"
#include "../ops/pool.h"

#include "kernels_test.h"

namespace kernels_test {
namespace {

// The max pool definition, written apart from pool_taps: every tap of the padded window, taps
// outside the input skipped, NaN wins.
std::vector<float> naive_maxpool_3x3s2(const std::vector<float>& in, size_t planes, const Window& w) {
  std::vector<float> out(planes * w.out_h * w.out_w);
  for (size_t c = 0; c < planes; c++)
    for (size_t oy = 0; oy < w.out_h; oy++)
      for (size_t ox = 0; ox < w.out_w; ox++) {
        float best = -INFINITY;
        for (long a = 0; a < 3; a++)
          for (long b = 0; b < 3; b++) {
            const long y = static_cast<long>(oy * 2) - static_cast<long>(w.pad_top) + a;
            const long x = static_cast<long>(ox * 2) - static_cast<long>(w.pad_left) + b;
            if (y < 0 || x < 0 || y >= static_cast<long>(w.in_h) || x >= static_cast<long>(w.in_w)) continue;
            const float v = in[(c * w.in_h + y) * w.in_w + x];
            if (std::isnan(v) || std::isnan(best)) {
              best = NAN;
            } else if (v > best) {
              best = v;
            }
          }
        out[(c * w.out_h + oy) * w.out_w + ox] = best;
      }
  return out;
}

}  // namespace

// Every pool kernel against the scalar ones, bit for bit (the avx512 general kernels sum the taps
// in the scalar order and divide by the same count; max only moves values), on random inputs and
// again with NaN and infinities sprinkled in. Rows of 70 and 100 outputs take whole 16-lane
// vectors and a masked tail; strides 2 and 3 take the gathers.
void test_pools(const KernelConfig& isa, const KernelConfig& scalar) {
  std::mt19937 rng(7);
  struct P {
    size_t h, w, k, s, d, pt, pl, pb, pr;
    bool ceil;
  };
  const P cases[] = {{112, 112, 3, 2, 1, 1, 1, 1, 1, false}, {57, 45, 3, 2, 1, 1, 0, 0, 1, true},
                     {13, 17, 2, 2, 1, 0, 0, 0, 0, true},     {10, 11, 3, 1, 2, 1, 1, 1, 1, false},
                     {40, 41, 3, 2, 1, 0, 0, 0, 0, false},    {7, 8, 4, 3, 1, 2, 1, 1, 2, true},
                     {20, 70, 3, 1, 1, 1, 1, 1, 1, false},    {9, 200, 2, 2, 1, 0, 0, 0, 0, false},
                     {15, 67, 5, 3, 1, 2, 2, 2, 2, true},     {12, 102, 3, 1, 3, 0, 3, 1, 2, false},
                     {6, 33, 7, 1, 1, 3, 3, 3, 3, false}};
  for (const P& p : cases) {
    for (PoolKind kind : {PoolKind::Max, PoolKind::Avg}) {
      for (bool include : {true, false}) {
        PoolRun r;
        r.batch = 2;
        r.channels = 3;
        r.kind = kind;
        r.count_include_pad = include;
        r.window = {p.h, p.w, p.k, p.k, p.s, p.s, p.d, p.d, p.pt, p.pl, p.pb, p.pr, 0, 0};
        r.window.out_h = window_output_size(p.h, p.k, p.d, p.s, p.pt, p.pb, p.ceil);
        r.window.out_w = window_output_size(p.w, p.k, p.d, p.s, p.pl, p.pr, p.ceil);
        auto in = random_floats(2 * 3 * p.h * p.w, rng);
        for (int special = 0; special < 2; special++) {
          if (special == 1) {
            const float values[] = {NAN, INFINITY, -INFINITY};
            for (size_t i = 0; i < in.size(); i += 97) in[i] = values[(i / 97) % 3];
          }
          std::vector<float> want(2 * 3 * r.window.out_h * r.window.out_w), got(want.size(), -7.0f);
          check_pool(r, in.size(), want.size());
          run_pool(scalar, r, in.data(), want.data());
          run_pool(isa, r, in.data(), got.data());
          char label[128];
          std::snprintf(label, sizeof label, "%s pool %s %zux%zu k%zu s%zu d%zu%s%s", isa_name(isa.isa),
                        kind == PoolKind::Max ? "max" : "avg", p.h, p.w, p.k, p.s, p.d, include ? " include-pad" : "",
                        special == 1 ? " with NaN/inf" : "");
          expect_same(got, want, label);
        }
      }
    }
  }
}

#if !defined(__cpp_exceptions)
// check_pool's rule that windows of padding only break, for the build without exceptions.
static bool every_window_reaches_input(const Window& w) {
  for (size_t o = 0; o < w.out_h; o++) {
    if (pool_taps(o, w.stride_h, w.pad_top, w.kernel_h, w.dilation_h, w.in_h).count == 0) return false;
  }
  for (size_t o = 0; o < w.out_w; o++) {
    if (pool_taps(o, w.stride_w, w.pad_left, w.kernel_w, w.dilation_w, w.in_w).count == 0) return false;
  }
  return true;
}
#endif

// The 3x3 stride-2 max pool (a specialised kernel on vector ISAs) against the scalar kernel and
// the definition: widths and heights 3..20 and a few wide rows (vector steps with and without a
// tail, rows narrower than one step), pads 0..2 per side, ceilMode sizes (windows hanging past
// the input), and planes holding NaN / +inf / -inf in border and interior positions.
void test_maxpool_3x3s2(const KernelConfig& isa, const KernelConfig& scalar) {
  std::mt19937 rng(21);
  const size_t sizes[] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  12, 13, 14, 15,
                          16, 17, 18, 19, 20, 33, 34, 35, 36, 49, 112, 113};
  const size_t pads[][4] = {{0, 0, 0, 0}, {1, 1, 1, 1}, {0, 0, 1, 1}, {1, 1, 0, 0}, {2, 2, 2, 2}, {1, 2, 2, 1}};
  const size_t planes = 8;
  size_t tested = 0;
  for (size_t h : {3, 4, 7, 12, 17}) {
    for (size_t wd : sizes) {
      for (const auto& pad : pads) {
        for (bool ceil : {false, true}) {
          PoolRun r;
          r.batch = 2;
          r.channels = planes / 2;
          r.kind = PoolKind::Max;
          r.count_include_pad = false;
          r.window = {h, wd, 3, 3, 2, 2, 1, 1, pad[0], pad[1], pad[2], pad[3], 0, 0};
          r.window.out_h = window_output_size(h, 3, 1, 2, pad[0], pad[2], ceil);
          r.window.out_w = window_output_size(wd, 3, 1, 2, pad[1], pad[3], ceil);
          auto in = random_floats(planes * h * wd, rng);
          // Plane 0 stays finite; the others get 1..4 specials, at a border row / column or
          // anywhere. Plane 1 is all -inf but for one +inf.
          const float specials[] = {NAN, INFINITY, -INFINITY};
          for (size_t c = 1; c < planes; c++) {
            float* plane = in.data() + c * h * wd;
            if (c == 1) {
              for (size_t i = 0; i < h * wd; i++) plane[i] = -INFINITY;
            }
            for (size_t k = 0; k <= c % 4; k++) {
              const size_t y = rng() % 3 == 0 ? (rng() % 2 ? 0 : h - 1) : rng() % h;
              const size_t x = rng() % 3 == 0 ? (rng() % 2 ? 0 : wd - 1) : rng() % wd;
              plane[y * wd + x] = c == 1 ? INFINITY : specials[rng() % 3];
            }
          }
          std::vector<float> want(planes * r.window.out_h * r.window.out_w), got(want.size(), 12345.0f);
#if defined(__cpp_exceptions)
          try {
            check_pool(r, in.size(), want.size());
          } catch (const std::exception&) {
            continue;  // a window of padding only (pad 2 on a short axis): rejected, as it should be
          }
#else
          // No exceptions in the wasm build: skip the windows check_pool refuses (below), check the rest.
          if (!every_window_reaches_input(r.window)) continue;
          check_pool(r, in.size(), want.size());
#endif
          tested++;
          run_pool(scalar, r, in.data(), want.data());
          run_pool(isa, r, in.data(), got.data());
          char label[160];
          std::snprintf(label, sizeof label, "%s maxpool 3x3s2 %zux%zu pads %zu,%zu,%zu,%zu%s", isa_name(isa.isa), h,
                        wd, pad[0], pad[1], pad[2], pad[3], ceil ? " ceil" : "");
          expect_same(want, naive_maxpool_3x3s2(in, planes, r.window), std::string(label) + " (scalar vs definition)");
          expect_same(got, want, label);
        }
      }
    }
  }
  if (tested < 1000) {
    std::printf("FAIL maxpool 3x3s2: only %zu geometries were accepted\n", tested);
    g_failures++;
  }
  // A job big enough to be split over the threads (run_pool keeps small ones on the calling
  // thread): 69 planes, not a multiple of the task count, one NaN in a middle plane.
  PoolRun r;
  r.batch = 3;
  r.channels = 23;
  r.kind = PoolKind::Max;
  r.count_include_pad = false;
  r.window = {112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 56, 56};
  auto in = random_floats(r.batch * r.channels * 112 * 112, rng);
  in[(37 * 112 + 50) * 112 + 7] = NAN;
  std::vector<float> want(r.batch * r.channels * 56 * 56), got(want.size(), 12345.0f);
  check_pool(r, in.size(), want.size());
  run_pool(scalar, r, in.data(), want.data());
  run_pool(isa, r, in.data(), got.data());
  expect_same(got, want, std::string(isa_name(isa.isa)) + " maxpool 3x3s2 3x23x112x112 (threads)");
  expect_same(want, naive_maxpool_3x3s2(in, r.batch * r.channels, r.window),
              "scalar maxpool 3x3s2 3x23x112x112 vs definition");
}

// The table's global pool kernels against two plain loops, planes of 1 value to past a few
// vectors (masked tails), and a plane with a NaN (the max gives NaN).
void test_global_pools(const KernelConfig& isa) {
  std::mt19937 rng(13);
  for (size_t plane : {size_t{61}, size_t{1}, size_t{16}, size_t{49}, size_t{3136}}) {
  const size_t planes = 7;
  auto in = random_floats(planes * plane, rng);
  in[2 * plane + plane / 2] = NAN;  // plane 2
  for (PoolKind kind : {PoolKind::Max, PoolKind::Avg}) {
    std::vector<float> got(planes, -7.0f), want(planes);
    check_global_pool(planes, plane, in.size(), got.size());
    run_global_pool(isa, kind, planes, plane, in.data(), got.data());
    // Two plain loops: one loop choosing max or sum per element hits an internal compiler
    // error in GCC 12's aarch64 vectoriser.
    for (size_t c = 0; c < planes; c++) {
      const float* x = in.data() + c * plane;
      if (kind == PoolKind::Max) {
        float best = x[0];
        bool nan = std::isnan(best);
        for (size_t i = 1; i < plane; i++) best = x[i] > best ? x[i] : best, nan = nan || std::isnan(x[i]);
        want[c] = nan ? NAN : best;
      } else {
        double sum = 0.0;
        for (size_t i = 0; i < plane; i++) sum += x[i];
        want[c] = static_cast<float>(sum / static_cast<double>(plane));
      }
    }
    expect_close(got, want, std::string(isa_name(isa.isa)) + (kind == PoolKind::Max ? " global max " : " global avg ") +
                                std::to_string(plane));
  }
  }
}

}  // namespace kernels_test
