// Validates a kwargs mapping against a registered loss's declared parameters: unknown names (error, or a
// warning when `**rest` swallows them), `**rest: Other` forwarding, missing required ones, types, defaults.
import { diag, type Diagnostic, type Span } from '../../diagnostics/index.js';
import { getMidLevelLoss, registryKeys, scopeOf, type RegisteredLoss } from '../../registry/registry.js';
import { renderSignature, renderType } from '../../registry/signature.js';
import { keyString, type ConfigNode, type MapEntry } from '../load/config-node.js';
import type { KwValue } from '../ir.js';
import { checkValue, literalValue, untypedValue, type CheckContext } from './check-value.js';
import type { TypeExpr } from '../../../grammar/ast.js';
import { readsName } from '../../../grammar/reads-name.js';
import { withFieldDefaults } from '../../../grammar/field-defaults.js';
import { R } from './codes.js';
import { didYouMeanText, pairTypos, suggestName } from './suggest.js';

export interface KwargsResult {
  ok: boolean;
  kwargs: Record<string, KwValue>;
  kwargNodes: Record<string, ConfigNode>;
}

export interface KwargsOptions {
  /** Params handled by the caller (WeightedSumLoss's sub_terms/model_term): not checked here, not defaulted. */
  skip?: ReadonlySet<string>;
}

function declaredHere(loss: RegisteredLoss): { related: { message: string; span: Span }[] } {
  return { related: [{ message: `${loss.key} is declared here`, span: loss.decl.nameSpan }] };
}

/** For a value given under a misspelt name: its one unknown field against the one missing required field. */
function fieldRenameHint(value: ConfigNode, t: TypeExpr, ctx: CheckContext): string {
  const inner = t.kind === 'optional' ? t.inner : t;
  if (inner.kind !== 'named' || value.kind !== 'map') return '';
  const s = ctx.scope.structs.get(inner.name);
  if (!s) return '';
  const given = value.entries.map((e) => keyString(e) ?? '');
  const unknown = given.filter((g) => !s.fields.some((f) => f.name === g));
  const missing = s.fields.filter((f) => f.default === undefined && !given.includes(f.name)).map((f) => f.name);
  return unknown.length === 1 && missing.length === 1 ? ` (and ${s.name} calls its '${unknown[0]}' field '${missing[0]}')` : '';
}

/**
 * `node` is the kwargs mapping (undefined or null: none given); `anchor` is where a missing required kwarg is
 * reported (the `kwargs:` key, or the loss key when there is no kwargs mapping).
 */
