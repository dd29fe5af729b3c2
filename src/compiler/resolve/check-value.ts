// Checks one config value against a declared spec type (docs/spec-language.md "Types") and converts it to a
// KwValue with struct defaults applied. Problems are pushed as diagnostics at the offending node.
import type { Literal, StructDecl, TypeExpr } from '../../../grammar/ast.js';
import { withFieldDefaults } from '../../../grammar/field-defaults.js';
import { diag, type Diagnostic, type Span } from '../../diagnostics/index.js';
import type { SpecScope } from '../../registry/registry.js';
import { renderType } from '../../registry/signature.js';
import { keyString, toPlain, type ConfigNode } from '../load/config-node.js';
import type { KwValue } from '../ir.js';
import { R } from './codes.js';
import { describeNode, isIntScalar } from './nodes.js';
import { didYouMeanText, pairTypos, suggestName } from './suggest.js';
import { isFloatDType, tensorValue, torchDTypeName } from '../load/tensor-constant.js';
import { pyFloatSpelling } from '../load/pyyaml-scalar.js';

export interface CheckContext {
  scope: SpecScope;
  diags: Diagnostic[];
  /** Who owns the value, for messages: "KDLoss", "SimpleLossWrapper". */
  owner: string;
}

/** A checked value; `ok` false when a diagnostic was reported for it (or inside it). */
export interface Checked {
  ok: boolean;
  value: KwValue;
}

export function literalValue(l: Literal): KwValue {
  switch (l.kind) {
    case 'none':
      return null;
    case 'bool':
    case 'number':
    case 'string':
      return l.value;
    case 'list':
      return l.items.map(literalValue);
    case 'map': {
      const o: Record<string, KwValue> = {};
      for (const e of l.entries) o[e.key] = literalValue(e.value);
      return o;
    }
  }
}

const plain = (n: ConfigNode): KwValue => toPlain(n) as KwValue;

/**
 * A value of type `any`, or one an untyped `**kwargs` swallows, as the body reads it: the plain YAML value, except
 * that a tensor constant (`!import_call {key: 'torch.tensor', ...}`, evaluated at load) is its nested list of numbers,
 * as a `tensor` parameter receives it. torch gets the tensor there, not the tag's {key, init} mapping, which a body
 * forwarding the kwargs (`low_loss("CrossEntropyLoss", kw)`) could only fail on.
 */
export function untypedValue(n: ConfigNode): KwValue {
  if (n.evaluated?.kind === 'tensor') return tensorValue(n.evaluated) as KwValue;
  if (n.kind === 'seq') return n.items.map(untypedValue);
  if (n.kind === 'map') return Object.fromEntries(n.entries.map((e) => [keyString(e) ?? '?', untypedValue(e.value)]));
  return plain(n);
}

