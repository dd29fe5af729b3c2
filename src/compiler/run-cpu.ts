// `tdc run`: one stage's criterion on concrete tensors (safetensors, golden/ naming), instantiated with their
// shapes and evaluated by the float64 CPU executor: loss, each sub-term, the model term, the gradients and, for
// stateful losses (CRD), the updated buffers (inputs `state_in/<term>/<buffer>`, outputs `state_out/...`).
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { shapeToString } from '../graph/dims.js';
import type { SafeTensor } from 'tdc-runtime';
import { execute, InputBindingError, NodeValueError, type HostTensor } from '../cpu/executor.js';
import { inexactInt, toHost } from '../cpu/host-safetensors.js';
import { instantiateStage } from './instantiate/index.js';
import type { StageIR } from './ir.js';
import type { RunResult } from './driver/run-result.js';
import { nonFiniteParts } from './driver/nonfinite.js';
import { expectedShape, hostInfo, intWhereFloatExpected, probedShapeText, runShapesNote, withExpectedInput } from './run-input-checks.js';
import { runWarnings } from './run-warnings.js';
import { indexInputChecks, indexInputPosition, unitInputChecks, unitInputPosition } from './index-checks.js';
import { evalDim, hostIndexProblem, unitCheckProblem } from 'tdc-runtime';

/** The CPU result: the driver's RunResult with host tensors (float64). */
export type CpuRunResult = RunResult & { grads: Map<string, HostTensor>; state?: Map<string, HostTensor> };

export function runStageOnCpu(stage: StageIR, tensors: Map<string, SafeTensor>): { result?: CpuRunResult; diagnostics: Diagnostic[] } {
  const host = new Map<string, HostTensor>();
  for (const [name, t] of tensors) host.set(name, toHost(t));
  const modelLossKeys = [...host.keys()].filter((n) => n.startsWith('model_loss/')).map((n) => n.slice('model_loss/'.length));
  const missing: string[] = [];
  const read = new Map<string, readonly number[]>();
  const inst = instantiateStage(
    stage,
    (name) => {
      const t = host.get(name);
      if (!t) missing.push(name);
      else read.set(name, t.shape);
      return t ? { shape: t.shape, dtype: t.dtype } : undefined;
    },
    { modelLossKeys },
  );
  const diagnostics = [...inst.diagnostics];
  const g = inst.graph;
  if (!g) return { diagnostics: [...diagnostics.map((d) => withExpectedInput(withShapeHint(d, stage, host, modelLossKeys), stage, hostInfo(host), missing, modelLossKeys)), ...runShapesNote(stage, read, diagnostics)] };
  const typeErrors = intWhereFloatExpected(stage, hostInfo(host), g, modelLossKeys);
  if (typeErrors.length) return { diagnostics: [...diagnostics, ...typeErrors] };
  const inexact = inexactInputProblems(g, tensors, stage);
  if (inexact.length) return { diagnostics: [...diagnostics, ...inexact] };
  const rangeErrors = [...indexInputProblems(g, host, stage), ...unitInputProblems(g, host, stage)];
  if (rangeErrors.length) return { diagnostics: [...diagnostics, ...rangeErrors] };
  try {
    const r = execute(g, host);
    // terms keyed by user-chosen names: no prototype, so a sub-term called '__proto__' is an ordinary key
    const terms: CpuRunResult['terms'] = Object.create(null) as CpuRunResult['terms'];
    for (const t of g.terms) terms[t.name] = { weight: t.weight, value: termValue(r.terms, t.name) };
    const result: CpuRunResult = { loss: r.loss, terms, grads: r.grads, nonfinite: [], device: 'cpu' };
    if (g.stateOut?.length) result.state = r.state;
    if (g.modelTerm) result.modelTerm = { weight: g.modelTerm.weight, value: r.values[g.modelTerm.node]!.data[0]! };
    result.nonfinite = nonFiniteParts(result);
    diagnostics.push(...runWarnings(g, host, stage.span));
    return { result, diagnostics };
  } catch (e) {
    if (e instanceof InputBindingError) {
      const node = g.inputs.find((i) => i.name === e.tensor);
      const expected = node ? shapeToString(g.nodes[node.node]!.shape) : undefined;
      diagnostics.push(diag('error', 'TDC520', e.message, stage.span, expected ? { hint: `'${e.tensor}' must have shape ${expected}` } : undefined));
    } else if (e instanceof NodeValueError) {
      // at the spec call that made the op (a custom loss's gather in its .tdl), the config term as related
      const { spec, config } = e.node.origin ?? {};
      diagnostics.push(
        diag('error', 'TDC521', `the CPU executor failed: ${e.message}`, spec ?? config ?? stage.span, spec ? { related: [{ message: 'in the loss of this term', span: config ?? stage.span }] } : undefined),
      );
    } else {
      diagnostics.push(diag('error', 'TDC521', `the CPU executor failed: ${(e as Error).message}`, stage.span));
    }
    return { diagnostics };
  }
}

