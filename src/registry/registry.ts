// The loss registry, mirroring torchdistill.losses.registry: five registries (low, mid, high, wrapper, extract),
// filled from spec files. Built-ins come from src/losses-spec/<level folder>/*.tdl (builtins.ts); users add theirs with the register*
// functions or a .tdl file. Lookup order follows torchdistill (see getLowLevelLoss/getMidLevelLoss).
//
// Loading is lazy: the first use reads the spec folder and parses only the shared files (prelude, structs);
// each loss file is indexed by its header line (`mid KDLoss(`) and parsed the first time its key is looked up.
import type { FuncDecl, LossDecl, LossLevel, SpecFile, StructDecl } from '../../grammar/ast.js';
import { diag, type Diagnostic } from '../diagnostics/index.js';
import { fsReadErrorText } from '../diagnostics/fs-error-text.js';
import { folderLevels, loadBuiltinSpecs, type BuiltinSpecFile } from './builtins.js';
import { parseSpecText } from './parse.js';
import { checkSpec } from '../../grammar/check.js';
import { builtinSignature, renderBuiltin } from '../../grammar/builtins.js';
import { readFileSync, statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';

export interface RegisteredLoss {
  /** Registry key (defaults to the declared name). */
  key: string;
  level: LossLevel;
  decl: LossDecl;
  source: { file: string; text: string };
  builtin: boolean;
}

/** Names visible to a loss's spec: the shared structs and helpers (prelude, structs) plus its own file's. */
export interface SpecScope {
  structs: Map<string, StructDecl>;
  funcs: Map<string, FuncDecl>;
}

export interface RegisterOptions {
  key?: string;
  file?: string;
  /** Allow replacing tdc's built-in loss of the same key (otherwise an error, TDC398). */
  override?: boolean;
}

/** A built-in spec file indexed by its header but not parsed yet. */
interface Pending {
  pending: BuiltinSpecFile;
}
type Slot = RegisteredLoss | Pending;
type Table = Map<string, Slot>;

interface RegistryState {
  /** torch.nn.modules.loss (LOSS_DICT): the built-in low-level losses, consulted first. */
  torchLow: Table;
  /** LOW_LEVEL_LOSS_DICT: custom low-level losses (shadowed by torch's of the same name). */
  customLow: Table;
  mid: Table;
  high: Table;
  wrapper: Table;
  extract: Table;
  shared: SpecScope;
  sources: Map<string, string>;
  /** The files of src/losses-spec (tdc's own specs, not the user's). */
  builtinFiles: Set<string>;
  diagnostics: Diagnostic[];
  /** Built-in files not parsed yet. */
  unparsed: Set<BuiltinSpecFile>;
}

const LEVELS: readonly LossLevel[] = ['low', 'mid', 'high', 'wrapper', 'extract'];
const HEADER = /^[ \t]*(low|mid|high|wrapper|extract)[ \t]+([A-Za-z_][A-Za-z0-9_]*)/gm;

let state: RegistryState | undefined;
let builtinTables: Pick<RegistryState, 'torchLow' | 'customLow' | 'mid' | 'high' | 'wrapper' | 'extract'> | undefined;
const scopes = new WeakMap<RegisteredLoss, SpecScope>();
/** One scope per spec file (shared by the losses it declares). */
const fileScopes = new WeakMap<SpecFile, SpecScope>();
/** Where each helper was declared: its body resolves names there (lexical scoping), not in its caller's file. */
const homes = new WeakMap<FuncDecl, SpecScope>();

const isPending = (s: Slot): s is Pending => 'pending' in s;

function registry(): RegistryState {
  if (state) return state;
  const s: RegistryState = {
    torchLow: new Map(),
    customLow: new Map(),
    mid: new Map(),
    high: new Map(),
    wrapper: new Map(),
    extract: new Map(),
    shared: { structs: new Map(), funcs: new Map() },
    sources: new Map(),
    builtinFiles: new Set(),
    diagnostics: [],
    unparsed: new Set(),
  };
  state = s;
  const { files, diagnostics } = loadBuiltinSpecs();
  s.diagnostics.push(...diagnostics);
  for (const f of files) {
    s.sources.set(f.file, f.text);
    s.builtinFiles.add(f.file);
    if (f.folder === 'prelude') {
      addShared(s, f);
      continue;
    }
    const headers = [...f.text.matchAll(HEADER)];
    if (headers.length === 0) {
      s.diagnostics.push(diag('error', 'TDC391', `${f.file} declares no loss; shared structs and helpers belong in prelude/`));
      continue;
    }
    s.unparsed.add(f);
    for (const h of headers) tableFor(s, h[1] as LossLevel, true).set(h[2]!, { pending: f });
  }
  builtinTables = snapshotTables(s);
  return s;
}

function snapshotTables(s: RegistryState): NonNullable<typeof builtinTables> {
  return {
    torchLow: new Map(s.torchLow),
    customLow: new Map(s.customLow),
    mid: new Map(s.mid),
    high: new Map(s.high),
    wrapper: new Map(s.wrapper),
    extract: new Map(s.extract),
  };
}

/** The files of prelude/: their structs and helpers are visible to every loss. */
function addShared(s: RegistryState, f: BuiltinSpecFile): void {
  s.sources.set(f.file, f.text);
  const parsed = parseSpecText(f.text, f.file);
  s.diagnostics.push(...parsed.diagnostics);
  for (const d of parsed.spec.decls) {
    if (d.kind === 'loss') {
      s.diagnostics.push(diag('error', 'TDC390', `the prelude may only hold structs and helpers, not the ${d.level}-level loss '${d.name}'`, d.nameSpan));
      continue;
    }
    const table: Map<string, StructDecl | FuncDecl> = d.kind === 'struct' ? s.shared.structs : s.shared.funcs;
    const prev = table.get(d.name);
    if (prev) {
      s.diagnostics.push(
        diag('warning', 'TDC397', `shared ${d.kind} '${d.name}' is declared twice (${prev.span.file} and ${d.span.file}); the later one wins`, d.span, {
          related: [{ message: 'first declared here', span: prev.span }],
        }),
      );
    }
    if (d.kind === 'struct') s.shared.structs.set(d.name, d);
    else {
      s.shared.funcs.set(d.name, d);
      homes.set(d, s.shared); // a prelude helper sees the prelude only: a spec's `def mean` cannot change `var`
    }
  }
}

/** Parses a built-in loss file and puts its entries where its pending slots are (custom registrations stay). */
function parseBuiltin(s: RegistryState, f: BuiltinSpecFile): void {
  if (!s.unparsed.delete(f)) return;
  const parsed = parseSpecText(f.text, f.file);
  s.diagnostics.push(...parsed.diagnostics);
  const losses = parsed.spec.decls.filter((d): d is LossDecl => d.kind === 'loss');
  for (const d of losses) {
    const allowed = folderLevels(f.folder);
    if (!allowed.includes(d.level)) {
      s.diagnostics.push(diag('error', 'TDC391', `'${d.name}' is ${LEVEL_WORD[d.level]} but lives in ${f.folder}/ (for ${allowed.join(', ')} entries)`, d.nameSpan));
    }
    if (d.name !== f.stem) {
      s.diagnostics.push(diag('warning', 'TDC392', `'${d.name}' is declared in ${f.stem}.tdl; one loss per file, named after it`, d.nameSpan));
    }
    const table = tableFor(s, d.level, true);
    const slot = table.get(d.name);
    const entry = makeEntry(s, parsed.spec, d, { key: d.name, file: f.file, text: f.text, builtin: true });
    if (slot === undefined || (isPending(slot) && slot.pending === f)) table.set(d.name, entry);
    if (builtinTables) {
      const b = builtinTables[tableName(d.level, true)];
      const bs = b.get(d.name);
      if (bs === undefined || (isPending(bs) && bs.pending === f)) b.set(d.name, entry);
    }
  }
  // Slots the header scan promised but the parse did not deliver (syntax errors, a misleading header line).
  for (const level of LEVELS) {
    for (const t of [tableFor(s, level, true), builtinTables?.[tableName(level, true)]]) {
      if (!t) continue;
      for (const [k, v] of t) if (isPending(v) && v.pending === f) t.delete(k);
    }
  }
}

function resolveSlot(s: RegistryState, t: Table, key: string): RegisteredLoss | undefined {
  const slot = t.get(key);
  if (slot === undefined) return undefined;
  if (!isPending(slot)) return slot;
  parseBuiltin(s, slot.pending);
  const now = t.get(key);
  return now !== undefined && !isPending(now) ? now : undefined;
}

function tableName(level: LossLevel, builtin: boolean): 'torchLow' | 'customLow' | 'mid' | 'high' | 'wrapper' | 'extract' {
  return level === 'low' ? (builtin ? 'torchLow' : 'customLow') : level;
}

function tableFor(s: RegistryState, level: LossLevel, builtin: boolean): Table {
  return s[tableName(level, builtin)];
}

function makeEntry(s: RegistryState, spec: SpecFile, decl: LossDecl, o: { key: string; file: string; text: string; builtin: boolean }): RegisteredLoss {
  const entry: RegisteredLoss = { key: o.key, level: decl.level, decl, source: { file: o.file, text: o.text }, builtin: o.builtin };
  scopes.set(entry, fileScope(s, spec));
  return entry;
}

/** The names a spec file's bodies see: the prelude's structs and helpers, then the file's own (which shadow them). */
function fileScope(s: RegistryState, spec: SpecFile): SpecScope {
  const cached = fileScopes.get(spec);
  if (cached) return cached;
  const scope: SpecScope = { structs: new Map(s.shared.structs), funcs: new Map(s.shared.funcs) };
  for (const d of spec.decls) {
    if (d.kind === 'struct') scope.structs.set(d.name, d);
    else if (d.kind === 'def') {
      scope.funcs.set(d.name, d);
      homes.set(d, scope);
    }
  }
  fileScopes.set(spec, scope);
  return scope;
}

/** The scope a helper's body runs in: the one of the file that declares it (undefined for a helper the registry never saw). */
export function homeScopeOf(f: FuncDecl): SpecScope | undefined {
  return homes.get(f);
}

/**
 * TDC319 (warning): a user's `def` named like a built-in function or a prelude helper. Calls in the user's own file
 * use the def; the prelude's helpers (and the built-in losses) keep theirs, since every body resolves names where
 * it is declared.
 */
/** A user's spec (a --spec file or a registered text): grammar/check.ts's checks against the prelude, and its defs
 *  that shadow a prelude helper or a built-in (TDC319). `knownFunctions`: extra names its bodies may call. */
function staticChecks(s: RegistryState, spec: SpecFile, knownFunctions: Iterable<string> = []): Diagnostic[] {
  const known = new Set([...s.shared.funcs.keys(), ...knownFunctions]);
  const checks = checkSpec(spec, { knownStructs: new Set(s.shared.structs.keys()), sharedStructs: s.shared.structs, sharedHelpers: s.shared.funcs, knownFunctions: known });
  return [...checks, ...shadowWarnings(s, spec)];
}

function shadowWarnings(s: RegistryState, spec: SpecFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const d of spec.decls) {
    if (d.kind !== 'def') continue;
    const helper = s.shared.funcs.get(d.name);
    const sig = builtinSignature(d.name);
    if (!helper && !sig) continue;
    const what = helper ? `the prelude helper '${d.name}'` : `the built-in function ${renderBuiltin(d.name, sig!)}`;
    out.push(
      diag('warning', 'TDC319', `def '${d.name}' shadows ${what}: calls in this file use this def, the prelude and the built-in losses keep theirs`, d.span, {
        hint: `rename the def if it is not meant to replace ${helper ? 'the helper' : 'the built-in'} here`,
        ...(helper ? { related: [{ message: 'the prelude helper is declared here', span: helper.span }] } : {}),
      }),
    );
  }
  return out;
}

