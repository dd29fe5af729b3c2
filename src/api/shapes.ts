// Input shapes for a compile, as users write them: the `--shape name=NxCx7x7` syntax (letters are symbols,
// numbers are sizes), shape arrays in tdc.config, and `--like io.safetensors` (a sample io_dict whose batch
// dim becomes the symbol N). Pure functions; problems come back as diagnostics.
import { diag, type Diagnostic } from '../diagnostics/index.js';
import { fsReadErrorText } from '../diagnostics/fs-error-text.js';
import { sampleInputShapes, type InputShapes } from '../compiler/compile.js';
import { tensorName, type StageIR } from '../compiler/ir.js';
import { suggestName } from '../compiler/resolve/suggest.js';
import type { Dim, Shape } from '../graph/types.js';
import { readSafetensors } from 'tdc-runtime';
import { readSafetensorsHeader } from './safetensors-header.js';

export type { InputShapes };

/**
 * One dim list in the `--shape` syntax: `Nx512x7x7`, `N×C`, `N,C`, `[]` or `` (a scalar).
 * Numbers are fixed sizes, identifiers are symbols bound at run time. `undefined` when malformed.
 */
export function parseDims(text: string): Shape | undefined {
  const t = text.trim();
  if (t === '' || t === '[]') return [];
  const out: Dim[] = [];
  for (const p of t.replace(/^\[(.*)\]$/, '$1').split(/[x×,]/)) {
    const s = p.trim();
    if (/^\d+$/.test(s)) out.push(Number(s));
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) out.push({ sym: s });
    else return undefined;
  }
  return out;
}

/** A shape given as an array: numbers are sizes, strings symbols (`['N', 512, 7, 7]`). `undefined` when malformed. */
export function dimsFromArray(dims: readonly unknown[]): Shape | undefined {
  const out: Dim[] = [];
  for (const d of dims) {
    if (typeof d === 'number' && Number.isInteger(d) && d >= 0) out.push(d);
    else if (typeof d === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(d)) out.push({ sym: d });
    else if (typeof d === 'string' && /^\d+$/.test(d)) out.push(Number(d));
    else return undefined;
  }
  return out;
}

/**
 * A pinned input as written in text: its dims, optionally followed by its dtype — `Nx512x7x7`, `N:int`, `NxK:int`
 * (integer inputs other than `targets`, e.g. CRD's `pos_idx` / `contrast_idx`, which are float unless pinned or
 * given by a sample). `undefined` when malformed.
 */
export function parsePinned(text: string): { shape: Shape; dtype?: 'int' | 'float' } | undefined {
  const m = /^(.*?)(?::\s*(int|float))?$/.exec(text.trim())!;
  const shape = parseDims(m[1]!);
  if (!shape) return undefined;
  return m[2] ? { shape, dtype: m[2] as 'int' | 'float' } : { shape };
}

/** What one pinned input may be written as: `'Nx512x7x7'` (`'N:int'` with its dtype) or `['N', 512, 7, 7]`. */
export type ShapeText = string | readonly (number | string)[];

/** One `--shape` argument: `name=dims` or `name=dims:int`. The name ends at the first '=' (`a=NxC=3` is malformed,
 *  not a pin of `a=NxC`). */
export function parseShapeArg(arg: string): { name: string; shape: Shape; dtype?: 'int' | 'float' } | Diagnostic {
  const eq = arg.indexOf('=');
  const pinned = eq > 0 ? parsePinned(arg.slice(eq + 1)) : undefined;
  if (!pinned) return diag('error', 'TDC611', `--shape '${arg}': expected name=dims or name=dims:int, e.g. student/layer4/output=Nx512x7x7, student/empty/input/pos_idx=N:int`);
  const name = arg.slice(0, eq).trim();
  return tooLarge(`--shape '${arg}'`, pinned.shape) ?? { name, ...pinned };
}

/** The largest size of a dim, and of a tensor's element count: kernels index with u32 (WGSL literals `…u`). */
export const MAX_SIZE = 0xffff_ffff;

/** TDC613 when a fixed size, or the product of a shape's fixed sizes, does not fit u32 (WGSL rejects the literal). */
export function tooLarge(what: string, shape: Shape): Diagnostic | undefined {
  let elements = 1;
  for (const d of shape) if (typeof d === 'number') elements *= d;
  const big = shape.find((d): d is number => typeof d === 'number' && d > MAX_SIZE);
  if (big === undefined && elements <= MAX_SIZE) return undefined;
  const why = big !== undefined ? `a size of ${big}` : `${elements} elements`;
  return diag('error', 'TDC613', `${what}: ${why}, more than the kernels' 32-bit indices reach (at most ${MAX_SIZE})`, undefined, { hint: 'sizes and element counts up to 4294967295 compile; symbols (N, C) stand for sizes given at run time' });
}

/** The io_dict names the stages read: their terms' tensors, targets, model_loss/* where a stage has a model term,
 *  state_in/<term>/* of its terms (stateful losses). */
