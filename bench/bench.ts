// npm run bench: KD+CE forward + backward with readback of the loss and the full gradient, side by side in one
// process on one adapter — tdc's compiled fused plan ('tdc'), the same graph scheduled one kernel per primitive
// op ('unfused'), and TensorFlow.js's WebGPU backend ('tfjs-webgpu'); '--reference' adds the hand-written
// reference anchor ('reference-wgsl'). Every implementation is checked against a float64 reference first.
//
//   npm run bench -- --losses [kd,at,…] [--torch] [--tfjs] [--no-state] [--profile] [--baseline <tdc checkout>] [--bindings auto|8] [--baseline-bindings auto|8] [--batch-scale 1] [--quick] [--json]
//     (the loss suite over the real sample configs: losses.ts)
//   npm run bench -- [--json] [--quick] [--reference] [--strict] [--shapes 128x1000,256x1000,64x32000]
//                    [--impls tdc,unfused,tfjs-webgpu] [--rounds 7] [--round-ms 120] [--wg N] [--unfused-wg 64]
//                    [--variants 8,32,128] [--tuned tuning.json] [--reuse]
//   With --reference, tdc's plan also runs as variants chosen at pipeline creation — each workgroup size of
//   --variants, with and without the row kernels' subgroup variants where the device has subgroups ('tdc wg32',
//   'tdc wg32+sg') — interleaved with the rest, and every row gets its ratio to the reference. --tuned adds
//   'tdc tuned': each kernel with the choice `tdc tune bench/kd-ce.yaml --size N=… --size C=…` recorded for this
//   adapter in that cache (by kernel name: the bench's plan pins the workgroup default, so its hash differs).
//   --reuse adds 'tdc reuse': the gradient read back into one array made at setup (PlanExecutor.run's `into`, as a
//   training loop would) instead of a new array per step as in the 'tdc' row and tfjs's data(); at 64×32000 a
//   fresh 8 MB array per step costs the step about 1 ms, and its garbage collection up to tens of ms.
import { readFileSync } from 'node:fs';
import { GpuRuntime, adapterKey, parseTuningCache, type KernelChoice, type KernelPlan } from 'tdc-runtime/node';
import { defaultWorkgroupSize } from '../src/compiler/run-gpu.js';
import { DEFAULT_TIMING, QUICK_TIMING, median, timeImpls, type BenchImpl, type TimingOptions } from './harness.js';
import { PlanKd } from './impl-plan.js';
import { loadTfWebGpu, TfjsKd } from './impl-tfjs.js';
import { KD_TOLERANCE, kdCase, kdErrors, kdReference } from './kd-data.js';
import { compilerPlans } from './plan-source.js';
import { referenceKdPlan } from './reference-kd-plan.js';
import { formatHeader, runLossBench, type LossBenchOptions } from './losses.js';

const DEFAULT_SHAPES = ['128x1000', '256x1000', '64x32000'];
const IMPLS = ['tdc', 'unfused', 'tfjs-webgpu'] as const;

interface Args {
  json: boolean;
  reference: boolean;
  /** Adds 'tdc reuse': tdc's plan reading the gradient back into one array made at setup. */
  reuse: boolean;
  strict: boolean;
  shapes: string[];
  impls: string[];
  timing: TimingOptions;
  /** Workgroup size the scheduler is asked for (threads per row in row kernels); 0: tdc's default for the adapter. */
  wg: number;
  /** Workgroup size of the unfused baseline (its map kernels: elements per workgroup). */
  unfusedWg: number;
  /** Workgroup sizes of tdc's variants measured with --reference. */
  variants: number[];
  /** A tuning cache whose entry for this adapter and the bench's kernels runs as 'tdc tuned'. */
  tuned?: string;
}

export interface BenchResult {
  shape: string;
  impl: string;
  median_ms: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { json: false, reference: false, reuse: false, strict: false, shapes: DEFAULT_SHAPES, impls: [...IMPLS], timing: { ...DEFAULT_TIMING }, wg: 0, unfusedWg: 64, variants: [8, 32, 128] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--json') a.json = true;
    else if (arg === '--quick') a.timing = { ...QUICK_TIMING };
    else if (arg === '--reference') a.reference = true;
    else if (arg === '--reuse') a.reuse = true;
    else if (arg === '--strict') a.strict = true;
    else if (arg === '--shapes') a.shapes = value().split(',');
    else if (arg === '--impls') a.impls = value().split(',');
    else if (arg === '--rounds') a.timing.rounds = Number(value());
    else if (arg === '--round-ms') a.timing.roundMs = Number(value());
    else if (arg === '--wg') a.wg = Number(value());
    else if (arg === '--unfused-wg') a.unfusedWg = Number(value());
    else if (arg === '--variants') a.variants = value().split(',').map(Number);
    else if (arg === '--tuned') a.tuned = value();
    else throw new Error(`unknown argument '${arg}'`);
  }
  for (const s of a.shapes) if (!/^\d+x\d+$/.test(s)) throw new Error(`--shapes: '${s}' is not NxC`);
  for (const i of a.impls) if (!(IMPLS as readonly string[]).includes(i)) throw new Error(`--impls: unknown '${i}' (known: ${IMPLS.join(', ')})`);
  return a;
}

