// Tuning: measure each kernel of a plan on this device at its candidate workgroup sizes (and, for row kernels on
// a device with subgroups, with and without its subgroup variant) and choose the fastest — what `tdc tune`
// runs. Each kernel is timed alone: a copy of the plan that dispatches only that kernel, `reps` times in one
// pass (the others get zero workgroups, which the executor skips), runs on resident inputs, submit +
// onSubmittedWorkDone, median of `runs` after a warm-up; the same plan with nothing dispatched is the fixed
// cost subtracted, and the rest divided by `reps` (raised per kernel, up to MAX_REPS, until the timed work is
// ≥ ~5 ms and well above the spread of the fixed cost: a small kernel is not lost in the submission's noise, and
// never reads 0). The spread over `reps` is the kernel's resolution: candidates within it of the default tie with
// it, and a tie keeps the default (reported as one). A candidate that beats the default by more than the
// resolution and by `margin` is timed again against it (alternately) and chosen only if it still wins. Never hangs: every wait is
// bounded by the runtime's timeout, and the whole tuning by `budgetMs` (kernels not reached keep their default,
// and the result says so). Inputs: deterministic pseudo-random floats in [0, 1) and zero class indices, in the
// shapes the plan takes at `sizes`; timings only, results are not checked.
import { GpuRuntime } from './device.js';
import { dimSymbols, evalShape } from './dims.js';
import { GpuInputError, GpuUsageError } from './errors.js';
import { describeValue, expectArgument, isRecord } from './argument-checks.js';
import { checkPlan, checkPlanFields } from './check-plan.js';
import { PlanExecutor, bufferLimitProblems } from './executor.js';
import type { KernelPlan, PlanKernel } from './plan.js';
import { selectPlanVariant } from './plan-variant.js';
import { chooseSubgroupVariants, subgroupSupport, subgroupsUnavailable } from './subgroups.js';
import { adapterKey, kernelTuningKey, planHash, type KernelChoice, type KernelMeasurement, type TunedKernelChoice, type TuningEntry } from './tune-cache.js';
import type { TensorInput } from './tensors.js';
import { isSoftwareAdapter, overrideConstants, workgroupMax } from './workgroup.js';

export interface TuneOptions {
  /** The value of every plan symbol to measure at (e.g. { N: 128, C: 1000 }). */
  sizes: Record<string, number>;
  /** Workgroup sizes to try (each kept where the kernel and device take it). Default CANDIDATE_SIZES. */
  candidates?: readonly number[];
  /** Timed runs per candidate (median). Default 5. */
  runs?: number;
  /** Wall-clock budget for the whole tuning, ms. Default 120 000. */
  budgetMs?: number;
  /** A candidate replaces the default only when faster by this fraction. Default 0.05. */
  margin?: number;
  /** Progress lines. */
  onProgress?: (line: string) => void;
  /** For the entry: stage and config names. */
  stage?: string;
  config?: string;
  tdc?: string;
}

export interface TuneResult {
  entry: TuningEntry;
  /** Kernels not measured because the budget ran out (they keep their defaults). */
  skipped: string[];
  /** The default choice of each kernel with its time, and the chosen one with its time. */
  report: KernelReport[];
}

export interface KernelReport {
  kernel: string;
  default: KernelMeasurement;
  chosen: KernelMeasurement;
  /** The smallest difference per dispatch the timings tell apart (ms): times below it are "< resolutionMs". */
  resolutionMs: number;
  /** Why `chosen` is what it is: 'faster' a candidate beat the default (also when re-timed); 'fastest' the default
   *  beat every candidate by more than the resolution; 'tie' candidates within the resolution of the default (`ties`
   *  of them, the default included): the default is kept; 'unconfirmed' a candidate measured faster, but not by the
   *  margin, or not again when re-timed: the default is kept. */
  outcome: 'faster' | 'fastest' | 'tie' | 'unconfirmed';
  ties: number;
  /** For 'unconfirmed': the candidate that measured fastest. */
  best?: KernelMeasurement;
}

export const CANDIDATE_SIZES: readonly number[] = [4, 8, 16, 32, 64, 128, 256];