const LEVEL_WORD: Record<LossLevel, string> = {
  low: 'a low-level loss',
  mid: 'a mid-level loss',
  high: 'a high-level loss',
  wrapper: 'a loss wrapper',
  extract: 'a func2extract_model_output function',
};
const REGISTER_FN: Record<LossLevel, string> = {
  low: 'registerLowLevelLoss',
  mid: 'registerMidLevelLoss',
  high: 'registerHighLevelLoss',
  wrapper: 'registerLossWrapper',
  extract: 'registerFunc2ExtractModelOutput',
};

let anonCounter = 0;
const fileStart = (file: string) => ({ file, start: { line: 1, col: 1, offset: 0 }, end: { line: 1, col: 1, offset: 0 } });

/** torchdistill's decorators: register the spec's declaration(s) of `level`; a later registration under the same key overwrites. */
function registerAt(level: LossLevel, spec: string, opts: RegisterOptions = {}): Diagnostic[] {
  const s = registry();
  const file = opts.file ?? `<registered spec ${++anonCounter}>`;
  spec = withoutBom(spec);
  const parsed = parseSpecText(spec, file);
  const ds = [...parsed.diagnostics];
  s.sources.set(file, spec);
  if (ds.some((d) => d.severity === 'error')) return ds;
  ds.push(...staticChecks(s, parsed.spec)); // as a --spec file gets them: an unknown type is not left to run time
  if (ds.some((d) => d.severity === 'error')) return ds;
  const losses = parsed.spec.decls.filter((d): d is LossDecl => d.kind === 'loss');
  if (losses.length === 0) {
    ds.push(diag('error', 'TDC393', `${REGISTER_FN[level]}: the spec declares no loss`, fileStart(file)));
    return ds;
  }
  if (opts.key !== undefined && losses.length > 1) {
    ds.push(diag('error', 'TDC394', `${REGISTER_FN[level]}: a key can only be given for a spec that declares one loss (this one declares ${losses.length})`, losses[1]!.nameSpan));
    return ds;
  }
  for (const d of losses) {
    if (d.level !== level) {
      ds.push(diag('error', 'TDC395', `'${d.name}' is declared as ${LEVEL_WORD[d.level]}; register it with ${REGISTER_FN[d.level]}`, d.nameSpan));
      continue;
    }
    ds.push(...registerDecl(s, parsed.spec, d, opts.key ?? d.name, file, spec, opts.override === true));
  }
  return ds;
}

