// tdc tune: measure each kernel of a config's compiled plan on this machine's GPU at its candidate workgroup
// sizes (and with/without its subgroup variant) and record the fastest in a tuning cache, which the runtime
// reads at pipeline creation (tdc-runtime/node: the user cache file by default; browsers: the document passed to
// GpuRuntime.open). The plan is compiled in memory exactly as `tdc compile` with the same options compiles it;
// each choice is recorded under the kernel's tuning key (its identity without sizes, tune-cache.ts), so it applies
// to that kernel in `tdc run`, the compiled glue and any executor, whatever sizes they fixed; a later compile whose
// kernel of that name differs makes the choice stale (ignored by the runtime, with a note). Sizes of the symbols
// come from --size and/or --like's sample.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { diag, hasErrors, type Diagnostic } from '../diagnostics/index.js';
import { ExitCode, exitCodeFor } from './exit-code.js';
import { printDiagnostics, usageError, type GlobalOptions } from './output.js';
import { overwritesInput, writeFileAtomic } from './write-file.js';
import { parseWorkgroupSize } from './workgroup-size.js';
import { VERSION } from '../version.js';
import { UNKNOWN_STAGE } from '../compiler/driver/pick-stage.js';
import { UNREAD_SHAPE } from '../api/shapes.js';
import { closest } from '../diagnostics/suggest.js';
import { readSafetensorsHeader } from '../api/safetensors-header.js';

export interface TuneCommandOptions extends GlobalOptions {
  stage?: string;
  shape?: string[];
  like?: string;
  workgroupSize?: string;
  /** NAME=INT values of the plan's symbols (repeatable; comma-separated allowed). */
  size?: string[];
  out?: string;
  /** Seconds for the whole tuning. */
  budget?: string;
  runs?: string;
  candidates?: string;
}

const SIZE_RE = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\d+)\s*$/;

