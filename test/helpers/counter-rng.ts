// The counter-based input generator shared with scripts/counter_rng.py (keep the two identical; the Python side's
// docstring defines it). Element i of recipe slot `slot` under `seed` is a pure function of (seed, slot, i) built
// from wrapping 32-bit multiplies, xors and shifts; a normal-like value is the Irwin–Hall sum of four 24-bit
// uniforms scaled to unit variance, then `offset + scale·z` (kind normal), its ReLU, or `offset + scale·|z|`,
// rounded to float32 once. Only IEEE basic operations, so numpy and V8 give the same bits.

export interface RecipeEntry {
  name: string;
  shape: number[];
  kind: 'normal' | 'relu' | 'abs' | 'near' | 'class';
  /** kind near: the earlier entry whose values are the centre */
  of?: string;
  scale?: number;
  offset?: number;
  classes?: number;
}

function mix(v: number): number {
  let x = v >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97) >>> 0;
  x ^= x >>> 15;
  return x >>> 0;
}

export function streamKey(seed: number, slot: number): number {
  const k = mix((Math.imul(seed, 0x9e3779b9) + 0x7f4a7c15) >>> 0);
  return mix((k ^ Math.imul(slot + 1, 0x85ebca6b)) >>> 0);
}

const SQRT3 = Math.sqrt(3);
const TWO_M24 = 2 ** -24;

/** Float32-representable values (kinds normal/relu/abs) or integer class ids, C order. */
export function generate(seed: number, slot: number, e: RecipeEntry, earlier?: ReadonlyMap<string, Float64Array | BigInt64Array>): Float64Array | BigInt64Array {
  const n = e.shape.reduce((a, b) => a * b, 1);
  const key = streamKey(seed, slot);
  const word = (i: number, j: number) => mix((Math.imul((i * 4 + j) >>> 0, 0x9e3779b1) + key) >>> 0);
  if (e.kind === 'class') {
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) out[i] = BigInt(word(i, 0) % e.classes!);
    return out;
  }
  const scale = e.scale ?? 1;
  const offset = e.offset ?? 0;
  const src = e.kind === 'near' ? (earlier?.get(e.of!) as Float64Array | undefined) : undefined;
  if (e.kind === 'near' && (!src || src.length !== n)) throw new Error(`recipe entry ${e.name}: 'of' ${e.of} is not an earlier float entry of the same size`);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < 4; j++) s += word(i, j) >>> 8;
    const z = (s * TWO_M24 - 2) * SQRT3;
    let v: number;
    if (e.kind === 'normal') v = offset + scale * z;
    else if (e.kind === 'relu') v = Math.max(0, offset + scale * z);
    else if (e.kind === 'abs') v = offset + scale * Math.abs(z);
    else v = src![i]! + scale * z;
    out[i] = Math.fround(v);
  }
  return out;
}

/** Every entry of a recipe, in order (kind near reads the earlier ones). */
export function generateAll(seed: number, recipe: readonly RecipeEntry[]): Map<string, Float64Array | BigInt64Array> {
  const out = new Map<string, Float64Array | BigInt64Array>();
  recipe.forEach((e, slot) => out.set(e.name, generate(seed, slot, e, out)));
  return out;
}
