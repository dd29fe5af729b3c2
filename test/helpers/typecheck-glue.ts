// Type-checks generated glue with a consumer the way a strict user project would: strict, NodeNext, no unused
// locals, exact optional properties, and only erasable syntax (no parameter properties, enums, namespaces) with
// explicit type-only imports, so the glue also runs under Node's type stripping (--experimental-strip-types).
import ts from 'typescript';

/** The diagnostics of `files` (paths) as tsc prints them; '' when there are none. */
export function typecheckStrict(files: string[], dir: string): string {
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    noUnusedLocals: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    erasableSyntaxOnly: true,
    verbatimModuleSyntax: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: ['node'],
  });
  const diags = ts.getPreEmitDiagnostics(program);
  return ts.formatDiagnostics(diags, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => dir, getNewLine: () => '\n' });
}
