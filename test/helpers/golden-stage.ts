// Loads a golden case's config.yaml through the real front end (load → resolve) and picks one stage.
// Until src/compiler/load/load.ts exists, a minimal YAML → ConfigNode conversion stands in for the loader.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { computeLineStarts, spanFromOffsets, type Diagnostic } from '../../src/diagnostics/diagnostic.js';
import type { ConfigNode, LoadedConfig } from '../../src/compiler/load/config-node.js';
import type { StageIR } from '../../src/compiler/ir.js';
import { resolveConfig } from '../../src/compiler/resolve/index.js';

export const GOLDEN_DIR = process.env['TDC_GOLDEN_DIR'] ?? '/work/shared/golden';

type Loader = (file: string) => { loaded?: LoadedConfig; diagnostics: Diagnostic[] } | LoadedConfig;
let realLoader: Loader | null | undefined;

async function loader(): Promise<Loader | null> {
  if (realLoader !== undefined) return realLoader;
  const path = fileURLToPath(new URL('../../src/compiler/load/load.js', import.meta.url));
  const source = fileURLToPath(new URL('../../../src/compiler/load/load.ts', import.meta.url));
  realLoader = null;
  if (existsSync(path) && existsSync(source)) {
    const mod = (await import(path)) as { loadConfigFile?: Loader };
    if (mod.loadConfigFile) realLoader = mod.loadConfigFile;
  }
  return realLoader;
}

/** Minimal stand-in for the loader: plain YAML (the golden configs use no tags or anchors). */
function loadPlain(file: string): LoadedConfig {
  const text = readFileSync(file, 'utf8');
  const ls = computeLineStarts(text);
  const doc = parseDocument(text);
  const conv = (n: unknown): ConfigNode => {
    const y = n as YamlNode;
    const r = (y as { range?: [number, number, number] }).range ?? [0, 0, 0];
    const span = spanFromOffsets(file, text, r[0], r[1], ls);
    if (isMap(y)) return { kind: 'map', span, entries: y.items.map((it) => ({ key: conv(it.key), value: conv(it.value) })) };
    if (isSeq(y)) return { kind: 'seq', span, items: y.items.map(conv) };
    if (isScalar(y)) {
      const v = y.value;
      return { kind: 'scalar', span, value: v === undefined ? null : (v as null | boolean | number | string), source: text.slice(r[0], r[1]) };
    }
    return { kind: 'scalar', span, value: null, source: '' };
  };
  return { file, text, root: doc.contents ? conv(doc.contents) : null };
}

export async function loadGoldenStage(dir: string, stageName: string): Promise<{ stage?: StageIR; diagnostics: Diagnostic[]; text: string; file: string }> {
  const file = join(dir, 'config.yaml');
  const diagnostics: Diagnostic[] = [];
  const real = await loader();
  let loaded: LoadedConfig | undefined;
  if (real) {
    const r = real(file);
    if ('root' in r && 'text' in r) loaded = r as LoadedConfig;
    else {
      const rr = r as { loaded?: LoadedConfig; diagnostics: Diagnostic[] };
      diagnostics.push(...rr.diagnostics);
      loaded = rr.loaded;
    }
  } else loaded = loadPlain(file);
  if (!loaded) return { diagnostics, text: '', file };
  const { ir, diagnostics: rd } = resolveConfig(loaded);
  diagnostics.push(...rd);
  const stage = ir.stages.find((s) => s.name === stageName) ?? (ir.stages.length === 1 && stageName === 'train' ? ir.stages[0] : undefined);
  return { ...(stage ? { stage } : {}), diagnostics, text: loaded.text, file };
}
