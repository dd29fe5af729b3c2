// tdc schema: the JSON Schema of torchdistill configs from the loss registry (custom --spec losses included),
// printed or written with -o, for the YAML language server: `# yaml-language-server: $schema=<file>`.
import { hasErrors } from '../diagnostics/index.js';
import { exitCodeFor } from './exit-code.js';
import { loadUserSpecs, printDiagnostics, type GlobalOptions } from './output.js';
import { overwritesInput, writeFileAtomic } from './write-file.js';

export interface SchemaOptions extends GlobalOptions {
  out?: string;
}

export async function schemaCommand(opts: SchemaOptions): Promise<number> {
  if (opts.out !== undefined) {
    const clobber = overwritesInput([{ path: opts.out, what: 'the schema' }], (opts.spec ?? []).map((s) => ({ path: s, what: 'a --spec file' })));
    if (clobber.length) {
      await printDiagnostics(clobber, opts);
      return exitCodeFor(clobber);
    }
  }
  const ds = await loadUserSpecs(opts);
  if (hasErrors(ds)) {
    await printDiagnostics(ds, opts);
    return exitCodeFor(ds);
  }
  const { configSchema } = await import('../schema/config-schema.js');
  const text = JSON.stringify(configSchema(), null, 2) + '\n';
  await printDiagnostics(ds, opts);
  if (opts.out === undefined) {
    process.stdout.write(text);
    return 0;
  }
  const w = writeFileAtomic(opts.out, text, 'the schema');
  if (w) {
    await printDiagnostics([w], opts);
    return exitCodeFor([w]);
  }
  process.stdout.write(`wrote ${opts.out}\n`);
  return 0;
}