/** A UTF-8 byte order mark (some Windows editors write one) is not part of the spec: dropped, so columns count from the first character. */
const withoutBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/** 1 MiB: the whole built-in library is ~60 KB. */
const MAX_SPEC_BYTES = 1024 * 1024;

/** `# tdc: override KDLoss, WeightedSumLoss` lines of a spec file: the built-ins it may replace. */
function overridesOf(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^[ \t]*#[ \t]*tdc:[ \t]*override[ \t]+([A-Za-z_][A-Za-z0-9_]*(?:[ \t]*,[ \t]*[A-Za-z_][A-Za-z0-9_]*)*)[ \t]*$/gm))
    for (const n of m[1]!.split(',')) names.add(n.trim());
  return names;
}

function registerDecl(s: RegistryState, spec: SpecFile, d: LossDecl, key: string, file: string, text: string, override: boolean): Diagnostic[] {
  const ds: Diagnostic[] = [];
  const existing = d.level === 'low' ? undefined : tableFor(s, d.level, false).get(key);
  if (existing !== undefined && (isPending(existing) || existing.builtin) && !override) {
    ds.push(
      diag('error', 'TDC398', `'${key}' is tdc's built-in ${LEVEL_WORD[d.level].replace(/^an? /, '')}; a spec that replaces it must say so`, d.nameSpan, {
        hint: `rename the loss, or add the line \`# tdc: override ${key}\` to the spec file to replace the built-in`,
      }),
    );
    return ds;
  }
  if (d.level === 'low' && s.torchLow.has(key)) {
    ds.push(
      diag('warning', 'TDC396', `low-level loss '${key}' is shadowed by torch's built-in of the same name (torchdistill looks up torch.nn's losses first)`, d.nameSpan, {
        hint: 'register it under another key',
      }),
    );
  }
  tableFor(s, d.level, false).set(key, makeEntry(s, spec, d, { key, file, text, builtin: false }));
  return ds;
}

