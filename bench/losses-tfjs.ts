// The `--losses --tfjs` column's losses: every loss of the suite (losses-suite.ts) written in TensorFlow.js the
// way a tfjs user writes it — tf built-ins (tf.matMul, tf.logSoftmax, tf.losses.*, tf.gather, …), the loss a
// function of the differentiated inputs, gradients by tf.valueAndGrads — with torchdistill's semantics
// (research/torchdistill-losses.md §2) and each config's parameters, as bench/torch_losses.py has them. Inputs
// are the bench's, by the names tdc's plan reads (student/<module>/<io>, teacher/…, targets, state_in/…).
// tfjs has no stop-gradient op: CRD's normalising constants (torch's `.item()`) and RKD's count of positive
// distances go through a tf.customGrad whose gradient is zero. F.normalize's x / max(‖x‖, eps) is written
// x · rsqrt(max(Σx², eps²)): the same value, and a zero gradient (not 0 · NaN) where a row is 0 (RKD's angle term
// has such rows: e_i − e_i).
import type * as TfNs from '@tensorflow/tfjs';

type Tf = typeof import('@tensorflow/tfjs');
type T = TfNs.Tensor;

/** A suite loss in tfjs: `x(name)` is an input tensor (differentiated or not); returns the scalar loss, and the
 *  state outputs the loss updates (CRD's memory banks) computed from the same step's inputs, by tdc's names
 *  (state_out/<term>/<buffer>). */
export interface TfjsLoss {
  loss(tf: Tf, x: (name: string) => T): T;
  state?(tf: Tf, x: (name: string) => T): Record<string, T>;
}

// ---- torch primitives ---------------------------------------------------------------------------------------

/** CrossEntropyLoss(reduction 'mean') on logits [N, C] and int targets [N]. */
const ce = (tf: Tf, z: T, y: T): T => tf.losses.softmaxCrossEntropy(tf.oneHot(y as TfNs.Tensor1D, z.shape[1]!), z);

/** KLDivLoss('batchmean')(logq, p) with p = softmax(zt / T) given by its log: Σ p (log p − logq) / N. */
const klBatchmean = (tf: Tf, logq: T, logp: T): T => tf.div(tf.sum(tf.mul(tf.exp(logp), tf.sub(logp, logq))), logq.shape[0]!);

/** KDLoss: soft = KL_bm(log σ(zs/T), σ(zt/T)); alpha given (and targets): α·CE + (1 − α)·T²·soft (the soft term
 *  dropped when its weight is 0, as a user writing it for α = 1 would). */
function kd(tf: Tf, zs: T, zt: T, y: T, temperature: number, alpha: number): T {
  const soft = (): T => klBatchmean(tf, tf.logSoftmax(tf.div(zs, temperature)), tf.logSoftmax(tf.div(zt, temperature)));
  if (!alpha) return soft();
  const c = tf.mul(ce(tf, zs, y), alpha);
  return alpha === 1 ? c : tf.add(c, tf.mul(soft(), (1 - alpha) * temperature * temperature));
}

/** F.normalize(x, p=2, dim=axis, eps): x / max(‖x‖₂, eps). */
const normalize = (tf: Tf, x: T, axis: number, eps = 1e-12): T => tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), axis, true), eps * eps)));

/** Row-wise cosine similarity of the rows of a [R, D] and b [R', D] against each other: [R, R'] (eps 1e-8). */
const cosineMatrix = (tf: Tf, a: T, b: T): T => tf.matMul(normalize(tf, a, 1, 1e-8), normalize(tf, b, 1, 1e-8), false, true);

/** MSELoss('mean'). */
const mse = (tf: Tf, a: T, b: T): T => tf.mean(tf.squaredDifference(a, b));

const flatten = (tf: Tf, x: T): T => tf.reshape(x, [x.shape[0]!, -1]);

/** f(x) with a zero gradient to x (torch's .detach() / .item(), or a count from comparisons, which have no tfjs
 *  gradient): ops inside a customGrad's forward function are not taped. */
function detached(tf: Tf, x: T, f: (v: T) => T = (v) => tf.clone(v)): T {
  const g = tf.customGrad(((v: T) => ({ value: f(v), gradFunc: () => tf.zerosLike(v) })) as unknown as Parameters<Tf['customGrad']>[0]);
  return g(x);
}