export function validateKwargs(loss: RegisteredLoss, node: ConfigNode | undefined, anchor: Span, diags: Diagnostic[], opts: KwargsOptions = {}): KwargsResult {
  const decl = loss.decl;
  const ctx: CheckContext = { scope: scopeOf(loss), diags, owner: loss.key };
  const params = new Map(decl.params.map((p) => [p.name, p]));
  const result: KwargsResult = { ok: true, kwargs: {}, kwargNodes: {} };
  const entries: MapEntry[] = node && node.kind === 'map' ? node.entries : [];
  const unknown: MapEntry[] = [];

  for (const e of entries) {
    const k = keyString(e);
    if (k === undefined) {
      diags.push(diag('error', R.TYPE, `${loss.key}: kwarg names must be strings, got ${e.key.kind}`, e.key.span));
      result.ok = false;
      continue;
    }
    if (opts.skip?.has(k)) continue;
    const p = params.get(k);
    if (!p) {
      unknown.push(e);
      continue;
    }
    const c = checkValue(e.value, p.type, ctx, k, e.key.span);
    result.ok &&= c.ok;
    result.kwargs[k] = c.value;
    result.kwargNodes[k] = e.value;
  }

  const given = new Set(Object.keys(result.kwargs));
  const missing = decl.params.filter((p) => p.default === undefined && !given.has(p.name) && !opts.skip?.has(p.name)).map((p) => p.name);
  const pairs = pairTypos(
    unknown.map((e) => keyString(e)!),
    missing,
  );

  // `**rest: Other`: extra kwargs go to Other, validated against its parameters.
  const forward = decl.rest?.forwardTo !== undefined ? getMidLevelLoss(decl.rest.forwardTo) : undefined;
  if (decl.rest?.forwardTo !== undefined && !forward) {
    const to = decl.rest.forwardTo;
    if (loss.builtin) diags.push(diag('error', R.INTERNAL, `${loss.key}: its spec forwards **${decl.rest.name} to '${to}', which is not registered (a bug in the loss spec)`, decl.rest.span));
    else {
      // a user's spec (--spec, register*): their mistake, at the type of `**name: Loss`
      result.ok = false;
      const s = suggestName(to, [...registryKeys('mid'), ...registryKeys('low')]);
      diags.push(
        diag('error', R.UNKNOWN_LOSS, `${loss.key}: **${decl.rest.name} forwards the extra kwargs to '${to}', which is not a registered mid- or low-level loss`, decl.rest.forwardSpan ?? decl.rest.span, {
          hint: s ? didYouMeanText(s) : `name a mid- or low-level loss (such as CrossEntropyLoss), or write **${decl.rest.name} without a type to swallow the extra kwargs`,
        }),
      );
    }
  }
  const restValues: Record<string, KwValue> = {};

  for (const e of unknown) {
    const k = keyString(e)!;
    const pairedWith = pairs.get(k);
    if (pairedWith !== undefined) {
      result.ok = false;
      const how = decl.rest ? `torchdistill swallows '${k}' into **${decl.rest.name}, then raises TypeError` : 'torchdistill raises TypeError';
      diags.push(
        diag('error', R.UNKNOWN_KWARG, `${loss.key} has no parameter '${k}', and its required '${pairedWith}' is missing (${how})`, e.key.span, {
          hint: didYouMeanText(pairedWith) + fieldRenameHint(e.value, params.get(pairedWith)!.type, ctx),
          ...declaredHere(loss),
        }),
      );
      continue;
    }
    if (!decl.rest) {
      result.ok = false;
      const s = suggestName(k, params.keys());
      diags.push(
        diag('error', R.UNKNOWN_KWARG, `${loss.key} has no parameter '${k}' (torchdistill raises TypeError)`, e.key.span, {
          hint: s ? didYouMeanText(s) : `parameters: ${renderSignature(decl)}`,
          ...declaredHere(loss),
        }),
      );
      continue;
    }
    if (forward) {
      const fp = forward.decl.params.find((p) => p.name === k);
      if (fp) {
        const c = checkValue(e.value, fp.type, { ...ctx, scope: scopeOf(forward), owner: `${loss.key} (forwarded to ${forward.key})` }, k, e.key.span);
        result.ok &&= c.ok;
        restValues[k] = c.value;
        result.kwargNodes[k] = e.value;
        continue;
      }
      result.ok = false;
      const s = suggestName(k, [...params.keys(), ...forward.decl.params.map((p) => p.name)]);
      diags.push(
        diag(
          'error',
          R.UNKNOWN_KWARG,
          `${loss.key} has no parameter '${k}', and ${forward.key} (which receives ${loss.key}'s extra kwargs) has none either (torchdistill raises TypeError)`,
          e.key.span,
          { hint: s ? didYouMeanText(s) : `parameters: ${renderSignature(decl)}; ${renderSignature(forward.decl)}`, ...declaredHere(loss) },
        ),
      );
      continue;
    }
    // Swallowed by **kwargs: torchdistill ignores it, unless the body reads them (a custom spec forwarding them
    // to low_loss).
    if (!readsName(decl.body, decl.rest.name)) {
      const s = suggestName(k, params.keys());
      const sp = s !== undefined ? params.get(s) : undefined;
      const hint =
        s !== undefined
          ? `did you mean '${s}'? ${loss.key} reads '${s}'${sp?.default !== undefined ? ` (default ${JSON.stringify(literalValue(sp.default))} applies)` : ''}`
          : `${loss.key}'s parameters: ${renderSignature(decl)}`;
      diags.push(diag('warning', R.IGNORED_KWARG, `${loss.key} has no parameter '${k}'; torchdistill swallows it into **${decl.rest.name} and ignores it`, e.key.span, { hint }));
    }
    restValues[k] = untypedValue(e.value);
    result.kwargNodes[k] = e.value;
  }

  const pairedMissing = new Set(pairs.values());
  for (const m of missing) {
    result.ok = false;
    if (pairedMissing.has(m)) continue;
    const p = params.get(m)!;
    diags.push(
      diag('error', R.MISSING_KWARG, `${loss.key} is missing required kwarg '${m}' (${m}: ${renderType(p.type)}; torchdistill raises TypeError)`, anchor, {
        hint: `signature: ${renderSignature(decl)}`,
        ...declaredHere(loss),
      }),
    );
  }

  for (const p of decl.params) {
    if (!(p.name in result.kwargs) && p.default !== undefined && !opts.skip?.has(p.name)) result.kwargs[p.name] = literalValue(withFieldDefaults(p.default, p.type, ctx.scope.structs));
  }
  // Like Python's **kwargs: the extra names sit beside the declared ones (the spec's `**rest` collects them).
  Object.assign(result.kwargs, restValues);
  return result;
}
