// tdc doctor: what the GPU path needs, checked step by step, so a user can tell why `tdc run --device gpu` or the
// generated glue has no device: Node's version, the `webgpu` package (Dawn for Node) and whether it loads, the
// adapter Dawn offers (vendor, architecture, device, description), its limits and features, whether a device can
// be had from it, and — when there is no adapter — hints (XDG_RUNTIME_DIR, Vulkan loader and drivers).
// Text on stdout, or one JSON document with --json. Exit 0 when a device was obtained, 1 otherwise.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import pc from 'picocolors';
import { VERSION } from '../version.js';
import { WORKGROUP_DEFAULTS } from '../compiler/schedule/workgroup.js';
import { ExitCode } from './exit-code.js';
import { useColor, type GlobalOptions } from './output.js';

export interface DoctorReport {
  ok: boolean;
  tdc: string;
  node: { version: string; required: string; ok: boolean };
  platform: string;
  webgpu: { package: string; version: string | null; loaded: boolean; error?: string };
  dawnOptions: string[];
  adapter: null | {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    isFallbackAdapter: boolean;
    /** A CPU implementation of the GPU (lavapipe, SwiftShader, WARP): the runtime picks small workgroups for it. */
    software: boolean;
    limits: Record<string, number>;
    features: string[];
  };
  adapterError?: string;
  device: { ok: boolean; error?: string };
  env: Record<string, string | null>;
  /** Variables set to something tdc cannot use: `error` ones make every GPU run fail (the runtime's code, e.g.
   *  TDC528 for a TDC_WEBGPU_TIMEOUT_MS that is no timeout), `warning` ones are ignored with a note (a tuning cache
   *  that cannot be read). */
  envProblems: { variable: string; severity: 'error' | 'warning'; code: string; message: string; hint?: string }[];
  hints: string[];
}

