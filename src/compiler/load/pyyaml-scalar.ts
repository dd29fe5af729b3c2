// Scalar typing as PyYAML's FullLoader does it (YAML 1.1 implicit resolvers + SafeConstructor), and the
// YAML 1.2 core-schema reading of the same plain text, so the loader can warn where the two disagree.
import { pyFloatRepr } from './py-str.js';

/** A constructed Python value. Ints are exact (Python ints are unbounded). */
export type PyValue =
  | { type: 'null' }
  | { type: 'bool'; value: boolean }
  | { type: 'int'; value: bigint }
  | { type: 'float'; value: number }
  | { type: 'str'; value: string };

/** What PyYAML's resolver makes of a plain scalar, constructed. */
export type PyPlain =
  | PyValue
  /** tag:yaml.org,2002:timestamp: a date/datetime in Python; tdc keeps the text. */
  | { type: 'timestamp' }
  /** `<<`: a merge key; only meaningful as a mapping key. */
  | { type: 'merge' }
  /** `=`: tag:yaml.org,2002:value; a string as a key, unconstructible elsewhere. */
  | { type: 'value' }
  /** Resolved to int but Python's int() raises (e.g. `0b_`). */
  | { type: 'error'; message: string };

// PyYAML resolver.py, verbatim patterns (re.X whitespace removed). Tried in this order.
const BOOL_11 = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const FLOAT_11 =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const INT_11 = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const MERGE_11 = /^<<$/;
const NULL_11 = /^(?:~|null|Null|NULL|)$/;
const TIMESTAMP_11 =
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/;
const VALUE_11 = /^=$/;

const BOOL_VALUES: Record<string, boolean> = { yes: true, no: false, true: true, false: false, on: true, off: false };

/** PyYAML's reading of a plain (unquoted, untagged) scalar. */
export function resolvePlain11(s: string): PyPlain {
  if (BOOL_11.test(s)) return { type: 'bool', value: BOOL_VALUES[s.toLowerCase()]! };
  if (FLOAT_11.test(s)) return constructFloat(s);
  if (INT_11.test(s)) return constructInt(s);
  if (MERGE_11.test(s)) return { type: 'merge' };
  if (NULL_11.test(s)) return { type: 'null' };
  if (TIMESTAMP_11.test(s)) return { type: 'timestamp' };
  if (VALUE_11.test(s)) return { type: 'value' };
  return { type: 'str', value: s };
}

/** SafeConstructor.construct_yaml_int: also used for an explicit `!!int`, so it validates like Python's int(). */
export function constructInt(text: string): PyValue | { type: 'error'; message: string } {
  let v = text.replace(/_/g, '').trim();
  const fail = { type: 'error' as const, message: `PyYAML cannot construct an int from '${text}'` };
  if (v === '') return fail;
  const neg = v[0] === '-';
  if (v[0] === '-' || v[0] === '+') v = v.slice(1);
  let n: bigint;
  if (v === '0') n = 0n;
  else if (v.startsWith('0b')) {
    if (!/^[01]+$/.test(v.slice(2))) return fail;
    n = BigInt('0b' + v.slice(2));
  } else if (v.startsWith('0x')) {
    if (!/^[0-9a-fA-F]+$/.test(v.slice(2))) return fail;
    n = BigInt('0x' + v.slice(2));
  } else if (v[0] === '0') {
    // int(v, 8): Python accepts an optional 0o prefix here.
    const digits = v.replace(/^0[oO]/, '');
    if (!/^[0-7]+$/.test(digits)) return fail;
    n = BigInt('0o' + digits);
  } else if (v.includes(':')) {
    const parts = v.split(':');
    if (!parts.every((p) => /^[0-9]+$/.test(p))) return fail;
    n = 0n;
    for (const p of parts) n = n * 60n + BigInt(p);
  } else {
    // int(v): Python allows one more sign here ('--1' → -(-1)).
    if (!/^[-+]?[0-9]+$/.test(v)) return fail;
    n = BigInt(v);
  }
  return { type: 'int', value: neg ? -n : n };
}

/** SafeConstructor.construct_yaml_float (then Python's float()). */
export function constructFloat(text: string): PyValue | { type: 'error'; message: string } {
  let v = text.replace(/_/g, '').toLowerCase().trim();
  const fail = { type: 'error' as const, message: `PyYAML cannot construct a float from '${text}'` };
  if (v === '') return fail;
  const sign = v[0] === '-' ? -1 : 1;
  if (v[0] === '-' || v[0] === '+') v = v.slice(1);
  if (v === '.inf') return { type: 'float', value: sign * Infinity };
  if (v === '.nan') return { type: 'float', value: NaN };
  if (v.includes(':')) {
    const parts = v.split(':');
    let acc = 0;
    for (const p of parts) {
      const d = pythonFloat(p);
      if (d === undefined) return fail;
      acc = acc * 60 + d;
    }
    return { type: 'float', value: sign * acc };
  }
  const d = pythonFloat(v);
  return d === undefined ? fail : { type: 'float', value: sign * d };
}