export const registerLowLevelLoss = (spec: string, opts?: RegisterOptions): Diagnostic[] => registerAt('low', spec, opts);
export const registerMidLevelLoss = (spec: string, opts?: RegisterOptions): Diagnostic[] => registerAt('mid', spec, opts);
export const registerHighLevelLoss = (spec: string, opts?: RegisterOptions): Diagnostic[] => registerAt('high', spec, opts);
export const registerLossWrapper = (spec: string, opts?: RegisterOptions): Diagnostic[] => registerAt('wrapper', spec, opts);
export const registerFunc2ExtractModelOutput = (spec: string, opts?: RegisterOptions): Diagnostic[] => registerAt('extract', spec, opts);

/**
 * A user's .tdl file: statically checked (grammar/check.ts: default types, names, built-in calls against
 * grammar/builtins.ts), then every loss declaration is registered by its level, under its declared name.
 * `knownFunctions`: extra function names the body may call besides the built-ins and the prelude's helpers.
 */
export function registerSpecFile(path: string, opts: { knownFunctions?: Iterable<string> } = {}): Diagnostic[] {
  return registerOneSpecFile(path, opts, new Map());
}

/** A loss declared by a batch of spec files, by registry table and name: where it was first declared. */
type Declared = Map<string, { decl: LossDecl; file: string }>;