/** Differences below this (ms per dispatch) are never told apart from timing noise; a kernel's own resolution is
 *  coarser where the submissions' timings spread more (KernelReport.resolutionMs). */
const RESOLUTION_MS = 0.005;
/** A kernel is repeated within one pass until the timed work is at least this (ms) and stands out of the spread
 *  of the submission's fixed cost, or MAX_REPS times. */
const TARGET_MS = 5;
const MAX_REPS = 1024;

/** Measures and chooses; see the file comment. */
export async function tunePlan(rt: GpuRuntime, compiled: KernelPlan, opts: TuneOptions): Promise<TuneResult> {
  if (!(rt instanceof GpuRuntime)) throw new GpuUsageError(`tunePlan: the first argument must be a GpuRuntime, got ${describeValue(rt)}`, 'open one with GpuRuntime.open(), or GpuRuntime.fromDevice(device)');
  checkPlan(compiled);
  // the plan an executor runs on this device (a compiled plan may carry variants for more storage bindings)
  const plan = selectPlanVariant(compiled, rt.device.limits.maxStorageBuffersPerShaderStage);
  const start = performance.now();
  const budget = opts.budgetMs ?? 120_000;
  const runs = Math.max(1, opts.runs ?? 5);
  const margin = opts.margin ?? 0.05;
  const say = opts.onProgress ?? (() => {});
  const device = rt.device;
  const info = rt.adapter?.info ?? device.adapterInfo;
  const support = subgroupSupport(device, rt.gpu, info);
  const canSubgroup = !subgroupsUnavailable(support);
  const inputs = tuneInputs(plan, opts.sizes, device.limits);
  // the defaults, as an executor without tuning would choose them
  const software = isSoftwareAdapter(rt.adapterInfo);
  const defaults = overrideConstants(plan.kernels, software, device.limits);
  const defaultSg = chooseSubgroupVariants(plan.kernels, defaults.map((c) => c['wg_size']), support, undefined);

  const fixedTiming = await timePlan(rt, only(plan, -1, 1), {}, inputs, Math.max(runs, 3));
  const fixed = fixedTiming.ms;
  const kernels: Record<string, TunedKernelChoice> = {};
  const measured: Record<string, KernelMeasurement[]> = {};
  const skipped: string[] = [];
  const report: TuneResult['report'] = [];
  for (const [i, k] of plan.kernels.entries()) {
    const o = k.overrides?.find((x) => x.role === 'workgroupSize');
    const def: KernelChoice = { workgroupSize: defaults[i]!['wg_size'] ?? 0, subgroups: defaultSg[i]! };
    if (!o) continue;
    if (performance.now() - start > budget) {
      skipped.push(k.name);
      continue;
    }
    // repeat the kernel within the pass until its work is measurable: at least TARGET_MS and well above the spread
    // of the fixed cost (a tiny kernel timed once is all noise, and every candidate would read 0)
    const once = Math.max(0, (await timePlan(rt, only(plan, i, 1), { [k.name]: def }, inputs, 1)).ms - fixed);
    let reps = Math.min(MAX_REPS, Math.max(1, Math.ceil(TARGET_MS / Math.max(once, 0.05))));
    const measurable = Math.max(TARGET_MS, 4 * fixedTiming.spread);
    while (reps < MAX_REPS && performance.now() - start <= budget) {
      const work = (await timePlan(rt, only(plan, i, reps), { [k.name]: def }, inputs, 1)).ms - fixed;
      if (work >= measurable) break;
      reps = Math.min(MAX_REPS, reps * 4);
    }
    const resolution = Math.max(RESOLUTION_MS, fixedTiming.spread / reps);
    const perDispatch = async (c: KernelChoice): Promise<number> => Math.max(0, (await timePlan(rt, only(plan, i, reps), { [k.name]: c }, inputs, runs)).ms - fixed) / reps;
    const list: KernelMeasurement[] = [];
    for (const c of candidatesOf(k, def, workgroupMax(o, device.limits), opts.candidates ?? CANDIDATE_SIZES, canSubgroup, support.maxSize)) {
      if (list.length && performance.now() - start > budget) break;
      list.push({ ...c, ms: await perDispatch(c) });
    }
    measured[k.name] = list;
    const d = list[0]!;
    const best = list.reduce((a, b) => (b.ms < a.ms ? b : a));
    // a win must hold up: the default and the best candidate timed again, alternately, and still apart by more than
    // the resolution; candidates within the resolution of the fastest are a tie, and a tie keeps the default
    let chosen = d;
    if (best !== d && d.ms - best.ms > resolution && best.ms < d.ms * (1 - margin)) {
      const again = { d: [] as number[], b: [] as number[] };
      for (let r = 0; r < 2; r++) {
        again.d.push(await perDispatch(d));
        again.b.push(await perDispatch(best));
      }
      const [dm, bm] = [Math.min(...again.d), Math.min(...again.b)];
      if (dm - bm > resolution && bm < dm * (1 - margin)) chosen = best;
    }
    const ties = list.filter((m) => Math.abs(m.ms - d.ms) <= resolution).length;
    const outcome: KernelReport['outcome'] = chosen !== d ? 'faster' : ties > 1 ? 'tie' : best !== d ? 'unconfirmed' : 'fastest';
    kernels[k.name] = { workgroupSize: chosen.workgroupSize, subgroups: chosen.subgroups, key: kernelTuningKey(k) };
    const kr: KernelReport = { kernel: k.name, default: d, chosen, resolutionMs: resolution, outcome, ties: outcome === 'tie' ? ties : 0, ...(outcome === 'unconfirmed' ? { best } : {}) };
    report.push(kr);
    say(`${k.name}: ${list.length} candidates × ${reps} dispatches: ${describeOutcome(kr)}`);
  }
  const entry: TuningEntry = {
    adapter: adapterKey(rt.adapterInfo, { min: info?.subgroupMinSize, max: info?.subgroupMaxSize }),
    plan: planHash(plan),
    ...(opts.stage !== undefined ? { stage: opts.stage } : {}),
    ...(opts.config !== undefined ? { config: opts.config } : {}),
    sizes: { ...opts.sizes },
    ...(opts.tdc !== undefined ? { tdc: opts.tdc } : {}),
    kernels,
    measured,
  };
  return { entry, skipped, report };
}

