// A diagnostic: what every stage reports instead of throwing at a user.
// Positions are 1-based (line, column) like tsc; `offset` is 0-based into the source text.

export type Severity = 'error' | 'warning' | 'note';

export interface Pos {
  line: number;
  col: number;
  offset: number;
}

export interface Span {
  file: string;
  start: Pos;
  end: Pos;
}

export interface Related {
  message: string;
  span?: Span;
}

export interface Diagnostic {
  severity: Severity;
  /** Stable code, e.g. TDC201. Ranges: 1xx load (YAML), 2xx resolve (config → IR), 3xx spec language,
   *  4xx instantiate/shapes, 5xx run/runtime/IO, 6xx compile/codegen, 9xx CLI/internal. */
  code: string;
  message: string;
  span?: Span;
  /** Extra line printed under the frame, e.g. "did you mean 'kernel_config'?" or a signature. */
  hint?: string;
  related?: Related[];
}

export function diag(severity: Severity, code: string, message: string, span?: Span, extra?: { hint?: string; related?: Related[] }): Diagnostic {
  const d: Diagnostic = { severity, code, message };
  if (span) d.span = span;
  if (extra?.hint) d.hint = extra.hint;
  if (extra?.related?.length) d.related = extra.related;
  return d;
}

export const hasErrors = (ds: readonly Diagnostic[]): boolean => ds.some((d) => d.severity === 'error');

/** Thrown only inside a stage to unwind to its boundary, where it becomes a Diagnostic. Never escapes a stage. */
export class DiagnosticError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

/** Span covering [start, end) of `text`, computing line/col. Helper for stages that only know offsets. */
export function spanFromOffsets(file: string, text: string, start: number, end: number, lineStarts?: number[]): Span {
  const ls = lineStarts ?? computeLineStarts(text);
  return { file, start: posAt(ls, start), end: posAt(ls, Math.max(start, end)) };
}

export function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

export function posAt(lineStarts: number[], offset: number): Pos {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, col: offset - lineStarts[lo]! + 1, offset };
}

/** Identity of a diagnostic: severity, code, span and message (the same problem reached twice has the same key). */
export const diagnosticKey = (d: Diagnostic): string =>
  `${d.severity} ${d.code} ${d.span ? `${d.span.file}:${d.span.start.offset}-${d.span.end.offset}` : '-'} ${d.message}`;

/** The diagnostics with repeats removed, first occurrence kept (e.g. an error inside an anchor aliased twice);
 *  a repeat's `related` entries (each alias's use) are added to the one kept. */
export function uniqueDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  const kept = new Map<string, Diagnostic>();
  for (const d of ds) {
    const k = diagnosticKey(d);
    const first = kept.get(k);
    if (!first) {
      kept.set(k, d);
      continue;
    }
    const more = (d.related ?? []).filter((r) => !(first.related ?? []).some((f) => f.message === r.message && f.span?.start.offset === r.span?.start.offset && f.span?.file === r.span?.file));
    if (more.length) kept.set(k, { ...first, related: [...(first.related ?? []), ...more] });
  }
  return [...kept.values()];
}
