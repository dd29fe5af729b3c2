// tdc run: evaluate one stage's criterion on tensors from a safetensors file (CPU float64 or GPU float32).
// Results on stdout (text, or --json), diagnostics on stderr. Non-finite results are printed as they are
// (NaN, Infinity; null in JSON) and named: a TDC504 warning, and "nonfinite" in the JSON.
import { readFileSync, statSync } from 'node:fs';
import { diag, hasErrors, type Diagnostic } from '../diagnostics/index.js';
import { fsReadErrorText } from '../diagnostics/fs-error-text.js';
import { readAtMost } from '../compiler/load/read-at-most.js';
import { pickStage, STAGE_NEEDED, UNKNOWN_STAGE } from '../compiler/driver/pick-stage.js';
import { ExitCode, exitCodeFor } from './exit-code.js';
import { diagnosticJson, loadUserSpecs, printDiagnostics, usageError, useColor, type GlobalOptions } from './output.js';
import { explainRun, planJson } from './explain-plan.js';
import { overwritesInput, writeFileAtomic } from './write-file.js';
import { parseWorkgroupSize } from './workgroup-size.js';
import { WORKGROUP_SIZE_RANGE } from '../compiler/schedule/workgroup.js';

export interface RunOptions extends GlobalOptions {
  inputs: string;
  stage?: string;
  device: 'auto' | 'cpu' | 'gpu';
  gradsOut?: string;
  /** Write stateful terms' updated buffers as state_out/<term>/<buffer>. */
  stateOut?: string;
  /** GPU: row/serial kernels' workgroup size, set at pipeline creation (text from the command line). */
  workgroupSize?: string;
  /** GPU: which of the stage's plans runs ('auto': the variant the device allows, as the compiled glue chooses). */
  planVariant?: 'auto' | 'default';
  /** Print the plan that ran (GPU: which variant and why; its kernels) and the time of each step. */
  explain?: boolean;
}

