// The helpers every family's checks share (kernels_test.h): the counters, random inputs, the
// comparisons, the activations' definition, and the conv cases' runner and naive definition.
#include <cmath>

#include "kernels_test.h"

namespace kernels_test {

int g_failures = 0;
int g_checks = 0;
int g_refusals_skipped = 0;

#if defined(__cpp_exceptions)
bool throws_argument_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ArgumentError&) {
    return true;
  }
  return false;
}
#endif

std::vector<float> random_floats(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& label) {
  g_checks++;
  for (size_t i = 0; i < want.size(); i++) {
    const float a = got[i];
    const float e = want[i];
    if (std::isnan(a) && std::isnan(e)) continue;
    if (a == e) continue;  // equal infinities too
    if (!(std::fabs(a - e) <= 1e-4f * std::fmax(1.0f, std::fabs(e)))) {
      std::printf("FAIL %s: element %zu is %g, expected %g\n", label.c_str(), i, a, e);
      g_failures++;
      return;
    }
  }
}

std::string describe(const ConvCase& c) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "N%zu %zu->%zu g%zu %zux%zu k%zux%zu s%zux%zu d%zux%zu p%zu,%zu,%zu,%zu act%d%s%s",
                c.batch, c.cin, c.cout, c.groups, c.h, c.w, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.pt, c.pl, c.pb, c.pr,
                static_cast<int>(c.act), c.bias ? " bias" : "", c.residual ? " residual" : "");
  return buf;
}

// The parameters the tests give each kind (non-default, so a lost parameter shows).
Activation test_activation(ActivationKind kind) {
  Activation a;
  a.kind = kind;
  a.alpha = kind == ActivationKind::HardSigmoid ? 0.3f : 0.1f;
  a.beta = 0.4f;
  a.min = -0.5f;
  a.max = 0.75f;
  return a;
}

// The definition in double precision, written apart from epilogue.h's activate().
float reference_activation(float xf, ActivationKind kind) {
  const Activation a = test_activation(kind);
  if (std::isnan(xf)) return xf;  // every kind passes NaN through (the depthwise sweep feeds NaN)
  const double x = xf;
  const auto softplus = [](double v) { return v > 30 ? v : std::log1p(std::exp(v)); };
  switch (kind) {
    case ActivationKind::None: return xf;
    case ActivationKind::Relu: return x > 0 ? xf : 0;
    case ActivationKind::Relu6: return static_cast<float>(std::fmin(6.0, std::fmax(0.0, x)));
    case ActivationKind::Clip: return static_cast<float>(std::fmin(a.max, std::fmax(a.min, x)));
    case ActivationKind::LeakyRelu: return static_cast<float>(x < 0 ? a.alpha * x : x);
    case ActivationKind::Elu: return static_cast<float>(x < 0 ? a.alpha * (std::exp(x) - 1.0) : x);
    case ActivationKind::HardSigmoid: return static_cast<float>(std::fmin(1.0, std::fmax(0.0, a.alpha * x + a.beta)));
    case ActivationKind::HardSwish: return static_cast<float>(x * std::fmin(6.0, std::fmax(0.0, x + 3.0)) / 6.0);
    case ActivationKind::Sigmoid: return static_cast<float>(1.0 / (1.0 + std::exp(-x)));
    case ActivationKind::Silu: return static_cast<float>(x / (1.0 + std::exp(-x)));
    case ActivationKind::Tanh: return static_cast<float>(std::tanh(x));
    case ActivationKind::Gelu: return static_cast<float>(0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))));
    case ActivationKind::GeluTanh:
      return static_cast<float>(0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))));
    case ActivationKind::Exp: return static_cast<float>(std::exp(x));
    case ActivationKind::Softplus: return static_cast<float>(softplus(x));
    case ActivationKind::Mish: return static_cast<float>(x * std::tanh(softplus(x)));
  }
  return xf;
}

ConvRun run_of(const ConvCase& c) {
  ConvRun r;
  r.batch = c.batch;
  r.in_channels = c.cin;
  r.out_channels = c.cout;
  r.groups = c.groups;
  Window& w = r.window;
  w = {c.h, c.w, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.pt, c.pl, c.pb, c.pr, 0, 0};
  w.out_h = window_output_size(c.h, c.kh, c.dh, c.sh, c.pt, c.pb, false);
  w.out_w = window_output_size(c.w, c.kw, c.dw, c.sw, c.pl, c.pr, false);
  return r;
}

