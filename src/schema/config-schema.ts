// A JSON Schema (draft-07) for torchdistill configs, generated from the loss registry: every registered loss
// key (built-in and custom --spec ones), its kwargs with types, defaults and required ones, the wrappers, the
// high-level losses with their sub-terms and model_term, the forward hooks, and the legacy (pre-v1.0) criterion
// schema. It says what `tdc check` says where JSON Schema can say it: an unknown loss, wrapper or kwarg (also a
// kwarg that torchdistill's **kwargs would swallow: tdc warns about those), a missing or mistyped kwarg, a torch
// loss without a wrapper. What it cannot say (e.g. a tensor read that no forward_hook captures) `tdc check` does.
import type { Literal, StructDecl, TypeExpr } from '../../grammar/ast.js';
import { renderLiteral, renderType } from '../../grammar/print.js';
import { getMidLevelLoss, listRegistry, scopeOf, type RegisteredLoss, type SpecScope } from '../registry/registry.js';
import { literalValue } from '../compiler/resolve/check-value.js';
import { VERSION } from '../version.js';

export type JsonSchema = { [k: string]: unknown };

/** The loss and parameter renames of torchdistill v1.0 that the legacy schema still accepts (see resolve/legacy.ts). */
const LEGACY_RENAMES: Record<string, Record<string, { to: string; sameType: boolean }>> = {
  // kernel_params {key, ...} was translated to kernel_config {type, ...}
  CCKDLoss: { kernel_params: { to: 'kernel_config', sameType: false } },
  HierarchicalContextLoss: { kernel_sizes: { to: 'output_sizes', sameType: true } },
};
/** Legacy org_term criteria were called on the root outputs: these kwargs were filled in by the caller. */
const ORG_PATH_PARAMS = ['student_module_path', 'student_module_io', 'teacher_module_path', 'teacher_module_io'];

const ref = (name: string): JsonSchema => ({ $ref: `#/definitions/${name}` });
const nullable = (s: JsonSchema): JsonSchema => ({ anyOf: [s, { type: 'null' }] });
const strings = (xs: readonly string[]): JsonSchema => ({ type: 'string', enum: [...xs] });

interface Mode {
  /** Legacy vocabulary: struct fields `weight` may be written `factor`, v1.0 renames accepted. */
  legacy: boolean;
}

function typeSchema(t: TypeExpr, scope: SpecScope, mode: Mode, seen: ReadonlySet<string> = new Set()): JsonSchema {
  switch (t.kind) {
    case 'prim':
      switch (t.name) {
        case 'float':
          return { type: 'number' };
        case 'int':
          return { type: 'integer' };
        case 'bool':
          return { type: 'boolean' };
        case 'str':
          return { type: 'string' };
        case 'path':
          return { type: 'string', description: "a module path ('.' is the model itself), e.g. 'layer4' or 'fc'" };
        case 'io':
          return strings(['input', 'output']);
        case 'criterion':
          return ref(mode.legacy ? 'legacyLossConfig' : 'lossConfig');
        case 'wrapper_config':
          return ref('wrapperConfig');
        case 'any':
          return {};
      }
      return {};
    case 'literals':
      return strings(t.values);
    case 'optional':
      return nullable(typeSchema(t.inner, scope, mode, seen));
    case 'list':
      return { type: 'array', items: typeSchema(t.elem, scope, mode, seen) };
    case 'map':
      return { type: 'object', additionalProperties: typeSchema(t.value, scope, mode, seen) };
    case 'named': {
      const s = scope.structs.get(t.name);
      if (!s || seen.has(s.name)) return { type: 'object' };
      return structSchema(s, scope, mode, new Set([...seen, s.name]));
    }
  }
}

function withDefault(s: JsonSchema, d: Literal | undefined, type: TypeExpr): JsonSchema {
  const out: JsonSchema = { ...s, description: [s.description, `${renderType(type)}${d ? ` = ${renderLiteral(d)}` : ' (required)'}`].filter(Boolean).join('; ') };
  if (d) out.default = literalValue(d);
  return out;
}

