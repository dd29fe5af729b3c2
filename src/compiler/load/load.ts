// The load stage: YAML text → ConfigNode tree + diagnostics, reading it as torchdistill does (PyYAML
// FullLoader with torchdistill's tags). Never throws; hostile input is bounded by LoadLimits.
import { statSync } from 'node:fs';
import { readAtMost } from './read-at-most.js';
import { fsReadErrorText } from '../../diagnostics/fs-error-text.js';
import { Composer, type CollectionTag, type Document, type ScalarTag } from 'yaml';
import { computeLineStarts, diag, DiagnosticError, posAt, type Diagnostic, type Span } from '../../diagnostics/diagnostic.js';
import { buildTree, type SourceText } from './build-tree.js';
import { LoadCode } from './codes.js';
import type { LoadedConfig } from './config-node.js';
import { parseCst } from './parse-cst.js';
import { TORCHDISTILL_TAGS } from './torchdistill-tags.js';

export interface LoadLimits {
  /** Largest input, in bytes of UTF-8. */
  maxBytes: number;
  /** Deepest nesting of collections, in the source and through aliases. */
  maxDepth: number;
  /** Most nodes written in the source (scalars, collections, aliases); bounds the parser's time and memory. */
  maxSourceNodes: number;
  /** Most nodes reachable from the root with every alias expanded (the "billion laughs" guard). */
  maxExpandedNodes: number;
  /** Longest string a `!join` may produce. */
  maxJoinLength: number;
}

export const DEFAULT_LOAD_LIMITS: Readonly<LoadLimits> = Object.freeze({
  maxBytes: 1024 * 1024, // 100x the largest real config (10 KB); a 16 MB file of comments took 9-43 s
  maxDepth: 256,
  maxSourceNodes: 200_000,
  maxExpandedNodes: 1_000_000,
  maxJoinLength: 1024 * 1024,
});

export interface LoadResult {
  config: LoadedConfig;
  diagnostics: Diagnostic[];
}

/** torchdistill's tags made known to yaml's composer, which otherwise warns per use (an Error with a stack
 *  trace each: a fifth of the load time). build-tree gives them their meaning. */
const KNOWN_TAGS: (ScalarTag | CollectionTag)[] = [...TORCHDISTILL_TAGS].map(([tag, kind]) =>
  kind === 'scalar' ? { tag, resolve: (s: string) => s } : { tag, collection: kind },
);

