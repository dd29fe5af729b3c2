// Escaping of user-controlled strings (stage and term names, module paths, the config path, --name) for every
// place generated output puts them: one function per target, and every emitter goes through these.
//
//   tsString     a single-quoted TypeScript string literal
//   tsComment    text inside a TypeScript `//` or `/** */` comment
//   wgslComment  text inside a WGSL `//` comment (same rules as tsComment: WGSL's line breaks are a subset)
//   fileStem     one file-name component
//
// Comment escapes keep the text readable: a character that could end the comment or the line (`*/`, any JS or
// WGSL line terminator), a control character or a bidirectional override ("Trojan Source") is shown as
// `\u{XXXX}`, so the comment stays one line and says what the name really is. Pure functions, no Node imports.

/** Bidirectional formatting characters: they make source read differently from how it parses. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

const hex = (c: string): string => `\\u{${c.codePointAt(0)!.toString(16).toUpperCase()}}`;

/** A lone UTF-16 surrogate (not half of a pair): it would turn into U+FFFD when written as UTF-8. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A single-quoted TypeScript/JavaScript string literal whose value is exactly `s`. */
export function tsString(s: string): string {
  let out = "'";
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      out += s.slice(i, i + 2);
      i++;
    } else if (u >= 0xd800 && u <= 0xdfff) out += `\\u${u.toString(16)}`;
    else out += tsStringChar(s[i]!);
  }
  return out + "'";
}

function tsStringChar(ch: string): string {
  switch (ch) {
    case '\\':
      return '\\\\';
    case "'":
      return "\\'";
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
  }
  const cp = ch.codePointAt(0)!;
  if (cp < 0x20 || cp === 0x7f || cp === 0x2028 || cp === 0x2029 || BIDI.test(ch)) return cp < 0x100 ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  return ch;
}

/** Text that stays inside one TypeScript `//` line or one `/** … *\/` doc comment: no line terminator, no `*\/`. */
export function tsComment(s: string): string {
  return commentText(s, (cp) => cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0) || cp === 0x2028 || cp === 0x2029);
}

/** Text that stays inside one WGSL `//` comment: no line break (WGSL's include VT, FF, U+0085, U+2028, U+2029),
 *  control or bidi character; other non-ASCII text (WGSL source is UTF-8) is kept as is. */
export function wgslComment(s: string): string {
  return commentText(s, (cp) => cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0) || cp === 0x2028 || cp === 0x2029);
}

function commentText(s: string, unsafe: (cp: number) => boolean): string {
  let out = '';
  for (const ch of s.replace(LONE_SURROGATE, '\ufffd')) {
    const cp = ch.codePointAt(0)!;
    out += unsafe(cp) || BIDI.test(ch) ? hex(ch) : ch;
  }
  // `*/` ends a block comment, `/*` opens a nested one in WGSL: break both up.
  return out.replace(/\*\//g, '*\\/').replace(/\/\*/g, '/\\*');
}

const MAX_STEM = 80;

/**
 * One file-name component for `name`: [A-Za-z0-9_-] only, never empty, never starting with '-' (an option) or
 * '.', at most 80 characters (longer names keep a prefix plus a hash of the whole name). Different names can
 * map to the same stem ('stage_a', 'stage/a'): callers check collisions with `stemKey`.
 */
export function fileStem(name: string): string {
  let s = name.replace(/[^A-Za-z0-9_-]/g, '_');
  if (s === '' || s.startsWith('-')) s = `_${s}`;
  if (s.length > MAX_STEM) s = `${s.slice(0, MAX_STEM - 9)}_${fnv1a(name)}`;
  return s;
}

/** The identity of a file stem on a case-insensitive file system (macOS, Windows): collisions compare these. */
export function stemKey(stem: string): string {
  return stem.toLowerCase();
}

/** 32-bit FNV-1a of the UTF-16 code units, 8 hex digits. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
