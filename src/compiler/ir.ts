// The criterion IR: what `resolve` produces from a config tree, per training stage. Plain data; the
// instantiate stage turns a stage's terms into a tensor graph using each loss's spec.
import type { Span } from '../diagnostics/diagnostic.js';
import type { ConfigNode } from './load/config-node.js';

export type Side = 'student' | 'teacher';
export type IoKind = 'input' | 'output';

/** A tensor an io_dict access yields. `sub` is a tuple index or dict key applied on top (VID, KR, {out, aux}). */
export interface IoRef {
  kind: 'io';
  side: Side;
  path: string;
  io: IoKind;
  sub?: number | string;
}
export type TensorRef = IoRef | { kind: 'targets' } | { kind: 'model_loss'; key: string };

/** golden/ naming: `student/<path>/<io>[/<sub>]`, `targets`, `model_loss/<key>`. */
export function tensorName(r: TensorRef): string {
  switch (r.kind) {
    case 'io':
      return `${r.side}/${r.path}/${r.io}${r.sub === undefined ? '' : `/${r.sub}`}`;
    case 'targets':
      return 'targets';
    case 'model_loss':
      return `model_loss/${r.key}`;
  }
}

/** Kwarg values after validation, defaults applied: plain JSON-like data. */
export type KwValue = null | boolean | number | string | KwValue[] | { [k: string]: KwValue };

export interface LossInstance {
  key: string;
  level: 'low' | 'mid';
  kwargs: Record<string, KwValue>;
  /** The config node of each given kwarg (absent for defaults), for positions in later diagnostics. */
  kwargNodes: Record<string, ConfigNode>;
  span: Span;
}

export interface WrapperInstance {
  key: string;
  kwargs: Record<string, KwValue>;
  kwargNodes: Record<string, ConfigNode>;
  span: Span;
}

export interface TermIR {
  name: string;
  weight: number;
  criterion: LossInstance;
  wrapper?: WrapperInstance;
  /** What the wrapper binds its loss's (input, target) to; `target` is `{kind: 'targets'}` for the labels. */
  bindings?: { input?: IoRef; target?: TensorRef; weights?: Record<string, number> };
  /** Every tensor the term reads, in first-read order. */
  reads: TensorRef[];
  span: Span;
}

export interface HookSet {
  input: string[];
  output: string[];
}

export interface StageIR {
  /** 'train' or 'stage1', 'stage2', … in file order. */
  name: string;
  schema: 'modern' | 'legacy';
  /** 'training' = train.model (TrainingBox: the teacher io_dict is empty); 'distillation' = teacher + student. */
  box: 'training' | 'distillation';
  /** Hooked module paths per side; `'.'`/output is always available in addition. `teacher` null in TrainingBox. */
  hooks: { student: HookSet; teacher: HookSet | null };
  /** Which sides' tensors get gradients (student/model `requires_grad` not False; teacher only when `requires_grad: True`). */
  trainable: { student: boolean; teacher: boolean };
  criterionKey: string;
  /** The high-level loss's own kwargs from the config, validated, with its defaults (not sub_terms/model_term,
   *  which are `terms` and `modelTerm`). */
  criterionKwargs?: Record<string, KwValue>;
  terms: TermIR[];
  modelTerm?: { weight: number | Record<string, number>; func2extract: string; span: Span };
  span: Span;
}

export interface CriterionIR {
  file: string;
  stages: StageIR[];
}