/**
 * The spec files of one command (`--spec a.tdl --spec b.tdl`, compile()'s `specs`), in order. A loss declared in
 * two of them is an error (TDC310, as within one file), not a silent "the last one wins". A path given twice is
 * read once.
 */
export function registerSpecFiles(paths: readonly string[], opts: { knownFunctions?: Iterable<string> } = {}): Diagnostic[] {
  const declared: Declared = new Map();
  const seen = new Set<string>();
  const ds: Diagnostic[] = [];
  for (const p of paths) {
    const abs = resolvePath(p);
    if (seen.has(abs)) continue;
    seen.add(abs);
    ds.push(...registerOneSpecFile(p, opts, declared));
  }
  return ds;
}

function registerOneSpecFile(path: string, opts: { knownFunctions?: Iterable<string> }, declared: Declared): Diagnostic[] {
  const s = registry();
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) return [diag('error', 'TDC501', `cannot read spec file ${path}: not a regular file`)];
    if (st.size > MAX_SPEC_BYTES) return [diag('error', 'TDC501', `spec file ${path} is ${st.size} bytes; spec files are limited to ${MAX_SPEC_BYTES}`)];
    text = withoutBom(readFileSync(path, 'utf8'));
  } catch (e) {
    return [diag('error', 'TDC501', `cannot read spec file ${path}: ${fsReadErrorText(e)}`)]; // not Node's "ENOENT: …, stat '<path>'"
  }
  const parsed = parseSpecText(text, path);
  const ds = [...parsed.diagnostics];
  s.sources.set(path, text);
  if (ds.some((d) => d.severity === 'error')) return ds;
  ds.push(...staticChecks(s, parsed.spec, opts.knownFunctions));
  if (ds.some((d) => d.severity === 'error')) return ds;
  const losses = parsed.spec.decls.filter((d): d is LossDecl => d.kind === 'loss');
  if (losses.length === 0) ds.push(diag('warning', 'TDC393', `spec file ${path} declares no loss`, fileStart(path)));
  const overrides = overridesOf(text);
  for (const d of losses) {
    const key = `${tableName(d.level, false)}:${d.name}`;
    const first = declared.get(key);
    if (first) {
      ds.push(
        diag('error', 'TDC310', `${LEVEL_WORD[d.level].replace(/^an? /, '')} '${d.name}' is already declared in ${first.file}; each --spec file must declare different losses`, d.nameSpan, {
          related: [{ message: 'first declared here', span: first.decl.nameSpan }],
        }),
      );
      continue;
    }
    declared.set(key, { decl: d, file: path });
    const prev = d.level === 'low' ? undefined : tableFor(s, d.level, false).get(d.name);
    if (overrides.has(d.name) && prev !== undefined && (isPending(prev) || prev.builtin))
      ds.push(diag('note', 'TDC398', `'${d.name}' replaces tdc's built-in ${LEVEL_WORD[d.level].replace(/^an? /, '')} (the file says \`# tdc: override ${d.name}\`)`, d.nameSpan));
    ds.push(...registerDecl(s, parsed.spec, d, d.name, path, text, overrides.has(d.name)));
  }
  return ds;
}

