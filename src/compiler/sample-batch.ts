// The batch dim of a sample io_dict: which of its sizes is the batch size, and the shapes with that leading dim
// made the symbol N, so that one plan serves every batch size. `tdc compile --like` (compile.ts) and `tdc run
// --device gpu` (run-gpu.ts) read a sample the same way.
import { sym } from '../graph/dims.js';
import type { Shape } from '../graph/types.js';

/** Names that are not io tensors of the batch: model losses (scalars), the state (sized by the loss's kwargs: CRD's
 *  [n_data, d] banks) and what a golden file holds besides the inputs (gradients, the state after the step). */
const NOT_BATCHED = ['model_loss/', 'state_in/', 'state_out/', 'grad/'];

/**
 * The batch size of a sample: the targets' leading dim; without targets (GHND and other feature-map losses read
 * only module outputs), the leading dim that most of the sample's io tensors share (the smaller on a tie).
 * `undefined` for a sample with no tensor of rank ≥ 1 to go by.
 */
export function sampleBatchSize(tensors: ReadonlyMap<string, { shape: readonly number[] }>): number | undefined {
  const y = tensors.get('targets');
  if (y && y.shape.length > 0) return y.shape[0];
  const count = new Map<number, number>();
  for (const [name, t] of tensors) if (t.shape.length > 0 && !NOT_BATCHED.some((p) => name.startsWith(p))) count.set(t.shape[0]!, (count.get(t.shape[0]!) ?? 0) + 1);
  let best: number | undefined;
  for (const [d, c] of count) if (best === undefined || c > count.get(best)! || (c === count.get(best)! && d < best)) best = d;
  return best;
}

/** A sample tensor's shape with a leading dim of the batch size made the symbol N (model losses are scalars per
 *  key, never batched). */
export function batchSymbolic(name: string, shape: readonly number[], batch: number | undefined): Shape {
  const out: Shape = [...shape];
  if (batch !== undefined && out.length > 0 && out[0] === batch && !name.startsWith('model_loss/')) out[0] = sym('N');
  return out;
}