/** The default first, then each size (with and without subgroups where that is a choice). */
function candidatesOf(k: PlanKernel, def: KernelChoice, max: number, sizes: readonly number[], canSubgroup: boolean, sgMax: number | undefined): KernelChoice[] {
  const out: KernelChoice[] = [def];
  const seen = new Set([`${def.workgroupSize}/${def.subgroups}`]);
  for (const wg of sizes) {
    if (wg > max) continue;
    const variants = k.wgslSubgroups && canSubgroup && (sgMax === undefined || wg % sgMax === 0) ? [false, true] : [false];
    for (const subgroups of variants) {
      const key = `${wg}/${subgroups}`;
      if (!seen.has(key)) out.push({ workgroupSize: wg, subgroups });
      seen.add(key);
    }
  }
  return out;
}

/** The plan dispatching only kernel `k` (-1: none), `reps` times. */
function only(plan: KernelPlan, k: number, reps: number): KernelPlan {
  const kernels = plan.kernels.map((kern, i): PlanKernel => (i === k ? kern : { ...kern, dispatch: [0, 0, 0] }));
  if (k >= 0) kernels.splice(k + 1, 0, ...Array.from({ length: reps - 1 }, () => plan.kernels[k]!));
  return { ...plan, kernels };
}

/** A time (ms) in the unit and precision it is worth reading in: 3 significant digits, µs below 1 ms. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${ms.toFixed(0)} ms`;
  if (ms >= 1) return `${ms.toPrecision(3)} ms`;
  const us = ms * 1000;
  return us >= 1 ? `${us.toPrecision(3)} µs` : `${us.toFixed(3)} µs`;
}

/** A kernel's measurement: `< resolution` where it is below what the timings tell apart. */
export function formatMeasured(ms: number, resolutionMs: number): string {
  return ms < resolutionMs ? `< ${formatMs(resolutionMs)}` : formatMs(ms);
}

