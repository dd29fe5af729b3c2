import { Parser, Lexer, Composer } from 'yaml';
for (const big of ['[' + '1,'.repeat(1_000_000) + '1]', Array.from({length: 500000}, (_, i) => `k${i}: v`).join('\n')]) {
let t0 = performance.now(); const toks = [...new Parser().parse(big)]; console.log('parse', big.length, performance.now() - t0, process.memoryUsage().heapUsed/1e6);
t0 = performance.now(); const docs = [...new Composer({schema: 'failsafe'}).compose(toks)]; console.log('compose', performance.now() - t0, process.memoryUsage().heapUsed/1e6);
}