function readNames(stages: readonly StageIR[]): { names: Set<string>; prefixes: string[] } {
  const names = new Set<string>(['targets']);
  const prefixes: string[] = [];
  for (const s of stages) {
    for (const t of s.terms) {
      for (const r of t.reads) names.add(tensorName(r));
      prefixes.push(`state_in/${t.name}/`);
    }
    if (s.modelTerm) prefixes.push('model_loss/');
  }
  return { names, prefixes };
}

/** A pinned name that no stage reads. */
export const UNREAD_SHAPE = 'TDC614';

/** TDC614 for each pinned name (`--shape`, `shapes`) that none of `stages` reads: a misspelt name would otherwise
 *  be ignored and the input compiled at its default shape. */
export function unreadShapes(pinned: readonly string[], stages: readonly StageIR[], what = '--shape'): Diagnostic[] {
  const { names, prefixes } = readNames(stages);
  const out: Diagnostic[] = [];
  for (const n of pinned) {
    if (names.has(n) || prefixes.some((p) => n.startsWith(p))) continue;
    const near = suggestName(n, names);
    const list = [...names].join(', ');
    out.push(
      diag('error', UNREAD_SHAPE, `${what} '${n}': no stage ${stages.length === 1 ? `('${stages[0]!.name}') ` : ''}reads a tensor of that name`, undefined, {
        hint: `${near !== undefined ? `did you mean '${near}'? ` : ''}the config reads ${list}`,
      }),
    );
  }
  return out;
}

/** The names a `shapes` option pins (not those a --like sample gives: a sample holds the whole io_dict). */
export function pinnedNames(shapes: readonly string[] | Readonly<Record<string, ShapeText>> | undefined): string[] {
  if (!shapes) return [];
  if (Array.isArray(shapes)) return (shapes as readonly string[]).map(parseShapeArg).flatMap((r) => ('code' in r ? [] : [r.name]));
  return Object.keys(shapes);
}

/** The dtype of a pinned input: `targets` are class indices (int), the rest float unless a sample said otherwise. */
const dtypeFor = (name: string, prev: InputShapes): 'float' | 'int' => (name === 'targets' ? 'int' : (prev.get(name)?.dtype ?? 'float'));

/**
 * Pinned input shapes from a sample io_dict file (`--like`), then explicit shapes on top (`--shape` arguments, or a
 * `{ name: dims }` record from tdc.config). Diagnostics for a sample that cannot be read and malformed shapes.
 */
export function parseInputShapes(
  given: { like?: string; shapes?: readonly string[] | Readonly<Record<string, ShapeText>> },
  ds: Diagnostic[],
): InputShapes {
  const pinned: InputShapes = given.like !== undefined ? shapesFromSample(given.like, ds) : new Map();
  const shapes = given.shapes;
  if (Array.isArray(shapes)) {
    for (const s of shapes as readonly string[]) {
      const r = parseShapeArg(s);
      if ('code' in r) ds.push(r);
      else pinned.set(r.name, { shape: r.shape, dtype: r.dtype ?? dtypeFor(r.name, pinned) });
    }
  } else if (shapes) {
    for (const [name, text] of Object.entries(shapes as Readonly<Record<string, ShapeText>>)) {
      const p = typeof text === 'string' ? parsePinned(text) : Array.isArray(text) ? mapShape(dimsFromArray(text)) : undefined;
      if (!p) {
        ds.push(diag('error', 'TDC611', `shape of '${name}': expected dims like 'Nx512x7x7', 'N:int' or ['N', 512, 7, 7], got ${JSON.stringify(text)}`));
        continue;
      }
      const big = tooLarge(`shape of '${name}'`, p.shape);
      if (big) {
        ds.push(big);
        continue;
      }
      pinned.set(name, { shape: p.shape, dtype: p.dtype ?? dtypeFor(name, pinned) });
    }
  }
  return pinned;
}

const mapShape = (shape: Shape | undefined): { shape: Shape; dtype?: 'int' | 'float' } | undefined => (shape ? { shape } : undefined);

/** `--like`: input ranks and sizes from a sample io_dict (safetensors), the batch dim made symbolic (N). */
export function shapesFromSample(file: string | Uint8Array, ds: Diagnostic[], label = typeof file === 'string' ? file : 'the sample'): InputShapes {
  try {
    // a file: its header only (names, dtypes, shapes), never the data
    const shapes = sampleInputShapes(typeof file === 'string' ? readSafetensorsHeader(file) : readSafetensors(file).tensors);
    for (const [name, { shape }] of shapes) {
      const big = tooLarge(`sample io_dict '${label}', tensor '${name}'`, shape);
      if (big) ds.push(big);
    }
    return shapes;
  } catch (e) {
    ds.push(diag('error', 'TDC501', `cannot read sample io_dict '${label}': ${(e as NodeJS.ErrnoException).code ? fsReadErrorText(e) : e instanceof Error ? e.message : String(e)}`));
    return new Map();
  }
}
