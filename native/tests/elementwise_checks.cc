// The element-wise engine's checks (f32-vunary, f32-vbinary, f32-vaffine):
//   - accuracy: every transcendental activation of each ISA's f32-vunary against a double
//     precision definition over a dense sweep of floats, the worst error in ulp printed and bounded;
//   - parity: f32-vunary / f32-vbinary / f32-vaffine of each ISA against the scalar kernels, via
//     the ops (broadcast shapes, per-channel and per-image affine, in place, large enough to thread),
//     and the ops against a naive broadcast written here;
//   - the squeeze-and-excitation op (ops/squeeze_excite.h: squeeze, both gate layers, channel
//     scale in one call) of each ISA against a double-precision block written here.
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "../ops/argument_error.h"
#include "../ops/elementwise.h"
#include "../ops/squeeze_excite.h"

#include "kernels_test.h"

namespace kernels_test {
namespace {

// The definitions, in double (the scalar kernel uses float libm, so it is not the yardstick).
double reference_activation(ActivationKind kind, double x, double alpha) {
  switch (kind) {
    case ActivationKind::Sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case ActivationKind::Silu: return x / (1.0 + std::exp(-x));
    case ActivationKind::Tanh: return std::tanh(x);
    case ActivationKind::Exp: return std::exp(x);
    case ActivationKind::Elu: return x < 0 ? alpha * std::expm1(x) : x;
    case ActivationKind::Softplus: return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
    case ActivationKind::Mish: {
      const double sp = x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
      return x * std::tanh(sp);
    }
    case ActivationKind::Gelu: return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
    case ActivationKind::GeluTanh:  // (1 + tanh(u)) / 2 = 1 / (1 + e^-2u): no cancellation for x < 0
      return x / (1.0 + std::exp(-2.0 * 0.79788456080286536 * (x + 0.044715 * x * x * x)));
    default: return x;
  }
}

// Spacing of floats at |r| (r rounded to float), never below the smallest subnormal.
double float_ulp(double r) {
  const float f = std::fabs(static_cast<float>(r));
  if (std::isinf(f)) return INFINITY;
  const float next = std::nextafter(f, INFINITY);
  return std::fmax(static_cast<double>(next) - static_cast<double>(f), std::ldexp(1.0, -149));
}

struct UlpCase {
  ActivationKind kind;
  const char* name;
  float lo, hi;   // the swept range
  double bound;   // asserted worst error, ulp
};

const ActivationKind kAllKinds[] = {
    ActivationKind::None,  ActivationKind::Relu,     ActivationKind::Relu6,    ActivationKind::Clip,
    ActivationKind::LeakyRelu, ActivationKind::Elu,  ActivationKind::HardSigmoid, ActivationKind::HardSwish,
    ActivationKind::Sigmoid, ActivationKind::Silu,   ActivationKind::Tanh,     ActivationKind::Gelu,
    ActivationKind::GeluTanh, ActivationKind::Exp,   ActivationKind::Softplus, ActivationKind::Mish,
};

Activation kind_with_params(ActivationKind kind) {
  Activation act;
  act.kind = kind;
  act.alpha = kind == ActivationKind::HardSigmoid ? 0.2f : kind == ActivationKind::Elu ? 1.3f : 0.07f;
  act.beta = 0.5f;
  act.min = -0.75f;
  act.max = 1.5f;
  return act;
}

// Inputs in [-4, 4) with NaN, +-0, large values and (with_inf) +-inf scattered in. Infinities
// are left out for the transcendental kinds: their limits there (silu(-inf) = 0) are not what
// the formulas give (-inf / inf = NaN in the definition), and no kind defines one over the other.
std::vector<float> elementwise_inputs(size_t n, std::mt19937& rng, bool with_inf = true) {
  std::vector<float> v = random_floats(n, rng);
  for (float& x : v) x *= 4.0f;
  const float big = with_inf ? INFINITY : 95.0f;
  const float specials[] = {NAN, big, -big, 0.0f, -0.0f, 30.0f, -30.0f};
  for (size_t i = 0; i < n; i += 37) v[i] = specials[(i / 37) % 7];
  return v;
}

bool transcendental(ActivationKind kind) {
  return kind == ActivationKind::Elu || kind >= ActivationKind::Sigmoid;
}

// Like expect_close, but the tolerance is relative to each value's own size (plus a tiny
// absolute floor): activations of small inputs must be accurate too. 2e-6 is ~32 ulp: the vector
// forms are within a few ulp of the double definition (test_activation_ulp), the scalar ones of
// libm's float functions within a few more; geluTanh's tail is ill-conditioned in float (see
// native/README.md) and gets 4x that.
void expect_relative(const std::vector<float>& got, const std::vector<float>& want, const std::string& label,
                     float tolerance = 2e-6f) {
  g_checks++;
  for (size_t i = 0; i < want.size(); i++) {
    if (std::isnan(got[i]) && std::isnan(want[i])) continue;
    if (got[i] == want[i]) continue;
    if (!(std::fabs(got[i] - want[i]) <= tolerance * std::fabs(want[i]) + 1e-30f)) {
      std::printf("FAIL %s: element %zu is %.9g, expected %.9g\n", label.c_str(), i, got[i], want[i]);
      g_failures++;
      return;
    }
  }
}

float naive_binary(BinaryOp op, float x, float y) {
  switch (op) {
    case BinaryOp::Add: return x + y;
    case BinaryOp::Sub: return x - y;
    case BinaryOp::Mul: return x * y;
    case BinaryOp::Div: return x / y;
  }
  return 0;
}

// out[i] for every output index, reading each operand through its broadcast strides.
std::vector<float> naive_broadcast(BinaryOp op, const std::vector<float>& a, const std::vector<size_t>& as,
                                   const std::vector<float>& b, const std::vector<size_t>& bs,
                                   const std::vector<size_t>& os) {
  size_t total = 1;
  for (size_t d : os) total *= d;
  std::vector<float> out(total);
  for (size_t i = 0; i < total; i++) {
    size_t rest = i, ia = 0, ib = 0, sa = 1, sb = 1;
    for (size_t k = os.size(); k-- > 0;) {
      const size_t idx = rest % os[k];
      rest /= os[k];
      const long ka = static_cast<long>(k) - static_cast<long>(os.size() - as.size());
      const long kb = static_cast<long>(k) - static_cast<long>(os.size() - bs.size());
      if (ka >= 0) {
        if (as[ka] != 1) ia += idx * sa;
        sa *= as[ka];
      }
      if (kb >= 0) {
        if (bs[kb] != 1) ib += idx * sb;
        sb *= bs[kb];
      }
    }
    out[i] = naive_binary(op, a[ia], b[ib]);
  }
  return out;
}

}  // namespace

// Sweeps [lo, hi] by float bit pattern (each binade gets the same share of samples, so small
// arguments near 0 are as well covered as large ones); `samples` per sign.
void test_activation_ulp(const KernelConfig& isa, size_t samples) {
  const UlpCase cases[] = {
      {ActivationKind::Exp, "exp", -103.0f, 88.7f, 3},
      {ActivationKind::Sigmoid, "sigmoid", -3.4e38f, 100.0f, 3},
      {ActivationKind::Silu, "silu", -3.4e38f, 100.0f, 4},
      {ActivationKind::Tanh, "tanh", -10.0f, 10.0f, 3},
      {ActivationKind::Elu, "elu", -20.0f, 10.0f, 3},
      {ActivationKind::Softplus, "softplus", -100.0f, 100.0f, 3},
      {ActivationKind::Mish, "mish", -100.0f, 100.0f, 4},
      {ActivationKind::Gelu, "gelu", -15.0f, 15.0f, 8},
      {ActivationKind::GeluTanh, "geluTanh", -10.0f, 10.0f, 4},
  };
  for (const UlpCase& c : cases) {
    std::vector<float> xs;
    xs.reserve(2 * samples + 1);
    // Positive and negative halves separately, each from the smallest normal to its bound.
    for (int sign = -1; sign <= 1; sign += 2) {
      const float end = sign < 0 ? -c.lo : c.hi;
      if (end <= 0) continue;
      uint32_t a, b;
      const float tiny = 1e-30f;
      std::memcpy(&a, &tiny, 4);
      std::memcpy(&b, &end, 4);
      const uint32_t step = std::max<uint32_t>(1, (b - a) / static_cast<uint32_t>(samples));
      for (uint32_t bits = a; bits <= b && bits >= a; bits += step) {
        float v;
        std::memcpy(&v, &bits, 4);
        xs.push_back(sign * v);
      }
    }
    xs.push_back(0.0f);
    std::vector<float> got(xs.size());
    Activation act;
    act.kind = c.kind;
    act.alpha = 1.0f;
    isa.elementwise.vunary(xs.size(), xs.data(), got.data(), act);
    // Errors in ulp where the true result is a normal float; where it is subnormal (the spacing
    // there is fixed at 2^-149, and a subnormal intermediate such as e^-100 carries only a few
    // bits), the absolute error, bounded by 2^-140.
    double worst = 0, worst_subnormal = 0;
    float worst_x = 0;
    size_t normal = 0;
    for (size_t i = 0; i < xs.size(); i++) {
      const double ref = reference_activation(c.kind, xs[i], 1.0);
      const double abs_err = std::fabs(static_cast<double>(got[i]) - ref);
      if (std::fabs(ref) < FLT_MIN && ref != 0) {
        if (!(abs_err <= worst_subnormal)) worst_subnormal = abs_err;
        continue;
      }
      normal++;
      const double err = abs_err / float_ulp(ref);
      if (!(err <= worst)) {  // NaN counts as the worst error there is
        worst = std::isnan(err) ? INFINITY : err;
        worst_x = xs[i];
      }
    }
    g_checks++;
    const bool ok = worst <= c.bound && worst_subnormal <= std::ldexp(1.0, -140);
    std::printf("kernels_test: %-6s %-8s max error %.2f ulp (at x = %.9g, bound %g) over %zu normal results in [%g, %g]; "
                "subnormal results within %.2g%s\n",
                isa_name(isa.isa), c.name, worst, worst_x, c.bound, normal, c.lo, c.hi, worst_subnormal,
                ok ? "" : "  FAIL: above bound");
    if (!ok) g_failures++;
  }
}

// AVX-512's sigmoid and silu take their power of two from vscalefps (vector-math.h's
// sigmoid_scalef / silu_scalef), AVX2's from exp_split's int arithmetic: the same formula, rounded
// the same way, so the two must agree bit for bit, NaNs aside (checked once for all 2^32 floats;
// here every 1021st bit pattern, so NaNs, infinities, subnormals and both zeros are all in, plus
// the edges of the clamp and the subnormal tail). A divergence the ulp sweeps would miss (-0's sign, a NaN
// turned into a number beyond their range) fails here.
void test_scalef_forms(const KernelConfig& avx512, const KernelConfig& avx2) {
  std::vector<float> xs;
  for (uint64_t bits = 0; bits < (uint64_t{1} << 32); bits += 1021) {
    const uint32_t b = static_cast<uint32_t>(bits);
    float v;
    std::memcpy(&v, &b, 4);
    xs.push_back(v);
  }
  for (float v : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, FLT_MAX, -FLT_MAX, FLT_MIN, -FLT_MIN, -86.9f, -87.4f, -88.8f,
                  -103.9f, -104.0f, -104.5f, -150.0f, 88.8f, 1e30f, -1e30f}) {
    xs.push_back(v);
  }
  for (ActivationKind kind : {ActivationKind::Sigmoid, ActivationKind::Silu}) {
    Activation act;
    act.kind = kind;
    std::vector<float> a(xs.size()), b(xs.size());
    avx512.elementwise.vunary(xs.size(), xs.data(), a.data(), act);
    avx2.elementwise.vunary(xs.size(), xs.data(), b.data(), act);
    g_checks++;
    for (size_t i = 0; i < xs.size(); i++) {
      // A NaN must stay a NaN, but its sign and payload are not compared: an x86 op passes on its
      // first source's NaN, and which operand comes first is the compiler's choice (Zig's clang
      // gave -nan where GCC gave nan for the same input, in the same formula).
      const bool both_nan = std::isnan(a[i]) && std::isnan(b[i]);
      if (!both_nan && std::memcmp(&a[i], &b[i], 4) != 0) {
        std::printf("FAIL avx512 vs avx2 %s bits: at x = %.9g, %.9g vs %.9g\n",
                    kind == ActivationKind::Sigmoid ? "sigmoid" : "silu", xs[i], a[i], b[i]);
        g_failures++;
        break;
      }
    }
  }
  std::printf("kernels_test: avx512 sigmoid / silu against avx2's bits over %zu inputs\n", xs.size());
}

