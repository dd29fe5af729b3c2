// Diagnostics that report a bug in tdc rather than in its input: each stage's "internal error" code. The CLI
// exits 70 for them and asks for a report.
import type { Diagnostic } from './diagnostic.js';

/** TDC199 load, TDC299 resolve, TDC499 instantiate, TDC690 GPU scheduling, TDC999 anything else. */
export const INTERNAL_ERROR_CODES: ReadonlySet<string> = new Set(['TDC199', 'TDC299', 'TDC499', 'TDC690', 'TDC999']);

export const isInternalError = (d: Diagnostic): boolean => d.severity === 'error' && INTERNAL_ERROR_CODES.has(d.code);
