// One golden case through the real GPU path (instantiate with a symbolic batch → fused schedule → WGSL →
// PlanExecutor), compared with golden/ under given float32 tolerances; shared by the golden-gpu tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostic } from '../../src/diagnostics/format.js';
import { readSafetensors, type SafeTensor } from 'tdc-runtime';
import type { StageIR } from '../../src/compiler/ir.js';
import type { Diagnostic } from '../../src/diagnostics/index.js';
import { specSource } from '../../src/registry/registry.js';
import type { GpuRuntime } from 'tdc-runtime/node';
import { runStageOnGpu } from '../../src/compiler/run-gpu.js';
import { gradExcess, parseExpected, relErr } from './golden.js';
import { GOLDEN_DIR, loadGoldenStage } from './golden-stage.js';
import { caseDir } from './golden.js';

interface Expected {
  loss: number;
  stage: string;
  terms: Record<string, { weight: number; value: number }>;
  model_term: { weight: unknown; value: number } | null;
  grads: string[];
  trainable: { student: boolean | null; teacher: boolean | null };
  state?: { in: string[]; out: string[] };
}

export interface Tolerance {
  /** Relative tolerance of loss, terms and model term. */
  loss: number;
  /** golden/README.md: |x − g| ≤ rtolGrad·max|g| + rtolGrad·|g| per gradient element (and state tensor). */
  grad: number;
}

/** Worst errors seen, updated by checkGpuCase. */
export interface Worst {
  loss: { err: number; case: string };
  /** Gradient error as a multiple of its bound. */
  grad: { err: number; case: string };
  /** Gradient max|err| / max|g|. */
  gradMax: { err: number; case: string };
}

export const newWorst = (): Worst => ({ loss: { err: 0, case: '' }, grad: { err: 0, case: '' }, gradMax: { err: 0, case: '' } });

/** A golden case loaded for a run: its expectations, its stage and its tensors (or why it cannot run). */
export interface LoadedCase {
  id: string;
  expected: Expected;
  stage: StageIR;
  file: string;
  tensors: Map<string, SafeTensor>;
  /** The tensors a run reads (gradients and state outputs left out). */
  inputs: Map<string, SafeTensor>;
  /** Error diagnostics, printed with their code frames. */
  show(ds: Diagnostic[]): string[];
}

export async function loadCase(id: string): Promise<LoadedCase | { problems: string[] }> {
  const dir = caseDir(id);
  const expected = parseExpected<Expected>(readFileSync(join(dir, 'expected.json'), 'utf8'));
  const { stage, diagnostics: rd, text, file } = await loadGoldenStage(dir, expected.stage);
  const show = (ds: typeof rd) => ds.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d, (f) => (f === file ? text : specSource(f))));
  if (!stage) return { problems: [`no stage '${expected.stage}'`, ...show(rd)] };
  if (show(rd).length) return { problems: show(rd) };
  stage.trainable = { student: expected.trainable.student !== false, teacher: expected.trainable.teacher === true };
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(dir, 'tensors.safetensors'))));
  const inputs = new Map([...tensors].filter(([n]) => !n.startsWith('grad/') && !n.startsWith('state_out/')));
  return { id, expected, stage, file, tensors, inputs, show };
}

/** What a float32 run returned, as compared with the case. */
export interface CaseResult {
  loss: number;
  terms: Record<string, { value: number }>;
  modelTerm?: { value: number };
  grads: Map<string, { data: ArrayLike<number> }>;
  state?: Map<string, { data: ArrayLike<number> }>;
}

/** The problems found (empty: the case passes). */
/** `subgroups`: force the row kernels' subgroup variants on or off (default: the runtime's choice for the device). */
export async function checkGpuCase(id: string, rt: GpuRuntime, tol: Tolerance, worst: Worst, workgroupSize?: number, subgroups?: boolean): Promise<string[]> {
  const c = await loadCase(id);
  if ('problems' in c) return c.problems;
  let run;
  try {
    run = await runStageOnGpu(c.stage, c.inputs, { file: c.file, runtime: rt, ...(workgroupSize ? { workgroupSize } : {}), ...(subgroups !== undefined ? { subgroups } : {}) });
  } catch (e) {
    return [`threw: ${(e as Error).stack ?? String(e)}`];
  }
  const { result, diagnostics } = run;
  if (!result) return c.show(diagnostics).length ? c.show(diagnostics) : ['no result and no diagnostic'];
  return compareCase(c, result, tol, worst);
}

