// Shared CLI output. Streams: diagnostics (and usage errors, internal errors) go to stderr, results to stdout,
// for every command. Each diagnostic is printed at most once per process, with a code frame when its source is
// known (configs and spec files). Colour follows color.ts.
import { readFileSync } from 'node:fs';
import type { Diagnostic, SourceLookup } from '../diagnostics/index.js';
import { diagnosticKey, formatDiagnostic, isInternalError } from '../diagnostics/index.js';
import { colorEnabled } from './color.js';
import { ExitCode } from './exit-code.js';

export interface GlobalOptions {
  color?: boolean;
  json?: boolean;
  spec?: string[];
}

const texts = new Map<string, string>();

async function sourceLookup(): Promise<SourceLookup> {
  const { specSource } = await import('../registry/registry.js');
  return (file) => {
    const t = texts.get(file) ?? specSource(file);
    if (t !== undefined) return t;
    try {
      const s = readFileSync(file, 'utf8');
      texts.set(file, s);
      return s;
    } catch {
      return undefined;
    }
  };
}

/** Colour for results written to stdout. */
export function useColor(opts: GlobalOptions): boolean {
  return colorEnabled(process.stdout, opts);
}

const printed = new Set<string>();
let reportNoteShown = false;

/** Watch mode: a new compilation shows its diagnostics again. */
export function forgetPrintedDiagnostics(): void {
  printed.clear();
}

/** Prints diagnostics to stderr, each one once per process (a diagnostic reached by two paths is not repeated). */
export async function printDiagnostics(ds: readonly Diagnostic[], opts: GlobalOptions): Promise<void> {
  const fresh = ds.filter((d) => {
    const k = diagnosticKey(d);
    if (printed.has(k)) return false;
    printed.add(k);
    return true;
  });
  if (fresh.length === 0) return;
  const stream = process.stderr;
  const lookup = await sourceLookup();
  const color = colorEnabled(stream, opts);
  for (const d of fresh) stream.write(formatDiagnostic(d, lookup, { color }) + '\n\n');
  if (fresh.some(isInternalError)) writeReportNote();
}

/** A usage error (exit 2): the message(s) as diagnostics, then where help is. */
export async function usageError(command: string, ds: readonly Diagnostic[], opts: GlobalOptions): Promise<number> {
  await printDiagnostics(ds, opts);
  process.stderr.write(`(run \`tdc ${command} --help\` for usage)\n`);
  return ExitCode.usage;
}

const REPORT_NOTE = 'this is a bug in tdc, not in your input: please report it with the command line and the files it read';

function writeReportNote(): void {
  if (reportNoteShown) return;
  reportNoteShown = true;
  process.stderr.write(`${REPORT_NOTE}${process.env.TDC_DEBUG ? '' : ' (set TDC_DEBUG=1 for a stack trace)'}\n`);
}

/** Load user spec files named with --spec. Returns diagnostics (errors stop the command). */
export async function loadUserSpecs(opts: GlobalOptions): Promise<Diagnostic[]> {
  if (!opts.spec?.length) return [];
  const { registerSpecFiles } = await import('../registry/registry.js');
  return registerSpecFiles(opts.spec); // the checker knows the built-ins (grammar/builtins.ts)
}

/** Unknown loss keys (high, mid/low, wrapper): what a config reports when the spec declaring the loss failed to load. */
const UNKNOWN_KEY_CODES = new Set(['TDC202', 'TDC203', 'TDC204']);

/**
 * A config's diagnostics, less the unknown-loss follow-ons of a --spec file that failed to load (unreadable, or
 * with errors): its losses were never registered, so every config using them would report 'unknown loss'. The
 * spec's own errors are reported and fail the command; `tdc run` and `tdc compile` stop at them.
 */
export function withoutSpecFollowOns(specDiags: readonly Diagnostic[], ds: Diagnostic[]): Diagnostic[] {
  if (!specDiags.some((d) => d.severity === 'error')) return ds;
  return ds.filter((d) => !UNKNOWN_KEY_CODES.has(d.code));
}

/** A diagnostic in --json documents: what the text output shows (position, hint, related positions), no frames. */
export function diagnosticJson(d: Diagnostic): Record<string, unknown> {
  return {
    severity: d.severity,
    code: d.code,
    message: d.message,
    line: d.span?.start.line ?? null,
    column: d.span?.start.col ?? null,
    ...(d.span && d.span.file ? { file: d.span.file } : {}),
    ...(d.hint ? { hint: d.hint } : {}),
    ...(d.related?.length
      ? { related: d.related.map((r) => ({ message: r.message, ...(r.span ? { file: r.span.file, line: r.span.start.line, column: r.span.start.col } : {}) })) }
      : {}),
  };
}

/** A bug in tdc, not in the user's input: say so plainly, with a one-line cause, and exit 70. The stack trace
 *  only with TDC_DEBUG set (to anything but '' or '0'). */
export function reportInternalError(e: unknown): number {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`tdc: internal error: ${msg.split('\n')[0]}\n`);
  writeReportNote();
  const debug = process.env.TDC_DEBUG;
  if (debug && debug !== '0' && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  return ExitCode.internal;
}
