// The state shared by one instantiation: the mode, the graph under construction, the inputs, the reads seen,
// the call stack (for diagnostics) and the config position of the term being built.
import type { Diagnostic, Related, Span } from '../../diagnostics/diagnostic.js';
import { DiagnosticError, diag } from '../../diagnostics/diagnostic.js';
import type { GraphBuilder } from '../../graph/builder.js';
import type { DType, Shape } from '../../graph/types.js';
import { tensorName, type TensorRef } from '../ir.js';

export type InputInfo = (name: string) => { shape: Shape; dtype: DType } | undefined;

export interface Frame {
  /** The function or loss being evaluated. */
  name: string;
  /** Where it was called from (absent for a term's top-level loss). */
  callSite?: Span;
}

export interface EvalContext {
  /** 'graph': build tensor nodes; 'reads': only record io_dict / targets / model_loss accesses. */
  mode: 'graph' | 'reads';
  builder?: GraphBuilder;
  inputs: InputInfo;
  trainable: { student: boolean; teacher: boolean };
  modelLossKeys: string[];
  /** Reads in first-use order (both modes). */
  reads: TensorRef[];
  readNames: Set<string>;
  /** Graph input node per tensor name. */
  inputNodes: Map<string, number>;
  /** The config span of the term being instantiated. */
  configSpan?: Span;
  /** The config term's name, for messages. */
  termName?: string;
  frames: Frame[];
  /** Reads mode: false inside branches whose condition depends on shapes (their errors are not reported). */
  certain: boolean;
  /** Innermost expression being evaluated: the spec position of nodes built now. */
  curSpan?: Span;
  diagnostics: Diagnostic[];
}

export function newContext(mode: EvalContext['mode'], o: Partial<EvalContext> & { inputs?: InputInfo }): EvalContext {
  return {
    mode,
    inputs: o.inputs ?? (() => undefined),
    trainable: o.trainable ?? { student: true, teacher: false },
    modelLossKeys: o.modelLossKeys ?? [],
    reads: [],
    readNames: new Set(),
    inputNodes: new Map(),
    frames: [],
    certain: true,
    diagnostics: [],
    ...(o.builder ? { builder: o.builder } : {}),
    ...(o.configSpan ? { configSpan: o.configSpan } : {}),
  };
}

export function recordRead(ctx: EvalContext, ref: TensorRef): string {
  const name = tensorName(ref);
  if (!ctx.readNames.has(name)) {
    ctx.readNames.add(name);
    ctx.reads.push(ref);
  }
  return name;
}

/** Related entries for a diagnostic raised at the current point: the call chain and the config term. */
export function contextRelated(ctx: EvalContext): Related[] {
  const rel: Related[] = [];
  for (let i = ctx.frames.length - 1; i >= 0; i--) {
    const f = ctx.frames[i]!;
    if (f.callSite) rel.push({ message: `in ${f.name}, called here`, span: f.callSite });
  }
  if (ctx.configSpan) rel.push({ message: ctx.termName ? `instantiating the config term '${ctx.termName}'` : 'instantiating this config term', span: ctx.configSpan });
  return rel;
}

/** Throw a diagnostic positioned at `span` (default: the current expression), with the call chain attached. */
export function fail(ctx: EvalContext, code: string, message: string, span?: Span, extra?: { hint?: string; related?: Related[] }): never {
  const at = span ?? ctx.curSpan;
  throw new DiagnosticError(
    diag('error', code, message, at, {
      ...(extra?.hint ? { hint: extra.hint } : {}),
      related: [...(extra?.related ?? []), ...contextRelated(ctx)],
    }),
  );
}

export function warn(ctx: EvalContext, code: string, message: string, span?: Span): void {
  const at = span ?? ctx.curSpan;
  ctx.diagnostics.push(diag('warning', code, message, at, { related: contextRelated(ctx) }));
}