function typeWords(t: TypeExpr, scope: SpecScope): string {
  switch (t.kind) {
    case 'prim':
      switch (t.name) {
        case 'path':
          return 'a module path (string)';
        case 'io':
          return `"input" or "output"`;
        case 'str':
          return 'a string';
        case 'float':
          return 'a number';
        case 'int':
          return 'an integer';
        case 'bool':
          return 'a boolean (True/False)';
        default:
          return renderType(t);
      }
    case 'literals':
      return t.values.length === 1 ? JSON.stringify(t.values[0]) : `one of ${t.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'optional':
      return `${typeWords(t.inner, scope)} or null`;
    case 'list':
      return `a list of ${renderType(t.elem)}`;
    case 'map':
      return `a mapping of names to ${renderType(t.value)}`;
    case 'named': {
      const s = scope.structs.get(t.name);
      return s ? `a mapping {${s.fields.map((f) => f.name).join(', ')}} (${t.name})` : t.name;
    }
  }
}

function mismatch(ctx: CheckContext, where: string, t: TypeExpr, n: ConfigNode, hint?: string): Checked {
  ctx.diags.push(diag('error', R.TYPE, `${ctx.owner}: '${where}' expects ${typeWords(t, ctx.scope)}, got ${describeNode(n)}`, n.span, hint ? { hint } : undefined));
  return { ok: false, value: plain(n) };
}

/** Why a number-looking value is a string: quoted, or an exponent without a dot or sign (PyYAML, YAML 1.1). The
 *  fix offered is a spelling PyYAML reads as a float: a dot and a signed exponent (`1e400` → `1.0e+400`). */
export function numberLikeStringHint(n: ConfigNode): string | undefined {
  if (n.kind !== 'scalar' || typeof n.value !== 'string' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(n.value.trim())) return undefined;
  const v = n.value.trim();
  const exp = /e/i.test(v);
  const fixed = exp ? pyFloatSpelling(v) : v;
  if (/^['"]/.test(n.source.trim())) return `the value is quoted, so YAML reads it as a string; write ${fixed} without quotes`;
  return exp ? `PyYAML reads ${n.value} (an exponent needs a dot and a sign) as a string; write ${fixed}` : undefined;
}

/**
 * `where` names the value ("'temperature'", "at_pairs.layer3.student.path"); `keySpan` is the key that holds it,
 * where a missing struct field is reported.
 */
export function checkValue(n: ConfigNode, t: TypeExpr, ctx: CheckContext, where: string, keySpan?: Span): Checked {
  const inner = t.kind === 'optional' ? t.inner : t;
  const wantsTensor = inner.kind === 'prim' && TENSOR_TYPES.has(inner.name);
  if (n.tag !== undefined && !(t.kind === 'prim' && t.name === 'any') && !(wantsTensor && n.evaluated?.kind === 'tensor')) {
    const why = n.inert ? ` (${n.inert})` : n.evaluated ? ` (it evaluates to a torch dtype)` : '';
    ctx.diags.push(diag('error', R.TAGGED, `${ctx.owner}: '${where}' is a ${n.tag} value tdc cannot evaluate${why}; tdc needs ${wantsTensor ? "a tensor constant here (!import_call {key: 'torch.tensor', init: {args: [[...]]}})" : `a plain value here (${renderType(t)})`}`, n.span));
    return { ok: false, value: plain(n) };
  }
  switch (t.kind) {
    case 'optional':
      if (n.kind === 'scalar' && n.value === null) return { ok: true, value: null };
      return checkValue(n, t.inner, ctx, where, keySpan);
    case 'prim':
      return checkPrim(n, t, ctx, where);
    case 'literals': {
      if (n.kind === 'scalar' && typeof n.value === 'string' && t.values.includes(n.value)) return { ok: true, value: n.value };
      const s = n.kind === 'scalar' && typeof n.value === 'string' ? suggestName(n.value, t.values) : undefined;
      return mismatch(ctx, where, t, n, s !== undefined ? didYouMeanText(s) : undefined);
    }
    case 'list': {
      if (n.kind !== 'seq') return mismatch(ctx, where, t, n);
      let ok = true;
      const value = n.items.map((item, i) => {
        const c = checkValue(item, t.elem, ctx, `${where}[${i}]`);
        ok &&= c.ok;
        return c.value;
      });
      return { ok, value };
    }
    case 'map': {
      if (n.kind !== 'map') return mismatch(ctx, where, t, n);
      let ok = true;
      const value: Record<string, KwValue> = {};
      for (const e of n.entries) {
        const k = keyString(e) ?? '?';
        const c = checkValue(e.value, t.value, ctx, `${where}.${k}`, e.key.span);
        ok &&= c.ok;
        value[k] = c.value;
      }
      return { ok, value };
    }
    case 'named': {
      const s = ctx.scope.structs.get(t.name);
      if (!s) {
        ctx.diags.push(diag('error', R.INTERNAL, `${ctx.owner}: the spec names an undeclared struct '${t.name}' (a bug in the loss spec)`, t.span));
        return { ok: false, value: plain(n) };
      }
      return checkStruct(n, s, ctx, where, keySpan);
    }
  }
}

function checkPrim(n: ConfigNode, t: Extract<TypeExpr, { kind: 'prim' }>, ctx: CheckContext, where: string): Checked {
  const v = n.kind === 'scalar' ? n.value : undefined;
  switch (t.name) {
    case 'any':
      return { ok: true, value: untypedValue(n) };
    case 'criterion':
    case 'wrapper_config':
      return { ok: true, value: plain(n) };
    case 'float':
      if (typeof v === 'number') return { ok: true, value: v };
      return mismatch(ctx, where, t, n, numberLikeStringHint(n));
    case 'int':
      if (n.kind === 'scalar' && isIntScalar(n)) return { ok: true, value: v as number };
      return mismatch(ctx, where, t, n, typeof v === 'number' ? `${n.kind === 'scalar' ? n.source : v} is a float; torchdistill needs an int here` : numberLikeStringHint(n));
    case 'bool':
      if (typeof v === 'boolean') return { ok: true, value: v };
      return mismatch(ctx, where, t, n);
    case 'str':
    case 'path':
      if (typeof v === 'string') return { ok: true, value: v };
      return mismatch(ctx, where, t, n);
    case 'tensor':
    case 'scale_tensor':
    case 'numeric_tensor':
      return checkTensor(n, t.name, ctx, where);
    case 'io':
      if (v === 'input' || v === 'output') return { ok: true, value: v };
      return mismatch(ctx, where, t, n, typeof v === 'string' ? (suggestName(v, ['input', 'output']) ? didYouMeanText(suggestName(v, ['input', 'output'])!) : undefined) : undefined);
  }
}

/** Python's type name of a plain YAML value, as torch.typename prints it. */
function pyTypeName(n: ConfigNode): string {
  if (n.kind === 'seq') return 'list';
  if (n.kind === 'map') return 'dict';
  const v = n.value;
  return typeof v === 'boolean' ? 'bool' : typeof v === 'number' ? (isIntScalar(n) ? 'int' : 'float') : typeof v === 'string' ? 'str' : 'NoneType';
}

const TENSOR_TYPES = new Set(['tensor', 'scale_tensor', 'numeric_tensor']);

/**
 * A loss buffer (weight, pos_weight): an evaluated tensor constant. Which dtypes torch 1.13 accepts depends on
 * how the loss uses the buffer (checked against torch): `tensor` goes to a kernel that checks its scalar type
 * (cross_entropy, nll_loss, multi_margin_loss: floating only); `scale_tensor` is multiplied into the loss
 * (binary_cross_entropy[_with_logits] weight, MultiLabelSoftMarginLoss weight: any dtype, promoted — bool is
 * 0/1); `numeric_tensor` also takes part in a subtraction (BCEWithLogitsLoss pos_weight: `pos_weight - 1`, so
 * integers are promoted and bool is refused).
 */
function checkTensor(n: ConfigNode, type: string, ctx: CheckContext, where: string): Checked {
  const ev = n.evaluated;
  if (ev?.kind === 'tensor') {
    if (isFloatDType(ev.dtype) || type === 'scale_tensor' || (type === 'numeric_tensor' && ev.dtype !== 'bool')) return { ok: true, value: tensorValue(ev) as KwValue };
    if (type === 'numeric_tensor') {
      ctx.diags.push(
        diag('error', R.TYPE, `${ctx.owner}: '${where}' is a torch.bool tensor; torch computes '${where.replace(/^.*\./, '')} - 1' with it and raises ("RuntimeError: Subtraction, the \`-\` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the \`~\` or \`logical_not()\` operator instead.")`, n.span, {
          hint: `write the values as numbers (1.0 and 0.0 rather than true and false), or pass init.kwargs.dtype: !import_get {key: 'torch.float32'}`,
        }),
      );
      return { ok: false, value: tensorValue(ev) as KwValue };
    }
    const found = ev.dtype === 'int64' ? 'Long' : ev.dtype === 'bool' ? 'Bool' : ev.dtype === 'int32' ? 'Int' : ev.dtype === 'int16' ? 'Short' : ev.dtype === 'int8' ? 'Char' : 'Byte';
    ctx.diags.push(
      diag('error', R.TYPE, `${ctx.owner}: '${where}' is a ${torchDTypeName(ev.dtype)} tensor (${ev.call} ${ev.dtype === 'bool' ? 'of booleans' : 'of Python ints infers int64'}); torch's loss kernels need a floating-point buffer ("RuntimeError: expected scalar type Float but found ${found}")`, n.span, {
        hint: `write the values as floats (1.0 rather than 1), or pass init.kwargs.dtype: !import_get {key: 'torch.float32'}`,
      }),
    );
    return { ok: false, value: tensorValue(ev) as KwValue };
  }
  const name = where.replace(/^.*\./, '');
  const example = n.kind === 'seq' ? `[${n.items.map((i) => (i.kind === 'scalar' ? i.source : '...')).slice(0, 4).join(', ')}${n.items.length > 4 ? ', ...' : ''}]` : n.kind === 'scalar' ? `[${n.source}]` : '[...]';
  ctx.diags.push(
    diag('error', R.TYPE, `${ctx.owner}: '${where}' must be a tensor: torch registers it as a buffer and rejects ${describeNode(n)} ("TypeError: cannot assign '${pyTypeName(n)}' object to buffer '${name}' (torch Tensor or None required)")`, n.span, {
      hint: `build the tensor in the config: ${name}: !import_call {key: 'torch.tensor', init: {args: [${example}]}}`,
    }),
  );
  return { ok: false, value: plain(n) };
}