const REQUIRED_NODE_MAJOR = 20;
const ADAPTER_TIMEOUT_MS = 30_000;
const ENV_KEYS = ['TDC_WEBGPU_BACKEND', 'TDC_WEBGPU_ADAPTER', 'TDC_WEBGPU_TIMEOUT_MS', 'XDG_RUNTIME_DIR', 'VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'NO_COLOR', 'FORCE_COLOR', 'TDC_DEBUG'];

export async function doctorCommand(opts: GlobalOptions & { json?: boolean }): Promise<number> {
  const report = await diagnose();
  if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(doctorText(report, useColor(opts)));
  return report.ok ? ExitCode.ok : ExitCode.failed;
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e)).trim();

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Runs every check; never throws. */
async function diagnose(): Promise<DoctorReport> {
  const major = Number(process.versions.node.split('.')[0]);
  const env: Record<string, string | null> = {};
  for (const k of ENV_KEYS) env[k] = process.env[k] ?? null;
  const report: DoctorReport = {
    ok: false,
    tdc: VERSION,
    node: { version: process.versions.node, required: `>=${REQUIRED_NODE_MAJOR}`, ok: major >= REQUIRED_NODE_MAJOR },
    platform: `${process.platform} ${process.arch}`,
    webgpu: { package: 'webgpu', version: webgpuVersion(), loaded: false },
    dawnOptions: [],
    adapter: null,
    device: { ok: false },
    env,
    envProblems: [],
    hints: [],
  };
  if (!report.node.ok) report.hints.push(`tdc needs Node ${REQUIRED_NODE_MAJOR} or newer; this is ${process.versions.node}`);

  let create: (options: string[]) => GPU;
  try {
    ({ create } = (await import('webgpu')) as unknown as { create: (options: string[]) => GPU });
    report.webgpu.loaded = true;
  } catch (e) {
    report.webgpu.error = messageOf(e);
    report.hints.push(
      report.webgpu.version === null
        ? "the 'webgpu' package (Dawn for Node) is not installed: npm i webgpu@0.6.2 (an optional peer dependency of tdc-runtime); `tdc run --device auto` uses the CPU without it"
        : "the 'webgpu' package is installed but does not load: its native binary may not match this platform or Node version",
    );
    return report;
  }

  const { dawnOptions, optionsProblems, defaultTuningPath, readTuningFile, parseTuningCache } = await import('tdc-runtime/node');
  report.dawnOptions = dawnOptions();
  for (const e of optionsProblems()) report.envProblems.push({ variable: 'TDC_WEBGPU_TIMEOUT_MS', severity: 'error', code: e.code, message: e.message, ...(e.hint !== undefined ? { hint: e.hint } : {}) });
  const tuning = defaultTuningPath();
  const cache = tuning === undefined ? undefined : await readTuningFile(tuning);
  const parsed = cache && cache.problem === undefined ? (parseTuningCache(cache.doc) as { problem?: string }).problem : undefined;
  const cacheProblem = cache?.problem ?? (parsed !== undefined ? `is not a tdc tuning cache (${parsed})` : undefined);
  if (cacheProblem !== undefined)
    report.envProblems.push({
      variable: process.env['TDC_TUNING_CACHE'] ? 'TDC_TUNING_CACHE' : 'the default tuning cache',
      severity: 'warning',
      code: 'TDC681',
      message: `${cache!.source} ${cacheProblem}: GPU runs ignore it (with a note) and run the default workgroup sizes`,
      hint: 'remove it, or run `tdc tune` to write a new one',
    });
  let gpu: GPU;
  try {
    gpu = create(report.dawnOptions);
  } catch (e) {
    report.adapterError = `Dawn's create(${JSON.stringify(report.dawnOptions)}) failed: ${messageOf(e)}`;
    report.hints.push(...noAdapterHints());
    return report;
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await withTimeout(gpu.requestAdapter(), ADAPTER_TIMEOUT_MS, 'requestAdapter()');
  } catch (e) {
    adapter = null;
    report.adapterError = messageOf(e);
  }
  if (!adapter) {
    report.adapterError ??= 'requestAdapter() returned null: Dawn found no usable GPU or software rasteriser';
    report.hints.push(...noAdapterHints());
    return report;
  }
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  report.adapter = {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: Boolean(info?.isFallbackAdapter),
    software: false,
    limits: limitsOf(adapter.limits),
    features: [...adapter.features].map(String).sort(),
  };
  const { isSoftwareAdapter } = await import('tdc-runtime');
  report.adapter.software = isSoftwareAdapter({ ...report.adapter, dawnOptions: report.dawnOptions });
  try {
    const device = await withTimeout(adapter.requestDevice(), ADAPTER_TIMEOUT_MS, 'requestDevice()');
    report.device.ok = true;
    device.destroy();
  } catch (e) {
    report.device.error = messageOf(e);
  }
  report.ok = report.node.ok && report.device.ok && !report.envProblems.some((p) => p.severity === 'error');
  void gpu; // Dawn's GPU object must stay referenced while its device lives
  return report;
}

