// The teacher's weights as a checkpoint the example writes and reloads: <name>.json (names, shapes, meta) and
// <name>.bin (float32, little-endian, in order).
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';

export interface CheckpointMeta {
  steps: number;
  testAcc: number;
  [k: string]: unknown;
}

export async function saveWeights(model: tfjs.LayersModel, base: string, meta: CheckpointMeta): Promise<void> {
  mkdirSync(dirname(base), { recursive: true });
  const ws = model.getWeights();
  const arrays = await Promise.all(ws.map((w) => w.data() as Promise<Float32Array>));
  const bin = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let off = 0;
  for (const a of arrays) bin.set(a, (off += a.length) - a.length);
  const json = { model: model.name, weights: model.weights.map((w, i) => ({ name: w.originalName, shape: ws[i]!.shape })), meta };
  writeFileSync(`${base}.bin.tmp`, new Uint8Array(bin.buffer));
  writeFileSync(`${base}.json.tmp`, JSON.stringify(json, null, 1));
  renameSync(`${base}.bin.tmp`, `${base}.bin`);
  renameSync(`${base}.json.tmp`, `${base}.json`);
}

/** Loads weights saved by saveWeights into `model`; undefined when there is no checkpoint or it does not fit. */
export function loadWeights(tf: typeof tfjs, model: tfjs.LayersModel, base: string): CheckpointMeta | undefined {
  if (!existsSync(`${base}.json`) || !existsSync(`${base}.bin`)) return undefined;
  const json = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as { weights: { name: string; shape: number[] }[]; meta: CheckpointMeta };
  const buf = readFileSync(`${base}.bin`);
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const mine = model.weights.map((w) => ({ name: w.originalName, shape: w.shape }));
  if (mine.length !== json.weights.length || mine.some((w, i) => w.name !== json.weights[i]!.name || w.shape.join() !== json.weights[i]!.shape.join()))
    return undefined;
  let off = 0;
  const tensors = json.weights.map((w) => {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const t = tf.tensor(all.subarray(off, off + n), w.shape);
    off += n;
    return t;
  });
  if (off !== all.length) {
    tf.dispose(tensors);
    return undefined;
  }
  model.setWeights(tensors);
  tf.dispose(tensors);
  return json.meta;
}
