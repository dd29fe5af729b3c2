// `tdc schema` under a standard validator (ajv): it accepts every shipped config that `tdc check` passes without
// errors or warnings (modern and legacy schema), rejects each one tdc check flags, rejects a misspelled kwarg,
// and knows custom --spec losses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AjvModule from 'ajv';

// ajv is CommonJS: its class is the module's default export's `default` under NodeNext typing.
const Ajv = AjvModule.default;
import { checkFile } from '../src/compiler/driver/check.js';
import { loadConfig, loadConfigFile } from '../src/compiler/load/load.js';
import { toPlain } from '../src/compiler/load/config-node.js';
import { expandConfigPaths } from '../src/cli/files.js';
import { CONFIGS, ROOT, tdc } from './helpers/cli.js';
import { customTermSpec } from './helpers/custom-term.js';

const dir = mkdtempSync(join(tmpdir(), 'tdc-schema-'));

function schemaFrom(args: string[] = []): object {
  const out = join(dir, `schema-${args.length}.json`);
  const r = tdc([...args, 'schema', '-o', out]);
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(readFileSync(out, 'utf8')) as object;
}

/** A config as the validator sees it: YAML (PyYAML semantics, torchdistill's tags inert) → plain JSON data. */
const asJson = (file: string): unknown => toPlain(loadConfigFile(file).config.root!);

const ajv = new Ajv({ allErrors: true });
const validate = ajv.compile(schemaFrom());

test('every shipped config: the schema accepts exactly those that tdc check passes without errors or warnings', () => {
  const { files } = expandConfigPaths([CONFIGS]);
  assert.is(files.length, 282);
  let clean = 0;
  let legacyClean = 0;
  const disagree: string[] = [];
  const flagged: string[] = [];
  for (const f of files) {
    const ds = checkFile(f).diagnostics.filter((d) => d.severity !== 'note');
    const valid = validate(asJson(f)) as boolean;
    if (ds.length === 0) {
      clean++;
      if (f.includes('/legacy/')) legacyClean++;
    } else flagged.push(f);
    if (valid !== (ds.length === 0))
      disagree.push(`${f.slice(CONFIGS.length + 1)}: tdc check ${ds.map((d) => d.code).join(',') || 'clean'}, schema ${valid ? 'accepts' : JSON.stringify(validate.errors?.slice(0, 2))}`);
  }
  assert.equal(disagree, []);
  assert.ok(clean > 250 && legacyClean > 100, `${clean} clean, ${legacyClean} of them legacy`);
  assert.ok(flagged.length >= 5, `${flagged.length} flagged`);
});

const KD = readFileSync(join(ROOT, 'examples', 'kd', 'config.yaml'), 'utf8');
const plain = (text: string): unknown => toPlain(loadConfig(text, 'x.yaml').config.root!);

test('a misspelled kwarg, an unknown loss, a wrong type and a missing weight are rejected; the example is accepted', () => {
  assert.ok(validate(plain(KD)), JSON.stringify(validate.errors));
  for (const [from, to, keyword] of [
    ['temperature: 1.0', 'temprature: 1.0', 'additionalProperties'],
    ["key: 'KDLoss'", "key: 'KDLos'", 'enum'],
    ['temperature: 1.0', "temperature: 'hot'", 'type'],
    ['          weight: 1.0', '          wieght: 1.0', 'required'],
  ] as const) {
    const text = KD.replace(from, to);
    assert.is.not(text, KD);
    assert.is(validate(plain(text)), false, to);
    assert.ok(validate.errors!.some((e) => e.keyword === keyword), `${to}: ${JSON.stringify(validate.errors)}`);
    assert.ok(checkFile(writeTemp(text)).diagnostics.some((d) => d.severity !== 'note'), `tdc check passes ${to}`);
  }
});

function writeTemp(text: string): string {
  const f = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(f, text);
  return f;
}

test('custom --spec losses are in the schema with their kwargs', () => {
  const spec = join(dir, 'my.tdl');
  writeFileSync(spec, `# mean absolute difference, scaled\n${customTermSpec('MyL1', '  return scale * mean(abs(s - t))', ', scale: float = 2.0')}`);
  const withSpec = new Ajv({ allErrors: true }).compile(schemaFrom(['--spec', spec]));
  const my = KD.replace("key: 'KDLoss'", "key: 'MyL1'").replace(/              temperature: 1\.0\n              alpha: 0\.5\n              reduction: 'batchmean'\n/, '              scale: 3.0\n');
  assert.ok(withSpec(plain(my)), JSON.stringify(withSpec.errors));
  assert.not.ok(validate(plain(my)), 'the built-in schema accepted a custom loss');
  assert.not.ok(withSpec(plain(my.replace('scale: 3.0', 'scael: 3.0'))));
  assert.not.ok(withSpec(plain(my.replace('scale: 3.0', "scale: 'big'"))));
});

test.run();
