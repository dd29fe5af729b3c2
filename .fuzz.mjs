import { parseSpec } from './dist/grammar/parser.js';
import { checkSpec } from './dist/grammar/check.js';
import fs from 'node:fs';
const dir = 'src/losses-spec/';
const texts = fs.readdirSync(dir).filter(f => f.endsWith('.tdl')).map(f => fs.readFileSync(dir + f, 'utf8'));
let seed = 1; const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const junk = ['(', ')', '{', '}', '[', ']', ',', '\n', '=', '**', '"', '?', ':', 'let ', 'if ', 'mid ', '$', '-', 'not ', '.', ';'];
let fails = 0, n = 0, noDiag = 0;
for (let it = 0; it < 3000; it++) {
  let t = texts[Math.floor(rnd() * texts.length)];
  const k = 1 + Math.floor(rnd() * 3);
  for (let j = 0; j < k; j++) {
    const pos = Math.floor(rnd() * t.length);
    if (rnd() < 0.5) t = t.slice(0, pos) + t.slice(pos + 1 + Math.floor(rnd() * 5));
    else t = t.slice(0, pos) + junk[Math.floor(rnd() * junk.length)] + t.slice(pos);
  }
  n++;
  try {
    const r = parseSpec(t, 'f.tdl');
    checkSpec(r.spec, {});
    for (const d of r.diagnostics) {
      if (!d.span || !(d.span.start.offset >= 0 && d.span.end.offset <= t.length && d.span.start.line >= 1)) { fails++; console.log('bad span', d); }
      if (process.argv[2] && /after the end/.test(d.message) && Math.random() < 0.01) console.log('CTX', JSON.stringify(t.slice(d.span.start.offset - 150, d.span.start.offset)), '<<HERE>>', JSON.stringify(t.slice(d.span.start.offset, d.span.start.offset + 30)), d.message); if (process.argv[3]) console.log('msg:', d.code, d.message.replace(/of \w+/g, 'of X').replace(/'[^']*'/g, 'Q'));
      if (d.code === 'TDC309') { console.log('internal', d.message); fails++; }
    }
  } catch (e) { fails++; console.log('THROW', e.stack.split('\n').slice(0, 4).join('\n')); if (fails > 5) break; }
}
console.log({ n, fails });
