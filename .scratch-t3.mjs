import { Parser, Lexer, Composer } from 'yaml';
for (const n of [50_000, 100_000, 200_000, 400_000]) {
for (const big of ['[' + '1,'.repeat(n) + '1]', Array.from({length: n}, (_, i) => `k${i}: v`).join('\n'), Array.from({length: n}, (_, i) => `- v`).join('\n'), '{' + Array.from({length: n}, (_, i) => `k${i}: v`).join(', ') + '}']) {
let t0 = performance.now(); let c = 0; for (const l of new Lexer().lex(big)) c++; const tl = performance.now() - t0;
t0 = performance.now(); const toks = [...new Parser().parse(big)]; const tp = performance.now() - t0;
t0 = performance.now(); const docs = [...new Composer({schema: 'failsafe', uniqueKeys: false}).compose(toks)]; console.log(n, big.slice(0,3), 'lex', tl.toFixed(0), 'parse', tp.toFixed(0), 'compose', (performance.now() - t0).toFixed(0), (process.memoryUsage().heapUsed/1e6).toFixed(0));
}}
