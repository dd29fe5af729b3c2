// tdc's exit codes, one contract for every command (README "Exit codes"):
//   0  success (warnings allowed);
//   1  the input has errors: diagnostics were printed (or `compile --check` found stale output);
//   2  usage: an unknown command or option, a missing or malformed argument (`--stage trian`, `--shape foo`,
//      `--workgroup-size 2000`); nothing was done;
//   70 internal error: a bug in tdc (EX_SOFTWARE); a "please report" note is printed, a stack trace only with TDC_DEBUG.
import { hasErrors, isInternalError, type Diagnostic } from '../diagnostics/index.js';

export const ExitCode = { ok: 0, failed: 1, usage: 2, internal: 70 } as const;

/** The exit code for a command whose outcome is these diagnostics; `usage` when its errors are about the command line. */
export function exitCodeFor(ds: readonly Diagnostic[], usage = false): number {
  if (ds.some(isInternalError)) return ExitCode.internal;
  if (!hasErrors(ds)) return ExitCode.ok;
  return usage ? ExitCode.usage : ExitCode.failed;
}