export async function tuneCommand(config: string, opts: TuneCommandOptions): Promise<number> {
  // the runtime, loaded before any file is looked at: a package import made after a file-system call on a pipe
  // (`--like <(…)`) is resolved by Node 20 through tdc-runtime's workspace symlink without following it, a second
  // copy of the runtime whose classes fail every instanceof (see run.ts)
  const { GpuRuntime, NoWebGpuAdapterError, TdcRuntimeError, bindSymbols, defaultTuningPath, describeOutcome, emptyTuningCache, parseTuningCache, tunePlan, tuneSymbols, withEntry } = await import('tdc-runtime/node');
  const usage: Diagnostic[] = [];
  const sizes: Record<string, number> = {};
  for (const s of (opts.size ?? []).flatMap((x) => x.split(','))) {
    const m = SIZE_RE.exec(s);
    if (!m || Number(m[2]) < 1) usage.push(diag('error', 'TDC680', `--size takes NAME=positive integer (e.g. N=128), got '${s}'`));
    else sizes[m[1]!] = Number(m[2]);
  }
  const num = (v: string | undefined, what: string, lo: number, hi: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || n < lo || n > hi) usage.push(diag('error', 'TDC680', `${what} must be an integer in ${lo}..${hi}, got '${v}'`));
    return n;
  };
  const wgArg = parseWorkgroupSize(opts.workgroupSize, 'compile'); // pinned into the plan, as tdc compile pins it
  if (typeof wgArg === 'object') usage.push(wgArg);
  const wg = typeof wgArg === 'number' ? wgArg : undefined;
  const budgetS = num(opts.budget, '--budget', 1, 86_400) ?? 120;
  const runs = num(opts.runs, '--runs', 1, 1000) ?? 5;
  const candidates = opts.candidates?.split(',').map((c) => num(c, '--candidates', 1, 1024)!);
  if (usage.length) return usageError('tune', usage, opts);
  if (opts.out !== undefined) {
    const inputs = [{ path: config, what: 'the config' }, ...(opts.like !== undefined ? [{ path: opts.like, what: 'the --like sample' }] : []), ...(opts.spec ?? []).map((s) => ({ path: s, what: 'a --spec file' }))];
    const clobber = overwritesInput([{ path: opts.out, what: 'the tuning cache' }], inputs);
    if (clobber.length) return fail(clobber, opts);
  }

  const { compile } = await import('../api/compile.js');
  const r = await compile(config, {
    ...(opts.stage !== undefined ? { stage: opts.stage } : {}),
    ...(opts.shape !== undefined ? { shapes: opts.shape } : {}),
    ...(opts.like !== undefined ? { like: opts.like } : {}),
    ...(wg !== undefined ? { workgroupSize: wg } : {}),
    specs: opts.spec ?? [],
    glue: false,
  });
  const ds: Diagnostic[] = [...r.diagnostics];
  // --stage naming no stage, --shape a tensor the config does not read: usage errors, as in tdc compile
  if ((opts.stage !== undefined && ds.some((d) => d.code === UNKNOWN_STAGE)) || (opts.shape !== undefined && ds.some((d) => d.code === UNREAD_SHAPE))) return usageError('tune', ds, opts);
  if (!r.ok || hasErrors(ds)) return fail(ds, opts);
  // a --size naming no symbol of the plans (a misspelt or lower-case name) would be recorded and the real one left unset
  const symbols = [...new Set(r.stages.flatMap((s) => s.plan.symbols))];
  const unknown = Object.keys(sizes).filter((k) => !symbols.includes(k));
  if (unknown.length)
    return usageError('tune', unknown.map((k) => {
      // symbols are mostly one letter, each within an edit of any other: only a case slip, or a longer name's typo
      const near = symbols.find((s) => s.toLowerCase() === k.toLowerCase()) ?? (k.length > 2 ? closest(k, symbols) : undefined);
      const known = symbols.length ? `the plan's symbols are ${symbols.join(', ')}` : 'the plan has no size symbols (every size is fixed)';
      return diag('error', 'TDC680', `--size ${k}: no stage's plan has a size symbol '${k}'`, undefined, { hint: near !== undefined ? `did you mean '${near}'? ${known}` : known });
    }), opts);

  // symbol values: the sample's shapes bind what they can; --size gives (or overrides) the rest. Its header only,
  // as compile read it (a pipe, read once, gives the same header again; the data is never needed)
  const sample = opts.like !== undefined ? readSafetensorsHeader(opts.like) : undefined;
  const file = opts.out ?? defaultTuningPath();
  if (file === undefined) return fail([...ds, diag('error', 'TDC681', 'no tuning cache path: TDC_TUNING_CACHE is off and neither XDG_CACHE_HOME nor HOME is set', undefined, { hint: 'name a file with -o' })], opts);
  let cache = emptyTuningCache();
  try {
    const parsed = parseTuningCache(JSON.parse(readFileSync(file, 'utf8')) as unknown);
    if ('problem' in parsed) return fail([...ds, diag('error', 'TDC681', `${file} exists and is not a tdc tuning cache (${parsed.problem}); not overwritten`, undefined, { hint: 'remove it or name another file with -o' })], opts);
    cache = parsed;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return fail([...ds, diag('error', 'TDC681', `${file} cannot be read as a tuning cache: ${(e as Error).message}; not overwritten`, undefined, { hint: 'remove it or name another file with -o' })], opts);
  }

  // the sizes each stage is measured at: every symbol of its inputs needs one, known before any GPU work
  const envs = r.stages.map(({ plan }) => {
    const env: Record<string, number> = {};
    if (sample) {
      const shapes = new Map(plan.inputs.map((i) => [i.name, sample.get(i.name)?.shape ?? []]));
      const bound = bindSymbols(plan.inputs, shapes, plan.symbols, plan.equalDims ?? []);
      for (const s of plan.symbols) if (bound.env[s] !== undefined) env[s] = bound.env[s]!;
    }
    return Object.assign(env, sizes);
  });
  const unsized = r.stages.flatMap(({ stage, plan }, i) => {
    const missing = tuneSymbols(plan).filter((s) => envs[i]![s] === undefined);
    if (!missing.length) return [];
    const from = sample ? `; --like's sample binds ${Object.keys(envs[i]!).join(', ') || 'none of them'}` : '';
    return [diag('error', 'TDC680', `stage ${stage}: tuning needs a value for every input size symbol: missing ${missing.join(', ')}${from}`, undefined, { hint: `give them with --size (e.g. ${missing.map((m) => `--size ${m}=64`).join(' ')}) or --like a sample of the inputs` })];
  });
  if (unsized.length) return usageError('tune', [...ds, ...unsized], opts);

  const rt = await GpuRuntime.open({ tuning: false }).catch((e: unknown) => e as Error);
  if (rt instanceof Error) {
    // an option the runtime refuses (TDC_WEBGPU_TIMEOUT_MS='abc': TDC528) is reported as `tdc run` reports it
    if (rt instanceof TdcRuntimeError && !(rt instanceof NoWebGpuAdapterError)) return fail([...ds, runtimeDiagnostic(rt)], opts);
    const hint = [rt instanceof TdcRuntimeError ? rt.hint : undefined, 'run `tdc doctor`'].filter(Boolean).join('; ');
    return fail([...ds, diag('error', 'TDC683', `no GPU to tune on: ${rt.message}`, undefined, { hint })], opts);
  }
  const start = performance.now();
  let current = '';
  try {
    for (const [i, { stage, plan }] of r.stages.entries()) {
      current = stage;
      const env = envs[i]!;
      const left = budgetS * 1000 - (performance.now() - start);
      process.stderr.write(`tuning stage ${stage} on ${rt.describe()} at ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(', ') || 'fixed sizes'}\n`);
      const result = await tunePlan(rt, plan, {
        sizes: env,
        runs,
        ...(candidates ? { candidates } : {}),
        budgetMs: Math.max(0, left),
        onProgress: (line) => process.stderr.write(`  ${line}\n`),
        stage,
        config: r.config,
        tdc: VERSION,
      });
      if (result.skipped.length)
        ds.push(diag('warning', 'TDC682', `stage ${stage}: the --budget of ${budgetS} s ran out; ${result.skipped.join(', ')} keep their defaults`, undefined, { hint: 'raise --budget' }));
      cache = withEntry(cache, result.entry);
      for (const x of result.report) process.stdout.write(`${stage}.${x.kernel}: ${describeOutcome(x)}\n`);
    }
  } catch (e) {
    // the runtime's own errors keep their codes, as `tdc run` reports them (sizes the device cannot hold: TDC524;
    // a lost device TDC521, a validation error TDC522, a timeout TDC523, …); anything else is a bug, reported as one
    if (e instanceof TdcRuntimeError) return fail([...ds, runtimeDiagnostic(e, `tuning stage ${current}: `)], opts);
    throw e;
  } finally {
    rt.destroy();
  }
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch {
    // writeFileAtomic reports the problem
  }
  const w = writeFileAtomic(file, JSON.stringify(cache, null, 2) + '\n', 'the tuning cache');
  if (w) return fail([...ds, w], opts);
  process.stdout.write(`wrote ${file}\n`);
  await printDiagnostics(ds, opts);
  return exitCodeFor(ds);
}

/** A runtime error as a diagnostic with its own code and hint; `context` goes before its message. */
function runtimeDiagnostic(e: { code: string; message: string; hint: string | undefined }, context = ''): Diagnostic {
  return diag('error', e.code, `${context}${e.message}`, undefined, e.hint !== undefined ? { hint: e.hint } : {});
}

async function fail(ds: Diagnostic[], opts: GlobalOptions): Promise<number> {
  await printDiagnostics(ds, opts);
  const code = exitCodeFor(ds);
  return code === ExitCode.ok ? ExitCode.failed : code;
}
