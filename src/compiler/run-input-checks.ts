// Input checks of `tdc run` that need the specs: the shape a missing input should have (found by instantiating
// with that input given fresh symbolic dims and reading off the concrete dims they meet), and int tensors the
// loss treats as continuous data (they would be differentiated if they were float).
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { shapeToString } from '../graph/dims.js';
import type { Dim, DType, Graph, Shape } from '../graph/types.js';
import type { HostTensor } from '../graph/host-tensor.js';
import { instantiateStage, type InputInfo } from './instantiate/index.js';
import { tensorName, type StageIR } from './ir.js';
import { closest } from '../diagnostics/suggest.js';

const PROBE = '?';

export const hostInfo =
  (host: Map<string, HostTensor>): InputInfo =>
  (name) => {
    const t = host.get(name);
    return t ? { shape: t.shape, dtype: t.dtype } : undefined;
  };

/** The other side's tensor at the same module path and io (`student/…` ↔ `teacher/…`). */
function counterpart(name: string): string | undefined {
  if (name.startsWith('student/')) return `teacher/${name.slice('student/'.length)}`;
  if (name.startsWith('teacher/')) return `student/${name.slice('teacher/'.length)}`;
  return undefined;
}

/**
 * A shape for the missing input `name` under which the stage instantiates, with the dims the loss pins given
 * as numbers; undefined when no rank up to 5 works or no dim can be pinned. `info` gives the other inputs.
 */
export function expectedShape(stage: StageIR, info: InputInfo, name: string, modelLossKeys: string[]): Shape | undefined {
  return expectedInput(stage, info, name, modelLossKeys)?.shape;
}

/** expectedShape's shape, with the dtype the loss takes it in: undefined when either would do (targets of a loss
 *  that reads them as classes or as values). */
function expectedInput(stage: StageIR, info: InputInfo, name: string, modelLossKeys: string[]): { shape: Shape; dtype?: DType } | undefined {
  if (name.startsWith('model_loss/')) return { shape: [], dtype: 'float' };
  const twin = counterpart(name);
  const twinRank = twin !== undefined ? info(twin)?.shape.length : undefined;
  const ranks = [...new Set([twinRank, name === 'targets' ? 1 : 2, 4, 1, 3, 0, 5].filter((r): r is number => r !== undefined))];
  const dtypes: DType[] = name === 'targets' ? ['int', 'float'] : ['float'];
  const instantiate = (shape: Shape, dtype: DType) =>
    instantiateStage(stage, (n) => (n === name ? { shape, dtype } : info(n)), { modelLossKeys }).graph;
  for (const dtype of dtypes)
    for (const rank of ranks) {
      const probe: Shape = Array.from({ length: rank }, (_, i) => ({ sym: `${PROBE}${i}` }));
      const g = instantiate(probe, dtype);
      if (!g) continue;
      const pinned = pinnedDims(g);
      const shape = probe.map((d) => pinned.get((d as { sym: string }).sym) ?? d);
      if (rank > 0 && shape.every((d) => typeof d !== 'number')) return undefined;
      if (shape.every((d) => typeof d === 'number') && !instantiate(shape, dtype)) return undefined;
      const either = dtypes.some((other) => other !== dtype && instantiate(probe, other));
      return either ? { shape } : { shape, dtype };
    }
  return undefined;
}

const DTYPE_TEXT: Record<DType, string> = { float: 'a float tensor: F32 or F64', int: 'an integer tensor: I64 or I32' };

/**
 * A missing-input error (TDC401, from instantiating the stage on a run's tensors) for one of the `missing` names,
 * with the shape (and dtype) the loss expects for it, where the specs pin one: `tdc run` says the same on every
 * device. `info` gives the inputs the run has.
 */
export function withExpectedInput(d: Diagnostic, stage: StageIR, info: InputInfo, missing: readonly string[], modelLossKeys: string[]): Diagnostic {
  const name = missing.find((m) => d.code === 'TDC401' && !m.startsWith('state_in/') && d.message.startsWith(`missing input tensor '${m}'`));
  if (name === undefined) return d;
  const want = expectedInput(stage, info, name, modelLossKeys);
  return want ? { ...d, message: `${d.message}; expected shape ${probedShapeText(want.shape)}${want.dtype ? ` (${DTYPE_TEXT[want.dtype]})` : ''}` } : d;
}

