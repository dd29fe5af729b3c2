// tdc inspect: the criterion IR of one config, as text or JSON.
import pc from 'picocolors';
import { isInternalError } from '../diagnostics/index.js';
import { exitCodeFor } from './exit-code.js';
import { tensorName, type StageIR } from '../compiler/ir.js';
import { diagnosticJson, loadUserSpecs, printDiagnostics, useColor, withoutSpecFollowOns, type GlobalOptions } from './output.js';

function bindingsJson(b: StageIR['terms'][number]['bindings']): Record<string, unknown> {
  if (!b) return {};
  return {
    ...(b.input ? { input: tensorName(b.input) } : {}),
    ...(b.target ? { target: b.target.kind === 'targets' ? 'targets (labels)' : tensorName(b.target) } : {}),
    ...(b.weights ? { weights: b.weights } : {}),
  };
}

function stageJson(s: StageIR): Record<string, unknown> {
  return {
    name: s.name,
    schema: s.schema,
    box: s.box,
    trainable: s.trainable,
    hooks: s.hooks,
    criterion: s.criterionKey,
    ...(s.criterionKwargs ? { criterion_kwargs: s.criterionKwargs } : {}),
    ...(s.modelTerm ? { model_term: { weight: s.modelTerm.weight, func2extract_model_loss: s.modelTerm.func2extract } } : {}),
    terms: s.terms.map((t) => ({
      name: t.name,
      key: t.criterion.key,
      level: t.criterion.level,
      weight: t.weight,
      kwargs: t.criterion.kwargs,
      ...(t.wrapper ? { wrapper: { key: t.wrapper.key, kwargs: t.wrapper.kwargs, ...bindingsJson(t.bindings) } } : {}),
      reads: t.reads.map(tensorName),
    })),
  };
}

export async function inspectCommand(file: string, opts: GlobalOptions): Promise<number> {
  const specDiags = await loadUserSpecs(opts);
  const { checkFile } = await import('../compiler/driver/check.js');
  const r = checkFile(file);
  const ds = [...specDiags, ...withoutSpecFollowOns(specDiags, r.diagnostics)];
  if (opts.json) {
    const out = { file, stages: (r.ir?.stages ?? []).map(stageJson), diagnostics: ds.map(diagnosticJson) };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    await printDiagnostics(ds.filter(isInternalError), opts); // the rest is in the JSON
    return exitCodeFor(ds);
  }
  await printDiagnostics(ds.filter((d) => d.severity !== 'note'), opts);
  const c = pc.createColors(useColor(opts));
  const lines: string[] = [];
  for (const s of r.ir?.stages ?? []) {
    const tr = [s.trainable.student ? 'student' : '', s.trainable.teacher ? 'teacher' : ''].filter(Boolean).join(' + ') || 'nothing';
    lines.push(`${c.bold(`stage ${s.name}`)}  ${c.gray(`${s.schema} schema, ${s.box} box, gradients for: ${tr}`)}`);
    lines.push(`  criterion: ${s.criterionKey}`);
    // a custom high-level loss's own kwargs (the body reads them; sub_terms and model_term are shown below)
    const ckw = Object.entries(s.criterionKwargs ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    if (ckw.length) lines.push(`      kwargs: ${ckw.join(', ')}`);
    if (s.modelTerm) lines.push(`  model_term: ${JSON.stringify(s.modelTerm.weight)} × ${s.modelTerm.func2extract}(…)`);
    for (const side of ['student', 'teacher'] as const) {
      const h = s.hooks[side];
      if (!h) continue;
      const hooked = [...h.input.map((p) => `${p}/input`), ...h.output.map((p) => `${p}/output`)];
      lines.push(`  ${side === 'student' && s.box === 'training' ? 'model' : side} hooks: ${hooked.length ? hooked.join(', ') : c.gray('(none; ./output always)')}`);
    }
    for (const t of s.terms) {
      lines.push(`  ${c.cyan(t.name)} = ${t.weight} × ${c.bold(t.criterion.key)}${t.wrapper ? ` [${t.wrapper.key}]` : ''}`);
      const kw = Object.entries(t.criterion.kwargs).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      if (kw.length) lines.push(`      kwargs: ${kw.join(', ')}`);
      if (t.bindings) {
        const b = bindingsJson(t.bindings);
        lines.push(`      ${t.wrapper!.key}: ${Object.entries(b).map(([k, v]) => `${k} = ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')}`);
      }
      lines.push(`      reads: ${t.reads.map(tensorName).join(', ') || c.gray('(nothing)')}`);
    }
  }
  if (lines.length) process.stdout.write(lines.join('\n') + '\n');
  return exitCodeFor(ds);
}
