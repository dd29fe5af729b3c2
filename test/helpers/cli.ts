// Run the built CLI (bin/tdc.js) as a user would: a child process, captured output and exit code.
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const SHARED = process.env.TDC_SHARED ?? join(ROOT, '..', 'shared');
export const GOLDEN = join(SHARED, 'golden');
/** torch's low-level losses, `torch__<Loss>__<variant>` (same format as golden/). */
export const GOLDEN_TORCH = join(SHARED, 'golden-torch');
export const CONFIGS = join(SHARED, 'torchdistill', 'configs');
/** Regression cases in the golden format, `regress__<Loss>__<variant>`, checked in (scripts/gen-golden-regress.py). */
export const GOLDEN_REGRESS = join(ROOT, 'test', 'fixtures', 'golden-regress');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function tdc(args: string[], opts: { input?: string; timeoutMs?: number; env?: Record<string, string>; cwd?: string } = {}): CliResult {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'tdc.js'), ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    input: opts.input,
    timeout: opts.timeoutMs ?? 60_000,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: performance.now() - t0 };
}

/** Like tdc(), without blocking: for running several CLI processes at once. */
export function tdcAsync(args: string[]): Promise<CliResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin', 'tdc.js'), ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }));
  });
}

/**
 * A failed `tdc run` printed no loss: nothing on stdout, or with --json only the failure document
 * ({ok: false, diagnostics: [...]}, at least one error, no loss or terms).
 */
export function noLossPrinted(r: CliResult, json: boolean, what: string): void {
  if (!json) {
    assert.is(r.stdout, '', `${what}: nothing on stdout`);
    return;
  }
  const doc = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.is(doc['ok'], false, `${what}: ok is false`);
  assert.not.ok('loss' in doc || 'terms' in doc, `${what}: no loss or terms in ${r.stdout}`);
  const ds = doc['diagnostics'] as { severity: string }[];
  assert.ok(Array.isArray(ds) && ds.some((d) => d.severity === 'error'), `${what}: the document carries the error`);
}

/**
 * A named pipe in `dir` that a separate process fills with `file`'s bytes once a reader opens it, as `<(cat file)`
 * hands a command a pipe (a CLI run with spawnSync can read it: the writer is not this process).
 */
export function pipeOf(file: string, dir: string, name = 'sample.pipe'): string {
  const fifo = join(dir, name);
  const mk = spawnSync('mkfifo', [fifo]);
  assert.is(mk.status, 0, `mkfifo: ${String(mk.stderr)}`);
  spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', file, fifo], { stdio: 'ignore', detached: true }).unref();
  return fifo;
}

/** True when the output looks like a Node/JS stack trace leaked to the user. */
export function hasStackTrace(s: string): boolean {
  return /\n\s+at .+\(.+:\d+:\d+\)/.test(s) || /^\s+at .+:\d+:\d+$/m.test(s) || /Error: .*\n\s+at /.test(s);
}

/**
 * A generated file's text, or undefined while it is absent: tdc swaps an output directory in by two renames
 * (src/codegen/out-writer.ts), so a poll during a watch-mode recompile can land between them.
 */
export function readOutput(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
