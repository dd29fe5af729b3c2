// The WGSL printer for the runtime's device-check kernels (kernel IR CheckModule, device-check-kernels.ts): the
// Params uniform, the checked array, the atomic flags and each entry point around its printed body.
import type { CheckModule } from '../kernel-ir/ir.js';
import { wgslComment } from '../escape.js';
import { printStmts } from './print.js';

export function printCheckModule(m: CheckModule): string {
  const out = [''];
  m.header.forEach((h, k) => out.push(`// ${k === 0 ? 'tdc-runtime: ' : ''}${wgslComment(h)}`));
  out.push(`struct Params { ${m.params.map((p) => `${p.name}: ${p.ty}`).join(', ')} }`);
  out.push('@group(0) @binding(0) var<uniform> params: Params;');
  out.push(`@group(0) @binding(1) var<storage, read> x: array<${m.element}>;`);
  out.push('@group(0) @binding(2) var<storage, read_write> flags: array<atomic<u32>>;');
  for (const e of m.entries) {
    out.push(`@compute @workgroup_size(${e.workgroupSize})`);
    out.push(`fn ${e.name}(${e.gid ? '@builtin(global_invocation_id) gid: vec3<u32>' : ''}) {`);
    printStmts(e.body, 1, out);
    out.push('}');
  }
  return out.join('\n');
}
