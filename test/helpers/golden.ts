// Golden cases (../shared/golden): listing, expected values, and the comparison rules of golden/README.md.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN } from './cli.js';

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
}

/** Losses the CPU bar (issue 3) and GPU bar (issue 4) cover. */
export const CORE_LOSSES = new Set(['CrossEntropyLoss', 'MSELoss', 'KDLoss', 'LogitStdKDLoss', 'KLDivLoss', 'L1Loss', 'SmoothL1Loss', 'model_term']);

export function goldenIndex(): GoldenIndexCase[] {
  return JSON.parse(readFileSync(join(GOLDEN, 'index.json'), 'utf8')).cases;
}

export function coreCases(): GoldenIndexCase[] {
  return goldenIndex().filter((c) => c.losses.every((l) => CORE_LOSSES.has(l)));
}

export function expected(caseId: string): GoldenExpected {
  return JSON.parse(readFileSync(join(GOLDEN, caseId, 'expected.json'), 'utf8'));
}

export const casePath = (caseId: string, file: string): string => join(GOLDEN, caseId, file);
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

export function relErr(x: number, g: number): number {
  return Math.abs(x - g) / Math.max(Math.abs(g), Number.MIN_VALUE);
}

/** golden/README.md: |x − g| ≤ atol + rtol·|g|, atol = rtolGrad · max|g|. Returns the worst ratio (≤ 1 passes). */
export function gradExcess(x: ArrayLike<number>, g: ArrayLike<number>, rtolGrad: number, rtol: number): number {
  let maxAbs = 0;
  for (let i = 0; i < g.length; i++) maxAbs = Math.max(maxAbs, Math.abs(g[i]!));
  const atol = rtolGrad * maxAbs;
  let worst = 0;
  for (let i = 0; i < g.length; i++) {
    const bound = atol + rtol * Math.abs(g[i]!);
    const err = Math.abs(x[i]! - g[i]!);
    worst = Math.max(worst, bound === 0 ? (err === 0 ? 0 : Infinity) : err / bound);
  }
  return worst;
}