/** Python's float() on an unsigned, lower-cased string (no underscores). */
function pythonFloat(s: string): number | undefined {
  const t = s.trim();
  const m = /^([-+]?)(inf|infinity|nan)$/.exec(t);
  if (m) return m[2] === 'nan' ? NaN : (m[1] === '-' ? -1 : 1) * Infinity;
  if (!/^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[-+]?[0-9]+)?$/.test(t)) return undefined;
  return Number(t);
}

export function constructBool(text: string): PyValue | { type: 'error'; message: string } {
  const b = BOOL_VALUES[text.toLowerCase()];
  return b === undefined ? { type: 'error', message: `PyYAML cannot construct a bool from '${text}'` } : { type: 'bool', value: b };
}

// YAML 1.2 core schema (what js-yaml, ruamel's default, Go's yaml.v3 and `yaml` read).
const NULL_12 = /^(?:~|null|Null|NULL|)$/;
const BOOL_12 = /^(?:true|True|TRUE|false|False|FALSE)$/;
const INT_12 = /^[-+]?[0-9]+$/;
const OCT_12 = /^0o[0-7]+$/;
const HEX_12 = /^0x[0-9a-fA-F]+$/;
const FLOAT_12 = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const INF_12 = /^[-+]?\.(?:inf|Inf|INF)$/;
const NAN_12 = /^\.(?:nan|NaN|NAN)$/;

/** The YAML 1.2 core-schema reading of a plain scalar. */
export function resolvePlain12(s: string): PyValue {
  if (NULL_12.test(s)) return { type: 'null' };
  if (BOOL_12.test(s)) return { type: 'bool', value: s.toLowerCase() === 'true' };
  if (INT_12.test(s)) return { type: 'int', value: BigInt(s.replace(/^\+/, '')) };
  if (OCT_12.test(s)) return { type: 'int', value: BigInt(s) };
  if (HEX_12.test(s)) return { type: 'int', value: BigInt(s) };
  if (FLOAT_12.test(s)) return { type: 'float', value: Number(s) };
  if (INF_12.test(s)) return { type: 'float', value: s[0] === '-' ? -Infinity : Infinity };
  if (NAN_12.test(s)) return { type: 'float', value: NaN };
  return { type: 'str', value: s };
}

export function samePyValue(a: PyValue, b: PyValue): boolean {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case 'null':
      return true;
    case 'float': {
      const bv = (b as { value: number }).value;
      return Object.is(a.value, bv) || a.value === bv;
    }
    default:
      return a.value === (b as { value: unknown }).value;
  }
}

/** "the string 'yes'", "the float 1e-07", … (Python spelling). */
export function describePy(v: PyValue): string {
  switch (v.type) {
    case 'null':
      return 'null (None)';
    case 'bool':
      return `the boolean ${v.value ? 'True' : 'False'}`;
    case 'int':
      return `the int ${v.value}`;
    case 'float':
      return `the float ${pyFloatRepr(v.value)}`;
    case 'str':
      return `the string '${v.value}'`;
  }
}

/** How to write a plain scalar so both YAML versions agree with PyYAML's or the evident intent. */
export function versionHint(text: string, py: PyValue, y12: PyValue): string {
  if (py.type === 'str' && y12.type === 'float') {
    return `write ${pyFloatSpelling(text)} for a float (PyYAML needs a dot and a signed exponent), or quote it for a string`;
  }
  if (py.type === 'bool' && y12.type === 'str') return `write ${py.value ? 'true' : 'false'} for a boolean, or quote it ('${text}') for a string`;
  if (py.type === 'int') return `write ${py.value} for an int, or quote it ('${text}') for a string`;
  if (py.type === 'float') return `write ${pyFloatRepr(py.value)} for a float, or quote it ('${text}') for a string`;
  if (py.type === 'str' && y12.type === 'int') return `write ${y12.value} for an int, or quote it ('${text}') for a string`;
  return `quote it ('${text}') if you mean a string`;
}

/** `1e-7` → `1.0e-7`, `1.5E5` → `1.5e+5`, `-.5` → `-0.5`: a spelling PyYAML and YAML 1.2 both read as this float. */
export function pyFloatSpelling(text: string): string {
  const m = /^([-+]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([-+]?)([0-9]+))?$/.exec(text);
  if (!m) return text;
  const [, sign, int, frac, expSign, exp] = m;
  return `${sign}${int || '0'}.${frac || '0'}${exp !== undefined ? `e${expSign || '+'}${exp}` : ''}`;
}
