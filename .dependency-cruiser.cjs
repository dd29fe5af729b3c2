// Import rules checked by test/imports.test.ts (dependency-cruiser, pinned in devDependencies):
// imports point one way through the pipeline (docs/architecture.md), and there are no cycles.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'no import cycles, type-only imports included',
      from: {},
      to: { circular: true },
    },
    {
      name: 'resolve-not-instantiate',
      severity: 'error',
      comment: 'resolve comes before instantiate; the driver passes termReads in (src/compiler/driver/check.ts)',
      from: { path: '^src/compiler/resolve/' },
      to: { path: '^src/compiler/instantiate/' },
    },
    {
      name: 'grammar-is-the-front',
      severity: 'error',
      comment: 'the spec language imports only diagnostics',
      from: { path: '^grammar/' },
      to: { path: '^src/', pathNot: '^src/diagnostics/' },
    },
    {
      name: 'graph-not-compiler-codegen',
      severity: 'error',
      comment: 'the op table and builder sit below the compiler stages and codegen',
      from: { path: '^src/graph/' },
      to: { path: '^src/(compiler|codegen|cli|registry)/' },
    },
    {
      name: 'registry-not-compiler',
      severity: 'error',
      comment: 'the registry holds specs; the stages that use it import it, never the reverse',
      from: { path: '^src/registry/' },
      to: { path: '^src/(compiler|codegen|runtime|cli)/' },
    },
    {
      name: 'runtime-not-compiler',
      severity: 'error',
      comment: 'the tdc-runtime package imports only itself (the plan contract lives there)',
      from: { path: '^src/runtime/' },
      to: { path: '^(grammar/|src/(?!runtime/))' },
    },
    {
      name: 'ops-not-executors',
      severity: 'error',
      comment: 'op files get what their CPU kernels need from src/graph (host-tensor.ts), never from an executor',
      from: { path: '^src/graph/' },
      to: { path: '^src/(cpu|runtime)/' },
    },
    {
      name: 'schedule-not-codegen',
      severity: 'error',
      comment:
        'the scheduler outputs a Schedule (data); WGSL is generated after it (src/codegen/wgsl/generate-plan.ts, called by ' +
        'src/compiler/kernel-plan.ts). Reads are found by the op table\'s index maps (reads.ts) over index expressions as ' +
        'data (index-expr.ts); row-locality is structural equality (coords.ts)',
      from: { path: '^src/compiler/schedule/' },
      to: { path: '^src/codegen/' },
    },
    {
      name: 'codegen-not-drivers',
      severity: 'error',
      comment:
        'codegen lowers a Schedule; it never schedules or drives (only the schedule contract: types, geometry, override names, ' +
        'and the index expressions and index maps shared with the analysis)',
      from: { path: '^src/codegen/' },
      to: { path: '^src/compiler/(?!schedule/(kernel-spec|schedule|plan|geometry|workgroup|index-expr|index-math|coords|reads)\\.ts$)' },
    },
    {
      name: 'stages-not-cli',
      severity: 'error',
      comment: 'nothing below the CLI imports it',
      from: { path: '^(src|grammar)/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
