// The WGSL source of the kernel helper functions (ir.ts Helper), printed once per module that calls them.
import type { Helper } from '../kernel-ir/ir.js';

/** Helper function sources (included once per kernel when used). */
export const HELPER_SOURCE: Record<Helper, string> = {
  // torch pow: x^0 = 1, 1^y = 1, negative x only for integral y (sign from parity)
  pow_f32: `fn pow_f32(x: f32, y: f32) -> f32 {
  if (y == 0.0 || x == 1.0) { return 1.0; }
  if (x == 0.0) { return select(0.0, 3.4028234663852886e38, y < 0.0); }
  let m = exp2(y * log2(abs(x)));
  if (x > 0.0 || floor(y) != y) { return m; }
  return select(m, -m, floor(y * 0.5) * 2.0 != y);
}`,
  // a float from its IEEE-754 bits (NaN, ±inf): a function call is not a const-expression, so no shader-creation error
  f32_bits: `fn f32_bits(b: u32) -> f32 {
  return bitcast<f32>(b);
}`,
  // x · ±0 as IEEE has it: NaN where x is ±inf or NaN, tested on the bits (float tests may be folded away)
  mul_zero_f32: `fn mul_zero_f32(x: f32, z: f32) -> f32 {
  return select(x * z, f32_bits(0x7fc00000u), (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u);
}`,
  // log(1 + x) without cancellation for small x
  log1p_f32: `fn log1p_f32(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  return log(u) * (x / (u - 1.0));
}`,
  // tanh within 2 ulp everywhere (the builtin on Mesa lavapipe is (e^2x − 1)/(e^2x + 1): 3600 ulp near 0,
  // tanh(1e-30) = 3e-8, tanh(NaN) = −1). |x| < 0.55: x + x·z·Q(z), z = x², Q a degree-4 fit of (tanh(x)/x − 1)/z
  // (relative truncation error 1e-9); else 1 − 2/(e^2|x| + 1) (≥ 0.5, no cancellation; e^2|x| = inf gives 1).
  // NaN propagates; −0 stays −0. Measured on lavapipe against float64: ≤ 0.5 ulp below 0.55, ≤ 2 ulp above.
  tanh_f32: `fn tanh_f32(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.55) {
    let z = x * x;
    return x + x * z * (-0.33333316 + z * (0.13332586 + z * (-0.05385231 + z * (0.021071674 + z * -0.006274233))));
  }
  let t = 1.0 - 2.0 / (exp(2.0 * a) + 1.0);
  return select(-t, t, x > 0.0);
}`,
};


