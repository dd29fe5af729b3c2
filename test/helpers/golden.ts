// Golden cases (../shared/golden, ../shared/golden-torch, the checked-in test/fixtures/golden-regress): listing,
// expected values, and the comparison rules of golden/README.md. A case id names its folder: `torch__…` cases
// live in golden-torch/, `regress__…` cases in test/fixtures/golden-regress/.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN, GOLDEN_REGRESS, GOLDEN_TORCH } from './cli.js';
import { readSafetensors, type SafeTensor } from 'tdc-runtime';

export interface GoldenIndexCase {
  case: string;
  source_config: string | null;
  stage: string;
  kind: string;
  losses: string[];
}

export interface GoldenExpected {
  case: string;
  stage: string;
  loss: number;
  terms: Record<string, { weight: number; value: number }>;
  model_term: { weight: unknown; value: number } | null;
  inputs: string[];
  grads: string[];
  trainable: { student: boolean; teacher: boolean };
  /** Stateful terms' buffers before / after the forward (CRD), as tensor names. */
  state?: { in: string[]; out: string[] };
}

/** Losses the CPU bar (issue 3) and GPU bar (issue 4) cover. */
export const CORE_LOSSES = new Set(['CrossEntropyLoss', 'MSELoss', 'KDLoss', 'LogitStdKDLoss', 'KLDivLoss', 'L1Loss', 'SmoothL1Loss', 'model_term']);

export function goldenIndex(): GoldenIndexCase[] {
  return JSON.parse(readFileSync(join(GOLDEN, 'index.json'), 'utf8')).cases;
}

/** golden-torch/index.json: one case per torch low-level loss option (CE, NLL, BCE, …). */
export function torchIndex(): GoldenIndexCase[] {
  return JSON.parse(readFileSync(join(GOLDEN_TORCH, 'index.json'), 'utf8')).cases;
}

/**
 * The case list of an index file, checked against itself and the disk: `n_cases` (when present) equals the
 * listed cases, and every listed case has its folder. Suites derive their counts from this, never a literal.
 */
export function indexedCases(dir: string): GoldenIndexCase[] {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { n_cases?: number; cases: GoldenIndexCase[] };
  if (index.n_cases !== undefined && index.n_cases !== index.cases.length) throw new Error(`${dir}/index.json: n_cases ${index.n_cases} but ${index.cases.length} cases listed`);
  const missing = index.cases.filter((c) => !existsSync(join(dir, c.case, 'expected.json'))).map((c) => c.case);
  if (missing.length) throw new Error(`${dir}/index.json lists cases without a folder: ${missing.slice(0, 5).join(', ')}`);
  return index.cases;
}

/** The folder holding a case. */
export const caseDir = (caseId: string): string => join(caseId.startsWith('torch__') ? GOLDEN_TORCH : caseId.startsWith('regress__') ? GOLDEN_REGRESS : GOLDEN, caseId);

export function coreCases(): GoldenIndexCase[] {
  return goldenIndex().filter((c) => c.losses.every((l) => CORE_LOSSES.has(l)));
}

export function nonCoreCases(): GoldenIndexCase[] {
  return goldenIndex().filter((c) => !c.losses.every((l) => CORE_LOSSES.has(l)));
}

/** A non-finite loss or term value in expected.json: JSON has no NaN/±Infinity, so the generators write them as these
 * strings (String(v) in JS, the `value` of tdc run --json's "nonfinite" entries). */
const NONFINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** expected.json's text, its non-finite `loss` / `value` strings read back as numbers. */
export function parseExpected<T>(text: string): T {
  return JSON.parse(text, (key, v) => ((key === 'loss' || key === 'value') && typeof v === 'string' && Object.hasOwn(NONFINITE, v) ? NONFINITE[v] : v)) as T;
}

export function expected(caseId: string): GoldenExpected {
  return parseExpected(readFileSync(join(caseDir(caseId), 'expected.json'), 'utf8'));
}

export const casePath = (caseId: string, file: string): string => join(caseDir(caseId), file);
export const hasGolden = (): boolean => existsSync(join(GOLDEN, 'index.json'));

/** The config's stage name for `--stage`: golden uses 'train' for single-stage cases. */
export function stageArg(e: GoldenExpected): string[] {
  return e.stage === 'train' ? [] : ['--stage', e.stage];
}

/** Gradients the real config trains: the trainable sides only (model_loss/* belongs to the student/model). */
export function requiredGrads(e: GoldenExpected): string[] {
  return e.grads
    .map((g) => g.slice('grad/'.length))
    .filter((name) => (name.startsWith('teacher/') ? e.trainable.teacher : e.trainable.student));
}

/** Relative error of x against golden g; a non-finite g (NaN, ±Infinity) must be matched exactly (0, else Infinity). */
export function relErr(x: number, g: number): number {
  if (!Number.isFinite(g)) return Object.is(x, g) || (Number.isNaN(x) && Number.isNaN(g)) ? 0 : Infinity;
  return Math.abs(x - g) / Math.max(Math.abs(g), Number.MIN_VALUE);
}

/**
 * golden/README.md: |x − g| ≤ atol + rtol·|g|, atol = rtolGrad · max|g| over the finite g. Returns the worst ratio
 * (≤ 1 passes). A non-finite golden element (torch's NaN or ±Inf gradient) must be matched exactly.
 */