// ---- the losses ---------------------------------------------------------------------------------------------

const S = (m: string, io = 'output'): string => `student/${m}/${io}`;
const Te = (m: string, io = 'output'): string => `teacher/${m}/${io}`;

/** AT (mode 'code'): a(f) = normalize(mean_c f²) over HW; Σ_pairs mean (a_s − a_t)². */
function atMap(tf: Tf, f: T): T {
  return normalize(tf, tf.reshape(tf.mean(tf.square(f), 1), [f.shape[0]!, -1]), 1);
}

/** PKT's conditional probabilities: x̂ = x / (‖x‖ + eps) (NaN → 0), S = (x̂x̂ᵀ + 1)/2, P = S / rowsum S. */
function pktProbabilities(tf: Tf, x: T, eps: number): T {
  let xn = tf.div(x, tf.add(tf.norm(x, 'euclidean', 1, true), eps));
  xn = tf.where(tf.isNaN(xn), tf.zerosLike(xn), xn);
  const s = tf.div(tf.add(tf.matMul(xn, xn, false, true), 1), 2);
  return tf.div(s, tf.sum(s, 1, true));
}

/** DIST's Pearson correlation per row (cosine similarity, eps 1e-8, of row-centred rows), [R]. */
function pearsonRows(tf: Tf, a: T, b: T): T {
  const ac = tf.sub(a, tf.mean(a, 1, true));
  const bc = tf.sub(b, tf.mean(b, 1, true));
  return tf.sum(tf.mul(normalize(tf, ac, 1, 1e-8), normalize(tf, bc, 1, 1e-8)), 1);
}

/** RKD's pairwise distances: sqrt(max(‖e_i‖² + ‖e_j‖² − 2e_i·e_j, 1e-12)), diagonal 0. */
function pdist(tf: Tf, e: T): T {
  const n = e.shape[0]!;
  const sq = tf.sum(tf.square(e), 1);
  const d2 = tf.sub(tf.add(tf.expandDims(sq, 0), tf.expandDims(sq, 1)), tf.mul(tf.matMul(e, e, false, true), 2));
  return tf.mul(tf.sqrt(tf.maximum(d2, 1e-12)), tf.sub(1, tf.eye(n)));
}

/** RKD's angles: e_ij = normalize(e_j − e_i), A_ijk = e_ij · e_ik, flattened [N³]. */
function rkdAngles(tf: Tf, e: T): T {
  const v = normalize(tf, tf.sub(tf.expandDims(e, 0), tf.expandDims(e, 1)), 2);
  return tf.reshape(tf.matMul(v, v, false, true), [-1]);
}

/** RKD's normalised distances: D / mean of its positive entries. */
function rkdDistances(tf: Tf, e: T): T {
  const d = pdist(tf, e);
  return tf.div(d, tf.div(tf.sum(d), detached(tf, d, (v) => tf.sum(tf.cast(tf.greater(v, 0), 'float32')))));
}

/** FSP matrix of two maps of one spatial size: F1 F2ᵀ / (h·w), [N, C1, C2]. */
function fspMatrix(tf: Tf, a: T, b: T): T {
  const [n, c1, h, w] = a.shape as number[];
  const c2 = b.shape[1]!;
  return tf.div(tf.matMul(tf.reshape(a, [n!, c1!, h! * w!]), tf.reshape(b, [n!, c2, h! * w!]), false, true), h! * w!);
}

/** adaptive_avg_pool2d's bin matrix [k, H]: row i averages [floor(i·H/k), ceil((i+1)·H/k)). */
function poolMatrix(tf: Tf, size: number, k: number): T {
  const m = new Float32Array(k * size);
  for (let i = 0; i < k; i++) {
    const lo = Math.floor((i * size) / k);
    const hi = Math.ceil(((i + 1) * size) / k);
    for (let j = lo; j < hi; j++) m[i * size + j] = 1 / (hi - lo);
  }
  return tf.tensor2d(m, [k, size]);
}

/** adaptive_avg_pool2d(x, k) of [N, C, H, W] as two matmuls with the bin matrices, [N·C, k(w), k(h)] (the axes
 *  come out transposed; both sides of HCL's MSE are pooled alike, so the loss is the same). */
