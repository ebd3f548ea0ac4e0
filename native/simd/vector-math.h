// The transcendental activations written once over a small vector-ops interface `O`, and
// instantiated per ISA by avx2-math.h, avx512-math.h and neon-math.h (each compiled only into
// that ISA's kernel files, with its flags). Every function here is `static inline`: internal
// linkage, so an instantiation compiled with -mavx2 can never be merged by the linker into code
// that runs on a CPU without it.
//
// O provides: V (float vector), M (its lane mask), I (int32 vector);
//   splat, add, sub, mul, div, fmadd(a, b, c) = a*b + c, fnmadd(a, b, c) = c - a*b,
//   min_keep(x, c) / max_keep(x, c) (min / max that return x when x is NaN), abs, round (nearest),
//   lt(a, b) / gt(a, b) -> M, select(m, if_true, if_false), copy_sign(magnitude, sign_source),
//   to_int (of an integral-valued V), int_add, int_sub, int_sra1 (arithmetic >> 1), pow2_bits (2^n
//   from an int32 n in [-126, 127]).
//
// Accuracy (measured by kernels_test's sweeps against double precision, see native/README.md):
// every function is within a few ulp of the correctly rounded result. How:
//   - exp: n = round(x / ln 2), r = x - n ln 2 with ln 2 split in two (the FMA makes each step
//     exact), e^r = 1 + r + r^2 P(r) with P a degree-5 fit (relative error 2.4e-10 on e^r - 1 over
//     |r| <= ln2/2), then 2^n applied as two factors so results in the subnormal range round once
//     instead of flushing to zero.
//   - expm1: the same reduction, e^x - 1 = 2^n (e^r - 1) + (2^n - 1): exact for n = 0, so tiny
//     arguments keep their relative accuracy (elu, tanh near 0).
//   - log1p (softplus): log1p(t) = 2 atanh(s), s = t / (2 + t), for t in [0, 1]: s <= 1/3 and
//     2 atanh(s) = 2s + s^3 R(s^2), R a degree-3 fit (relative error 4.5e-9). No exponent split.
//   - sigmoid: e = e^-|x|, then 1 / (1 + e) for x > 0 and e / (1 + e) otherwise: one division,
//     relative accuracy on both halves.
//   - tanh: -expm1(-2|x|) / (2 + expm1(-2|x|)), sign restored.
//   - erf / gelu: Phi(x) = erfc(|x|/sqrt2)/2 or 1 minus it, with erfc(z) = e^{-z^2} Q(t),
//     t = 1 / (1 + 0.4 z), Q a degree-10 fit in t (relative error 2.3e-9 over z in [0, 10.7]).
//     z^2 = x^2/2 is split into a product and its FMA-exact remainder so e^{-z^2} keeps its
//     accuracy in the tail (an error of 1 ulp in z^2 = 80 would cost 80 ulp in e^{-z^2}).
//   - mish: tanh(softplus(x)) = n / (n + 2) with n = e^x (e^x + 2): one exp, no log.
//   - geluTanh: x sigmoid(2u), the argument 2u carried as a float pair (see there).
// The polynomial coefficients were fitted for this file (weighted least squares iterated towards
// minimax with numpy + mpmath, then rounded to float).
#pragma once

