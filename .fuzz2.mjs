import { parseSpec } from './dist/grammar/parser.js';
import fs from 'node:fs';
const t0 = fs.readFileSync('src/losses-spec/KDLoss.tdl', 'utf8');
let shown = 0;
for (let pos = 0; pos < t0.length && shown < 8; pos += 7) {
  for (const ins of ['(', ')', '{', '}', ',', '=', '"', '$']) {
    const t = t0.slice(0, pos) + ins + t0.slice(pos);
    const r = parseSpec(t, 'f');
    const d = r.diagnostics.find(d => /after the end/.test(d.message));
    if (d && shown++ < 8) console.log(JSON.stringify(ins), 'at', JSON.stringify(t0.slice(pos - 20, pos)) + '|' + JSON.stringify(t0.slice(pos, pos + 20)), '\n   ', r.diagnostics.map(d => `${d.span.start.line}:${d.span.start.col} ${d.message}`).join('\n    '));
  }
}
