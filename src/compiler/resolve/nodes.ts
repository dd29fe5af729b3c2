// Small helpers over the config tree for the resolve stage: describing nodes, building synthetic ones.
import type { Span } from '../../diagnostics/diagnostic.js';
import { keyString, type ConfigNode, type MapEntry, type MapNode, type ScalarNode } from '../load/config-node.js';

/** "a mapping", "a list", "the string 'abc'", "null", ... for "expected X, got Y" messages. */
export function describeNode(n: ConfigNode | undefined): string {
  if (n === undefined) return 'nothing';
  if (n.tag) return `a ${n.tag}-tagged value`;
  switch (n.kind) {
    case 'map':
      return 'a mapping';
    case 'seq':
      return 'a list';
    case 'scalar':
      if (n.value === null) return 'null (an empty value)';
      if (typeof n.value === 'boolean') return `the boolean ${n.source}`;
      if (typeof n.value === 'number') return `the number ${n.source}`;
      return `the string '${n.value}'`;
  }
}

export function entryOf(n: ConfigNode | undefined, key: string): MapEntry | undefined {
  if (!n || n.kind !== 'map') return undefined;
  return n.entries.find((e) => keyString(e) === key);
}

export function scalarString(n: ConfigNode | undefined): string | undefined {
  return n && n.kind === 'scalar' && typeof n.value === 'string' ? n.value : undefined;
}

export function isNullNode(n: ConfigNode | undefined): boolean {
  return n === undefined || (n.kind === 'scalar' && n.value === null);
}

/** YAML 1.1 int as PyYAML reads it (`3`, `-100`, `0x1f`, `1_000`), as opposed to a float (`3.0`, `1.0e-7`). */
export function isIntScalar(n: ScalarNode): boolean {
  if (typeof n.value !== 'number' || !Number.isInteger(n.value)) return false;
  return /^[-+]?(0|[1-9][0-9_]*|0b[01_]+|0x[0-9a-fA-F_]+|0[0-7_]+|[1-9][0-9_]*(:[0-5]?[0-9])+)$/.test(n.source.trim());
}

// ---- synthetic nodes (legacy translation) ------------------------------------------------------------

export function synthScalar(value: null | boolean | number | string, span: Span): ScalarNode {
  return { kind: 'scalar', value, source: typeof value === 'string' ? `'${value}'` : String(value), span };
}

export function synthEntry(key: string, value: ConfigNode, span: Span): MapEntry {
  return { key: synthScalar(key, span), value };
}

export function synthMap(entries: MapEntry[], span: Span): MapNode {
  return { kind: 'map', entries, span };
}

/** A mapping node from plain data, every node spanning `span`. */
export function synthFromPlain(v: unknown, span: Span): ConfigNode {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return synthScalar(v, span);
  if (Array.isArray(v)) return { kind: 'seq', items: v.map((x) => synthFromPlain(x, span)), span };
  return synthMap(
    Object.entries(v as Record<string, unknown>).map(([k, x]) => synthEntry(k, synthFromPlain(x, span), span)),
    span,
  );
}

