// The benchmark workload: torchdistill KDLoss(T=4, α=0.5, reduction='batchmean') — α·CE_mean(s, y) +
// (1−α)·T²·KL_batchmean(log_softmax(s/T) ‖ softmax(t/T)) — on seeded logits, with its float64 value and
// gradient d L / d s for checking every implementation.

export const TEMPERATURE = 4;
export const ALPHA = 0.5;

export interface KdCase {
  n: number;
  c: number;
  student: Float32Array;
  teacher: Float32Array;
  targets: Int32Array;
}

/** mulberry32: a small seeded PRNG (uniform in [0, 1)). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Teacher = 3·N(0,1) + 8 on the label; student = 0.7·teacher + 2·N(0,1) + 4 on the label. */
export function kdCase(n: number, c: number, seed = 1234): KdCase {
  const rnd = mulberry32(seed ^ (n * 73856093) ^ (c * 19349663));
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const targets = Int32Array.from({ length: n }, () => Math.floor(rnd() * c));
  const teacher = new Float32Array(n * c);
  const student = new Float32Array(n * c);
  for (let r = 0; r < n; r++)
    for (let j = 0; j < c; j++) {
      const i = r * c + j;
      const hit = j === targets[r] ? 1 : 0;
      teacher[i] = 3 * normal() + 8 * hit;
      student[i] = 0.7 * teacher[i]! + 2 * normal() + 4 * hit;
    }
  return { n, c, student, teacher, targets };
}

/** float64 loss and gradient of the KD+CE workload (inputs read as the f32 values they are). */
export function kdReference(k: KdCase): { loss: number; grad: Float64Array } {
  const { n, c, student: s, teacher: t, targets: y } = k;
  const T = TEMPERATURE;
  const grad = new Float64Array(n * c);
  let ce = 0;
  let kl = 0;
  for (let r = 0; r < n; r++) {
    const o = r * c;
    let ms = -Infinity;
    let mt = -Infinity;
    for (let j = 0; j < c; j++) {
      ms = Math.max(ms, s[o + j]!);
      mt = Math.max(mt, t[o + j]!);
    }
    let z1 = 0;
    let zs = 0;
    let zt = 0;
    for (let j = 0; j < c; j++) {
      z1 += Math.exp(s[o + j]! - ms);
      zs += Math.exp((s[o + j]! - ms) / T);
      zt += Math.exp((t[o + j]! - mt) / T);
    }
    ce += Math.log(z1) + ms - s[o + y[r]!]!;
    for (let j = 0; j < c; j++) {
      const logq = (s[o + j]! - ms) / T - Math.log(zs);
      const logp = (t[o + j]! - mt) / T - Math.log(zt);
      const p = Math.exp(logp);
      kl += p * (logp - logq);
      const hard = Math.exp(s[o + j]! - ms) / z1 - (j === y[r] ? 1 : 0);
      grad[o + j] = (ALPHA / n) * hard + ((1 - ALPHA) * T / n) * (Math.exp(logq) - p);
    }
  }
  return { loss: (ALPHA * ce) / n + ((1 - ALPHA) * T * T * kl) / n, grad };
}

/** Relative loss error and gradient error max|g − ref| / max|ref|. */
export function kdErrors(ref: { loss: number; grad: Float64Array }, loss: number, grad: Float32Array): { lossRel: number; gradRel: number } {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.grad.length; i++) {
    num = Math.max(num, Math.abs(grad[i]! - ref.grad[i]!));
    den = Math.max(den, Math.abs(ref.grad[i]!));
  }
  const gradRel = grad.length === ref.grad.length ? num / (den || 1) : Infinity;
  return { lossRel: Math.abs(loss - ref.loss) / Math.max(Math.abs(ref.loss), 1e-30), gradRel };
}

/** Accepted float32 error (perf-anchors saw ≤ 2e-6 on the gradient, ≤ 7e-8 on the loss across all variants). */
export const KD_TOLERANCE = { lossRel: 1e-5, gradRel: 1e-4 };