export function gradExcess(x: ArrayLike<number>, g: ArrayLike<number>, rtolGrad: number, rtol: number): number {
  let maxAbs = 0;
  for (let i = 0; i < g.length; i++) if (Number.isFinite(g[i]!)) maxAbs = Math.max(maxAbs, Math.abs(g[i]!));
  const atol = rtolGrad * maxAbs;
  let worst = 0;
  for (let i = 0; i < g.length; i++) {
    if (!Number.isFinite(g[i]!)) {
      worst = Math.max(worst, relErr(x[i]!, g[i]!));
      continue;
    }
    const bound = atol + rtol * Math.abs(g[i]!);
    const err = Math.abs(x[i]! - g[i]!);
    worst = Math.max(worst, bound === 0 ? (err === 0 ? 0 : Infinity) : err / bound);
  }
  return worst;
}

/** What `tdc run --json` prints (a non-finite loss or term value is null there, its `value` in `nonfinite`). */
export interface RunJson {
  loss: number;
  terms: Record<string, { weight: number; value: number }>;
  grads: string[];
  state?: string[];
  nonfinite?: { kind: string; name?: string; value?: string }[];
}

/** The run's loss (kind 'loss') or term value, a non-finite one read from its `nonfinite` entry. */
function runValue(out: RunJson, v: number | null, kind: string, name?: string): number {
  if (typeof v === 'number') return v;
  const s = out.nonfinite?.find((p) => p.kind === kind && p.name === name)?.value;
  return s !== undefined && Object.hasOwn(NONFINITE, s) ? NONFINITE[s]! : NaN;
}

/**
 * Compare one `tdc run --json --grads-out [--state-out]` against a golden case (float64 vs float64): loss and
 * terms to `rtol` relative; every returned gradient must exist in golden and, like every state_out tensor,
 * match to `rtol` of the golden tensor's max |value|; every gradient of a trainable side must be returned.
 * Returns the failures and the worst errors seen.
 */
export function checkRun(
  caseId: string,
  out: RunJson,
  files: { grads: string; state?: string },
  rtol: number,
): { failures: string[]; worstLoss: number; worstGrad: number; worstState: number } {
  const e = expected(caseId);
  const failures: string[] = [];
  let worstLoss = 0;
  let worstGrad = 0;
  let worstState = 0;
  const loss = runValue(out, out.loss, 'loss');
  const le = relErr(loss, e.loss);
  worstLoss = Math.max(worstLoss, le);
  if (!(le <= rtol)) failures.push(`${caseId}: loss ${loss} vs ${e.loss} (rel ${le.toExponential(2)})`);
  for (const [name, t] of Object.entries(e.terms)) {
    const got = out.terms[name];
    if (!got) {
      failures.push(`${caseId}: term '${name}' missing`);
      continue;
    }
    if (got.weight !== t.weight) failures.push(`${caseId}: term '${name}' weight ${got.weight} vs ${t.weight}`);
    const value = runValue(out, got.value, 'term', name);
    const te = relErr(value, t.value);
    worstLoss = Math.max(worstLoss, te);
    if (!(te <= rtol)) failures.push(`${caseId}: term '${name}' ${value} vs ${t.value} (rel ${te.toExponential(2)})`);
  }
  const goldGrads = new Set(e.grads.map((g) => g.slice('grad/'.length)));
  for (const name of requiredGrads(e)) if (!out.grads.includes(name)) failures.push(`${caseId}: no gradient for trainable input ${name}`);
  for (const name of out.grads) if (!goldGrads.has(name)) failures.push(`${caseId}: gradient for ${name}, which torch leaves None`);

  const gold = readSafetensors(new Uint8Array(readFileSync(casePath(caseId, 'tensors.safetensors')))).tensors;
  const compare = (mine: Map<string, SafeTensor>, name: string): number | undefined => {
    const x = mine.get(name);
    const g = gold.get(name);
    if (!x) return void failures.push(`${caseId}: ${name} not in tdc's output file`);
    if (!g) return undefined;
    if (JSON.stringify(x.shape) !== JSON.stringify(g.shape)) return void failures.push(`${caseId}: ${name} shape [${x.shape}] vs [${g.shape}]`);
    const err = gradExcess(x.data as Float64Array, g.data as Float64Array, rtol, 0) * rtol;
    if (!(err <= rtol)) failures.push(`${caseId}: ${name} error ${err.toExponential(2)} of max|value|`);
    return err;
  };
  const grads = readSafetensors(new Uint8Array(readFileSync(files.grads))).tensors;
  for (const name of out.grads) worstGrad = Math.max(worstGrad, compare(grads, `grad/${name}`) ?? 0);

  const wantState = e.state?.out ?? [];
  const gotState = out.state ?? [];
  if (JSON.stringify([...gotState].sort()) !== JSON.stringify([...wantState].sort()))
    failures.push(`${caseId}: state outputs [${gotState.join(', ')}] vs golden [${wantState.join(', ')}]`);
  if (wantState.length) {
    if (!files.state) failures.push(`${caseId}: stateful case run without --state-out`);
    else {
      const state = readSafetensors(new Uint8Array(readFileSync(files.state))).tensors;
      for (const name of wantState) worstState = Math.max(worstState, compare(state, name) ?? 0);
    }
  }
  return { failures, worstLoss, worstGrad, worstState };
}
