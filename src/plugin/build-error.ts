// The error a bundler plugin fails a build with: tdc's diagnostics as text (tsc-style, with code frames), plus the
// position of the first one in the fields Rollup and Vite show (`id`, `loc`; the frames are in the message).
import type { Diagnostic } from '../diagnostics/index.js';
import { formatDiagnostics } from '../api/format-diagnostics.js';

export class TdcBuildError extends Error {
  override name = 'TdcBuildError';
  readonly diagnostics: readonly Diagnostic[];
  readonly plugin = 'tdc';
  readonly id?: string;
  readonly loc?: { file: string; line: number; column: number };

  constructor(diagnostics: readonly Diagnostic[]) {
    const n = diagnostics.length;
    super(`tdc: ${n} error${n === 1 ? '' : 's'} compiling torchdistill configs\n\n${formatDiagnostics(diagnostics)}\n`);
    this.diagnostics = diagnostics;
    const first = diagnostics.find((d) => d.span)?.span;
    if (first) {
      this.id = first.file;
      this.loc = { file: first.file, line: first.start.line, column: first.start.col };
    }
    this.stack = `${this.name}: ${this.message}`; // the diagnostics are the story; a JS stack would only hide them
  }
}
