// The kernel helper functions as IR functions (FnDef): torch's semantics where WGSL's builtins differ. One
// definition each — the WGSL printer prints it into every module that calls it (print-module.ts), the interpreter
// runs the same statements (interpret.ts), so the two cannot drift apart.
import { all, assign, bare, bin, call, f32, hex, ifS, letS, negBare, not, ref, ret, u32, varS, type Expr, type FnDef, type Helper, type ScalarType, type Stmt } from './ir.js';

const fn = <H extends Helper>(name: H, params: [string, ScalarType][], retTy: ScalarType | 'bool', body: Stmt[]): FnDef & { readonly name: H } => ({
  name,
  params: params.map(([n, ty]) => ({ name: n, ty })),
  ret: retTy,
  body,
});

const [x, y, z, m, u, a, t, b] = ['x', 'y', 'z', 'm', 'u', 'a', 't', 'b'].map(ref) as [Expr, Expr, Expr, Expr, Expr, Expr, Expr, Expr];
const EXPONENT = hex(0x7f800000);
const sx = ref('sx');
const integral = ref('integral');

/** is_nan_f32(v). */
const isNaN = (v: Expr): Expr => call('is_nan_f32', v);
/** torch.maximum / torch.minimum: a NaN operand gives NaN (a's first), else b where it wins, else a (ties keep a). */
const extremum = <H extends 'max_f32' | 'min_f32'>(name: H, wins: Expr) =>
  fn(name, [['a', 'f32'], ['b', 'f32']], 'f32', [ret(call('select', call('select', a, b, bare('||', wins, isNaN(b))), a, isNaN(a)))]);


/** tanh_f32's odd polynomial on |x| < 0.55: x + x·z·Q(z), z = x², Q's coefficients from the constant term up. */
const TANH_Q = [-0.33333316, 0.13332586, -0.05385231, 0.021071674, -0.006274233];

/** c₀ + z·(c₁ + z·(…)), Horner's scheme, each negative coefficient written `-c`. */
function horner(zv: Expr, cs: readonly number[]): Expr {
  const lit = (c: number) => (c < 0 ? negBare(f32(-c)) : f32(c));
  let e = lit(cs[cs.length - 1]!);
  for (let k = cs.length - 2; k >= 0; k--) e = bin('+', lit(cs[k]!), bare('*', zv, e));
  return e;
}

