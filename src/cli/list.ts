// tdc list: every registered loss, wrapper and extract function with its signature.
import pc from 'picocolors';
import type { Literal, TypeExpr } from '../../grammar/ast.js';
import { loadUserSpecs, printDiagnostics, useColor, type GlobalOptions } from './output.js';

export function typeText(t: TypeExpr): string {
  switch (t.kind) {
    case 'prim':
      return t.name;
    case 'literals':
      return t.values.map((v) => JSON.stringify(v)).join(' | ');
    case 'optional':
      return `${t.inner.kind === 'literals' ? `(${typeText(t.inner)})` : typeText(t.inner)}?`;
    case 'list':
      return `list<${typeText(t.elem)}>`;
    case 'map':
      return `map<${typeText(t.value)}>`;
    case 'named':
      return t.name;
  }
}

export function literalText(l: Literal): string {
  switch (l.kind) {
    case 'none':
      return 'none';
    case 'bool':
      return String(l.value);
    case 'number':
      return String(l.value);
    case 'string':
      return JSON.stringify(l.value);
    case 'list':
      return `[${l.items.map(literalText).join(', ')}]`;
    case 'map':
      return `{${l.entries.map((e) => `${e.key}: ${literalText(e.value)}`).join(', ')}}`;
  }
}

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
      params: e.decl.params.map((p) => ({ name: p.name, type: typeText(p.type), required: p.default === undefined, ...(p.default ? { default: literalText(p.default) } : {}) })),
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
        const params = e.decl.params.map((p) => `${p.name}: ${typeText(p.type)}${p.default ? ` = ${literalText(p.default)}` : ''}`);
        if (e.decl.rest) params.push(`**${e.decl.rest.name}${e.decl.rest.forwardTo ? `: ${e.decl.rest.forwardTo}` : ''}`);
        const call = e.decl.callParams.length ? `(${e.decl.callParams.map((p) => p.name).join(', ')})` : '';
        process.stdout.write(`  ${c.cyan(e.key)}(${params.join(', ')})${call}${e.builtin ? '' : c.gray('  [custom]')}\n`);
      }
      process.stdout.write('\n');
    }
  }
  await printDiagnostics(ds, opts);
  return ds.some((d) => d.severity === 'error') ? 1 : 0;
}