function structSchema(s: StructDecl, scope: SpecScope, mode: Mode, seen: ReadonlySet<string>): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const f of s.fields) properties[f.name] = withDefault(typeSchema(f.type, scope, mode, seen), f.default, f.type);
  let required = s.fields.filter((f) => f.default === undefined).map((f) => f.name);
  const out: JsonSchema = { type: 'object', ...(s.doc ? { description: s.doc } : {}), properties, additionalProperties: false };
  // Legacy pairs were weighted by `factor`, which v1.0 calls `weight`.
  const legacyFactor = mode.legacy && properties.weight !== undefined && properties.factor === undefined;
  if (legacyFactor) {
    properties.factor = { ...properties.weight, description: "legacy name of 'weight'" };
    required = required.filter((r) => r !== 'weight');
    if (s.fields.find((f) => f.name === 'weight')?.default === undefined) out.anyOf = [{ required: ['weight'] }, { required: ['factor'] }];
  }
  if (required.length) out.required = required;
  return out;
}

/** The kwargs mapping of a loss or wrapper, from its declared parameters (and those it forwards `**rest` to). */
function kwargsSchema(loss: RegisteredLoss, mode: Mode, opts: { skip?: readonly string[]; optional?: readonly string[] } = {}): JsonSchema {
  const scope = scopeOf(loss);
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  const skip = new Set(opts.skip ?? []);
  for (const p of loss.decl.params) {
    if (skip.has(p.name)) continue;
    properties[p.name] = withDefault(typeSchema(p.type, scope, mode), p.default, p.type);
    if (p.default === undefined && !opts.optional?.includes(p.name)) required.push(p.name);
  }
  const forward = loss.decl.rest?.forwardTo !== undefined ? getMidLevelLoss(loss.decl.rest.forwardTo) : undefined;
  if (forward) {
    const fscope = scopeOf(forward);
    for (const p of forward.decl.params)
      if (!(p.name in properties)) properties[p.name] = withDefault({ ...typeSchema(p.type, fscope, mode), description: `forwarded to ${forward.key}` }, p.default, p.type);
  }
  const out: JsonSchema = { type: 'object', properties, additionalProperties: false };
  const renames = mode.legacy ? (LEGACY_RENAMES[loss.key] ?? {}) : {};
  const alt: JsonSchema[] = [];
  for (const [old, { to: now, sameType }] of Object.entries(renames)) {
    if (!(now in properties)) continue;
    properties[old] = { ...(sameType ? properties[now] : { type: 'object' }), description: `legacy name of '${now}'` };
    const i = required.indexOf(now);
    if (i >= 0) {
      required.splice(i, 1);
      alt.push({ anyOf: [{ required: [now] }, { required: [old] }] });
    }
  }
  if (required.length) out.required = required;
  if (alt.length) out.allOf = alt;
  return out;
}

/** `{key: K, kwargs: ...}` for each key, dispatched on `key` (if/then keeps validation messages to the one that applies). */
function keyed(keys: readonly RegisteredLoss[], def: (l: RegisteredLoss) => string, keyProp: string, kwProp: string): JsonSchema[] {
  return keys.map((l) => ({ if: { properties: { [keyProp]: { const: l.key } }, required: [keyProp] }, then: { properties: { [kwProp]: ref(def(l)) } } }));
}

const describe = (l: RegisteredLoss): string => [l.decl.doc?.split('\n')[0], `${l.key}: ${l.level}-level${l.builtin ? '' : ' (custom)'}`].filter(Boolean).join(' — ');