export const HELPERS: { readonly [H in Helper]: FnDef & { readonly name: H } } = {
  // torch's pow (C's): x^0 = 1 and 1^y = 1 (NaN included), otherwise NaN in → NaN out; a negative finite x only for
  // integral y (else NaN), the sign from y's parity (−0 included); 0^y<0 = ±inf; |x| = 1 (x = −1) gives ±1 for
  // every y (±inf included). NaN and ±inf are tested on the bits and made by f32_bits: WGSL may assume finite math.
  pow_f32: fn('pow_f32', [['x', 'f32'], ['y', 'f32']], 'f32', [
    ifS(bare('||', bare('==', y, f32(0)), bare('==', x, f32(1))), [ret(f32(1))]),
    ifS(bare('||', isNaN(x), isNaN(y)), [ret(call('f32_bits', hex(0x7fc00000)))]),
    letS('a', call('abs', x)),
    letS('sx', bare('==', bin('>>', call('bitcast<u32>', x), u32(31)), u32(1))),
    letS('integral', bare('==', call('floor', y), y)),
    ifS(all(sx, not(integral), bare('>', a, f32(0)), bare('!=', call('bitcast<u32>', a), EXPONENT)), [ret(call('f32_bits', hex(0x7fc00000)))]),
    varS('m', undefined, call('exp2', bare('*', y, call('log2', a)))),
    ifS(bare('==', a, f32(0)), [assign(m, call('select', f32(0), call('f32_bits', EXPONENT), bare('<', y, f32(0))))]),
    ifS(bare('==', a, f32(1)), [assign(m, f32(1))]),
    ret(call('select', m, negBare(m), all(sx, integral, not(bin('==', bare('*', call('floor', bare('*', y, f32(0.5))), f32(2)), y))))),
  ]),
  // NaN, decided on the bits: WGSL lets implementations assume finite math, so `x != x` (or `!(x == x)`) may be folded
  is_nan_f32: fn('is_nan_f32', [['x', 'f32']], 'bool', [ret(bare('>', bin('&', call('bitcast<u32>', x), hex(0x7fffffff)), EXPONENT))]),
  // torch.maximum / torch.minimum (WGSL's max/min may drop a NaN operand; Mesa's pick the second operand on ±0 ties)
  max_f32: extremum('max_f32', bare('<', a, b)),
  min_f32: extremum('min_f32', bare('<', b, a)),
  // a float from its IEEE-754 bits (NaN, ±inf): a function call is not a const-expression, so no shader-creation error
  f32_bits: fn('f32_bits', [['b', 'u32']], 'f32', [ret(call('bitcast<f32>', b))]),
  // x · ±0 as IEEE has it (the zero's sign bit b: 0 or 0x80000000): NaN where x is ±inf or NaN, else a zero with
  // the sign of the product, all made on the bits: drivers fold `x * 0.0` to +0 (lavapipe: −2 · 0 and 2 · −0 are +0,
  // torch's −0) and float tests may be folded away
  mul_zero_f32: fn('mul_zero_f32', [['x', 'f32'], ['b', 'u32']], 'f32', [
    ret(call('select', call('f32_bits', bin('&', bin('^', b, call('bitcast<u32>', x)), hex(0x80000000))), call('f32_bits', hex(0x7fc00000)), bare('==', bin('&', call('bitcast<u32>', x), EXPONENT), EXPONENT))),
  ]),
  // ±0 / x as IEEE has it (the zero's sign bit b: 0 or 0x80000000): NaN where x is ±0 or NaN, else a zero with the
  // sign of the quotient, made on the bits: drivers fold `0.0 / x` to 0 (WGSL allows finite math; torch: NaN for x = 0)
  // and may drop the sign of a constant -0.0
  zero_div_f32: fn('zero_div_f32', [['b', 'u32'], ['x', 'f32']], 'f32', [
    letS('a', bin('&', call('bitcast<u32>', x), hex(0x7fffffff))),
    ret(call('select', call('f32_bits', bin('&', bin('^', b, call('bitcast<u32>', x)), hex(0x80000000))), call('f32_bits', hex(0x7fc00000)), bare('||', bare('==', a, u32(0)), bare('>', a, EXPONENT)))),
  ]),
  // a subnormal x as ±0 (its sign kept), any other value as it is; decided on the bits. For values stored as a
  // matmul's operand (StoreSpec.flushSubnormals): WGSL lets implementations flush subnormals, and where the FPU does not
  // (software adapters: llvmpipe, SwiftShader), each product with a subnormal operand takes a slow microcode path
  flush_subnormal_f32: fn('flush_subnormal_f32', [['x', 'f32']], 'f32', [
    ret(call('select', x, call('f32_bits', bin('&', call('bitcast<u32>', x), hex(0x80000000))), bare('==', bin('&', call('bitcast<u32>', x), EXPONENT), u32(0)))),
  ]),
  // log(1 + x) without cancellation for small x
  log1p_f32: fn('log1p_f32', [['x', 'f32']], 'f32', [
    letS('u', bare('+', f32(1), x)),
    // u = +inf: x = +inf (log(u) · (x / (u − 1)) would be inf · NaN)
    ifS(bare('||', bare('==', u, f32(1)), bare('==', call('bitcast<u32>', u), EXPONENT)), [ret(x)]),
    ret(bare('*', call('log', u), bin('/', x, bin('-', u, f32(1))))),
  ]),
  // tanh within 2 ulp everywhere (the builtin on Mesa lavapipe is (e^2x − 1)/(e^2x + 1): 3600 ulp near 0,
  // tanh(1e-30) = 3e-8, tanh(NaN) = −1). |x| < 0.55: x + x·z·Q(z), z = x², Q a degree-4 fit of (tanh(x)/x − 1)/z
  // (relative truncation error 1e-9); else 1 − 2/(e^2|x| + 1) (≥ 0.5, no cancellation; e^2|x| = inf gives 1).
  // NaN propagates; −0 stays −0. Measured on lavapipe against float64: ≤ 0.5 ulp below 0.55, ≤ 2 ulp above.
  tanh_f32: fn('tanh_f32', [['x', 'f32']], 'f32', [
    letS('a', call('abs', x)),
    ifS(bare('<', a, f32(0.55)), [letS('z', bare('*', x, x)), ret(bare('+', x, bare('*', bare('*', x, z), horner(z, TANH_Q))))]),
    letS('t', bare('-', f32(1), bare('/', f32(2), bin('+', call('exp', bare('*', f32(2), a)), f32(1))))),
    ret(call('select', negBare(t), t, bare('>', x, f32(0)))),
  ]),
};

export const isHelper = (f: string): f is Helper => Object.hasOwn(HELPERS, f);