async function main(): Promise<number> {
  if (process.argv.includes('--losses')) return lossesMain(process.argv.slice(2));
  const args = parseArgs(process.argv.slice(2));
  const log = (s: string): void => void (args.json ? process.stderr : process.stdout).write(s + '\n');
  const rt = await GpuRuntime.open();
  log(`adapter: ${rt.describe()}`);
  const wg = args.wg || defaultWorkgroupSize(rt);

  const impls: BenchImpl[] = [];
  const unavailable: Record<string, string> = {};
  if (args.impls.includes('tdc') || args.impls.includes('unfused')) {
    const plans = compilerPlans({ fused: wg, unfused: args.unfusedWg });
    for (const [impl, mode] of [
      ['tdc', 'fused'],
      ['unfused', 'unfused'],
    ] as const) {
      if (!args.impls.includes(impl)) continue;
      const p = plans[mode];
      if ('plan' in p) impls.push(new PlanKd(impl, rt, p.plan));
      else unavailable[impl] = p.unavailable;
      if (impl === 'tdc' && args.reference && 'plan' in p)
        for (const w of args.variants)
          for (const sg of rt.device.features.has('subgroups') ? [false, true] : [false])
            impls.push(new PlanKd(`tdc wg${w}${sg ? '+sg' : ''}`, rt, p.plan, { workgroupSize: w, subgroups: sg }));
      if (impl === 'tdc' && args.reuse && 'plan' in p) impls.push(new PlanKd('tdc reuse', rt, p.plan, {}, true));
      if (impl === 'tdc' && args.tuned && 'plan' in p) impls.push(new PlanKd('tdc tuned', rt, p.plan, { kernels: tunedKernels(args.tuned, rt, p.plan), tuning: false }));
    }
  }
  if (args.reference) impls.push(new PlanKd('reference-wgsl', rt, referenceKdPlan()));
  log(`workgroup size: tdc ${wg}${args.wg ? '' : " (tdc's default for this adapter)"}, unfused ${args.unfusedWg}`);
  if (args.impls.includes('tfjs-webgpu')) {
    const { globals } = (await import('webgpu')) as { globals: object };
    impls.push(new TfjsKd(await loadTfWebGpu(rt.gpu!, globals)));
  }
  for (const [impl, why] of Object.entries(unavailable)) log(`${impl}: unavailable — ${why}`);
  for (const i of impls) if (i instanceof PlanKd) log(`${i.name}: ${i.dispatches} dispatch${i.dispatches === 1 ? '' : 'es'} per forward+backward`);
  let variantsLogged = false;

  const results: BenchResult[] = [];
  const errors: { shape: string; impl: string; message: string }[] = [];
  for (const shape of args.shapes) {
    const [n, c] = shape.split('x').map(Number) as [number, number];
    const kcase = kdCase(n, c);
    const ref = kdReference(kcase);
    const ready: BenchImpl[] = [];
    for (const impl of impls) {
      try {
        await impl.setup(kcase);
        const r = await impl.step();
        const e = kdErrors(ref, r.loss, r.grad);
        if (!(e.lossRel <= KD_TOLERANCE.lossRel && e.gradRel <= KD_TOLERANCE.gradRel))
          throw new Error(`wrong result: loss rel err ${e.lossRel.toExponential(2)}, grad err ${e.gradRel.toExponential(2)} (tolerance ${KD_TOLERANCE.lossRel}, ${KD_TOLERANCE.gradRel})`);
        ready.push(impl);
      } catch (e) {
        errors.push({ shape, impl: impl.name, message: (e as Error).message });
        log(`${shape} ${impl.name}: ${(e as Error).message}`);
      }
    }
    if (!variantsLogged) for (const i of ready) if (i instanceof PlanKd) log(`  ${i.name}: ${i.variant}`);
    variantsLogged = true;
    const times = await timeImpls(ready, args.timing);
    for (const impl of ready) results.push({ shape, impl: impl.name, median_ms: round3(median(times.get(impl.name)!)) });
    log(table(shape, ready.map((i) => ({ impl: i.name, times: times.get(i.name)! }))));
  }
  for (const impl of impls) await impl.dispose();
  rt.destroy();

  if (args.json) process.stdout.write(JSON.stringify({ results, adapter: rt.describe(), workgroupSize: { tdc: wg, unfused: args.unfusedWg }, unavailable, errors }) + '\n');
  return errors.length || (args.strict && Object.keys(unavailable).length) ? 1 : 0;
}

