// Dawn's refusals as a user reads them. Dawn's Node binding answers a bad backend or adapter name with several
// lines meant for its own developers ("unrecognised backend 'x'\nPossible backends : 'null', …", "no suitable
// backends found\nAvailable adapters:\n * backend: 'vulkan', name: '…'"); NoWebGpuAdapterError (TDC520, and the
// CLI's TDC510/TDC511 built from it) says instead, on one line, which option named what, what Dawn has instead,
// and, in the hint, what to set. Text it does not recognise is kept as one trimmed "driver said:" line.

/** A NoWebGpuAdapterError's message and hint. */
export interface DawnRefusal {
  message: string;
  hint: string;
}

/** Longest part of Dawn's own text repeated in a message. */
const MAX_DRIVER_TEXT = 160;

/** Where a Dawn option came from, as a user set it (NodeGpuOptions field or the variable standing for it). */
const OPTION_SOURCE: Record<string, string> = {
  backend: 'TDC_WEBGPU_BACKEND or the backend option',
  adapter: 'TDC_WEBGPU_ADAPTER or the adapter option',
};

/** The value of `name=` among Dawn's create() options. */
function optionValue(options: readonly string[], name: string): string | undefined {
  const o = options.find((x) => x.startsWith(`${name}=`));
  return o === undefined ? undefined : o.slice(name.length + 1);
}

/** The single-quoted names of a Dawn list line ('null', 'webgpu', …). */
const quotedNames = (s: string): string[] => [...s.matchAll(/'([^']*)'/g)].map((m) => m[1]!);

/** The adapters of Dawn's "Available adapters:" list, as `'name' (backend)`. */
function availableAdapters(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    const m = /^\s*\*\s*backend:\s*'([^']*)',\s*name:\s*'(.*)'\s*$/.exec(l);
    if (m) out.push(`'${m[2]}' (${m[1]})`);
  }
  return out;
}

/** Dawn's text cut to its first line, trimmed and shortened: the one line of it a message repeats. */
export function driverSaid(raw: string): string {
  const first = raw.trim().split('\n')[0]!.trim();
  return first.length > MAX_DRIVER_TEXT ? `${first.slice(0, MAX_DRIVER_TEXT - 1)}…` : first;
}

/**
 * The refusal to report when Dawn gave no adapter (create() or requestAdapter() threw `raw`, or requestAdapter()
 * returned null: `raw` undefined) under the create() `options`; `fallbackHint` is said when nothing more specific is.
 */
export function dawnNoAdapter(raw: string | undefined, options: readonly string[], fallbackHint: string): DawnRefusal {
  const backend = optionValue(options, 'backend');
  const adapter = optionValue(options, 'adapter');
  const lines = (raw ?? '').split('\n');
  const unknownBackend = /unrecognised backend '([^']*)'/i.exec(raw ?? '');
  if (unknownBackend) {
    const known = quotedNames(lines.find((l) => /possible backends/i.test(l)) ?? '');
    return {
      message: `no WebGPU adapter: Dawn has no backend '${unknownBackend[1]}' (set by ${OPTION_SOURCE.backend!})${known.length ? `; its backends are ${known.join(', ')}` : ''}`,
      hint: `set TDC_WEBGPU_BACKEND to one of them (e.g. vulkan on Linux), or unset it to let Dawn choose`,
    };
  }
  const found = availableAdapters(lines);
  if (adapter !== undefined && (found.length || /no suitable backends/i.test(raw ?? ''))) {
    const on = backend !== undefined ? ` on backend '${backend}'` : '';
    return {
      message: `no WebGPU adapter: Dawn found no adapter named '${adapter}'${on} (set by ${OPTION_SOURCE.adapter!}); ${found.length ? `the adapters it found: ${found.join(', ')}` : 'it found no adapter at all'}`,
      hint: found.length ? 'set TDC_WEBGPU_ADAPTER to one of these names, or unset it to let Dawn choose' : fallbackHint,
    };
  }
  const asked = [backend !== undefined ? `backend '${backend}'` : '', adapter !== undefined ? `adapter '${adapter}'` : ''].filter(Boolean).join(', ');
  const where = asked ? ` for ${asked}` : '';
  if (raw === undefined)
    return { message: `no WebGPU adapter: Dawn found none${where}`, hint: backend !== undefined ? `this machine may have no '${backend}' driver: unset TDC_WEBGPU_BACKEND to let Dawn choose, or ${fallbackHint}` : fallbackHint };
  return { message: `no WebGPU adapter${where}\n  driver said: ${driverSaid(raw)}`, hint: fallbackHint };
}

/** The refusal to report when the adapter `adapterName` refused a device (requestDevice() threw `raw`). */
export function dawnNoDevice(raw: string, adapterName: string, fallbackHint: string): DawnRefusal {
  return { message: `the WebGPU adapter ${adapterName} refused to create a device\n  driver said: ${driverSaid(raw)}`, hint: fallbackHint };
}
