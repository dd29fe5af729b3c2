import { parseSpec } from './dist/grammar/parser.js';
const src = 'mid A(x: int) | 3 4 5\n let a = 1\n  let b = 2\n}\n';
const r = parseSpec(src, 'f');
console.log(r.diagnostics.map(d => d.code + ' ' + d.message));
