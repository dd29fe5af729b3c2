// tdc schema: the JSON Schema of torchdistill configs from the loss registry (custom --spec losses included),
// printed or written with -o, for the YAML language server: `# yaml-language-server: $schema=<file>`.
import { writeFile } from 'node:fs/promises';
import { diag, hasErrors } from '../diagnostics/index.js';
import { loadUserSpecs, printDiagnostics, type GlobalOptions } from './output.js';

export interface SchemaOptions extends GlobalOptions {
  out?: string;
}

export async function schemaCommand(opts: SchemaOptions): Promise<number> {
  const ds = await loadUserSpecs(opts);
  if (hasErrors(ds)) {
    await printDiagnostics(ds, opts);
    return 1;
  }
  const { configSchema } = await import('../schema/config-schema.js');
  const text = JSON.stringify(configSchema(), null, 2) + '\n';
  await printDiagnostics(ds, opts);
  if (opts.out === undefined) {
    process.stdout.write(text);
    return 0;
  }
  try {
    await writeFile(opts.out, text);
  } catch (e) {
    await printDiagnostics([diag('error', 'TDC501', `cannot write ${opts.out}: ${(e as Error).message}`)], opts);
    return 1;
  }
  process.stdout.write(`wrote ${opts.out}\n`);
  return 0;
}