/** The schema of a torchdistill config for the losses registered now (call after registering custom specs). */
export function configSchema(): JsonSchema {
  const all = listRegistry();
  const byLevel = (lv: RegisteredLoss['level']): RegisteredLoss[] => all.filter((l) => l.level === lv);
  const seen = new Set<string>();
  // Lookup order: a mid-level key shadows a low-level one; torch's low-level ones shadow custom ones.
  const losses = [...byLevel('mid'), ...byLevel('low')].filter((l) => !seen.has(l.key) && seen.add(l.key));
  const lowOnly = losses.filter((l) => l.level === 'low').map((l) => l.key);
  const midKeys = losses.filter((l) => l.level === 'mid').map((l) => l.key);
  const high = byLevel('high');
  const wrappers = byLevel('wrapper');
  const extract = byLevel('extract').map((l) => l.key);

  const definitions: Record<string, JsonSchema> = {};
  const modern: Mode = { legacy: false };
  const legacy: Mode = { legacy: true };
  for (const l of losses) {
    definitions[`kwargs.${l.key}`] = { description: describe(l), ...kwargsSchema(l, modern) };
    // the legacy variants, where they differ from the modern kwargs (else a reference to them)
    const m = JSON.stringify(kwargsSchema(l, modern));
    const lp = kwargsSchema(l, legacy);
    const org = kwargsSchema(l, legacy, { optional: ORG_PATH_PARAMS });
    definitions[`legacyParams.${l.key}`] = JSON.stringify(lp) === m ? ref(`kwargs.${l.key}`) : lp;
    definitions[`legacyOrgParams.${l.key}`] = JSON.stringify(org) === JSON.stringify(lp) ? ref(`legacyParams.${l.key}`) : org;
  }
  for (const w of wrappers) definitions[`wrapperKwargs.${w.key}`] = { description: describe(w), ...kwargsSchema(w, modern) };
  for (const h of high) definitions[`highKwargs.${h.key}`] = { description: describe(h), ...kwargsSchema(h, modern) };

  const lossKeys = strings(losses.map((l) => l.key));
  definitions.lossConfig = {
    type: 'object',
    description: "a loss: a mid-level loss (reads the io_dicts itself) or a torch loss (needs a criterion_wrapper)",
    properties: { key: { ...lossKeys, description: 'registered mid-level loss, or a torch.nn loss' }, kwargs: { type: 'object' } },
    required: ['key', 'kwargs'],
    additionalProperties: false,
    allOf: keyed(losses, (l) => `kwargs.${l.key}`, 'key', 'kwargs'),
  };
  definitions.wrapperConfig = {
    type: 'object',
    properties: { key: strings(wrappers.map((w) => w.key)), args: { type: 'array' }, kwargs: nullable({ type: 'object' }) },
    required: ['key'],
    additionalProperties: false,
    allOf: wrappers.map((w) => {
      const needsKwargs = w.decl.params.some((p) => p.default === undefined);
      const kw = ref(`wrapperKwargs.${w.key}`);
      return { if: { properties: { key: { const: w.key } }, required: ['key'] }, then: needsKwargs ? { properties: { kwargs: kw }, required: ['kwargs'] } : { properties: { kwargs: nullable(kw) } } };
    }),
  };
  const noWrapper: JsonSchema = { anyOf: [{ type: 'null' }, { type: 'object', maxProperties: 0 }] };
  definitions.subTerm = {
    type: 'object',
    properties: { criterion: ref('lossConfig'), criterion_wrapper: nullable(ref('wrapperConfig')), weight: { type: 'number' } },
    required: ['criterion', 'weight'],
    additionalProperties: false,
    allOf: [
      // a torch loss is called as loss(input, target): it needs a wrapper to pick its tensors
      { if: { properties: { criterion: { type: 'object', properties: { key: { enum: lowOnly } }, required: ['key'] } }, required: ['criterion'] }, then: { required: ['criterion_wrapper'], properties: { criterion_wrapper: { type: 'object', minProperties: 1 } } } },
      // a mid-level loss reads the io_dicts itself: no wrapper
      { if: { properties: { criterion: { type: 'object', properties: { key: { enum: midKeys } }, required: ['key'] } }, required: ['criterion'] }, then: { properties: { criterion_wrapper: noWrapper } } },
    ],
  };
  definitions.modelTerm = nullable({
    type: 'object',
    description: "the model's own loss (e.g. a HuggingFace model's outputs.loss) × weight",
    properties: { weight: nullable({ anyOf: [{ type: 'number' }, { type: 'object', additionalProperties: { type: 'number' } }] }) },
    additionalProperties: false,
  });
  definitions.criterion = {
    type: 'object',
    properties: {
      key: { ...strings(high.map((h) => h.key)), description: 'high-level loss' },
      args: { type: 'array' },
      kwargs: { type: 'object', properties: { sub_terms: nullable({ type: 'object', additionalProperties: ref('subTerm') }), model_term: ref('modelTerm') } },
      func2extract_model_loss: nullable(strings(extract)),
    },
    required: ['key'],
    additionalProperties: false,
    allOf: high.map((h) => ({
      if: { properties: { key: { const: h.key } }, required: ['key'] },
      then: { properties: { kwargs: { allOf: [ref(`highKwargs.${h.key}`)] } } },
    })),
  };
  // high-level kwargs schemas also list sub_terms/model_term (declared params): point them at the shared definitions
  for (const h of high) {
    const k = definitions[`highKwargs.${h.key}`] as { properties: Record<string, JsonSchema>; required?: string[] };
    if ('sub_terms' in k.properties) k.properties.sub_terms = nullable({ type: 'object', additionalProperties: ref('subTerm') });
    if ('model_term' in k.properties) k.properties.model_term = ref('modelTerm');
    if (k.required) k.required = k.required.filter((r) => r !== 'sub_terms' && r !== 'model_term');
  }

  // ---- legacy (pre-v1.0): type/params/factor, GeneralizedCustomLoss, org_term -----------------------------
  definitions.legacyLossConfig = {
    type: 'object',
    properties: { type: lossKeys, params: { type: 'object' } },
    required: ['type'],
    additionalProperties: false,
    allOf: keyed(losses, (l) => `legacyParams.${l.key}`, 'type', 'params'),
  };
  definitions.legacySubTerm = {
    type: 'object',
    properties: { criterion: ref('legacyLossConfig'), params: nullable(ref('wrapperKwargs.SimpleLossWrapper')), factor: { type: 'number' } },
    required: ['criterion', 'factor'],
    additionalProperties: false,
    allOf: [
      { if: { properties: { criterion: { type: 'object', properties: { type: { enum: lowOnly } }, required: ['type'] } }, required: ['criterion'] }, then: { required: ['params'], properties: { params: { type: 'object' } } } },
      { if: { properties: { criterion: { type: 'object', properties: { type: { enum: midKeys } }, required: ['type'] } }, required: ['criterion'] }, then: { properties: { params: { type: 'null' } } } },
    ],
  };
  if (!definitions['wrapperKwargs.SimpleLossWrapper']) (definitions.legacySubTerm as { properties: Record<string, JsonSchema> }).properties.params = nullable({ type: 'object' });
  definitions.legacyCriterion = {
    type: 'object',
    description: 'legacy (pre-v1.0) criterion: type/params/factor; tdc maps it onto WeightedSumLoss',
    properties: {
      type: strings(['GeneralizedCustomLoss', ...high.map((h) => h.key)]),
      sub_terms: nullable({ type: 'object', additionalProperties: ref('legacySubTerm') }),
      org_term: nullable({
        type: 'object',
        properties: {
          criterion: nullable({
            type: 'object',
            properties: { type: strings([...losses.map((l) => l.key), 'KDLoss4Transformer']), params: { type: 'object' } },
            required: ['type'],
            additionalProperties: false,
            allOf: keyed(losses, (l) => `legacyOrgParams.${l.key}`, 'type', 'params'),
          }),
          factor: nullable({ anyOf: [{ type: 'number' }, { type: 'object', additionalProperties: { type: 'number' } }] }),
        },
        additionalProperties: false,
      }),
      func2extract_org_loss: nullable({ type: 'string' }),
    },
    required: ['type'],
    additionalProperties: false,
  };

  // ---- stages ---------------------------------------------------------------------------------------------
  const hookList = nullable({ type: 'array', items: { type: 'string' } });
  definitions.side = nullable({
    type: 'object',
    properties: {
      forward_hook: nullable({ type: 'object', properties: { input: hookList, output: hookList } }),
      requires_grad: { type: 'boolean' },
    },
  });
  definitions.stageN = { allOf: [ref('stage')], type: 'object', required: ['criterion'] };
  definitions.stage = {
    type: 'object',
    properties: {
      criterion: {
        description: 'the criterion of this stage: a high-level loss (WeightedSumLoss with sub_terms), or the legacy type/params schema',
        if: { type: 'object', required: ['type'], not: { required: ['key'] } },
        then: ref('legacyCriterion'),
        else: ref('criterion'),
      },
      teacher: ref('side'),
      student: ref('side'),
      model: ref('side'),
    },
  };

  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'torchdistill config (as checked by tdc)',
    description: `Generated by tdc ${VERSION} (tdc schema) from its loss registry: ${losses.length} losses, ${wrappers.length} wrappers, ${high.length} high-level losses.`,
    type: 'object',
    properties: {
      train: {
        type: 'object',
        description: 'training: one stage (criterion here) or several (stage1, stage2, … each with a criterion)',
        allOf: [ref('stage')],
        patternProperties: { '^stage': ref('stageN') },
        // without stageN keys, train itself is the stage and needs a criterion
        if: { propertyNames: { not: { pattern: '^stage' } } },
        then: { required: ['criterion'] },
      },
    },
    required: ['train'],
    definitions,
  };
}