void test_elementwise(const KernelConfig& isa, const KernelConfig& scalar) {
  std::mt19937 rng(11);
  const std::string name = isa_name(isa.isa);
  // Unary: every kind, lengths around the vector widths and one large enough to thread.
  for (size_t n : {size_t{1}, size_t{7}, size_t{16}, size_t{33}, size_t{1000}, size_t{300001}}) {
    const std::vector<float> with_inf = elementwise_inputs(n, rng), finite = elementwise_inputs(n, rng, false);
    for (ActivationKind kind : kAllKinds) {
      const Activation act = kind_with_params(kind);
      const std::vector<float>& in = transcendental(kind) ? finite : with_inf;
      const float tolerance = kind == ActivationKind::GeluTanh ? 8e-6f : 2e-6f;
      std::vector<float> want(n), got(n), in_place = in;
      run_unary(scalar, n, in.data(), want.data(), act);
      run_unary(isa, n, in.data(), got.data(), act);
      run_unary(isa, n, in_place.data(), in_place.data(), act);
      const std::string label = name + " vunary n" + std::to_string(n) + " kind " + std::to_string(static_cast<int>(kind));
      expect_relative(got, want, label, tolerance);
      expect_same(in_place, got, label + " in place");
    }
  }
  // Binary: broadcast shape pairs (SE gate, per-channel bias, scalar, row, outer product, equal).
  struct Shapes {
    std::vector<size_t> a, b;
  };
  const Shapes shapes[] = {
      {{2, 5, 7, 9}, {2, 5, 1, 1}}, {{2, 5, 1, 1}, {2, 5, 7, 9}}, {{3, 4, 5}, {4, 1}},     {{3, 4, 5}, {}},
      {{}, {3, 4, 5}},              {{6, 1}, {1, 13}},            {{2, 3, 17}, {2, 3, 17}}, {{1, 64, 56, 56}, {1, 64, 56, 56}},
      {{4, 1, 3}, {1, 5, 1}},       {{2, 64, 40, 40}, {1, 64, 1, 1}}, {{1}, {1}},
  };
  const BinaryOp ops[] = {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div};
  for (const Shapes& s : shapes) {
    BinaryRun run;
    run.a_shape = s.a;
    run.b_shape = s.b;
    const size_t rank = std::max(s.a.size(), s.b.size());
    run.out_shape.assign(rank, 1);
    for (size_t k = 0; k < rank; k++) {
      const long ka = static_cast<long>(k) - static_cast<long>(rank - s.a.size());
      const long kb = static_cast<long>(k) - static_cast<long>(rank - s.b.size());
      const size_t da = ka >= 0 ? s.a[ka] : 1, db = kb >= 0 ? s.b[kb] : 1;
      run.out_shape[k] = da == 1 ? db : da;
    }
    size_t na = 1, nb = 1, no = 1;
    for (size_t d : s.a) na *= d;
    for (size_t d : s.b) nb *= d;
    for (size_t d : run.out_shape) no *= d;
    const std::vector<float> a = elementwise_inputs(na, rng, false), b = elementwise_inputs(nb, rng, false);
    for (BinaryOp op : ops) {
      run.op = op;
      const std::string label = name + " vbinary op " + std::to_string(static_cast<int>(op)) + " " +
                                format_shape(s.a) + " x " + format_shape(s.b);
      const std::vector<float> want = naive_broadcast(op, a, s.a, b, s.b, run.out_shape);
      std::vector<float> got(no);
      run.activation = Activation{};
      run_binary(isa, run, a.data(), b.data(), got.data());
      expect_same(got, want, label);
      // Kinds whose value at +-inf (from a division by 0) is the same by every formula.
      for (ActivationKind kind : {ActivationKind::Relu, ActivationKind::Sigmoid, ActivationKind::Tanh}) {
        run.activation = kind_with_params(kind);
        std::vector<float> fused(no), unfused(no);
        run_binary(isa, run, a.data(), b.data(), fused.data());
        run_unary(scalar, no, want.data(), unfused.data(), run.activation);
        expect_relative(fused, unfused, label + " kind " + std::to_string(static_cast<int>(kind)));
      }
    }
  }
  // Affine: per channel and per image, scale and/or shift absent, planes around the vector widths.
  for (size_t plane : {size_t{1}, size_t{9}, size_t{49}, size_t{3136}}) {
    for (bool per_image : {false, true}) {
      AffineRun r;
      r.batch = 3;
      r.channels = 24;
      r.plane = plane;
      const size_t total = r.batch * r.channels * plane;
      const std::vector<float> in = elementwise_inputs(total, rng, false);
      const std::vector<float> scale = random_floats(per_image ? r.batch * r.channels : r.channels, rng);
      const std::vector<float> shift = random_floats(scale.size(), rng);
      for (int present = 1; present <= 3; present++) {
        r.has_scale = present & 1;
        r.has_shift = present & 2;
        for (ActivationKind kind : {ActivationKind::None, ActivationKind::Relu, ActivationKind::Silu}) {
          r.activation = kind_with_params(kind);
          check_affine(r, total, total, scale.size(), shift.size());
          const float* sc = r.has_scale ? scale.data() : nullptr;
          const float* sh = r.has_shift ? shift.data() : nullptr;
          std::vector<float> want(total), got(total), in_place = in;
          // The definition: one rounding of x * s + t, then the scalar activation.
          for (size_t i = 0; i < total; i++) {
            const size_t p = i / plane;
            const size_t idx = per_image ? p : p % r.channels;
            want[i] = activate(std::fma(in[i], sc ? sc[idx] : 1.0f, sh ? sh[idx] : 0.0f), r.activation);
          }
          run_affine(isa, r, in.data(), sc, sh, got.data());
          run_affine(isa, r, in_place.data(), sc, sh, in_place.data());
          const std::string label = name + " vaffine plane " + std::to_string(plane) + (per_image ? " per image" : "") +
                                    " present " + std::to_string(present) + " kind " + std::to_string(static_cast<int>(kind));
          expect_relative(got, want, label);
          expect_same(in_place, got, label + " in place");
        }
      }
    }
  }
  // Bad input is refused with the argument named.
  BinaryRun bad;
  bad.a_shape = {2, 3};
  bad.b_shape = {4};
  bad.out_shape = {2, 4};
#if defined(__cpp_exceptions)
  g_checks++;
  try {
    check_binary(bad, 6, 4, 8);
    std::printf("FAIL %s: check_binary accepted [2, 3] x [4]\n", name.c_str());
    g_failures++;
  } catch (const ArgumentError& e) {
    if (std::string(e.what()).find("aShape [2, 3] and bShape [4] do not broadcast") == std::string::npos) {
      std::printf("FAIL %s: check_binary message: %s\n", name.c_str(), e.what());
      g_failures++;
    }
  }
#else
  g_refusals_skipped++;
#endif
}

