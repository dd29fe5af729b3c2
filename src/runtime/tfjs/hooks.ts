// torchdistill's forward hooks, mapped onto tfjs layers. A stage reads tensors named like an io_dict:
// `student/<module path>/<input|output>[/<index>]` (`.` is the model itself). Here each such name becomes a
// symbolic tensor of the tfjs model: '.' → the model's input / output, any other path → the layer of that
// name (or the one an explicit path → layer map names). A missing path is a TfjsLayerError naming the path and
// listing the model's layers.
import { TfjsLayerError, TfjsStageError } from './errors.js';
import { expectArgument, isRecord } from '../argument-checks.js';
import type { TfLayer, TfLayersModel, TfSymbolicTensor } from './tfjs-types.js';

export type Side = 'student' | 'teacher';

/** One io_dict entry a plan reads from a model. */
export interface HookRef {
  /** The plan input name, e.g. 'student/conv2/output'. */
  name: string;
  side: Side;
  path: string;
  io: 'input' | 'output';
  /** Index into a layer's list of inputs / outputs. */
  index?: number;
}

/** Splits a plan input name; undefined for names that are not a model's (targets, model_loss/…, state_in/…). */
export function parseHookName(name: string): HookRef | undefined {
  expectArgument(typeof name === 'string', name, 'parseHookName', 'the name', "a string like 'student/conv2/output'");
  const segs = name.split('/');
  const side = segs[0];
  if (side !== 'student' && side !== 'teacher') return undefined;
  // the io is the last 'input'/'output' segment that leaves a non-empty path before it
  let k = -1;
  for (let i = segs.length - 1; i >= 2; i--) if (segs[i] === 'input' || segs[i] === 'output') { k = i; break; }
  if (k < 0) throw new TfjsStageError(`cannot read the io_dict name '${name}': expected ${side}/<module path>/<input|output>[/<index>]`);
  const rest = segs.slice(k + 1);
  const ref: HookRef = { name, side, path: segs.slice(1, k).join('/'), io: segs[k] as 'input' | 'output' };
  if (rest.length > 1 || (rest.length === 1 && !/^\d+$/.test(rest[0]!)))
    throw new TfjsStageError(`the io_dict entry '${name}' selects '${rest.join('/')}' inside the ${ref.io}: the tfjs bridge supports list indices only`);
  if (rest.length === 1) ref.index = Number(rest[0]);
  return ref;
}

/** The symbolic tensor of each ref on `model`, in order. */
export function resolveHooks(
  model: TfLayersModel,
  refs: readonly HookRef[],
  map: Readonly<Record<string, string>> = {},
): TfSymbolicTensor[] {
  expectArgument(isRecord(model) && typeof model.getLayer === 'function', model, 'resolveHooks', 'the model', 'a tfjs LayersModel');
  expectArgument(Array.isArray(refs), refs, 'resolveHooks', 'refs', 'an Array of HookRef (parseHookName)');
  expectArgument(isRecord(map), map, 'resolveHooks', 'the map', 'an object of module path → layer name or left out');
  return refs.map((ref) => {
    if (ref.path === '.') {
      const list = ref.io === 'output' ? model.outputs : model.inputs;
      return pick(list, ref, `the ${ref.side} model's ${ref.io}s`);
    }
    const layerName = map[ref.path] ?? ref.path;
    let layer: TfLayer | undefined;
    try {
      layer = model.getLayer(layerName);
    } catch {
      layer = undefined;
    }
    if (!layer) {
      const mapped = map[ref.path] !== undefined ? ` (mapped to layer '${layerName}')` : '';
      const names = model.layers.map((l) => l.name);
      throw new TfjsLayerError(
        `the ${ref.side} module path '${ref.path}'${mapped} (read as '${ref.name}') names no layer of the tfjs ${ref.side} model '${model.name}'; its layers: ${names.join(', ')}`,
      );
    }
    let sym: TfSymbolicTensor | TfSymbolicTensor[];
    try {
      sym = ref.io === 'output' ? layer.output : layer.input;
    } catch (e) {
      throw new TfjsLayerError(
        `the ${ref.side} layer '${layer.name}' (module path '${ref.path}') has no single ${ref.io}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    return pick(Array.isArray(sym) ? sym : [sym], ref, `layer '${layer.name}'`);
  });
}

function pick(list: readonly TfSymbolicTensor[], ref: HookRef, what: string): TfSymbolicTensor {
  if (ref.index !== undefined) {
    const t = list[ref.index];
    if (!t) throw new TfjsLayerError(`'${ref.name}': ${what} has ${list.length} ${ref.io}${list.length === 1 ? '' : 's'}, no index ${ref.index}`);
    return t;
  }
  if (list.length !== 1)
    throw new TfjsLayerError(`'${ref.name}': ${what} has ${list.length} ${ref.io}s; name one with an index (${ref.name}/0)`);
  return list[0]!;
}
