// The state shared by one instantiation: the mode, the graph under construction, the inputs, the reads seen,
// the call stack (for diagnostics) and the config position of the term being built.
import type { Diagnostic, Related, Span } from '../../diagnostics/diagnostic.js';
import { DiagnosticError, diag } from '../../diagnostics/diagnostic.js';
import type { GraphBuilder } from '../../graph/builder.js';
import type { DType, Shape, StateInit } from '../../graph/types.js';
import { isBuiltinSpecFile } from '../../registry/registry.js';
import { tensorName, type TensorRef } from '../ir.js';

export type InputInfo = (name: string) => { shape: Shape; dtype: DType } | undefined;

export interface Frame {
  /** The function or loss being evaluated. */
  name: string;
  /** A loss body (low/mid/wrapper/high) or a `def` helper. */
  kind: 'loss' | 'def';
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
  /** The `return` that ended the body run last (absent: it ended without one). A term's value that is no loss
   *  (TDC411) is reported there when the term's loss is a user's spec. */
  returnedAt?: Span;
  /** Innermost expression being evaluated: the spec position of nodes built now. */
  curSpan?: Span;
  diagnostics: Diagnostic[];
  /** Stateful losses' updated buffers (state_out/<term>/<name>). */
  stateOut: { name: string; node: number }[];
  /** Initial values of the state buffers, where the spec gives them (state's third argument). */
  stateInit: { name: string; init: StateInit }[];
  /** A state tensor the inputs do not give takes its declared shape (InstantiateOptions.declaredStateShapes). */
  declaredStateShapes?: boolean;
  /** Data-dependent warnings (warn_rows). */
  warnings: { term: string; node: number; message: string }[];
  /** Loop iterations and calls so far (bounded by limits.ts). */
  steps: number;
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
    stateOut: [],
    stateInit: [],
    warnings: [],
    steps: 0,
    ...(o.builder ? { builder: o.builder } : {}),
    ...(o.configSpan ? { configSpan: o.configSpan } : {}),
    ...(o.declaredStateShapes ? { declaredStateShapes: true } : {}),
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

/** A chain of helper calls for a message: a run of one helper folded (`f ×200`, a recursion), at most 7 links shown. */
function callChain(names: readonly string[]): string {
  const links: string[] = [];
  for (let i = 0, j = 0; i < names.length; i = j) {
    while (j < names.length && names[j] === names[i]) j++;
    links.push(j - i > 1 ? `${names[i]} ×${j - i}` : names[i]!);
  }
  return (links.length <= 7 ? links : [...links.slice(0, 3), `… ${links.length - 6} more …`, ...links.slice(-3)]).join(' → ');
}

/**
 * Where a diagnostic raised at `at` should point, and its related entries. Inside a prelude/helper `def`, the
 * primary position is the line of the innermost loss spec that called the helper (what the spec author wrote);
 * the helper's own line follows as related, then each call between helpers made in a user's spec file (innermost
 * first), then the loss call chain and the config term.
 */
export function locate(ctx: EvalContext, at: Span | undefined): { span?: Span; related: Related[]; owner?: string } {
  const rel: Related[] = [];
  let span = at;
  const frames = ctx.frames;
  let top = frames.length - 1;
  if (top >= 0 && frames[top]!.kind === 'def') {
    let k = top;
    while (k > 0 && frames[k - 1]!.kind === 'def') k--;
    const entry = frames[k]!;
    if (entry.callSite) {
      if (at) rel.push({ message: `inside ${callChain(frames.slice(k, top + 1).map((f) => f.name))}`, span: at });
      // the calls between helpers that a user's spec file makes (its `def sm(x) = softmax(x, 2)`): the line they wrote
      for (let j = top; j > k; j--) {
        const site = frames[j]!.callSite;
        if (site && !isBuiltinSpecFile(site.file)) rel.push({ message: `in ${frames[j]!.name}, called here`, span: site });
      }
      span = entry.callSite;
      top = k - 1;
    }
  }
  const owner = top >= 0 ? frames[top]!.name : undefined;
  for (let i = top; i >= 0; i--) {
    const f = frames[i]!;
    if (f.callSite) rel.push({ message: `in ${f.name}, called here`, span: f.callSite });
  }
  // the config term, unless the diagnostic already points at it (a sub-term that returned no loss)
  const atTerm = span !== undefined && ctx.configSpan !== undefined && span.file === ctx.configSpan.file && span.start.offset === ctx.configSpan.start.offset;
  if (ctx.configSpan && !atTerm) rel.push({ message: ctx.termName ? `instantiating the config term '${ctx.termName}'` : 'instantiating this config term', span: ctx.configSpan });
  return { ...(span ? { span } : {}), related: rel, ...(owner ? { owner } : {}) };
}

/**
 * Where a diagnostic points for the user. A line of tdc's own built-in specs (src/losses-spec) is nothing a user
 * can change: the primary position becomes the innermost call from a file of theirs (the config's `key:` of the
 * loss, its term, or a line of their --spec), and the built-in spec's line follows as the first related entry.
 * A position in a user's file stays where it is.
 */
export function locateForUser(ctx: EvalContext, at: Span | undefined): { span?: Span; related: Related[] } {
  const where = locate(ctx, at);
  const span = where.span;
  if (!span || !isBuiltinSpecFile(span.file)) return { ...(span ? { span } : {}), related: where.related };
  const i = where.related.findIndex((r) => r.span !== undefined && !isBuiltinSpecFile(r.span.file));
  if (i < 0) return { span, related: where.related };
  const raised: Related = { message: `raised here, in tdc's built-in spec${where.owner ? ` of ${where.owner}` : ''}`, span };
  return { span: where.related[i]!.span!, related: [raised, ...where.related.filter((_, j) => j !== i)] };
}

/** Throw a diagnostic positioned at `span` (default: the current expression), with the call chain attached. */
export function fail(ctx: EvalContext, code: string, message: string, span?: Span, extra?: { hint?: string; related?: Related[] }): never {
  const where = locateForUser(ctx, span ?? ctx.curSpan);
  throw new DiagnosticError(
    diag('error', code, message, where.span, {
      ...(extra?.hint ? { hint: extra.hint } : {}),
      related: [...(extra?.related ?? []), ...where.related],
    }),
  );
}

export function warn(ctx: EvalContext, code: string, message: string, span?: Span): void {
  const where = locateForUser(ctx, span ?? ctx.curSpan);
  ctx.diagnostics.push(diag('warning', code, message, where.span, { related: where.related }));
}
