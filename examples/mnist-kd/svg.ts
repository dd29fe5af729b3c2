// Training curves as a standalone SVG (the Node run writes what the browser page plots live): loss on the left
// panel, test accuracy on the right, one coloured line per run.
import type { Curve } from './train.js';

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

export function curvesSvg(curves: readonly Curve[], title: string): string {
  const W = 900;
  const H = 360;
  const panel = (x0: number, label: string, value: (p: Curve['points'][number]) => number, fixed?: [number, number]) => {
    const pw = 380;
    const ph = 240;
    const top = 60;
    const all = curves.flatMap((c) => c.points);
    const maxStep = Math.max(1, ...all.map((p) => p.step));
    const vs = all.map(value).filter(Number.isFinite);
    let [lo, hi] = fixed ?? [Math.min(...vs), Math.max(...vs)];
    if (!(hi > lo)) [lo, hi] = [lo - 1, lo + 1];
    const sx = (s: number) => x0 + (s / maxStep) * pw;
    const sy = (v: number) => top + ph - ((v - lo) / (hi - lo)) * ph;
    const out: string[] = [];
    out.push(`<rect x="${x0}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
    out.push(`<text x="${x0 + pw / 2}" y="${top - 10}" text-anchor="middle" font-size="14">${esc(label)}</text>`);
    for (let i = 0; i <= 4; i++) {
      const v = lo + ((hi - lo) * i) / 4;
      out.push(`<text x="${x0 - 6}" y="${sy(v) + 4}" text-anchor="end" font-size="11">${v.toFixed(hi - lo < 0.5 ? 3 : 2)}</text>`);
      out.push(`<line x1="${x0}" x2="${x0 + pw}" y1="${sy(v)}" y2="${sy(v)}" stroke="#eee"/>`);
    }
    out.push(`<text x="${x0 + pw}" y="${top + ph + 16}" text-anchor="end" font-size="11">step ${maxStep}</text>`);
    out.push(`<text x="${x0}" y="${top + ph + 16}" font-size="11">0</text>`);
    curves.forEach((c, i) => {
      const pts = c.points.filter((p) => Number.isFinite(value(p))).map((p) => `${sx(p.step).toFixed(1)},${sy(value(p)).toFixed(1)}`);
      if (pts.length) out.push(`<polyline fill="none" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="2" points="${pts.join(' ')}"/>`);
    });
    return out.join('\n');
  };
  const legend = curves
    .map((c, i) => `<rect x="${60 + i * 200}" y="${H - 22}" width="14" height="4" fill="${COLOURS[i % COLOURS.length]}"/><text x="${80 + i * 200}" y="${H - 16}" font-size="12">${esc(c.name)}</text>`)
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="24" text-anchor="middle" font-size="16">${esc(title)}</text>
${panel(60, 'training loss', (p) => p.loss)}
${panel(500, 'test accuracy', (p) => p.acc)}
${legend}
</svg>
`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
