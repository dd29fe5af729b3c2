// Imports point one way through the pipeline and form no cycle (issue 9 item 4): dependency-cruiser (pinned in
// devDependencies) checks src/ and grammar/ against .dependency-cruiser.cjs, type-only imports included.
// A deliberate cycle in test/fixtures/import-cycle shows the check can fail.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

function cruise(...paths: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [CLI, '--config', '.dependency-cruiser.cjs', '--output-type', 'err-long', ...paths], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('src/ and grammar/: no import cycle, no import against the pipeline (depcruise exits 0)', () => {
  const r = cruise('src', 'grammar');
  assert.is(r.status, 0, r.out);
  assert.match(r.out, /no dependency violations found \((\d+) modules/);
  const modules = Number(/\((\d+) modules/.exec(r.out)![1]);
  assert.ok(modules > 100, `only ${modules} modules cruised: are .js specifiers resolved to .ts sources?`);
});

test('the check fails on a cycle (control)', () => {
  const r = cruise('test/fixtures/import-cycle');
  assert.is.not(r.status, 0, r.out);
  assert.match(r.out, /no-circular/);
});

test.run();
