// tsc-style rendering: `file:line:col - error TDC201: message`, then a code frame with a caret underline.
import pc from 'picocolors';
import type { Diagnostic, Span } from './diagnostic.js';

/** Source texts by file name, so a frame can be cut from any stage's span. */
export type SourceLookup = (file: string) => string | undefined;

export interface FormatOptions {
  color?: boolean;
  /** Lines of context before the offending line. */
  context?: number;
}

/** Terminal controls in text a diagnostic quotes from its input (a config, a spec, a file name): C0 controls but
 *  tab and newline, DEL, C1 controls, and the bidirectional overrides and isolates ("trojan source"). */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/** `s` with every terminal control shown as a visible character of the same width, so an ESC from the input
 *  cannot reach the terminal and columns stay where they were: C0 as their Control Pictures (ESC → ␛, BEL → ␇),
 *  DEL → ␡, the rest → �. */
export function visible(s: string): string {
  return s.replace(CONTROL, (ch) => {
    const cp = ch.charCodeAt(0);
    return cp < 0x20 ? String.fromCharCode(0x2400 + cp) : cp === 0x7f ? '\u2421' : '\ufffd';
  });
}

export function formatDiagnostic(d: Diagnostic, sources: SourceLookup, opts: FormatOptions = {}): string {
  const c = pc.createColors(opts.color ?? false);
  const sev = d.severity === 'error' ? c.red('error') : d.severity === 'warning' ? c.yellow('warning') : c.cyan('note');
  const where = d.span ? `${c.cyan(visible(d.span.file))}:${c.yellow(String(d.span.start.line))}:${c.yellow(String(d.span.start.col))} - ` : '';
  const lines = [`${where}${sev} ${c.gray(d.code + ':')} ${visible(d.message)}`];
  if (d.span) {
    const frame = codeFrame(d.span, sources, opts.context ?? 0, c);
    if (frame) lines.push('', frame);
  }
  if (d.hint) lines.push(`  ${c.gray(visible(d.hint))}`);
  for (const r of d.related ?? []) {
    const at = r.span ? `${visible(r.span.file)}:${r.span.start.line}:${r.span.start.col}: ` : '';
    lines.push(`  ${c.gray('related:')} ${at}${visible(r.message)}`);
    if (r.span) {
      const f = codeFrame(r.span, sources, 0, c);
      if (f) lines.push(f);
    }
  }
  return lines.join('\n');
}

/** Characters of a source line shown in a frame; longer lines are cut to a window around the column. */
const FRAME_WIDTH = 200;
/** How many characters before the column a window keeps. */
const FRAME_LEAD = 60;

export function codeFrame(span: Span, sources: SourceLookup, context: number, c = pc.createColors(false)): string | undefined {
  const text = sources(span.file);
  if (text === undefined) return undefined;
  const all = text.split(/\r?\n/);
  const line = span.start.line;
  if (line < 1 || line > all.length) return undefined;
  const first = Math.max(1, line - context);
  const width = String(line).length;
  const startCol = Math.max(1, span.start.col);
  // a column far into a long line (a minified spec, a 10 000-term sum): show a window around it, marked with '…'
  const from = startCol - 1 > FRAME_WIDTH - FRAME_LEAD ? startCol - 1 - FRAME_LEAD : 0;
  const cut = (src: string): string => (from > 0 ? '…' : '') + src.slice(from, from + FRAME_WIDTH) + (src.length > from + FRAME_WIDTH ? '…' : '');
  const out: string[] = [];
  for (let l = first; l <= line; l++) out.push(`${c.bgWhite(c.black(String(l).padStart(width)))} ${visible(cut((all[l - 1] ?? '').replace(/\t/g, ' ')))}`);
  const src = all[line - 1] ?? '';
  const endCol = span.end.line === line ? Math.max(startCol + 1, span.end.col) : src.length + 1;
  const shownEnd = Math.min(endCol, Math.min(src.length, from + FRAME_WIDTH) + 1);
  const len = Math.max(1, shownEnd - startCol);
  const indent = startCol - 1 - from + (from > 0 ? 1 : 0);
  out.push(`${c.bgWhite(' '.repeat(width))} ${' '.repeat(indent)}${c.red('~'.repeat(len))}`);
  return out.join('\n');
}

export function summarize(ds: readonly Diagnostic[]): string {
  const e = ds.filter((d) => d.severity === 'error').length;
  const w = ds.filter((d) => d.severity === 'warning').length;
  return `${e} error${e === 1 ? '' : 's'}, ${w} warning${w === 1 ? '' : 's'}`;
}