function checkStruct(n: ConfigNode, s: StructDecl, ctx: CheckContext, where: string, keySpan?: Span): Checked {
  if (n.kind !== 'map') return mismatch(ctx, where, { kind: 'named', name: s.name, span: s.span }, n);
  let ok = true;
  const value: Record<string, KwValue> = {};
  const fields = new Map(s.fields.map((f) => [f.name, f]));
  const given = new Set<string>();
  const unknown: { name: string; node: ConfigNode }[] = [];
  for (const e of n.entries) {
    const k = keyString(e) ?? '?';
    const f = fields.get(k);
    if (!f) {
      unknown.push({ name: k, node: e.key });
      continue;
    }
    given.add(k);
    const c = checkValue(e.value, f.type, ctx, `${where}.${k}`, e.key.span);
    ok &&= c.ok;
    value[k] = c.value;
  }
  const missing = s.fields.filter((f) => !given.has(f.name) && f.default === undefined).map((f) => f.name);
  const pairs = pairTypos(
    unknown.map((u) => u.name),
    missing,
  );
  const fieldList = s.fields.map((f) => f.name).join(', ');
  for (const u of unknown) {
    ok = false;
    const m = pairs.get(u.name) ?? suggestName(u.name, fields.keys());
    ctx.diags.push(
      diag('error', R.UNKNOWN_FIELD, `${ctx.owner}: '${where}' has no field '${u.name}' (${s.name} fields: ${fieldList})`, u.node.span, m ? { hint: didYouMeanText(m) } : undefined),
    );
  }
  const paired = new Set(pairs.values());
  for (const m of missing) {
    ok = false;
    if (paired.has(m)) continue; // reported with the misspelled key
    ctx.diags.push(diag('error', R.MISSING_KWARG, `${ctx.owner}: '${where}' is missing required field '${m}' (${s.name} fields: ${fieldList})`, keySpan ?? n.span));
  }
  for (const f of s.fields) if (!given.has(f.name) && f.default !== undefined) value[f.name] = literalValue(withFieldDefaults(f.default, f.type, ctx.scope.structs));
  return { ok, value };
}
