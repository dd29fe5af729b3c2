// The config tree: YAML after loading, every node with its source span.
// Aliases are resolved (an alias yields the anchored node itself, so its span is the anchor's definition);
// `!join` is evaluated into a string scalar; every other torchdistill tag stays as an inert `tag` on the node.
import type { Span } from '../../diagnostics/diagnostic.js';

export type ScalarValue = null | boolean | number | string;

export type TorchDType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** What a statically evaluated `!import_call`/`!import_get` stands for (load/tensor-constant.ts). */
export type EvaluatedTag =
  | { kind: 'tensor'; call: string; dtype: TorchDType; shape: number[]; data: number[] }
  | { kind: 'dtype'; dtype: TorchDType };

interface NodeBase {
  span: Span;
  /** A torchdistill tag kept inert ('!import_call', '!getattr', …). Absent for plain nodes and evaluated `!join`. */
  tag?: string;
  /** A tagged node tdc evaluated statically (a tensor constant or a dtype); the node keeps its tag and mapping. */
  evaluated?: EvaluatedTag;
  /** Why a tagged node stays inert (for the message where tdc needs its value). */
  inert?: string;
}

export interface ScalarNode extends NodeBase {
  kind: 'scalar';
  /** Value as PyYAML (YAML 1.1, FullLoader) would construct it: `1e-7` is a string, `True` a boolean, empty null. */
  value: ScalarValue;
  /** The source text of the scalar (for messages). */
  source: string;
  /** For a number: whether Python holds an int or a float (`1.0` is a float; `str()` prints '1.0'). */
  numberKind?: 'int' | 'float';
}

export interface MapEntry {
  key: ConfigNode;
  value: ConfigNode;
}

export interface MapNode extends NodeBase {
  kind: 'map';
  /** In document order (torchdistill iterates sub_terms in insertion order). Merge keys are already applied. */
  entries: MapEntry[];
}

export interface SeqNode extends NodeBase {
  kind: 'seq';
  items: ConfigNode[];
}

export type ConfigNode = ScalarNode | MapNode | SeqNode;

export interface LoadedConfig {
  file: string;
  text: string;
  /** null when the file is empty or only comments. */
  root: ConfigNode | null;
}

/** Key of a map entry as a string, when it is a scalar (YAML allows any node as a key). */
export function keyString(e: MapEntry): string | undefined {
  return e.key.kind === 'scalar' && e.key.value !== null ? String(e.key.value) : undefined;
}

/** The entry under `key` in a map node (first match), or undefined. */
export function getEntry(node: ConfigNode | undefined, key: string): MapEntry | undefined {
  if (!node || node.kind !== 'map') return undefined;
  return node.entries.find((e) => keyString(e) === key);
}

export function get(node: ConfigNode | undefined, key: string): ConfigNode | undefined {
  return getEntry(node, key)?.value;
}

/** Plain JS value of a node (tags dropped, maps as objects in order). For kwargs display and JSON output. */
export function toPlain(n: ConfigNode): unknown {
  switch (n.kind) {
    case 'scalar':
      return n.value;
    case 'seq':
      return n.items.map(toPlain);
    case 'map': {
      const o: Record<string, unknown> = {};
      for (const e of n.entries) o[keyString(e) ?? '?'] = toPlain(e.value);
      return o;
    }
  }
}
