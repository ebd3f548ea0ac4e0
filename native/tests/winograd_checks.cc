// The Winograd transforms (f32-winograd: F(2x2), F(4x4), F(6x6) input and output transforms)
// of each ISA against the scalar ones, and the point GEMMs' tile (f32-winograd-gemm) against its
// GEMM entry's main tile.
#include "../ops/winograd.h"

#include <cstring>

#include "kernels_test.h"

namespace kernels_test {
namespace {

// The Winograd transforms on their own, against the scalar ones: planes narrower than a vector
// group (all loads masked), pads 0 / 1 / 2 / asymmetric, odd output sizes, chunks that start and
// end mid-row, and B panels whose rows a group straddles. Buffers are exactly as large as the
// contract says, so the sanitizer build sees any read or write past them; slots outside the
// transformed channel's panel rows must keep their sentinel.
// One Winograd tile size's transforms in a table: T x T outputs per tile, `points` products.
struct WinogradTransforms {
  const char* name;
  size_t tile, points;
  WinogradInputKernel input;
  WinogradOutputKernel output;
};

void test_winograd_transforms_of(const KernelConfig& isa, const WinogradTransforms& k, const WinogradTransforms& ref) {
  struct Plane {
    size_t in_h, in_w, pt, pl, pb, pr;
  };
  // 30x130: rows of 65 (F(2x2)) or 33 (F(4x4)) tiles, past one 32-tile segment and two 16-lane groups.
  const Plane planes[] = {{56, 56, 1, 1, 1, 1}, {7, 7, 1, 1, 1, 1},   {9, 13, 2, 0, 1, 2},   {6, 5, 0, 0, 0, 0},
                          {8, 40, 1, 1, 0, 0},  {11, 37, 0, 2, 2, 1}, {30, 130, 1, 1, 1, 1}};
  const size_t channels = 3, channel = 1;  // channel 1's rows of 3-channel panels
  std::mt19937 rng(31);
  for (const Plane& pl : planes) {
    const size_t out_h = pl.in_h + pl.pt + pl.pb - 2, out_w = pl.in_w + pl.pl + pl.pr - 2;
    const size_t T = k.tile;
    const WinogradPlane g = {pl.in_h, pl.in_w, out_h, out_w, pl.pt, pl.pl, (out_w + T - 1) / T};
    const size_t tiles = (out_h + T - 1) / T * g.tiles_w;
    const auto plane = random_floats(pl.in_h * pl.in_w, rng);
    const size_t chunks[][2] = {{0, tiles}, {3, std::min<size_t>(29, tiles - 3)}, {tiles > 5 ? tiles - 5 : 0, std::min<size_t>(5, tiles)},
                                {tiles / 2, tiles - tiles / 2}, {1, std::min<size_t>(16, tiles - 1)}};
    for (const auto& chunk : chunks) {
      const size_t t0 = chunk[0], count = chunk[1];
      if (count == 0 || t0 + count > tiles) continue;  // planes of a few F(4x4) tiles lack some chunks
      for (size_t panel_width : {size_t{16}, size_t{6}, count}) {
        const size_t panels = (count + panel_width - 1) / panel_width;
        const size_t point_stride = panels * channels * panel_width;
        const float sentinel = 1234.5f;
        std::vector<float> want(k.points * point_stride, sentinel), got(want);
        const size_t offset = channel * panel_width, panel_stride = channels * panel_width;
        ref.input(plane.data(), g, t0, count, want.data() + offset, point_stride, panel_width, panel_stride);
        k.input(plane.data(), g, t0, count, got.data() + offset, point_stride, panel_width, panel_stride);
        // Slots past the last tile in the last panel row may hold anything; nothing else may differ.
        for (size_t p = 0; p < k.points; p++) {
          for (size_t o = count; o < panels * panel_width; o++) {
            const size_t at = p * point_stride + offset + (o / panel_width) * panel_stride + o % panel_width;
            got[at] = want[at];
          }
        }
        char label[160];
        std::snprintf(label, sizeof label, "%s winograd %s input %zux%zu pads %zu,%zu tiles [%zu, +%zu) panel %zu",
                      isa_name(isa.isa), k.name, pl.in_h, pl.in_w, pl.pt, pl.pl, t0, count, panel_width);
        expect_close(got, want, label);
      }
      // The output transform, with every activation, with and without residual and bias.
      const size_t point_stride = count + 3;
      const auto m = random_floats((k.points - 1) * point_stride + count, rng);
      const auto residual = random_floats(out_h * out_w, rng);
      for (int act = 0; act < kActivationKinds; act++) {
        const Activation a = test_activation(static_cast<ActivationKind>(act));
        const bool with_residual = act % 2 == 0;
        std::vector<float> want(out_h * out_w, 1234.5f), got(want);
        const float* res = with_residual ? residual.data() : nullptr;
        const float bias = act == 3 ? 0.0f : 0.25f;
        ref.output(m.data(), point_stride, g, t0, count, bias, res, a, want.data());
        k.output(m.data(), point_stride, g, t0, count, bias, res, a, got.data());
        char label[160];
        std::snprintf(label, sizeof label, "%s winograd %s output %zux%zu tiles [%zu, +%zu) act %d%s", isa_name(isa.isa),
                      k.name, out_h, out_w, t0, count, act, with_residual ? " residual" : "");
        expect_close(got, want, label);
      }
    }
  }
}

}  // namespace

void test_winograd_transforms(const KernelConfig& isa, const KernelConfig& scalar) {
  test_winograd_transforms_of(isa, {"F(2x2)", kWinogradTile, kWinogradPoints, isa.winograd_input, isa.winograd_output},
                              {"F(2x2)", kWinogradTile, kWinogradPoints, scalar.winograd_input, scalar.winograd_output});
  test_winograd_transforms_of(
      isa, {"F(4x4)", kWinograd4x4Tile, kWinograd4x4Points, isa.winograd_4x4_input, isa.winograd_4x4_output},
      {"F(4x4)", kWinograd4x4Tile, kWinograd4x4Points, scalar.winograd_4x4_input, scalar.winograd_4x4_output});
  test_winograd_transforms_of(
      isa, {"F(6x6)", kWinograd6x6Tile, kWinograd6x6Points, isa.winograd_6x6_input, isa.winograd_6x6_output},
      {"F(6x6)", kWinograd6x6Tile, kWinograd6x6Points, scalar.winograd_6x6_input, scalar.winograd_6x6_output});
}

// The table's f32-winograd-gemm tile (the point GEMMs' full tile with U requested ahead) against
// its GEMM entry's main tile on the same panels, bit for bit: it sums in the same order, so the
// prefetch switch (CONVNODE_WINOGRAD_PREFETCH) changes no output. K 1..200 (a K block is at most
// gemm.kc_max), with and without accumulating into C, C rows wider than the tile (whose slots
// past it must keep their values), and a prefetch distance that reaches past the A panel (a
// prefetch never faults).
void test_winograd_gemm_tile(const KernelConfig& isa) {
  if (isa.winograd_gemm == nullptr) return;
  const GemmConfig& gc = isa.gemm;
  const size_t mr = gc.mr, nr = gc.nr, ldc = nr + 5;
  std::mt19937 rng(1234);
  int failed = 0, checks = 0;
  for (size_t kc = 1; kc <= 200; kc++) {
    const std::vector<float> a = random_floats(mr * kc, rng), b = random_floats(kc * nr, rng);
    const std::vector<float> c0 = random_floats(mr * ldc, rng);
    for (bool accumulate : {false, true}) {
      std::vector<float> want = c0, got = c0;
      gc.kernel(mr, nr, kc, a.data(), b.data(), nr, want.data(), ldc, accumulate, nullptr);
      isa.winograd_gemm(kc, a.data(), b.data(), got.data(), ldc, accumulate, 64 * 16);
      checks++;
      if (std::memcmp(want.data(), got.data(), want.size() * sizeof(float)) != 0) {
        if (failed++ < 5) {
          std::printf("FAIL %s f32-winograd-gemm %zux%zu kc %zu accumulate %d: bits differ from f32-gemm's main tile\n",
                      isa_name(isa.isa), mr, nr, kc, accumulate ? 1 : 0);
        }
      }
    }
  }
  g_checks += checks;
  g_failures += failed;
  std::printf("kernels_test: %s f32-winograd-gemm %zux%zu: %d cases (kc 1..200, accumulate 0/1) %s f32-gemm %zux%zu's bits\n",
              isa_name(isa.isa), mr, nr, checks, failed == 0 ? "match" : "DIFFER from", mr, nr);
}

}  // namespace kernels_test