// The squeeze-and-excitation op against the block in doubles: mean, act1(W1 s + b1),
// act2(W2 h + b2), x * g. Shapes: EfficientNet-like (112x112 plane, 7x7 with a wide gate), odd
// sizes for the vector and GEMV-panel tails, batch 1 and 3, separate output and in place.
void test_squeeze_excite(const KernelConfig& isa) {
  std::mt19937 rng(23);
  const std::string name = isa_name(isa.isa);
  struct Shape {
    size_t channels, hidden, plane, batch;
  };
  const Shape shapes[] = {{32, 8, 12544, 1}, {1152, 48, 49, 1}, {67, 5, 13, 3}, {3, 1, 1, 2}, {240, 10, 196, 3}};
  Activation hard_sigmoid = kind_with_params(ActivationKind::HardSigmoid);
  hard_sigmoid.alpha = 1.0f / 6.0f;
  const std::pair<Activation, Activation> gates[] = {
      {kind_with_params(ActivationKind::Silu), kind_with_params(ActivationKind::Sigmoid)},
      {kind_with_params(ActivationKind::Relu), hard_sigmoid},
      {Activation{}, Activation{}},
  };
  for (const Shape& sh : shapes) {
    for (const auto& [act1, act2] : gates) {
      const std::vector<float> w1 = random_floats(sh.hidden * sh.channels, rng), b1 = random_floats(sh.hidden, rng);
      const std::vector<float> w2 = random_floats(sh.channels * sh.hidden, rng), b2 = random_floats(sh.channels, rng);
      SqueezeExciteLayer reduce, expand;
      reduce.weight = w1.data(), reduce.weight_length = w1.size(), reduce.bias = b1.data(), reduce.bias_length = b1.size();
      expand.weight = w2.data(), expand.weight_length = w2.size();  // no bias: the optional form
      reduce.activation = act1, expand.activation = act2;
      const SqueezeExcite block(sh.channels, sh.hidden, reduce, expand, isa);
      const size_t image = sh.channels * sh.plane, total = sh.batch * image;
      const std::vector<float> x = random_floats(total, rng);
      std::vector<float> want(total);
      for (size_t n = 0; n < sh.batch; n++) {
        std::vector<double> s(sh.channels), h(sh.hidden);
        for (size_t c = 0; c < sh.channels; c++) {
          double sum = 0;
          for (size_t p = 0; p < sh.plane; p++) sum += x[n * image + c * sh.plane + p];
          s[c] = sum / static_cast<double>(sh.plane);
        }
        for (size_t j = 0; j < sh.hidden; j++) {
          double sum = b1[j];
          for (size_t c = 0; c < sh.channels; c++) sum += static_cast<double>(w1[j * sh.channels + c]) * s[c];
          h[j] = activate(static_cast<float>(sum), act1);
        }
        for (size_t c = 0; c < sh.channels; c++) {
          double sum = 0;
          for (size_t j = 0; j < sh.hidden; j++) sum += static_cast<double>(w2[c * sh.hidden + j]) * h[j];
          const float g = activate(static_cast<float>(sum), act2);
          for (size_t p = 0; p < sh.plane; p++) want[n * image + c * sh.plane + p] = x[n * image + c * sh.plane + p] * g;
        }
      }
      const std::string label = name + " squeeze-excite C" + std::to_string(sh.channels) + " hidden " +
                                std::to_string(sh.hidden) + " plane " + std::to_string(sh.plane) + " batch " +
                                std::to_string(sh.batch) + " kinds " + std::to_string(static_cast<int>(act1.kind)) + "/" +
                                std::to_string(static_cast<int>(act2.kind));
      block.check(sh.batch, sh.plane, total, total);
      std::vector<float> got(total), in_place = x;
      block.run(sh.batch, sh.plane, x.data(), got.data());
      block.run(sh.batch, sh.plane, in_place.data(), in_place.data());
      expect_close(got, want, label);
      expect_same(in_place, got, label + " in place");
    }
  }
#if defined(__cpp_exceptions)
  SqueezeExciteLayer reduce, expand;
  const std::vector<float> w(8 * 2);
  reduce.weight = w.data(), reduce.weight_length = w.size();
  expand.weight = w.data(), expand.weight_length = w.size();
  const SqueezeExcite block(8, 2, reduce, expand, isa);
  g_checks++;
  if (!throws_argument_error([&] { block.check(1, 4, 8 * 5, 8 * 4); })) {
    std::printf("FAIL %s: squeeze-excite accepted an input of 40 floats for 1 x 8 x 4\n", name.c_str());
    g_failures++;
  }
  g_checks++;
  if (!throws_argument_error([&] { SqueezeExcite(8, 3, reduce, expand, isa); })) {
    std::printf("FAIL %s: squeeze-excite accepted an 8 -> 3 gate with 16 weights\n", name.c_str());
    g_failures++;
  }
#else
  g_refusals_skipped += 2;
#endif
}

}  // namespace kernels_test