function adaptiveAvgPool(tf: Tf, x: T, k: number): T {
  const [n, c, h, w] = x.shape as number[];
  const byW = tf.matMul(tf.reshape(x, [n! * c! * h!, w!]), poolMatrix(tf, w!, k), false, true); // [N·C·H, k]
  const t = tf.reshape(tf.transpose(tf.reshape(byW, [n! * c!, h!, k]), [0, 2, 1]), [n! * c! * k, h!]);
  return tf.reshape(tf.matMul(t, poolMatrix(tf, h!, k), false, true), [n! * c!, k, k]);
}

/** HierarchicalContextLoss: MSE plus halving weights for each pooled size k < h, divided by the weights' sum. */
function hcl(tf: Tf, y: T, t: T, sizes = [4, 2, 1]): T {
  let loss = mse(tf, y, t);
  let wt = 1;
  let tot = 1;
  for (const k of sizes) {
    if (k >= y.shape[2]!) continue;
    wt /= 2;
    loss = tf.add(loss, tf.mul(mse(tf, adaptiveAvgPool(tf, y, k), adaptiveAvgPool(tf, t, k)), wt));
    tot += wt;
  }
  return tf.div(loss, tot);
}

/** CRD's NCE: −[Σ_b log(x_b0/(x_b0 + mPn + eps)) + Σ_{b,k≥1} log(mPn/(x_bk + mPn + eps))] / B. */
function nce(tf: Tf, x: T, mPn: number, eps: number): T {
  const [b, k1] = x.shape as [number, number];
  const pos = tf.slice(x, [0, 0], [b, 1]);
  const neg = tf.slice(x, [0, 1], [b, k1 - 1]);
  const lpos = tf.log(tf.div(pos, tf.add(pos, mPn + eps)));
  const lneg = tf.log(tf.div(mPn, tf.add(neg, mPn + eps)));
  return tf.div(tf.neg(tf.add(tf.sum(lpos), tf.sum(lneg))), b);
}

/** CRD's config (the suite's patched bank: 100 000 rows, 2048 negatives). */
const CRD = { temperature: 0.07, momentum: 0.5, eps: 1e-7, negatives: 2048, numSamples: 100000 };

/** SSKD's row selection as a 0/1 mask over the rows of `scores` [R, K]: a row's rank is the number of entries
 *  larger than its target's; rows of rank 0 are kept, plus int(ratio · wrong) of the others by ascending rank,
 *  ties to the lowest index (tdc's stable order). Returns the mask [R] and the number kept. */
function keptRows(tf: Tf, scores: T, targets: T, ratio: number): { mask: T; count: T } {
  const r = scores.shape[0]!;
  const own = tf.sum(tf.mul(scores, tf.oneHot(targets as TfNs.Tensor1D, scores.shape[1]!)), 1, true);
  const rank = tf.sum(tf.cast(tf.greater(scores, own), 'float32'), 1);
  const correct = tf.sum(tf.cast(tf.equal(rank, 0), 'float32'));
  const count = tf.add(correct, tf.floor(tf.mul(tf.sub(r, correct), ratio)));
  const key = tf.add(tf.mul(rank, r), tf.range(0, r, 1, 'float32'));
  const order = tf.sum(tf.cast(tf.less(tf.expandDims(key, 0), tf.expandDims(key, 1)), 'float32'), 1); // position in ascending order
  return { mask: tf.cast(tf.less(order, count), 'float32'), count };
}

/** KL_bm over the kept rows only: Σ_kept Σ_c p (log p − logq) / count. */
const klKept = (tf: Tf, logq: T, logp: T, sel: { mask: T; count: T }): T =>
  tf.div(tf.sum(tf.mul(tf.sum(tf.mul(tf.exp(logp), tf.sub(logp, logq)), 1), sel.mask)), sel.count);

