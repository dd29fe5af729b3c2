// Which stage of a config a command works on: the one named (--stage, a tdc.config entry's `stage`), or the
// only one. The codes are shared by `tdc run`, `tdc compile` and the API; the CLI exits 2 (usage) when the name
// came from its command line.
import { diag, type Diagnostic } from '../../diagnostics/index.js';
import type { StageIR } from '../ir.js';

/** No stage of that name in the config. */
export const UNKNOWN_STAGE = 'TDC905';
/** The config has no training stage with a criterion. */
const NO_STAGE = 'TDC903';
/** Several stages and none named. */
export const STAGE_NEEDED = 'TDC904';

export function unknownStage(name: string, stages: readonly StageIR[], where = 'this config'): Diagnostic {
  return diag('error', UNKNOWN_STAGE, `no stage '${name}' in ${where}; it has: ${stages.map((x) => x.name).join(', ') || '(none)'}`);
}

/** The one stage a run works on, or why there is none. */
export function pickStage(stages: StageIR[], name: string | undefined): StageIR | Diagnostic {
  if (name !== undefined) return stages.find((x) => x.name === name) ?? unknownStage(name, stages);
  if (stages.length === 1) return stages[0]!;
  if (stages.length === 0) return diag('error', NO_STAGE, 'this config has no training stage with a criterion');
  return diag('error', STAGE_NEEDED, `this config has ${stages.length} stages (${stages.map((x) => x.name).join(', ')}); pick one with --stage`);
}
