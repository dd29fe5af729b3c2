// Loads a golden case's config.yaml through the real front end (loadConfigFile → resolveConfig) and picks one stage.
import { join } from 'node:path';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import type { StageIR } from '../../src/compiler/ir.js';
import { loadConfigFile } from '../../src/compiler/load/load.js';
import { checkConfig as resolveConfig } from '../../src/compiler/driver/check.js';

export const GOLDEN_DIR = process.env['TDC_GOLDEN_DIR'] ?? '/work/shared/golden';

export function loadGoldenStage(dir: string, stageName: string): { stage?: StageIR; diagnostics: Diagnostic[]; text: string; file: string } {
  const file = join(dir, 'config.yaml');
  const { config, diagnostics } = loadConfigFile(file);
  const all = [...diagnostics];
  if (!config.root) return { diagnostics: all, text: config.text, file };
  const { ir, diagnostics: rd } = resolveConfig(config);
  all.push(...rd);
  const stage = ir.stages.find((s) => s.name === stageName);
  return { ...(stage ? { stage } : {}), diagnostics: all, text: config.text, file };
}