std::vector<ConvSum> conv_sums_f64(const ConvCase& c, const ConvRun& r, const std::vector<float>& in,
                                   const std::vector<float>& wt, const std::vector<float>& bias) {
  const Window& w = r.window;
  std::vector<ConvSum> sums(c.batch * c.cout * w.out_h * w.out_w);
  const size_t cin_g = c.cin / c.groups;
  const size_t cout_g = c.cout / c.groups;
  size_t at = 0;
  for (size_t n = 0; n < c.batch; n++)
    for (size_t o = 0; o < c.cout; o++)
      for (size_t oy = 0; oy < w.out_h; oy++)
        for (size_t ox = 0; ox < w.out_w; ox++, at++) {
          double sum = c.bias ? bias[o] : 0.0, magnitude = 0.0;
          for (size_t ci = 0; ci < cin_g; ci++)
            for (size_t ky = 0; ky < c.kh; ky++)
              for (size_t kx = 0; kx < c.kw; kx++) {
                const long iy = static_cast<long>(oy * c.sh + ky * c.dh) - static_cast<long>(c.pt);
                const long ix = static_cast<long>(ox * c.sw + kx * c.dw) - static_cast<long>(c.pl);
                if (iy < 0 || ix < 0 || iy >= static_cast<long>(c.h) || ix >= static_cast<long>(c.w)) continue;
                const size_t ch = (o / cout_g) * cin_g + ci;
                const double product = static_cast<double>(in[((n * c.cin + ch) * c.h + iy) * c.w + ix]) *
                                       wt[((o * cin_g + ci) * c.kh + ky) * c.kw + kx];
                sum += product;
                magnitude += std::fabs(product);
              }
          sums[at] = {sum, magnitude};
        }
  return sums;
}

std::vector<float> naive_conv(const ConvCase& c, const ConvRun& r, const std::vector<float>& in, const std::vector<float>& wt,
                              const std::vector<float>& bias, const std::vector<float>& res) {
  const std::vector<ConvSum> sums = conv_sums_f64(c, r, in, wt, bias);
  std::vector<float> out(sums.size());
  for (size_t at = 0; at < sums.size(); at++) {
    const double sum = sums[at].sum + (c.residual ? res[at] : 0.0);
    out[at] = reference_activation(static_cast<float>(sum), c.act);
  }
  return out;
}

ConvParams params_of(const ConvCase& c) {
  ConvParams p{};
  p.in_channels = c.cin, p.out_channels = c.cout, p.groups = c.groups, p.kernel_h = c.kh, p.kernel_w = c.kw;
  p.stride_h = c.sh, p.stride_w = c.sw, p.dilation_h = c.dh, p.dilation_w = c.dw;
  p.activation = test_activation(c.act);
  p.algorithm = conv_default_algorithm(p);
  return p;
}

// With the structural default algorithm unless one is named.
std::vector<float> run_conv(const KernelConfig& config, const ConvCase& c, const ConvRun& r, const std::vector<float>& in,
                            const std::vector<float>& wt, const std::vector<float>& bias, const std::vector<float>& res,
                            int algorithm) {
  ConvParams p = params_of(c);
  if (algorithm >= 0) p.algorithm = static_cast<ConvAlgorithm>(algorithm);
  Conv2d conv(p, wt.data(), wt.size(), c.bias ? bias.data() : nullptr, bias.size(), config);
  std::vector<float> out(c.batch * c.cout * r.window.out_h * r.window.out_w, NAN);
  conv.check(r, in.size(), out.size(), c.residual, res.size());
  conv.run(r, in.data(), out.data(), c.residual ? res.data() : nullptr);
  return out;
}

// Kernels that move values without arithmetic (max pooling, im2col) must give identical results
// (NaN where the reference has NaN; infinities compare equal).
void expect_same(const std::vector<float>& got, const std::vector<float>& want, const std::string& label) {
  g_checks++;
  for (size_t i = 0; i < want.size(); i++) {
    if (std::isnan(got[i]) && std::isnan(want[i])) continue;
    if (!(got[i] == want[i])) {
      std::printf("FAIL %s: element %zu is %g, expected %g\n", label.c_str(), i, got[i], want[i]);
      g_failures++;
      return;
    }
  }
}

}  // namespace kernels_test