export const TFJS_LOSSES: Record<string, TfjsLoss> = {
  kd: { loss: (tf, x) => kd(tf, x(S('.')), x(Te('.')), x('targets'), 1, 0.5) },
  at: {
    loss: (tf, x) => {
      let at: T = tf.scalar(0);
      for (const l of ['layer3', 'layer4']) at = tf.add(at, tf.mean(tf.squaredDifference(atMap(tf, x(S(l))), atMap(tf, x(Te(l))))));
      return tf.add(ce(tf, x(S('.')), x('targets')), tf.mul(at, 1000));
    },
  },
  fitnet: { loss: (tf, x) => tf.sum(tf.squaredDifference(x(S('+convreg')), x(Te('layer1')))) },
  pkt: {
    loss: (tf, x) => {
      const eps = 1e-7;
      const ps = pktProbabilities(tf, x(S('fc', 'input')), eps);
      const pt = pktProbabilities(tf, x(Te('fc', 'input')), eps);
      return tf.mul(tf.mean(tf.mul(pt, tf.log(tf.div(tf.add(pt, eps), tf.add(ps, eps))))), 30000);
    },
  },
  dist: {
    loss: (tf, x) => {
      const zs = x(S('.'));
      const ys = tf.softmax(zs);
      const yt = tf.softmax(x(Te('.')));
      const inter = tf.sub(1, tf.mean(pearsonRows(tf, ys, yt)));
      const intra = tf.sub(1, tf.mean(pearsonRows(tf, tf.transpose(ys), tf.transpose(yt))));
      return tf.add(ce(tf, zs, x('targets')), tf.mul(tf.add(inter, intra), 2));
    },
  },
  srd: {
    loss: (tf, x) => {
      const zs = x(S('.'));
      const feat = tf.log(tf.sum(tf.pow(tf.abs(tf.sub(x(S('norm_layer')), x(Te('norm_layer')))), 4)));
      const kl = klBatchmean(tf, tf.logSoftmax(zs), tf.logSoftmax(x(Te('.'))));
      return tf.add(ce(tf, zs, x('targets')), tf.add(tf.mul(feat, 2), kl));
    },
  },
  rkd: {
    loss: (tf, x) => {
      const es = flatten(tf, x(S('layer4')));
      const et = flatten(tf, x(Te('layer4')));
      const dist = tf.losses.huberLoss(rkdDistances(tf, et), rkdDistances(tf, es));
      const angle = tf.losses.huberLoss(rkdAngles(tf, et), rkdAngles(tf, es));
      return tf.add(kd(tf, x(S('.')), x(Te('.')), x('targets'), 1, 1), tf.add(dist, tf.mul(angle, 2)));
    },
  },
  fsp: {
    loss: (tf, x) => {
      let total: T = tf.scalar(0);
      for (const [first, second] of [
        ['layer1', 'layer1'],
        ['layer2.1', 'layer2'],
        ['layer3.1', 'layer3'],
        ['layer4.1', 'layer4'],
      ] as const) {
        const gs = fspMatrix(tf, x(S(first, 'input')), x(S(second)));
        const gt = fspMatrix(tf, x(Te(first, 'input')), x(Te(second)));
        total = tf.add(total, tf.sum(tf.norm(tf.sub(gs, gt), 'euclidean', 1)));
      }
      return tf.div(total, x(S('layer1', 'input')).shape[0]!);
    },
  },
  spkd: {
    loss: (tf, x) => {
      const g = (f: T): T => {
        const m = flatten(tf, f);
        const gram = tf.matMul(m, m, false, true);
        return tf.div(gram, tf.maximum(tf.sum(tf.abs(gram), 1, true), 1e-12)); // F.normalize(G, 1): p = 1
      };
      const n = x(S('layer4')).shape[0]!;
      const d = tf.sub(g(x(Te('layer4'))), g(x(S('layer4'))));
      return tf.add(ce(tf, x(S('.')), x('targets')), tf.div(tf.sum(tf.square(d)), n * n));
    },
  },
  kr: {
    loss: (tf, x) => {
      let loss = ce(tf, x(S('.')), x('targets'));
      for (const [i, t] of [
        [4, 'layer1.-1.relu/input'],
        [3, 'layer2.-1.relu/input'],
        [2, 'layer3.-1.relu/input'],
        [1, 'layer4.-1.relu/input'],
        [0, 'avgpool/output'],
      ] as const)
        loss = tf.add(loss, hcl(tf, x(`student/abf_modules.${i}/output/0`), x(`teacher/${t}`)));
      return loss;
    },
  },
  crd: {
    loss: (tf, x) => {
      const kdTerm = kd(tf, x(S('.')), x(Te('.')), x('targets'), 4, 0.5);
      const s = x(S('normalizer'));
      const t = x(Te('normalizer'));
      const idx = x('student/empty/input/contrast_idx');
      const m1 = x('state_in/crd/memory_v1');
      const bank = m1.shape[0]!;
      // out_t: the teacher against memory_v1, out_s: the student against memory_v2, each [B, K+1]
      const scores = (memory: T, v: T): T => tf.exp(tf.div(tf.squeeze(tf.matMul(tf.gather(memory, idx), tf.expandDims(v, 2)), [2]), CRD.temperature));
      const outS = scores(x('state_in/crd/memory_v2'), s);
      const outT = scores(m1, t);
      // first call (params Z = −1): Z = mean(out) · M, a constant from then on
      const z1 = detached(tf, tf.mul(tf.mean(outS), bank));
      const z2 = detached(tf, tf.mul(tf.mean(outT), bank));
      const mPn = CRD.negatives / CRD.numSamples;
      const crd = tf.add(nce(tf, tf.div(outS, z1), mPn, CRD.eps), nce(tf, tf.div(outT, z2), mPn, CRD.eps));
      return tf.add(tf.mul(kdTerm, 2), tf.mul(crd, 0.8));
    },
    state: (tf, x) => {
      const pos = x('student/empty/input/pos_idx');
      const update = (memory: T, v: T): T => {
        const row = normalize(tf, tf.add(tf.mul(tf.gather(memory, pos), CRD.momentum), tf.mul(v, 1 - CRD.momentum)), 1, 0);
        return tf.tensorScatterUpdate(memory, tf.expandDims(pos, 1), row);
      };
      return {
        'state_out/crd/memory_v1': update(x('state_in/crd/memory_v1'), x(S('normalizer'))),
        'state_out/crd/memory_v2': update(x('state_in/crd/memory_v2'), x(Te('normalizer'))),
      };
    },
  },
  sskd: {
    loss: (tf, x) => {
      const [tk, ts, tff] = [4, 0.5, 4];
      const zs = x('student/model.fc/output');
      const zt = x('teacher/model.fc/output');
      const y = x('targets');
      const b = zs.shape[0]!;
      const normal = tf.range(0, b, 4, 'int32');
      const aug = tf.tensor1d(Array.from({ length: b }, (_, i) => i).filter((i) => i % 4 !== 0), 'int32');
      const zsN = tf.gather(zs, normal);
      const cep = ce(tf, zsN, y);
      const kl = tf.mul(klBatchmean(tf, tf.logSoftmax(tf.div(zsN, tk)), tf.logSoftmax(tf.div(tf.gather(zt, normal), tk))), tk * tk);
      // transform selection on the teacher's augmented predictions, ratio tf_ratio 1.0
      const logpAug = tf.logSoftmax(tf.div(tf.gather(zt, aug), tff));
      const yAug = tf.reshape(tf.tile(tf.expandDims(y, 1), [1, 3]), [-1]);
      const selTf = keptRows(tf, logpAug, yAug, 1.0);
      const tfl = tf.mul(klKept(tf, tf.logSoftmax(tf.div(tf.gather(zs, aug), tff)), logpAug, selTf), tff * tff);
      // self-supervision: cosine similarities of augmented rows to normal rows, [3B0, B0]; the teacher's detached
      const cos = (ss: T): T => cosineMatrix(tf, tf.gather(ss, aug), tf.gather(ss, normal));
      const cs = cos(x('student/ss_module/output'));
      const ct = cos(x('teacher/ss_module/output'));
      const selSs = keptRows(tf, ct, tf.floorDiv(tf.range(0, aug.shape[0], 1, 'int32'), 3), 0.75);
      const ss = tf.mul(klKept(tf, tf.logSoftmax(tf.div(cs, ts)), tf.logSoftmax(tf.div(ct, ts)), selSs), ts * ts);
      return tf.addN([cep, tf.mul(kl, 0.9), tf.mul(ss, 10), tf.mul(tfl, 2.7)]);
    },
  },
  vid: {
    loss: (tf, x) => {
      let loss = kd(tf, x(S('.')), x(Te('.')), x('targets'), 1, 1);
      for (let i = 1; i <= 4; i++) {
        const mu = x(`student/regressor_dict.regressor${i}/output/0`);
        const v = x(`student/regressor_dict.regressor${i}/output/1`);
        loss = tf.add(loss, tf.mean(tf.mul(tf.add(tf.div(tf.squaredDifference(mu, x(`teacher/layer${i}/output`)), v), tf.log(v)), 0.5)));
      }
      return loss;
    },
  },
};
