// Shared CLI output: diagnostics with code frames (configs and spec files), and the last-resort handler.
import { readFileSync } from 'node:fs';
import type { Diagnostic, SourceLookup } from '../diagnostics/index.js';
import { formatDiagnostic } from '../diagnostics/index.js';

export interface GlobalOptions {
  color?: boolean;
  json?: boolean;
  spec?: string[];
}

const texts = new Map<string, string>();

/** Remember a source text so diagnostics pointing into it get a code frame. */
export function rememberSource(file: string, text: string): void {
  texts.set(file, text);
}

export async function sourceLookup(): Promise<SourceLookup> {
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

export function useColor(opts: GlobalOptions): boolean {
  return opts.color !== false && !!process.stdout.isTTY && !process.env.NO_COLOR;
}

export async function printDiagnostics(ds: readonly Diagnostic[], opts: GlobalOptions, stream: NodeJS.WriteStream = process.stderr): Promise<void> {
  if (ds.length === 0) return;
  const lookup = await sourceLookup();
  const color = opts.color !== false && !!stream.isTTY && !process.env.NO_COLOR;
  for (const d of ds) stream.write(formatDiagnostic(d, lookup, { color }) + '\n\n');
}

/** Load user spec files named with --spec. Returns diagnostics (errors stop the command). */
export async function loadUserSpecs(opts: GlobalOptions): Promise<Diagnostic[]> {
  if (!opts.spec?.length) return [];
  const { registerSpecFile } = await import('../registry/registry.js');
  return opts.spec.flatMap((f) => registerSpecFile(f)); // the checker knows the built-ins (grammar/builtins.ts)
}

export function diagnosticJson(d: Diagnostic): Record<string, unknown> {
  return {
    severity: d.severity,
    code: d.code,
    message: d.message,
    line: d.span?.start.line ?? null,
    column: d.span?.start.col ?? null,
    ...(d.span && d.span.file ? { file: d.span.file } : {}),
    ...(d.hint ? { hint: d.hint } : {}),
  };
}

/** A bug in tdc, not in the user's input: say so plainly, with a one-line cause, and exit 70. */
export function reportInternalError(e: unknown): number {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`tdc: internal error: ${msg}\n(this is a bug in tdc; set TDC_DEBUG=1 for a stack trace)\n`);
  if (process.env.TDC_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  return 70;
}