const choiceText = (c: KernelChoice): string => `wg ${c.workgroupSize}${c.subgroups ? ' + subgroups' : ''}`;

/** One kernel's outcome, as `tdc tune` prints it: the choice and its time, and the default's, or the tie kept. */
export function describeOutcome(r: KernelReport): string {
  expectArgument(isRecord(r) && isRecord(r.chosen), r, 'describeOutcome', 'the report', 'a KernelReport (TuneResult.kernels)');
  const t = (m: KernelMeasurement) => formatMeasured(m.ms, r.resolutionMs);
  const head = `${choiceText(r.chosen)} ${t(r.chosen)}`;
  if (r.outcome === 'faster') return `${head} (default ${choiceText(r.default)} ${t(r.default)})`;
  if (r.outcome === 'tie') return `${head} (the default, kept: ${r.ties} candidates tie with it within the timing resolution, ${formatMs(r.resolutionMs)})`;
  if (r.outcome === 'unconfirmed' && r.best) return `${head} (the default, kept: ${choiceText(r.best)} measured ${t(r.best)} but did not win by the margin when re-timed)`;
  return `${head} (the default, fastest)`;
}

/** Median ms of `runs` submissions (after one warm-up) of `plan` with these per-kernel choices, and their spread (max − min). */
async function timePlan(rt: GpuRuntime, plan: KernelPlan, kernels: Record<string, KernelChoice>, inputs: ReadonlyMap<string, TensorInput>, runs: number): Promise<{ ms: number; spread: number }> {
  const exec = await PlanExecutor.create(rt, plan, { kernels, tuning: false });
  try {
    const ts: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const t0 = performance.now();
      const { done } = exec.submit(inputs);
      await rt.wait(done, 'a tuning run');
      await rt.wait(rt.device.queue.onSubmittedWorkDone(), 'a tuning run');
      if (i > 0) ts.push(performance.now() - t0);
    }
    ts.sort((a, b) => a - b);
    return { ms: ts[Math.floor(ts.length / 2)]!, spread: ts[ts.length - 1]! - ts[0]! };
  } finally {
    exec.destroy();
  }
}

/** The size symbols the plan's inputs are shaped by: tuning (tuneInputs) needs a value for each. */
export function tuneSymbols(plan: KernelPlan): string[] {
  checkPlanFields(plan);
  const used = new Set<string>();
  for (const i of plan.inputs) for (const d of i.shape) dimSymbols(d, used);
  return [...used];
}

/** Host inputs in the plan's shapes at `sizes`: floats in [0, 1) from a fixed LCG, integers 0. With `limits`, sizes
 *  whose buffers the device cannot hold are refused first (GpuInputError), before any host array is made. */
export function tuneInputs(plan: KernelPlan, sizes: Record<string, number>, limits?: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>): Map<string, TensorInput> {
  const missing = tuneSymbols(plan).filter((s) => !(s in sizes));
  if (missing.length) throw new GpuInputError(`tuning needs a value for every input size symbol: missing ${missing.join(', ')}`, `give them, e.g. ${missing.map((s) => `${s}=64`).join(' ')}`);
  const tooBig = limits ? bufferLimitProblems(plan, sizes, limits) : [];
  if (tooBig.length)
    throw new GpuInputError(
      `the sizes ${Object.entries(sizes).map(([k, v]) => `${k}=${v}`).join(', ')} do not fit this device:${tooBig.length === 1 ? ` ${tooBig[0]}` : `\n${tooBig.map((p) => `  - ${p}`).join('\n')}`}`,
      'tune at the sizes you train with (--size, --like)',
    );
  let seed = 12345;
  const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  const out = new Map<string, TensorInput>();
  for (const i of plan.inputs) {
    const shape = evalShape(i.shape, sizes);
    const n = shape.reduce((a, d) => a * d, 1);
    out.set(i.name, i.dtype === 'int' ? { shape, data: new Int32Array(n) } : { shape, data: Float32Array.from({ length: n }, next) });
  }
  return out;
}
