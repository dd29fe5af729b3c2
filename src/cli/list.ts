// tdc list: every registered loss, wrapper and extract function with its signature.
import pc from 'picocolors';
import { renderLiteral, renderType } from '../../grammar/print.js';
import { exitCodeFor } from './exit-code.js';
import { loadUserSpecs, printDiagnostics, useColor, type GlobalOptions } from './output.js';

export async function listCommand(opts: GlobalOptions): Promise<number> {
  const specDiags = await loadUserSpecs(opts);
  const { listRegistry, builtinLoadDiagnostics } = await import('../registry/registry.js');
  const entries = listRegistry();
  const ds = [...builtinLoadDiagnostics(), ...specDiags];
  if (opts.json) {
    const out = entries.map((e) => ({
      key: e.key,
      level: e.level,
      builtin: e.builtin,
      file: e.source.file,
      params: e.decl.params.map((p) => ({ name: p.name, type: renderType(p.type), required: p.default === undefined, ...(p.default ? { default: renderLiteral(p.default) } : {}) })),
      ...(e.decl.rest ? { rest: { name: e.decl.rest.name, forwardTo: e.decl.rest.forwardTo ?? null } } : {}),
      ...(e.decl.callParams.length ? { call: e.decl.callParams.map((p) => p.name) } : {}),
    }));
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } else {
    const c = pc.createColors(useColor(opts));
    const order = ['high', 'wrapper', 'mid', 'low', 'extract'] as const;
    const title = { high: 'High-level losses', wrapper: 'Loss wrappers', mid: 'Mid-level losses', low: 'Low-level losses (torch.nn)', extract: 'func2extract_model_loss functions' };
    for (const level of order) {
      const group = entries.filter((e) => e.level === level);
      if (!group.length) continue;
      process.stdout.write(`${c.bold(title[level])} (${group.length})\n`);
      for (const e of group) {
        const params = e.decl.params.map((p) => `${p.name}: ${renderType(p.type)}${p.default ? ` = ${renderLiteral(p.default)}` : ''}`);
        if (e.decl.rest) params.push(`**${e.decl.rest.name}${e.decl.rest.forwardTo ? `: ${e.decl.rest.forwardTo}` : ''}`);
        const call = e.decl.callParams.length ? `(${e.decl.callParams.map((p) => p.name).join(', ')})` : '';
        process.stdout.write(`  ${c.cyan(e.key)}(${params.join(', ')})${call}${e.builtin ? '' : c.gray('  [custom]')}\n`);
      }
      process.stdout.write('\n');
    }
  }
  await printDiagnostics(ds, opts);
  return exitCodeFor(ds);
}
