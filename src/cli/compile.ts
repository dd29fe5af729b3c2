// tdc compile: config → out/ (kernels/*.wgsl, <name>.ts glue, manifest.json), written atomically.
// Input shapes: symbolic by default (batch N, class/channel C: rank-2 io tensors [N, C], targets [N],
// model losses []); `--like io.safetensors` takes ranks and sizes from a sample (batch dim made symbolic);
// `--shape name=NxCx7x7` pins one input (letters are symbols, numbers are sizes).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import pc from 'picocolors';
import { diag, DiagnosticError, hasErrors, type Diagnostic } from '../diagnostics/index.js';
import type { StageIR } from '../compiler/ir.js';
import { tensorName } from '../compiler/ir.js';
import type { DType, Dim, Shape } from '../graph/types.js';
import type { KernelPlan } from '../compiler/schedule/plan.js';
import { dimToString as dimText } from '../graph/dims.js';
import { readSafetensors } from '../runtime/safetensors.js';
import { VERSION } from '../version.js';
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

type InputShapes = Map<string, { shape: Shape; dtype: DType }>;

export async function compileCommand(config: string, opts: CompileOptions): Promise<number> {
  const ds: Diagnostic[] = [...(await loadUserSpecs(opts))];
  const fail = async (more: Diagnostic[] = []): Promise<number> => {
    await printDiagnostics([...ds, ...more], opts);
    return 1;
  };
  const wg = opts.workgroupSize === undefined ? 8 : Number(opts.workgroupSize);
  if (!Number.isInteger(wg) || wg < 1 || wg > 1024) return fail([diag('error', 'TDC602', `--workgroup-size must be an integer in 1..1024, got '${opts.workgroupSize}'`)]);

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

  const { instantiateStage } = await import('../compiler/instantiate/index.js');
  const { schedule } = await import('../compiler/schedule/index.js');
  const plans: { stage: string; plan: KernelPlan }[] = [];
  for (const stage of stages) {
    const shapes = inputShapes(stage, pinned);
    const inst = instantiateStage(stage, (name) => shapes.get(name), { modelLossKeys: modelLossKeys(stage, pinned) });
    ds.push(...inst.diagnostics);
    if (!inst.graph || hasErrors(inst.diagnostics)) {
      ds.push(diag('note', 'TDC610', `stage '${stage.name}' was instantiated with input shapes ${[...shapes].map(([n, s]) => `${n}=${shapeText(s.shape)}`).join(', ')}`, undefined, {
        hint: 'pin the real shapes with --shape name=NxCxHxW or --like io.safetensors',
      }));
      return fail();
    }
    try {
      plans.push({ stage: stage.name, plan: schedule(inst.graph, { workgroupSize: wg }) });
    } catch (e) {
      if (e instanceof DiagnosticError) return fail([e.diagnostic]);
      throw e;
    }
  }

  const { buildManifest, kernelFile } = await import('../codegen/manifest.js');
  const files = new Map<string, string>();
  for (const { stage, plan } of plans) for (const k of plan.kernels) files.set(kernelFile(stage, k.name), k.wgsl);
  files.set('manifest.json', buildManifest(plans, { configFile: config, tdcVersion: VERSION }));
  const moduleName = opts.name ?? moduleNameOf(config);
  if (opts.glue !== false) {
    const { emitGlue } = await import('../codegen/glue/index.js');
    files.set(`${moduleName}.ts`, await emitGlue(plans, { moduleName, configFile: config, tdcVersion: VERSION }));
  }
  const { writeOutDir } = await import('../codegen/out-writer.js');
  const wd = await writeOutDir(opts.out, files);
  ds.push(...wd);
  await printDiagnostics(ds.filter((d) => d.severity !== 'note'), opts);
  if (hasErrors(wd)) return 1;

  if (opts.explain) process.stdout.write(explain(plans, useColor(opts)));
  const nk = plans.reduce((a, p) => a + p.plan.kernels.length, 0);
  process.stdout.write(`wrote ${opts.out}: ${nk} kernel${nk === 1 ? '' : 's'} in ${plans.length} stage${plans.length === 1 ? '' : 's'}, manifest.json${opts.glue !== false ? `, ${moduleName}.ts` : ''}\n`);
  return 0;
}

function moduleNameOf(config: string): string {
  const stem = basename(config).replace(/\.ya?ml$/i, '').replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(stem) ? stem : `config_${stem}`;
}

function shapeText(s: Shape): string {
  return `[${s.map((d) => (typeof d === 'number' ? String(d) : 'sym' in d ? d.sym : '…')).join(', ')}]`;
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
      const batch = tensors.get('targets')?.shape[0];
      for (const [name, t] of tensors) {
        if (name.startsWith('grad/') || name.startsWith('state_out/')) continue;
        const shape: Shape = [...t.shape];
        if (batch !== undefined && shape.length > 0 && shape[0] === batch && !name.startsWith('model_loss/')) shape[0] = { sym: 'N' };
        pinned.set(name, { shape, dtype: t.dtype === 'I64' || t.dtype === 'I32' ? 'int' : 'float' });
      }
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

/** The shape each input of the stage is compiled for: pinned, else the symbolic default. */
function inputShapes(stage: StageIR, pinned: InputShapes): InputShapes {
  const out: InputShapes = new Map(pinned);
  for (const t of stage.terms)
    for (const ref of t.reads) {
      const name = tensorName(ref);
      if (out.has(name)) continue;
      if (ref.kind === 'targets') out.set(name, { shape: [{ sym: 'N' }], dtype: 'int' });
      else if (ref.kind === 'model_loss') out.set(name, { shape: [], dtype: 'float' });
      else out.set(name, { shape: [{ sym: 'N' }, { sym: 'C' }], dtype: 'float' });
    }
  if (!out.has('targets')) out.set('targets', { shape: [{ sym: 'N' }], dtype: 'int' });
  return out;
}

function modelLossKeys(stage: StageIR, pinned: InputShapes): string[] {
  if (!stage.modelTerm) return [];
  const given = [...pinned.keys()].filter((n) => n.startsWith('model_loss/')).map((n) => n.slice('model_loss/'.length));
  if (given.length) return given;
  const w = stage.modelTerm.weight;
  return typeof w === 'object' ? Object.keys(w) : ['loss'];
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