async function lossesMain(argv: string[]): Promise<number> {
  const o: LossBenchOptions = { ids: [], timing: { rounds: 3, roundMs: 300, minSteps: 2, warmupSteps: 1 }, torch: false, batchScale: 1, bindings: 'auto', wg: 0, profile: false, json: false, log: () => {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--losses') {
      if (argv[i + 1] && !argv[i + 1]!.startsWith('--')) o.ids = value().split(',');
    } else if (arg === '--torch') o.torch = true;
    else if (arg === '--json') o.json = true;
    else if (arg === '--profile') o.profile = true;
    else if (arg === '--tfjs') o.tfjs = true;
    else if (arg === '--state') o.state = true;
    else if (arg === '--no-state') o.state = false;
    else if (arg === '--baseline') o.baseline = value();
    else if (arg === '--quick') o.timing = { ...QUICK_TIMING };
    else if (arg === '--rounds') o.timing.rounds = Number(value());
    else if (arg === '--round-ms') o.timing.roundMs = Number(value());
    else if (arg === '--batch-scale') o.batchScale = Number(value());
    else if (arg === '--bindings') o.bindings = bindingsArg(value());
    else if (arg === '--baseline-bindings') o.baselineBindings = bindingsArg(value());
    else if (arg === '--wg') o.wg = Number(value());
    else throw new Error(`unknown argument '${arg}' (with --losses)`);
  }
  o.log = (s: string): void => void (o.json ? process.stderr : process.stdout).write(s + '\n');
  o.log(formatHeader(o.tfjs));
  const rows = await runLossBench(o);
  if (o.json) process.stdout.write(JSON.stringify({ losses: rows }) + '\n');
  return rows.some((r) => r.error) ? 1 : 0;
}

/** --bindings / --baseline-bindings: 'auto' or a storage-buffer budget of at least 1. */
function bindingsArg(v: string): number | 'auto' {
  if (v === 'auto') return v;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--bindings: expected 'auto' or a positive integer, got '${v}'`);
  return n;
}

function table(shape: string, rows: { impl: string; times: number[] }[]): string {
  const base = rows.find((r) => r.impl === 'tdc') ?? rows.find((r) => r.impl === 'reference-wgsl');
  const baseMed = base ? median(base.times) : NaN;
  const ref = rows.find((r) => r.impl === 'reference-wgsl');
  const lines = rows.map((r) => {
    const med = median(r.times);
    const reuse = rows.find((x) => x.impl === 'tdc reuse');
    const ratio =
      (base && r !== base ? `  ${(med / baseMed).toFixed(2)}× ${base.impl}` : '') +
      (reuse && r.impl === 'tfjs-webgpu' ? `  ${(med / median(reuse.times)).toFixed(2)}× tdc reuse` : '') +
      (ref && r !== ref && ref !== base ? `  ${(med / median(ref.times)).toFixed(2)}× reference-wgsl` : '');
    return `  ${r.impl.padEnd(15)} median ${fmt(med).padStart(9)} ms   min ${fmt(Math.min(...r.times)).padStart(9)} ms   n=${String(r.times.length).padEnd(4)}${ratio}`;
  });
  return `${shape}\n${lines.join('\n')}`;
}

/** The per-kernel choices of the last entry in `file` for this adapter whose kernels are the plan's. */
function tunedKernels(file: string, rt: GpuRuntime, plan: KernelPlan): Record<string, KernelChoice> {
  const cache = parseTuningCache(JSON.parse(readFileSync(file, 'utf8')) as unknown);
  if ('problem' in cache) throw new Error(`--tuned ${file}: ${cache.problem}`);
  const info = rt.adapter?.info;
  const key = adapterKey(rt.adapterInfo, { min: info?.subgroupMinSize, max: info?.subgroupMaxSize });
  const names = plan.kernels.map((k) => k.name).join(',');
  const entry = cache.entries.filter((e) => e.adapter === key && Object.keys(e.kernels).join(',') === names).pop();
  if (!entry) throw new Error(`--tuned ${file}: no entry for this adapter and the kernels ${names}`);
  return entry.kernels;
}

const fmt = (ms: number): string => (ms >= 100 ? ms.toFixed(1) : ms >= 10 ? ms.toFixed(2) : ms.toFixed(3));
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