export async function runCommand(config: string, opts: RunOptions): Promise<number> {
  // the GPU path's runtime entry, loaded before any file is looked at: Node 20 resolves a package import made after a
  // file-system call on a pipe (`--inputs <(…)`, /dev/stdin) through tdc-runtime's workspace symlink without
  // following it, a second copy of the runtime whose classes fail every instanceof (an internal error)
  if (opts.device !== 'cpu') await import('tdc-runtime/node');
  const wg = parseWorkgroupSize(opts.workgroupSize, 'run');
  if (typeof wg === 'object') return usageError('run', [wg], opts);
  // an output file that is the config, the inputs or a spec file would destroy it: refused before anything runs
  const clobber = overwritesInput(
    [...(opts.gradsOut ? [{ path: opts.gradsOut, what: 'gradients' }] : []), ...(opts.stateOut ? [{ path: opts.stateOut, what: 'state' }] : [])],
    [{ path: config, what: 'the config' }, { path: opts.inputs, what: 'the --inputs file' }, ...(opts.spec ?? []).map((s) => ({ path: s, what: 'a --spec file' }))],
  );
  if (clobber.length) return fail(clobber, opts);
  const ds: Diagnostic[] = [...(await loadUserSpecs(opts))];
  if (hasErrors(ds)) return fail(ds, opts); // an unusable spec file: its losses would only show up as unknown
  const { checkFile } = await import('../compiler/driver/check.js');
  const r = checkFile(config);
  ds.push(...r.diagnostics);
  if (hasErrors(ds) || !r.ir) return fail(ds, opts);
  const stage = pickStage(r.ir.stages, opts.stage);
  if ('code' in stage) {
    // --stage naming no stage, or no --stage where one is needed: the command line is wrong (exit 2)
    if (stage.code === UNKNOWN_STAGE || stage.code === STAGE_NEEDED) return usageError('run', [...ds, stage], opts);
    return fail([...ds, stage], opts);
  }


  const { readSafetensors, SafetensorsError } = await import('tdc-runtime');
  let tensors;
  try {
    // a device (/dev/zero, /dev/urandom) would be read without end; a FIFO (`--inputs <(…)`) is read as a file
    const st = statSync(opts.inputs);
    if (st.isCharacterDevice() || st.isBlockDevice()) return fail([...ds, diag('error', 'TDC501', `cannot read inputs '${opts.inputs}': it is a device, not a safetensors file`)], opts);
    // a file: no more than its size says (a file the kernel makes, /proc/self/pagemap, says 0 and holds gigabytes)
    const bytes = st.isFile() ? readAtMost(opts.inputs, st.size + 1) : readFileSync(opts.inputs);
    if (st.isFile() && bytes.length > st.size)
      return fail([...ds, diag('error', 'TDC501', `cannot read inputs '${opts.inputs}': it holds more than its size (${st.size} bytes) says: a special file (as under /proc), not a safetensors file`)], opts);
    tensors = readSafetensors(new Uint8Array(bytes)).tensors;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const msg = e instanceof Error ? e.message : String(e);
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : e instanceof SafetensorsError ? `not a valid safetensors file: ${msg}` : code ? fsReadErrorText(e) : msg;
    return fail([...ds, diag('error', 'TDC501', `cannot read inputs '${opts.inputs}': ${why}`)], opts);
  }

  const { runStage } = await import('../compiler/driver/run.js'); // device choice and GPU→CPU fallback live there
  const run = await runStage(stage, tensors, {
    device: opts.device,
    file: config,
    ...(wg !== undefined ? { workgroupSize: wg } : {}),
    ...(opts.planVariant !== undefined ? { planVariant: opts.planVariant } : {}),
  });
  ds.push(...run.diagnostics);
  // a --workgroup-size above the adapter's limit (known once it is open): the command line is wrong (exit 2)
  if (wg !== undefined && run.diagnostics.some((d) => d.code === WORKGROUP_SIZE_RANGE)) return usageError('run', ds, opts);
  const result = run.result;
  if (hasErrors(run.diagnostics) || !result) return fail(ds, opts);

  if (opts.gradsOut) {
    const w = await writeTensors(opts.gradsOut, 'gradients', [...result.grads].map(([name, t]) => [`grad/${name}`, t]));
    if (w) return fail([...ds, w], opts);
  }
  if (opts.stateOut) {
    if (!result.state?.size) ds.push(diag('warning', 'TDC513', `this stage has no stateful loss; '${opts.stateOut}' holds no tensors`));
    const w = await writeTensors(opts.stateOut, 'state', [...(result.state ?? [])]);
    if (w) return fail([...ds, w], opts);
  }

  await printDiagnostics(ds.filter((d) => d.severity !== 'note' || opts.device === 'auto'), opts);
  if (opts.json) {
    const state = result.state?.size ? { state: [...result.state.keys()] } : {};
    const nonfinite = result.nonfinite.length ? { nonfinite: result.nonfinite } : {};
    const plan = opts.explain && result.gpu ? { plan: planJson(result.gpu) } : {};
    // NaN and ±Inf are null in JSON; "nonfinite" says which parts and what they were
    process.stdout.write(JSON.stringify({ ok: true, loss: result.loss, terms: result.terms, grads: [...result.grads.keys()], ...state, ...nonfinite, ...plan }) + '\n');
  } else {
    process.stdout.write(`stage ${stage.name} on ${result.device}\nloss = ${result.loss}\n`);
    for (const [name, t] of Object.entries(result.terms)) process.stdout.write(`  ${name}: ${t.weight} × ${t.value}\n`);
    if (result.grads.size) process.stdout.write(`gradients: ${[...result.grads.keys()].join(', ')}${opts.gradsOut ? ` → ${opts.gradsOut}` : ''}\n`);
    if (result.state?.size) process.stdout.write(`state: ${[...result.state.keys()].join(', ')}${opts.stateOut ? ` → ${opts.stateOut}` : ''}\n`);
    if (opts.explain && result.gpu) {
      // the GPU ran: tdc-runtime/node is loaded, and its runtime looked for the cache at the default path
      const { defaultTuningPath } = await import('tdc-runtime/node');
      process.stdout.write(explainRun(stage.name, result.gpu, useColor(opts), defaultTuningPath()));
    } else if (opts.explain) process.stdout.write('plan: the float64 CPU executor (no kernels)\n');
  }
  return exitCodeFor(ds);
}

/** Named tensors as one safetensors file, written atomically; a diagnostic when the file cannot be written. */
async function writeTensors(file: string, what: string, tensors: [string, { shape: number[]; data: Float64Array | Float32Array }][]): Promise<Diagnostic | undefined> {
  const { writeSafetensors } = await import('tdc-runtime');
  const entries = tensors.map(([name, t]) => [name, { dtype: t.data instanceof Float32Array ? 'F32' : 'F64', shape: t.shape, data: t.data }]);
  return writeFileAtomic(file, writeSafetensors(entries as never), what);
}

/** The input has errors: diagnostics on stderr as always, and with --json a document on stdout saying so. */
async function fail(ds: Diagnostic[], opts: GlobalOptions): Promise<number> {
  if (opts.json) process.stdout.write(JSON.stringify({ ok: false, diagnostics: ds.map(diagnosticJson) }) + '\n');
  await printDiagnostics(ds, opts);
  const code = exitCodeFor(ds);
  return code === ExitCode.ok ? ExitCode.failed : code;
}