/** An executor's term value by name, as an own property only (never one inherited from Object.prototype). */
function termValue(terms: Record<string, number>, name: string): number {
  return Object.prototype.hasOwnProperty.call(terms, name) ? terms[name]! : NaN;
}

/** A shape error naming input tensors: for each, the shape the other inputs imply when it differs from the given one. */
function withShapeHint(d: Diagnostic, stage: StageIR, host: Map<string, HostTensor>, modelLossKeys: string[]): Diagnostic {
  if (d.code !== 'TDC403') return d;
  const names = [...new Set([...d.message.matchAll(/'((?:student|teacher)\/[^']+|targets)'/g)].map((m) => m[1]!))].filter((n) => host.has(n));
  const notes: string[] = [];
  for (const name of names) {
    const others = hostInfo(host);
    const want = expectedShape(stage, (n) => (n === name ? undefined : others(n)), name, modelLossKeys);
    const got = host.get(name)!.shape;
    if (want?.every((x) => typeof x === 'number') && (want.length !== got.length || want.some((x, i) => x !== got[i])))
      notes.push(`'${name}' has shape [${got.join(', ')}]; the other inputs imply ${probedShapeText(want)}`);
  }
  return notes.length ? { ...d, hint: [d.hint, ...notes].filter(Boolean).join('; ') } : d;
}

/** Int inputs with a value the float64 executor cannot hold exactly (beyond ±2^53, e.g. an I64 class index of
 *  2^62): named with its exact value, at the loss term that reads it, instead of computing on a rounded number. */
function inexactInputProblems(g: NonNullable<ReturnType<typeof instantiateStage>['graph']>, tensors: Map<string, SafeTensor>, stage: StageIR): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const inp of g.inputs) {
    const t = tensors.get(inp.name);
    const bad = t && inexactInt(t);
    if (!bad) continue;
    const { span, related } = indexInputPosition(g, inp.name, stage.span);
    out.push(
      diag('error', 'TDC524', `'${inp.name}' element ${bad.index} is ${bad.value}, beyond ±2^53: the CPU executor (float64) cannot hold it exactly`, span, {
        related,
        hint: 'integer inputs are class indices, lengths or positions: a value this large is not a valid one',
      }),
    );
  }
  return out;
}

/** Index inputs (class indices, CTC lengths, rows of CRD's banks): every value in [0, size) or the ignore value, with
 *  the GPU runtime's message (src/runtime/executor.ts), checked before the executor (whose gather would name a node,
 *  not the input). The sizes are the graph's, concrete: the CPU graph is instantiated on the inputs' shapes. */
function indexInputProblems(g: NonNullable<ReturnType<typeof instantiateStage>['graph']>, host: Map<string, HostTensor>, stage: StageIR): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const c of indexInputChecks(g)) {
    const data = host.get(c.input)?.data;
    if (!data) continue;
    let size: number;
    try {
      size = evalDim(c.size, {});
    } catch {
      continue; // a size the graph leaves symbolic: the executor's own check still raises
    }
    const p = hostIndexProblem({ ...c, size }, data);
    if (!p) continue;
    const { span, related } = indexInputPosition(g, c.input, stage.span);
    out.push(diag('error', 'TDC524', p, span, { related }));
  }
  return out;
}

/** Probabilities handed to binary_cross_entropy: every value in [0, 1] (torch raises otherwise, NaN included) — the
 *  same rule and message as the GPU runtime's check (src/runtime/executor.ts), so `--device cpu` never prints a number
 *  torch would have refused. */
function unitInputProblems(g: NonNullable<ReturnType<typeof instantiateStage>['graph']>, host: Map<string, HostTensor>, stage: StageIR): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const c of unitInputChecks(g)) {
    const data = host.get(c.input)?.data;
    if (!data) continue;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v >= 0 && v <= 1) continue;
      const { span, related } = unitInputPosition(g, c.input, stage.span);
      out.push(diag('error', 'TDC524', unitCheckProblem(c, i, v, false), span, { related }));
      break;
    }
  }
  return out;
}