namespace convnode {
namespace vmath {

template <typename O>
static inline typename O::V horner(typename O::V x, const float* c, int degree) {
  typename O::V acc = O::splat(c[degree]);
  for (int k = degree - 1; k >= 0; k--) acc = O::fmadd(acc, x, O::splat(c[k]));
  return acc;
}

// e^r - 1 - r = r^2 P(r) on |r| <= ln2/2.
static constexpr float kExpP[6] = {0.5f, 0.1666666567325592f, 0.041666362434625626f, 0.008333388715982437f,
                                   0.0013940621865913272f, 0.00019845999486278743f};
static constexpr float kLog2e = 1.44269504088896341f;
static constexpr float kLn2Hi = 0.693147182464599609375f;     // float(ln 2)
static constexpr float kLn2Lo = -1.904654323148236017e-09f;  // ln 2 - kLn2Hi

// e^r - 1 for |r| <= ln2/2 (relative accuracy, no cancellation near 0).
template <typename O>
static inline typename O::V expm1_reduced(typename O::V r) {
  const typename O::V p = horner<O>(r, kExpP, 5);
  return O::fmadd(p, O::mul(r, r), r);
}

// n = round(x / ln 2) and r = x - n ln 2.
template <typename O>
static inline typename O::V reduce_ln2(typename O::V x, typename O::V* n) {
  *n = O::round(O::mul(x, O::splat(kLog2e)));
  typename O::V r = O::fnmadd(*n, O::splat(kLn2Hi), x);
  return O::fnmadd(*n, O::splat(kLn2Lo), r);
}

// e^x = m * scale for every float, with m = e^r 2^(n>>1) and scale = 2^(n - (n>>1)) each normal:
// callers that multiply e^x by something first (silu's x, gelu's x / 2 Q) apply the scale last,
// so a result in the normal range never passes through a subnormal intermediate that has lost
// its low bits. Overflows to +inf above ~88.72; 0 below ~-103.97. `lowest` is the clamp below:
// the reduction stays exact down to it (n >= -252 keeps both factors normal).
template <typename O>
static inline typename O::V exp_split(typename O::V x, typename O::V* scale, float lowest = -104.0f) {
  x = O::max_keep(O::min_keep(x, O::splat(89.0f)), O::splat(lowest));
  typename O::V n;
  const typename O::V r = reduce_ln2<O>(x, &n);
  const typename O::V er = O::add(expm1_reduced<O>(r), O::splat(1.0f));
  // n in [-150, 128].
  const typename O::I ni = O::to_int(n);
  const typename O::I half = O::int_sra1(ni);
  *scale = O::pow2_bits(O::int_sub(ni, half));
  return O::mul(er, O::pow2_bits(half));
}

// e^x, results in the subnormal range rounded once (not flushed to zero).
template <typename O>
static inline typename O::V exp(typename O::V x) {
  typename O::V scale;
  const typename O::V m = exp_split<O>(x, &scale);
  return O::mul(m, scale);
}

// e^x - 1, accurate near 0. Clamped to [-18, 88]: below, the float result is -1.
template <typename O>
static inline typename O::V expm1(typename O::V x) {
  x = O::max_keep(O::min_keep(x, O::splat(88.0f)), O::splat(-18.0f));
  typename O::V n;
  const typename O::V r = reduce_ln2<O>(x, &n);
  const typename O::V s = O::pow2_bits(O::to_int(n));
  // 2^n (e^r - 1) + (2^n - 1): s - 1 is exact for n in [-24, 24], the product rounds once.
  return O::fmadd(expm1_reduced<O>(r), s, O::sub(s, O::splat(1.0f)));
}

// 2 atanh(s) - 2 s = s^3 R(s^2) on s in [0, 1/3].
static constexpr float kLog1pR[4] = {0.666664183139801f, 0.4002152681350708f, 0.2800181806087494f,
                                     0.280119389295578f};

// log(1 + t) for t in [0, 1].
template <typename O>
static inline typename O::V log1p_unit(typename O::V t) {
  const typename O::V s = O::div(t, O::add(O::splat(2.0f), t));
  const typename O::V s2 = O::mul(s, s);
  const typename O::V r = horner<O>(s2, kLog1pR, 3);
  return O::fmadd(O::mul(s, s2), r, O::add(s, s));
}

// One division for both signs: with e = e^-|x| (never overflows), sigmoid(x) is 1 / (1 + e) for
// x > 0 and e / (1 + e) otherwise. The form 1 - e / (1 + e) for x > 0 cost a subtraction and one
// more rounding; a division per kind of sign cost a second division (the slowest instruction here).
template <typename O>
static inline typename O::V sigmoid(typename O::V x) {
  const typename O::V e = exp<O>(O::sub(O::splat(0.0f), O::abs(x)));
  const typename O::V one = O::splat(1.0f);
  return O::div(O::select(O::gt(x, O::splat(0.0f)), one, e), O::add(one, e));
}

// x sigmoid(x). For x < 0 it is x e / (1 + e) with e = e^x = m * scale, computed as
// (x m / (1 + e)) * scale so the result keeps its precision down to FLT_MIN.
// x * g(x) forms at the infinities, as the scalar definition evaluates them: +inf * 1 = +inf,
// -inf * 0 = NaN (the float formulas above clamp their exponentials and would give -inf or NaN
// the other way round; the kernels' scalar edges and the JS reference must agree with them).
template <typename O>
static inline typename O::V gated_at_infinities(typename O::V x, typename O::V y) {
  const typename O::V big = O::splat(3.4028234663852886e38f);
  y = O::select(O::gt(x, big), x, y);
  return O::select(O::lt(x, O::sub(O::splat(0.0f), big)), O::splat(__builtin_nanf("")), y);
}

// silu's negative tail: x e^x rounds to -0 for every x under about -108.7 (|x| e^x is below half
// the smallest subnormal there, and shrinks further out); above that it is a subnormal that needs
// e^x itself, not the e^-104 that exp's clamp gives (x e^-104 is -6.8e-16 at x = -1e30). So silu
// takes e^x exactly down to kSiluLowest, and multiplies by x held above -kSiluHeld: below
// kSiluLowest that gives |x| e^kSiluLowest <= 1e6 2^-180.3 ~ 2^-160, which rounds to -0 as the
// definition does. One max, where a compare and select cost ~1.7% of EfficientNet-B0's steps on
// the AVX2 tier (Zen 4, bench/model-ab.mjs).
static constexpr float kSiluLowest = -125.0f;  // 2^n with n = -180: two normal factors of 2^-90
static constexpr float kSiluHeld = 1.0e6f;

template <typename O>
static inline typename O::V silu(typename O::V x) {
  // e = e^-|x| = m * scale. x > 0: x / (1 + e); else (x m / (1 + e)) * scale. One division and
  // two selects serve both signs, where a division per sign cost two (SiLU-fused dw 3x3 32@112
  // and 5x5 240@28 on AMD EPYC Zen 4, 1 thread: 0.95x the time of the two-division form).
  typename O::V scale;
  const typename O::V m = exp_split<O>(O::sub(O::splat(0.0f), O::abs(x)), &scale, kSiluLowest);
  const typename O::V one = O::splat(1.0f);
  const typename O::M positive = O::gt(x, O::splat(0.0f));
  const typename O::V x_held = O::max_keep(x, O::splat(-kSiluHeld));
  const typename O::V q = O::div(O::mul(x_held, O::select(positive, one, m)), O::add(one, O::mul(m, scale)));
  return gated_at_infinities<O>(x, O::mul(q, O::select(positive, one, scale)));
}

// sigmoid and silu for an O that also has (AVX-512's vscalefps and merge masking):
//   scalef(v, n) = v 2^n for an integral-valued V n, rounded once, overflowing to inf and
//   underflowing through the subnormals to 0; scalef_unless(m, v, n) = m ? v : scalef(v, n);
//   mul_unless(m, a, b) = m ? a : a b.
// The same formulas as sigmoid / silu above, with e^-|x| = er 2^n applied by scalef in one
// instruction instead of exp_split's int conversion, shifts and two multiplies: ~27 vector ops
// where there were ~35 (element-wise silu 0.72x, sigmoid 0.77x the time on AMD EPYC Zen 4,
// 1 thread; results bit-identical over kernels_test's ulp sweeps). The division stays: Zen 4's
// divider runs beside the FMA pipes and the loop is bound by the count of the other ops
// (rcp14 + one Newton step in its place cost 1.08x, see native/README.md).
template <typename O>
static inline typename O::V exp_reduced(typename O::V x, typename O::V* n) {
  return O::add(expm1_reduced<O>(reduce_ln2<O>(x, n)), O::splat(1.0f));
}

template <typename O>
static inline typename O::V sigmoid_scalef(typename O::V x) {
  // The clamp keeps the reduction exact (below -104 e is 0 in float either way); -|x| <= 0 never
  // overflows.
  const typename O::V t = O::max_keep(O::sub(O::splat(0.0f), O::abs(x)), O::splat(-104.0f));
  typename O::V n;
  const typename O::V er = exp_reduced<O>(t, &n);  // sets n: a statement of its own
  const typename O::V e = O::scalef(er, n);
  const typename O::V one = O::splat(1.0f);
  return O::div(O::select(O::gt(x, O::splat(0.0f)), one, e), O::add(one, e));
}

template <typename O>
static inline typename O::V silu_scalef(typename O::V x) {
  // x > 0: x / (1 + e); else scalef(x er / (1 + e), n): 2^n goes on last, rounding once, so the
  // negative tail keeps its precision down to the subnormals (exp_split's reason for m * scale).
  // +inf comes out as inf / 1 = inf by itself; -inf still needs the gate (-inf * 0 = NaN).
  // The negative tail as in silu (kSiluLowest, kSiluHeld); a compare and select there cost
  // EfficientNet-B0 ~3% of its steps on this tier (SiLU-fused 1x1 and depthwise epilogues).
  const typename O::V t = O::max_keep(O::sub(O::splat(0.0f), O::abs(x)), O::splat(kSiluLowest));
  typename O::V n;
  const typename O::V er = exp_reduced<O>(t, &n);
  const typename O::V one = O::splat(1.0f);
  const typename O::M positive = O::gt(x, O::splat(0.0f));
  const typename O::V x_held = O::max_keep(x, O::splat(-kSiluHeld));
  const typename O::V q = O::div(O::mul_unless(positive, x_held, er), O::add(one, O::scalef(er, n)));
  const typename O::V y = O::scalef_unless(positive, q, n);
  const typename O::V big = O::splat(3.4028234663852886e38f);
  return O::select(O::lt(x, O::sub(O::splat(0.0f), big)), O::splat(__builtin_nanf("")), y);
}

template <typename O>
static inline typename O::V tanh(typename O::V x) {
  const typename O::V em = expm1<O>(O::mul(O::splat(-2.0f), O::abs(x)));
  const typename O::V t = O::div(O::sub(O::splat(0.0f), em), O::add(O::splat(2.0f), em));
  return O::copy_sign(t, x);
}

// x < 0 ? alpha (e^x - 1) : x
template <typename O>
static inline typename O::V elu(typename O::V x, float alpha) {
  const typename O::V negative = O::mul(O::splat(alpha), expm1<O>(x));
  return O::select(O::lt(x, O::splat(0.0f)), negative, x);
}

// ln(1 + e^x) = max(x, 0) + log1p(e^-|x|).
template <typename O>
static inline typename O::V softplus(typename O::V x) {
  const typename O::V e = exp<O>(O::sub(O::splat(0.0f), O::abs(x)));
  return O::add(O::max_keep(x, O::splat(0.0f)), log1p_unit<O>(e));
}

// x tanh(ln(1 + e^x)) = x n / (n + 2), n = e^x (e^x + 2). Above x = 20 the ratio is 1 in float.
// e^x = m * scale as in silu: the scale goes on last so the negative tail keeps its precision.
template <typename O>
static inline typename O::V mish(typename O::V x) {
  typename O::V scale;
  const typename O::V m = exp_split<O>(O::min_keep(x, O::splat(20.0f)), &scale);
  const typename O::V e = O::mul(m, scale);
  const typename O::V e_plus_2 = O::add(e, O::splat(2.0f));
  const typename O::V n = O::mul(e, e_plus_2);
  return gated_at_infinities<O>(x, O::mul(O::div(O::mul(O::mul(x, m), e_plus_2), O::add(n, O::splat(2.0f))), scale));
}

// erfc(z) e^{z^2} = Q(t), t = 1 / (1 + 0.4 z), z in [0, 10.7] (beyond, erfc(z) / 2 is below the
// smallest subnormal float).
static constexpr float kErfcP = 0.4f;
static constexpr float kErfcQ[11] = {-7.54693155613495e-06f, 0.22588437795639038f, 0.22314238548278809f,
                                     0.22545456886291504f, 0.09087882190942764f, 0.3666122257709503f,
                                     -0.43894362449645996f, 0.7151454091072083f, -0.6145801544189453f,
                                     0.24401114881038666f, -0.03759763389825821f};

// x Phi(x), Phi the standard normal CDF: Phi = T for x < 0 and 1 - T otherwise, where
// T = erfc(|x| / sqrt 2) / 2 = e^{-x^2/2} Q(t) / 2. For x < 0 the product x T is formed with
// e^{-x^2/2}'s power-of-two scale applied last (see exp_split).
template <typename O>
static inline typename O::V gelu(typename O::V x) {
  const typename O::V ax = O::min_keep(O::abs(x), O::splat(15.1f));
  const typename O::V z = O::mul(ax, O::splat(0.70710678118654752f));
  const typename O::V t = O::div(O::splat(1.0f), O::fmadd(z, O::splat(kErfcP), O::splat(1.0f)));
  const typename O::V q = horner<O>(t, kErfcQ, 10);
  // z^2 = x^2 / 2 = (hi + lo) / 2 exactly; e^{-(hi + lo)/2} = e^{-hi/2} (1 - lo/2) to float precision.
  const typename O::V hi = O::mul(ax, ax);
  const typename O::V lo = O::fmadd(ax, ax, O::sub(O::splat(0.0f), hi));
  typename O::V scale;
  const typename O::V m = exp_split<O>(O::mul(hi, O::splat(-0.5f)), &scale);
  const typename O::V half_q = O::mul(O::fnmadd(q, O::mul(lo, O::splat(0.5f)), q), O::splat(0.5f));
  const typename O::V tail_m = O::mul(half_q, m);  // T / scale
  const typename O::V negative = O::mul(O::mul(x, tail_m), scale);
  const typename O::V positive = O::mul(x, O::sub(O::splat(1.0f), O::mul(tail_m, scale)));
  return gated_at_infinities<O>(x, O::select(O::lt(x, O::splat(0.0f)), negative, positive));
}

// x (1 + tanh(u)) / 2 = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3). sigmoid's tail
// multiplies the relative error of its argument by the argument's size (|2u| ~ 25 at x = -6),
// so 2u = x (k1 + k3 x^2) is carried as a float pair hi + lo (the constants too, each split in
// two): with plain float arithmetic its ~3 roundings cost ~70 ulp there; this way, a few.
static constexpr float kGeluK1Hi = 1.5957691669464111f, kGeluK1Lo = -4.534068054340423e-08f;  // 2 sqrt(2/pi)
static constexpr float kGeluK3Hi = 0.07135481387376785f, kGeluK3Lo = 2.3988324659995897e-09f;  // k1 * 0.044715

template <typename O>
static inline typename O::V gelu_tanh(typename O::V x) {
  using V = typename O::V;
  const V zero = O::splat(0.0f);
  const V x2 = O::mul(x, x);
  const V x2_lo = O::fmadd(x, x, O::sub(zero, x2));  // x^2 = x2 + x2_lo exactly
  // t = k1 + k3 x^2 as hi + lo: p = k3 x2 (with its exact remainder), then TwoSum(k1, p).
  const V p = O::mul(O::splat(kGeluK3Hi), x2);
  const V p_lo = O::fmadd(O::splat(kGeluK3Hi), x2, O::sub(zero, p));
  const V t = O::add(O::splat(kGeluK1Hi), p);
  const V t_virtual = O::sub(t, p);
  const V t_sum_lo = O::add(O::sub(O::splat(kGeluK1Hi), t_virtual), O::sub(p, O::sub(t, t_virtual)));
  const V t_lo = O::add(O::add(t_sum_lo, p_lo),
                        O::fmadd(O::splat(kGeluK3Lo), x2, O::fmadd(O::splat(kGeluK3Hi), x2_lo, O::splat(kGeluK1Lo))));
  // y = x t as hi + lo.
  const V y = O::mul(x, t);
  const V y_lo = O::fmadd(x, t_lo, O::fmadd(x, t, O::sub(zero, y)));
  // sigmoid(y + y_lo): e^{-|y + y_lo|} = e^{-|y|} (1 - sign(y) y_lo) to float precision.
  const V e0 = exp<O>(O::sub(zero, O::abs(y)));
  const V e = O::fnmadd(e0, O::mul(O::copy_sign(O::splat(1.0f), y), y_lo), e0);
  const V f = O::div(e, O::add(O::splat(1.0f), e));
  const V sig = O::select(O::gt(y, zero), O::sub(O::splat(1.0f), f), f);
  return gated_at_infinities<O>(x, O::mul(x, sig));
}

}  // namespace vmath
}  // namespace convnode
