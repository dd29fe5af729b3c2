// What a SimpleLossWrapper / DictLossWrapper binds its loss's (input, target) to, read off its checked kwargs:
// input = io_dict[teacher if is_from_teacher else student][module_path][io]; target = the labels exactly when
// target.module_path and target.io are both absent (uses_label is never read by torchdistill).
import type { IoRef, KwValue, TensorRef, WrapperInstance } from '../ir.js';

export interface WrapperBindings {
  input?: IoRef;
  target?: TensorRef;
  /** DictLossWrapper: weight per key of the input dict, in order. */
  weights?: Record<string, number>;
}

type Obj = Record<string, KwValue>;
const isObj = (v: KwValue | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function ref(v: Obj): IoRef | undefined {
  const path = v['module_path'];
  const io = v['io'];
  if (typeof path !== 'string' || (io !== 'input' && io !== 'output')) return undefined;
  return { kind: 'io', side: v['is_from_teacher'] === true ? 'teacher' : 'student', path, io };
}

export function wrapperBindings(w: WrapperInstance): WrapperBindings {
  const b: WrapperBindings = {};
  const input = w.kwargs['input'];
  if (isObj(input)) {
    const r = ref(input);
    if (r) b.input = r;
  }
  const target = w.kwargs['target'];
  if (!isObj(target) || ((target['module_path'] ?? null) === null && (target['io'] ?? null) === null)) b.target = { kind: 'targets' };
  else {
    const r = ref(target);
    if (r) b.target = r;
  }
  const weights = w.kwargs['weights'];
  if (isObj(weights)) {
    b.weights = {};
    for (const [k, x] of Object.entries(weights)) if (typeof x === 'number') b.weights[k] = x;
  }
  return b;
}
