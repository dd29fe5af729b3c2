// Printing plain data as TypeScript source: object literals, property keys, template-literal strings.
import { tsString } from '../escape.js';

/** Source text placed verbatim inside a printed literal (e.g. a reference to a constant). */
export class RawCode {
  constructor(readonly text: string) {}
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A property key: bare when it is an identifier, else single-quoted. */
export function propKey(name: string): string {
  return IDENT.test(name) ? name : singleQuoted(name);
}

/** A single-quoted string literal (escaping: ../escape.ts). */
export const singleQuoted = tsString;

/** A template literal holding `s` exactly. */
export function templateLiteral(s: string): string {
  return '`' + s.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${') + '`';
}

/** `v` as a TypeScript expression, 2-space indented from `indent`; anything that fits in `width` stays on one line. */
export function tsLiteral(v: unknown, indent = '', width = 100): string {
  if (v instanceof RawCode) return v.text;
  if (typeof v === 'string') return singleQuoted(v);
  if (typeof v === 'number') return Object.is(v, -0) ? '0' : String(v);
  if (typeof v === 'boolean' || v === null) return String(v);
  if (v === undefined) return 'undefined';
  const flat = oneLineLiteral(v);
  if (flat !== undefined && indent.length + flat.length <= width) return flat;
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((x) => `${inner}${tsLiteral(x, inner, width)},`).join('\n')}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, x]) => `${inner}${propKey(k)}: ${tsLiteral(x, inner, width)},`).join('\n')}\n${indent}}`;
}

/** Single-line form, or undefined when `v` holds a multi-line string or raw code with newlines. */
function oneLineLiteral(v: unknown): string | undefined {
  if (v instanceof RawCode) return v.text.includes('\n') ? undefined : v.text;
  if (typeof v === 'string') return v.includes('\n') ? undefined : singleQuoted(v);
  if (v === null || typeof v !== 'object') return tsLiteral(v);
  const parts: string[] = [];
  if (Array.isArray(v)) {
    for (const x of v) {
      const p = oneLineLiteral(x);
      if (p === undefined) return undefined;
      parts.push(p);
    }
    return `[${parts.join(', ')}]`;
  }
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined) continue;
    const p = oneLineLiteral(x);
    if (p === undefined) return undefined;
    parts.push(`${propKey(k)}: ${p}`);
  }
  return parts.length ? `{ ${parts.join(', ')} }` : '{}';
}

/** PascalCase identifier stem of a stage name: 'train' → 'Train', 'stage_1' → 'Stage1', '2nd' → 'Stage2nd'. */
export function pascalStem(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const s = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return s === '' || /^[0-9]/.test(s) ? `Stage${s}` : s;
}

/** UPPER_SNAKE identifier: 'k0_row_kd-ce' → 'K0_ROW_KD_CE'. */
export function upperSnake(name: string): string {
  const s = name.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '').toUpperCase();
  return s === '' || /^[0-9]/.test(s) ? `_${s}` : s;
}
