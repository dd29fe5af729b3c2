// tdc compile: config → out/ (kernels/*.wgsl, <name>.ts glue, manifest.json), written atomically.
// Input shapes: symbolic by default (batch N, class/channel C: rank-2 io tensors [N, C], targets [N],
// model losses []); `--like io.safetensors` takes ranks and sizes from a sample (batch dim made symbolic);
// `--shape name=NxCx7x7` pins one input (letters are symbols, numbers are sizes).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import pc from 'picocolors';
import { diag, hasErrors, type Diagnostic } from '../diagnostics/index.js';
import { sampleInputShapes, type InputShapes } from '../compiler/compile.js';
import type { Dim, Shape } from '../graph/types.js';
import type { KernelPlan } from '../compiler/schedule/plan.js';
import { dimToString as dimText } from '../graph/dims.js';
import { readSafetensors } from 'tdc-runtime';
import { loadUserSpecs, printDiagnostics, useColor, type GlobalOptions } from './output.js';
import { pickStage } from './run.js';

export interface CompileOptions extends GlobalOptions {
  out: string;
  stage?: string;
  name?: string;
  workgroupSize?: string;
  shape?: string[];
  like?: string;
  glue?: boolean;
  explain?: boolean;
}

export async function compileCommand(config: string, opts: CompileOptions): Promise<number> {
  const ds: Diagnostic[] = [...(await loadUserSpecs(opts))];
  const fail = async (more: Diagnostic[] = []): Promise<number> => {
    await printDiagnostics([...ds, ...more], opts);
    return 1;
  };
  const wg = opts.workgroupSize === undefined ? 8 : Number(opts.workgroupSize);
  if (!Number.isInteger(wg) || wg < 1 || wg > 1024) return fail([diag('error', 'TDC602', `--workgroup-size must be an integer in 1..1024, got '${opts.workgroupSize}'`)]);

  const { guardOutDir, checkReplaceable } = await import('../codegen/out-writer.js');
  const refused = guardOutDir(opts.out, { protect: protectedPaths(config, opts) });
  if (!refused.length) refused.push(...(await checkReplaceable(opts.out)));
  if (refused.length) return fail(refused);

  const { checkFile } = await import('../compiler/resolve/index.js');
  const r = checkFile(config);
  ds.push(...r.diagnostics);
  if (hasErrors(ds) || !r.ir) return fail();
  let stages = r.ir.stages;
  if (opts.stage !== undefined) {
    const s = pickStage(stages, opts.stage);
    if ('code' in s) return fail([s]);
    stages = [s];
  }
  if (!stages.length) return fail([diag('error', 'TDC903', 'this config has no training stage with a criterion')]);

  const pinned = parseShapeOptions(opts, ds);
  if (hasErrors(ds)) return fail();

  const moduleName = opts.name ?? moduleNameOf(config);
  if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,99}$/.test(moduleName))
    return fail([diag('error', 'TDC612', `--name '${moduleName}': expected a file stem of letters, digits, '_', '.' and '-' (starting with a letter or '_')`)]);
  const { compileStages } = await import('../compiler/compile.js');
  const c = await compileStages(stages, { configFile: config, moduleName, workgroupSize: wg, shapes: pinned, glue: opts.glue });
  ds.push(...c.diagnostics);
  if (!c.files || hasErrors(c.diagnostics)) return fail();
  const plans = c.stages;
  const files = c.files;
  const { writeOutDir } = await import('../codegen/out-writer.js');
  const wd = await writeOutDir(opts.out, files, { protect: protectedPaths(config, opts) });
  ds.push(...wd);
  await printDiagnostics(ds.filter((d) => d.severity !== 'note'), opts);
  if (hasErrors(wd)) return 1;

  if (opts.explain) process.stdout.write(explain(plans, useColor(opts)));
  const nk = plans.reduce((a, p) => a + p.plan.kernels.length, 0);
  process.stdout.write(`wrote ${opts.out}: ${nk} kernel${nk === 1 ? '' : 's'} in ${plans.length} stage${plans.length === 1 ? '' : 's'}, manifest.json${opts.glue !== false ? `, ${moduleName}.ts` : ''}\n`);
  return 0;
}

/** Inputs of the compile that out/ must never replace (nor any directory holding them). */
function protectedPaths(config: string, opts: CompileOptions): string[] {
  return [config, ...(opts.spec ?? []), ...(opts.like ? [opts.like] : [])];
}

function moduleNameOf(config: string): string {
  const stem = basename(config).replace(/\.ya?ml$/i, '').replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(stem) ? stem : `config_${stem}`;
}

function parseDims(text: string): Shape | undefined {
  if (text.trim() === '' || text === '[]') return [];
  const parts = text.split(/[x×,]/);
  const out: Dim[] = [];
  for (const p of parts) {
    const t = p.trim();
    if (/^\d+$/.test(t)) out.push(Number(t));
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(t)) out.push({ sym: t });
    else return undefined;
  }
  return out;
}

/** --like and --shape: name → pinned shape. */
function parseShapeOptions(opts: CompileOptions, ds: Diagnostic[]): InputShapes {
  const pinned: InputShapes = new Map();
  if (opts.like) {
    try {
      const { tensors } = readSafetensors(new Uint8Array(readFileSync(opts.like)));
      for (const [name, t] of sampleInputShapes(tensors)) pinned.set(name, t);
    } catch (e) {
      ds.push(diag('error', 'TDC501', `cannot read --like '${opts.like}': ${e instanceof Error ? e.message : String(e)}`));
    }
  }
  for (const s of opts.shape ?? []) {
    const eq = s.lastIndexOf('=');
    const dims = eq > 0 ? parseDims(s.slice(eq + 1)) : undefined;
    if (!dims) {
      ds.push(diag('error', 'TDC611', `--shape '${s}': expected name=dims, e.g. student/layer4/output=Nx512x7x7`));
      continue;
    }
    const name = s.slice(0, eq);
    pinned.set(name, { shape: dims, dtype: name === 'targets' ? 'int' : pinned.get(name)?.dtype ?? 'float' });
  }
  return pinned;
}

function explain(plans: { stage: string; plan: KernelPlan }[], color: boolean): string {
  const c = pc.createColors(color);
  const dim = (d: Dim): string => (typeof d === 'number' ? String(d) : dimText(d));
  const lines: string[] = [];
  for (const { stage, plan } of plans) {
    lines.push(c.bold(`stage ${stage}`) + c.gray(`  workgroup size ${plan.workgroupSize}; symbols ${plan.symbols.join(', ') || '(none)'}`));
    lines.push(`  inputs: ${plan.inputs.map((i) => `${i.name} ${dtypeText(i.dtype)}[${i.shape.map(dim).join(', ')}]`).join(', ')}`);
    plan.kernels.forEach((k, i) => {
      lines.push(`  ${c.cyan(`#${i} ${k.name}`)}  dispatch (${k.dispatch.map(dim).join(', ')})  reads ${dim(k.bytesRead)} B, writes ${dim(k.bytesWritten)} B`);
      lines.push(`      ${k.summary}${k.terms.length ? c.gray(`  [terms: ${k.terms.join(', ')}]`) : ''}`);
    });
    lines.push(`  outputs: loss + ${plan.outputs.scalars.terms.length} term${plan.outputs.scalars.terms.length === 1 ? '' : 's'}; gradients: ${plan.outputs.grads.map((g) => g.input).join(', ') || '(none)'}`);
  }
  return lines.join('\n') + '\n';
}

const dtypeText = (d: 'float' | 'int'): string => (d === 'float' ? 'f32' : 'i32');