/** A run's results against the case under float32 tolerances; updates `worst`. */
export function compareCase(c: LoadedCase, result: CaseResult, tol: Tolerance, worst: Worst): string[] {
  const { id, expected, tensors } = c;
  const problems: string[] = [];
  const cmp = (what: string, x: number, g: number) => {
    const e = relErr(x, g);
    if (e > worst.loss.err) Object.assign(worst.loss, { err: e, case: `${id} ${what}` });
    if (!(e <= tol.loss)) problems.push(`${what}: got ${x}, expected ${g} (rel ${e.toExponential(2)})`);
  };
  cmp('loss', result.loss, expected.loss);
  for (const [name, t] of Object.entries(expected.terms)) {
    const got = result.terms[name];
    if (!got) problems.push(`term '${name}' missing`);
    else cmp(`term ${name}`, got.value, t.value);
  }
  if (expected.model_term) {
    if (!result.modelTerm) problems.push('model term missing');
    else cmp('model term', result.modelTerm.value, expected.model_term.value);
  }
  const compare = (name: string, got: ArrayLike<number>, want: Float64Array) => {
    if (got.length !== want.length) return void problems.push(`${name}: ${got.length} values, expected ${want.length}`);
    const excess = gradExcess(got, want, tol.grad, tol.grad);
    let maxAbs = 0;
    let err = 0;
    for (let i = 0; i < want.length; i++) {
      if (!Number.isFinite(want[i]!)) continue; // matched exactly by gradExcess
      maxAbs = Math.max(maxAbs, Math.abs(want[i]!));
      err = Math.max(err, Math.abs(got[i]! - want[i]!));
    }
    const rel = maxAbs > 0 ? err / maxAbs : err;
    if (excess > worst.grad.err) Object.assign(worst.grad, { err: excess, case: `${id} ${name}` });
    if (rel > worst.gradMax.err) Object.assign(worst.gradMax, { err: rel, case: `${id} ${name}` });
    if (!(excess <= 1)) problems.push(`${name}: max err ${err.toExponential(2)} over max|g| ${maxAbs.toExponential(2)} (${excess.toFixed(2)}× the bound)`);
  };
  const trained = (input: string) =>
    input.startsWith('model_loss/') ? true : input.startsWith('teacher/') ? expected.trainable.teacher === true : input.startsWith('student/') ? expected.trainable.student === true : false;
  for (const g of expected.grads) {
    const input = g.slice('grad/'.length);
    if (!trained(input)) continue;
    const got = result.grads.get(input);
    if (!got) problems.push(`no gradient for ${input}`);
    else compare(g, got.data, Float64Array.from(tensors.get(g)!.data as Float64Array));
  }
  for (const input of result.grads.keys()) if (!trained(input)) problems.push(`gradient emitted for the frozen input ${input}`);
  const stateOut = expected.state?.out ?? [];
  const gotState = result.state ?? new Map<string, { data: ArrayLike<number> }>();
  for (const name of stateOut) {
    const got = gotState.get(name);
    if (!got) problems.push(`no state output ${name}`);
    else compare(name, got.data, Float64Array.from(tensors.get(name)!.data as Float64Array));
  }
  for (const name of gotState.keys()) if (!stateOut.includes(name)) problems.push(`state output ${name} not in golden`);
  return problems;
}

/** README table rows `| family | cases | … | loss rtol | grad rtol_grad |` → family → tolerance. */
export function toleranceTable(): Map<string, Tolerance> {
  const text = readFileSync(join(GOLDEN_DIR, 'README.md'), 'utf8');
  const out = new Map<string, Tolerance>();
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length !== 9 || !/^\d+$/.test(cells[2]!)) continue;
    const loss = Number(cells[6]);
    const grad = Number(cells[7]);
    if (Number.isFinite(loss) && Number.isFinite(grad)) out.set(cells[1]!, { loss, grad });
  }
  return out;
}

/** A case's family in the table: its losses without CrossEntropyLoss and the model term, sorted, joined by '+'. */
export const familyOf = (losses: string[]): string => losses.filter((l) => l !== 'CrossEntropyLoss' && l !== 'model_term').sort().join('+');

/** README's "Default: **loss rtol = 1e-4; gradients rtol_grad = 1e-4" (families without a row). */
export function defaultTolerance(): Tolerance {
  const m = /Default: \*\*loss rtol = ([0-9.e-]+); gradients rtol_grad = ([0-9.e-]+)/.exec(readFileSync(join(GOLDEN_DIR, 'README.md'), 'utf8'));
  if (!m) throw new Error('golden/README.md: no "Default:" tolerance line');
  return { loss: Number(m[1]), grad: Number(m[2]) };
}
