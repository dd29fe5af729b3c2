// tdc run: evaluate one stage's criterion on tensors from a safetensors file (CPU float64 or GPU float32).
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { diag, hasErrors, type Diagnostic } from '../diagnostics/index.js';
import type { StageIR } from '../compiler/ir.js';
import { loadUserSpecs, printDiagnostics, type GlobalOptions } from './output.js';

export interface RunOptions extends GlobalOptions {
  inputs: string;
  stage?: string;
  device: 'auto' | 'cpu' | 'gpu';
  gradsOut?: string;
  /** Write stateful terms' updated buffers as state_out/<term>/<buffer>. */
  stateOut?: string;
  /** GPU: row/serial kernels' workgroup size, set at pipeline creation (text from the command line). */
  workgroupSize?: string;
}

export function pickStage(stages: StageIR[], name: string | undefined): StageIR | Diagnostic {
  if (name !== undefined) {
    const s = stages.find((x) => x.name === name);
    return s ?? diag('error', 'TDC902', `no stage '${name}' in this config; it has: ${stages.map((x) => x.name).join(', ') || 'none'}`);
  }
  if (stages.length === 1) return stages[0]!;
  if (stages.length === 0) return diag('error', 'TDC903', 'this config has no training stage with a criterion');
  return diag('error', 'TDC904', `this config has ${stages.length} stages (${stages.map((x) => x.name).join(', ')}); pick one with --stage`);
}

export async function runCommand(config: string, opts: RunOptions): Promise<number> {
  const ds: Diagnostic[] = [...(await loadUserSpecs(opts))];
  if (hasErrors(ds)) return fail(ds, opts); // an unusable spec file: its losses would only show up as unknown
  const { checkFile } = await import('../compiler/driver/check.js');
  const r = checkFile(config);
  ds.push(...r.diagnostics);
  if (hasErrors(ds) || !r.ir) return fail(ds, opts);
  const stage = pickStage(r.ir.stages, opts.stage);
  if ('code' in stage) return fail([...ds, stage], opts);

  const wg = opts.workgroupSize === undefined ? undefined : Number(opts.workgroupSize);
  if (wg !== undefined && (!Number.isInteger(wg) || wg < 1 || wg > 1024))
    return fail([...ds, diag('error', 'TDC602', `--workgroup-size must be an integer in 1..1024, got '${opts.workgroupSize}'`)], opts);

  const { readSafetensors, SafetensorsError } = await import('tdc-runtime');
  let tensors;
  try {
    tensors = readSafetensors(new Uint8Array(readFileSync(opts.inputs))).tensors;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const msg = e instanceof Error ? e.message : String(e);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : e instanceof SafetensorsError ? `not a valid safetensors file: ${msg}` : msg;
    return fail([...ds, diag('error', 'TDC501', `cannot read inputs '${opts.inputs}': ${why}`)], opts);
  }

  const { runStage } = await import('../compiler/driver/run.js'); // device choice and GPU→CPU fallback live there
  const run = await runStage(stage, tensors, { device: opts.device, file: config, ...(wg !== undefined ? { workgroupSize: wg } : {}) });
  ds.push(...run.diagnostics);
  const result = run.result;
  if (hasErrors(run.diagnostics) || !result) return fail(ds, opts);

  if (opts.gradsOut) await writeTensors(opts.gradsOut, [...result.grads].map(([name, t]) => [`grad/${name}`, t]));
  if (opts.stateOut) {
    if (!result.state?.size) ds.push(diag('warning', 'TDC513', `this stage has no stateful loss; '${opts.stateOut}' holds no tensors`));
    await writeTensors(opts.stateOut, [...(result.state ?? [])]);
  }

  await printDiagnostics(ds.filter((d) => d.severity !== 'note' || opts.device === 'auto'), opts);
  if (opts.json) {
    const state = result.state?.size ? { state: [...result.state.keys()] } : {};
    process.stdout.write(JSON.stringify({ loss: result.loss, terms: result.terms, grads: [...result.grads.keys()], ...state }) + '\n');
  } else {
    process.stdout.write(`stage ${stage.name} on ${result.device}\nloss = ${result.loss}\n`);
    for (const [name, t] of Object.entries(result.terms)) process.stdout.write(`  ${name}: ${t.weight} × ${t.value}\n`);
    if (result.grads.size) process.stdout.write(`gradients: ${[...result.grads.keys()].join(', ')}${opts.gradsOut ? ` → ${opts.gradsOut}` : ''}\n`);
    if (result.state?.size) process.stdout.write(`state: ${[...result.state.keys()].join(', ')}${opts.stateOut ? ` → ${opts.stateOut}` : ''}\n`);
  }
  return 0;
}

/** Write named tensors as a safetensors file atomically (temp file in the same directory, then rename). */
async function writeTensors(file: string, tensors: [string, { shape: number[]; data: Float64Array | Float32Array }][]): Promise<void> {
  const { writeSafetensors } = await import('tdc-runtime');
  const entries = tensors.map(([name, t]) => [name, { dtype: t.data instanceof Float32Array ? 'F32' : 'F64', shape: t.shape, data: t.data }]);
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
  writeFileSync(tmp, writeSafetensors(entries as never));
  renameSync(tmp, file);
}

async function fail(ds: Diagnostic[], opts: GlobalOptions): Promise<number> {
  await printDiagnostics(ds, opts);
  return 1;
}