/** Characters PyYAML's reader rejects (its NON_PRINTABLE class); lone surrogates included. */
const NON_PRINTABLE = /[^\t\n\r\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Load a config from its text. A leading byte-order mark is dropped (spans count columns without it). */
export function loadConfig(text: string, file: string, limits?: Partial<LoadLimits>): LoadResult {
  if (typeof text === 'string' && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const config: LoadedConfig = { file: String(file), text: typeof text === 'string' ? text : '', root: null };
  const diagnostics: Diagnostic[] = [];
  try {
    if (typeof text !== 'string') throw new DiagnosticError(diag('error', LoadCode.notText, 'the config is not text'));
    config.root = loadRoot({ file: config.file, text, lineStarts: computeLineStarts(text) }, { ...DEFAULT_LOAD_LIMITS, ...limits }, diagnostics);
  } catch (e) {
    config.root = null;
    diagnostics.push(
      e instanceof DiagnosticError
        ? e.diagnostic
        : diag('error', LoadCode.internal, `internal error in the YAML loader: ${e instanceof Error ? e.message : String(e)}`, pointSpan(config.file, 0)),
    );
  }
  return { config, diagnostics: byPosition(diagnostics) };
}

/** Read and load a file; an unreadable, oversized or binary file gives a diagnostic. */
export function loadConfigFile(path: string, limits?: Partial<LoadLimits>): LoadResult {
  const lim = { ...DEFAULT_LOAD_LIMITS, ...limits };
  const fail = (code: string, message: string, span?: Span, hint?: string): LoadResult => ({
    config: { file: String(path), text: '', root: null },
    diagnostics: [diag('error', code, message, span, hint === undefined ? undefined : { hint })],
  });
  let buf: Buffer;
  let sizeSaid = 0;
  try {
    const st = statSync(path);
    sizeSaid = st.size;
    if (!st.isFile()) return fail(LoadCode.unreadable, `cannot read '${path}': not a regular file`);
    if (st.size > lim.maxBytes) return fail(LoadCode.tooLarge, `'${path}' is ${st.size} bytes; configs are limited to ${lim.maxBytes}`, pointSpan(String(path), 0, ''));
    // at most one byte past the limit, whatever the size says: a file the kernel makes (/proc, /sys) says 0 and
    // may hold far more (/proc/self/pagemap: gigabytes)
    buf = readAtMost(path, lim.maxBytes + 1);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code;
    return fail(
      LoadCode.unreadable,
      `cannot read '${path}': ${fsReadErrorText(e)}`,
      undefined,
      code === 'EIO' ? 'a special file (as under /proc or /sys) may refuse to be read: give a config file' : undefined,
    );
  }
  // no position: printing one would read the file again, to its end (a file whose size said it was small)
  if (buf.length > lim.maxBytes) return fail(LoadCode.tooLarge, `'${path}' holds more than ${lim.maxBytes} bytes (its size says ${sizeSaid}); configs are limited to ${lim.maxBytes}`);
  const bad = firstInvalidUtf8(buf);
  if (bad >= 0) {
    const prefix = buf.subarray(0, bad).toString('utf8');
    const span = pointSpan(String(path), prefix.length, prefix);
    return { config: { file: String(path), text: prefix, root: null }, diagnostics: [notText(`invalid UTF-8 (byte 0x${buf[bad]!.toString(16).padStart(2, '0')})`, span)] };
  }
  return loadConfig(buf.toString('utf8'), path, limits);
}

function loadRoot(src: SourceText, lim: LoadLimits, out: Diagnostic[]): LoadedConfig['root'] {
  const { file, text } = src;
  const at = (offset: number): Span => pointSpan(file, offset, undefined, src.lineStarts);

  const bytes = text.length > lim.maxBytes / 3 ? Buffer.byteLength(text, 'utf8') : text.length;
  if (bytes > lim.maxBytes) throw new DiagnosticError(diag('error', LoadCode.tooLarge, `the config is ${bytes} bytes; configs are limited to ${lim.maxBytes}`));
  const nul = text.indexOf('\0');
  if (nul >= 0) throw new DiagnosticError(notText('it contains a NUL byte', at(nul)));
  const np = NON_PRINTABLE.exec(text);
  if (np) {
    const cp = np[0].codePointAt(0)!;
    const what = cp >= 0xd800 && cp <= 0xdfff ? 'an unpaired surrogate' : `the character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new DiagnosticError(
      diag('error', LoadCode.notText, `${what} is not allowed in YAML`, at(np.index), { hint: 'PyYAML rejects non-printable characters; is this a text file?' }),
    );
  }

  const cst = parseCst(text, lim.maxDepth, lim.maxSourceNodes);
  if ('hit' in cst) {
    throw new DiagnosticError(
      cst.hit.kind === 'depth'
        ? diag('error', LoadCode.tooDeep, `nesting deeper than ${lim.maxDepth} levels`, at(cst.hit.offset))
        : diag('error', LoadCode.tooBig, `more than ${lim.maxSourceNodes} YAML nodes; this is not a config tdc will load`, at(cst.hit.offset)),
    );
  }
  const composer = new Composer({ schema: 'failsafe', customTags: KNOWN_TAGS, resolveKnownTags: false, uniqueKeys: false, merge: false, strict: true });
  const docs: Document.Parsed[] = [...composer.compose(cst.tokens, true, text.length)];

  for (const doc of docs) {
    for (const e of doc.errors) out.push(diag('error', LoadCode.syntax, e.message, spanOf(src, e.pos)));
    for (const w of doc.warnings) {
      // Tags are interpreted by build-tree, which reports its own.
      if (w.code === 'TAG_RESOLVE_FAILED' || w.code === 'BAD_COLLECTION_TYPE') continue;
      out.push(diag('warning', LoadCode.syntax, w.message, spanOf(src, w.pos)));
    }
  }
  if (docs.length > 1) {
    const second = docs[1]!;
    out.push(
      diag('error', LoadCode.multipleDocuments, `the file holds ${docs.length} YAML documents; a config is exactly one`, at(second.range[0]), {
        hint: "remove the '---' separators (torchdistill loads one document)",
      }),
    );
  }
  const doc = docs[0];
  const contents = doc?.contents ?? null;
  if (contents === null || isEmptyScalar(contents)) {
    out.push(diag('error', LoadCode.empty, 'empty config: the file has nothing but whitespace and comments', at(0)));
    return null;
  }
  const root = buildTree(contents, src, lim, out);
  if (root.kind !== 'map') {
    const found = root.kind === 'seq' ? 'a sequence' : root.value === null ? 'null' : `the ${typeof root.value} '${root.source}'`;
    out.push(diag('error', LoadCode.notMapping, `expected a mapping at the top level of the config, found ${found}`, root.span));
  }
  return root;
}

function isEmptyScalar(n: unknown): boolean {
  const s = n as { source?: unknown; type?: unknown; tag?: unknown; anchor?: unknown };
  return s.type === 'PLAIN' && s.source === '' && !s.tag && !s.anchor;
}

function notText(why: string, span: Span): Diagnostic {
  return diag('error', LoadCode.notText, `not a text file: ${why}`, span);
}

function spanOf(src: SourceText, pos: [number, number] | undefined): Span {
  const start = Math.min(pos?.[0] ?? 0, src.text.length);
  const end = Math.min(Math.max(start, pos?.[1] ?? start), src.text.length);
  return { file: src.file, start: posAt(src.lineStarts, start), end: posAt(src.lineStarts, end) };
}

function pointSpan(file: string, offset: number, text?: string, lineStarts?: number[]): Span {
  const ls = lineStarts ?? (text !== undefined ? computeLineStarts(text) : [0]);
  const p = posAt(ls, offset);
  return { file, start: p, end: p };
}

/** Byte offset of the first byte that breaks UTF-8, or -1 (overlongs and surrogates count as broken). */
function firstInvalidUtf8(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let len: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) (len = 2), (min = 0x80);
    else if (c >= 0xe0 && c <= 0xef) (len = 3), (min = 0x800);
    else if (c >= 0xf0 && c <= 0xf4) (len = 4), (min = 0x10000);
    else return i;
    if (i + len > n) return i;
    let cp = c & (0xff >> (len + 1));
    for (let k = 1; k < len; k++) {
      const cc = b[i + k]!;
      if ((cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += len;
  }
  return -1;
}

/** Stable order by position; diagnostics without a span first. */
function byPosition(ds: Diagnostic[]): Diagnostic[] {
  return ds
    .map((d, i) => ({ d, i }))
    .sort((a, b) => (a.d.span?.start.offset ?? -1) - (b.d.span?.start.offset ?? -1) || a.i - b.i)
    .map((x) => x.d);
}