/** Probe symbols that meet a concrete dim (≠ 1) in an elementwise op, a matmul's inner dim or a concat. */
function pinnedDims(g: Graph): Map<string, number> {
  const out = new Map<string, number>();
  const probeSym = (d: Dim | undefined): string | undefined =>
    d !== undefined && typeof d === 'object' && 'sym' in d && d.sym.startsWith(PROBE) ? d.sym : undefined;
  const meet = (a: Dim | undefined, b: Dim | undefined) => {
    const s = probeSym(a);
    if (s !== undefined && typeof b === 'number' && b !== 1 && !out.has(s)) out.set(s, b);
  };
  const aligned = (shape: Shape, rank: number, i: number): Dim | undefined => shape[i - (rank - shape.length)];
  for (const n of g.nodes) {
    const ins = n.inputs.map((i) => g.nodes[i]!.shape);
    if (n.op === 'binary' || n.op === 'where' || n.op === 'concat') {
      const rank = n.shape.length;
      for (let i = 0; i < rank; i++) {
        if (n.op === 'concat' && i === n.attrs.axis) continue;
        for (const s of ins) meet(aligned(s, rank, i), n.shape[i]);
      }
    } else if (n.op === 'matmul') {
      const [a, b] = ins as [Shape, Shape];
      meet(a[a.length - 1], b[b.length - 2]);
      meet(b[b.length - 2], a[a.length - 1]);
    }
  }
  return out;
}

/** Render a probed shape: pinned dims as numbers, free ones as `?`. */
export function probedShapeText(shape: Shape): string {
  return shapeToString(shape.map((d) => (typeof d === 'number' ? d : { sym: '?' })));
}

/**
 * Int io tensors (student/…, teacher/…, model_loss/…) the loss differentiates when they are float: torch
 * rejects integer tensors there (e.g. softmax of Long logits), so they must be float tensors. `info` gives the
 * stage's inputs (the run's tensors, or the shapes and dtypes `tdc compile` was given); `declared` words where
 * the int dtype came from and how to fix it (default: a tensor handed to `tdc run`).
 */
export function intWhereFloatExpected(
  stage: StageIR,
  info: InputInfo,
  g: Graph,
  modelLossKeys: string[],
  declared: { what: string; hint: string } = { what: 'is an integer tensor', hint: 'only index tensors (e.g. targets, CRD pos_idx/contrast_idx) may be integers' },
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const both = { ...stage, trainable: { student: true, teacher: true } };
  for (const inp of g.inputs) {
    const node = g.nodes[inp.node]!;
    if (node.dtype !== 'int' || !/^(student|teacher|model_loss)\//.test(inp.name)) continue;
    const asFloat = instantiateStage(both, (n) => (n === inp.name ? { shape: node.shape, dtype: 'float' } : info(n)), { modelLossKeys }).graph;
    if (!asFloat?.grads.some((x) => x.input === inp.name)) continue;
    const spec = node.origin?.spec;
    out.push(
      diag('error', 'TDC502', `input '${inp.name}' ${declared.what}, but the loss uses it as continuous data: expected a float tensor (F32 or F64) of shape ${shapeToString(node.shape)}`, node.origin?.config ?? stage.span, {
        hint: declared.hint,
        ...(spec ? { related: [{ message: 'first used here', span: spec }] } : {}),
      }),
    );
  }
  return out;
}

/**
 * A missing-input error (TDC401) whose tensor the inputs hold under a misspelt name: the closest name in the file
 * that the stage does not read, as a "did you mean" (a tensor the stage reads is not a candidate: it is not misspelt;
 * nor is an output name, grad/… or state_out/…).
 */
export function withMisspeltInputHint(d: Diagnostic, stage: StageIR, names: Iterable<string>): Diagnostic {
  const missing = d.code === 'TDC401' ? /^missing input tensor '([^']+)'/.exec(d.message)?.[1] : undefined;
  if (missing === undefined) return d;
  const reads = new Set(stage.terms.flatMap((t) => t.reads.map(tensorName)));
  // outputs a dump may carry along (golden files: grad/…, state_out/…) are no input's misspelling
  const unread = [...names].filter((n) => !reads.has(n) && n !== missing && !/^(grad|state_out)\//.test(n));
  const near = closest(missing, unread);
  if (near === undefined) return d;
  const note = `the inputs hold '${near}', which the stage does not read: a misspelling of '${missing}'?`;
  return { ...d, hint: d.hint ? `${d.hint}; ${note}` : note };
}

/** The code of the note on the input shapes a stage failed on (compile.ts's SHAPES_NOTE: one concept, one code). */
const RUN_SHAPES_NOTE = 'TDC610';

/**
 * The note that follows a stage that cannot be built on a run's inputs: a loss's spec that reads a dim the tensor
 * lacks (FSP or KR given [N, C] where they index H and W) fails deep inside the spec ("list index 2 out of range"),
 * naming no input; the note lists the shapes of the tensors the stage read, so the one that does not fit shows.
 */
export function runShapesNote(stage: StageIR, read: ReadonlyMap<string, readonly number[]>, diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const failedInSpec = diagnostics.some((d) => d.severity === 'error' && d.code !== 'TDC401');
  if (!failedInSpec || read.size === 0) return [];
  const shapes = [...read].map(([n, s]) => `${n}=[${s.join(', ')}]`).join(', ');
  return [
    diag('note', RUN_SHAPES_NOTE, `stage '${stage.name}' failed on input shapes ${shapes} (the tensors it had read)`, stage.span, {
      hint: "check each tensor's rank and sizes against what the loss reads (a feature-map loss needs [N, C, H, W])",
    }),
  ];
}