// ---- lookup, in torchdistill's order ----------------------------------------------------------------------

/** torch's built-in losses first (LOSS_DICT), then custom low-level ones. */
export function getLowLevelLoss(key: string): RegisteredLoss | undefined {
  const s = registry();
  return resolveSlot(s, s.torchLow, key) ?? resolveSlot(s, s.customLow, key);
}

/** The mid-level registry first, else getLowLevelLoss. */
export function getMidLevelLoss(key: string): RegisteredLoss | undefined {
  const s = registry();
  return resolveSlot(s, s.mid, key) ?? getLowLevelLoss(key);
}

export function getHighLevelLoss(key: string): RegisteredLoss | undefined {
  const s = registry();
  return resolveSlot(s, s.high, key);
}

export function getLossWrapper(key: string): RegisteredLoss | undefined {
  const s = registry();
  return resolveSlot(s, s.wrapper, key);
}

/** `None` (undefined/null) means torchdistill's default, 'extract_model_loss_dict'. */
export function getFunc2ExtractModelOutput(key?: string | null): RegisteredLoss | undefined {
  const s = registry();
  return resolveSlot(s, s.extract, key ?? 'extract_model_loss_dict');
}

/** Keys of one registry, without parsing anything (for "did you mean"). Low: torch's and custom ones. */
export function registryKeys(level: LossLevel): string[] {
  const s = registry();
  if (level === 'low') return [...new Set([...s.torchLow.keys(), ...s.customLow.keys()])];
  return [...tableFor(s, level, true).keys()];
}

export function scopeOf(loss: RegisteredLoss): SpecScope {
  return scopes.get(loss) ?? registry().shared;
}

function parseAll(s: RegistryState): void {
  for (const f of [...s.unparsed]) parseBuiltin(s, f);
}

/** Every registered entry, each registry in lookup order (for `tdc list`). Shadowed custom low-level losses included. */
export function listRegistry(): RegisteredLoss[] {
  const s = registry();
  parseAll(s);
  const out: RegisteredLoss[] = [];
  for (const t of [s.high, s.wrapper, s.mid, s.torchLow, s.customLow, s.extract]) for (const v of t.values()) if (!isPending(v)) out.push(v);
  return out;
}

/** Source text of a built-in or registered spec file (for code frames in diagnostics). */
export function specSource(file: string): string | undefined {
  return registry().sources.get(file);
}

/** Whether `file` is one of tdc's built-in spec files (src/losses-spec), not a spec the user registered. */
export function isBuiltinSpecFile(file: string): boolean {
  return registry().builtinFiles.has(file);
}

/** Problems in the built-in spec files (there should be none). Parses every built-in file. */
export function builtinLoadDiagnostics(): Diagnostic[] {
  const s = registry();
  parseAll(s);
  return [...s.diagnostics];
}

/** Drops every custom registration, keeping the built-ins (for tests and long-lived hosts). */
export function resetToBuiltins(): void {
  const s = registry();
  Object.assign(s, snapshotTables({ ...s, ...builtinTables! }));
}