/** Every numeric limit of a GPUSupportedLimits (its fields are getters on the prototype), sorted by name. */
function limitsOf(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  const keys = new Set<string>();
  for (let o: object | null = limits; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) for (const k of Object.getOwnPropertyNames(o)) keys.add(k);
  for (const k of [...keys].sort()) {
    if (k === 'constructor' || k === '__proto__') continue;
    const v = (limits as unknown as Record<string, unknown>)[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

/** The installed `webgpu` package's version, or null when it cannot be found. */
function webgpuVersion(): string | null {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve('webgpu')); // a dependency of tdc-compiler
    for (let i = 0; i < 5; i++, dir = dirname(dir)) {
      const pj = join(dir, 'package.json');
      if (existsSync(pj)) {
        const j = JSON.parse(readFileSync(pj, 'utf8')) as { name?: string; version?: string };
        if (j.name === 'webgpu') return j.version ?? null;
      }
    }
  } catch {
    // not installed
  }
  return null;
}

/** Why Dawn may have found no adapter on this machine (Linux: Vulkan through Mesa). */
function noAdapterHints(): string[] {
  const hints: string[] = [];
  if (process.platform === 'linux') {
    const xdg = process.env['XDG_RUNTIME_DIR'];
    if (!xdg) hints.push('XDG_RUNTIME_DIR is not set: Mesa drivers want it; e.g. export XDG_RUNTIME_DIR=/tmp/xdg-$USER (mkdir, chmod 700)');
    else {
      try {
        const st = statSync(xdg);
        if (!st.isDirectory()) hints.push(`XDG_RUNTIME_DIR='${xdg}' is not a directory`);
        else if ((st.mode & 0o077) !== 0) hints.push(`XDG_RUNTIME_DIR='${xdg}' should be private: chmod 700 '${xdg}'`);
      } catch {
        hints.push(`XDG_RUNTIME_DIR='${xdg}' does not exist: mkdir -m 700 '${xdg}'`);
      }
    }
    const loader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1'];
    if (!loader.some((p) => existsSync(p))) hints.push('no Vulkan loader (libvulkan.so.1) found: install it (Debian: apt-get install libvulkan1)');
    for (const k of ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES']) {
      const missing = (process.env[k] ?? '').split(':').filter((f) => f && !existsSync(f));
      if (missing.length) hints.push(`${k} names ${missing.map((f) => `'${f}'`).join(', ')}, which does not exist`);
    }
    const icdDirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'];
    const icds = icdDirs.flatMap((d) => {
      try {
        return readdirSync(d).filter((f) => f.endsWith('.json'));
      } catch {
        return [];
      }
    });
    if (!icds.length && !process.env['VK_ICD_FILENAMES'] && !process.env['VK_DRIVER_FILES'])
      hints.push('no Vulkan driver (ICD) found: without a GPU install Mesa lavapipe (Debian: apt-get install mesa-vulkan-drivers)');
    else if (icds.length) hints.push(`Vulkan drivers found: ${icds.join(', ')}; pick one with VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.json (lavapipe) if the default fails`);
  }
  hints.push('choose a Dawn backend or adapter with TDC_WEBGPU_BACKEND (vulkan, metal, d3d12, …) / TDC_WEBGPU_ADAPTER');
  return hints;
}

function doctorText(r: DoctorReport, color: boolean): string {
  const c = pc.createColors(color);
  const ok = (b: boolean): string => (b ? c.green('ok') : c.red('problem'));
  const lines: string[] = [];
  lines.push(`tdc ${r.tdc}`);
  lines.push(`node      ${r.node.version} (${r.platform}; needs ${r.node.required}) ${ok(r.node.ok)}`);
  lines.push(
    `webgpu    ${r.webgpu.version === null ? 'not installed' : `${r.webgpu.package}@${r.webgpu.version}`}${r.webgpu.loaded ? ', loads' : r.webgpu.error ? `, does not load: ${r.webgpu.error}` : ''} ${ok(r.webgpu.loaded)}`,
  );
  if (r.dawnOptions.length) lines.push(`dawn      options ${r.dawnOptions.join(' ')}`);
  if (r.adapter) {
    const a = r.adapter;
    lines.push(`adapter   ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') || '(no info)'}${a.isFallbackAdapter ? ' (fallback adapter)' : ''} ${ok(true)}`);
    const row = WORKGROUP_DEFAULTS.row;
    lines.push(`          ${a.software ? `software rasteriser: kernels run with small workgroups (${row.software} threads per row)` : `hardware GPU: kernels run with large workgroups (${row.hardware} threads per row)`}`);
    lines.push(`device    ${r.device.ok ? 'obtained' : `refused: ${r.device.error}`} ${ok(r.device.ok)}`);
    lines.push('limits');
    for (const [k, v] of Object.entries(a.limits)) lines.push(`  ${k.padEnd(42)} ${v}`);
    lines.push(`features  ${a.features.join(', ') || '(none)'}`);
  } else if (r.webgpu.loaded) lines.push(`adapter   none: ${r.adapterError} ${ok(false)}`);
  const set = Object.entries(r.env).filter(([, v]) => v !== null);
  lines.push(`env       ${set.length ? set.map(([k, v]) => `${k}=${v}`).join(' ') : '(no tdc/Vulkan variables set)'}`);
  for (const p of r.envProblems)
    lines.push(`          ${p.severity === 'error' ? c.red(`error ${p.code}`) : c.yellow(`warning ${p.code}`)}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`);
  for (const h of r.hints) lines.push(`${c.yellow('hint')}      ${h}`);
  const badEnv = r.envProblems.filter((p) => p.severity === 'error').map((p) => p.variable);
  lines.push(
    r.ok
      ? c.green('the GPU path is available')
      : badEnv.length && r.device.ok
        ? c.red(`the GPU path is not available: ${badEnv.join(', ')} must be fixed (every GPU run fails with the error above)`)
        : c.red('the GPU path is not available: `tdc run --device auto` falls back to the CPU executor'),
  );
  return lines.join('\n') + '\n';
}
