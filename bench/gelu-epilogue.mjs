#!/usr/bin/env node
// GELU fused into the GEMM's epilogue against the same Linear without it plus a separate
// element-wise GELU pass (issue 12: ViT's first MLP, 197 tokens x 768 -> 3072). One process,
// the forms interleaved round after round, CPU time of the calling thread's process (1 thread),
// medians. Tells lib/onnx's fusion whether a GELU after a Linear / MatMul should ride in the
// epilogue.
//
//   node bench/gelu-epilogue.mjs [--rows 197] [--in 768] [--out 3072] [--rounds 15] [--kind gelu] [--only fused]
//
// --conv: the same as a 1x1 conv over an NCHW map of `rows` pixels (ConvNeXt's first MLP conv,
// e.g. --conv --rows 3136 --in 96 --out 384) instead of a Linear over `rows` rows.
// --only NAME runs that form alone (for `perf stat -e cycles`, which counts only this process's
// cycles and so holds better than CPU time on a loaded machine).
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeCpu } from './zoo-env.mjs';
import { parseFlags } from './harness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const flags = parseFlags(import.meta.url, { '--rows': 197, '--in': 768, '--out': 3072, '--rounds': 15, '--kind': 'gelu', '--conv': false, '--only': String });
const rows = flags['--rows'];
const inF = flags['--in'];
const outF = flags['--out'];
const rounds = flags['--rounds'];
const kind = flags['--kind'];
const only = flags['--only'] ?? null;

const native = await import(pathToFileURL(join(root, 'dist', 'backends', 'native.js')).href);
const backend = native.loadNativeBackend();
if (backend instanceof Error) throw backend;
native.setNumThreads(1);
const weight = Float32Array.from({ length: inF * outF }, (_, i) => Math.sin(i * 0.37) * 0.05);
const bias = Float32Array.from({ length: outF }, (_, i) => Math.cos(i) * 0.1);
const asConv = flags['--conv'];
const prepare = (activation) => {
  if (!asConv) return backend.prepareLinear({ inFeatures: inF, outFeatures: outF, weight, bias, activation });
  const conv = backend.prepareConv2d({ inChannels: inF, outChannels: outF, groups: 1, kernelH: 1, kernelW: 1, padding: 0, weight, bias, activation });
  const geometry = planConv('bench', [1, inF, 1, rows], { kernel: [1, 1], stride: [1, 1], dilation: [1, 1], padding: 0, inChannels: inF, outChannels: outF, groups: 1 });
  return { run: (input, _rows, output) => conv.run(input, geometry, output, null) };
};
const { planConv } = await import(pathToFileURL(join(root, 'dist', 'planner', 'geometry.js')).href);
const fused = prepare({ kind });
const plain = prepare({ kind: 'none' });
const x = Float32Array.from({ length: rows * inF }, (_, i) => Math.sin(i * 0.013) * 2);
const a = new Float32Array(rows * outF);
const b = new Float32Array(rows * outF);
const tmp = new Float32Array(rows * outF);

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const forms = {
  fused: async () => fused.run(x, rows, a),
  'linear only': async () => plain.run(x, rows, tmp),
  'linear + unary pass': async () => {
    await plain.run(x, rows, tmp);
    await backend.unary(tmp, b, { kind });
  },
};
if (only !== null && !(only in forms)) throw new Error(`--only must be one of ${Object.keys(forms).join(', ')}`);
if (only !== null) for (const name of Object.keys(forms)) if (name !== only) delete forms[name];
const times = Object.fromEntries(Object.keys(forms).map((k) => [k, []]));
for (let r = 0; r < rounds + 2; r++) {
  for (const [name, run] of Object.entries(forms)) {
    const t0 = cpu();
    await run();
    if (r >= 2) times[name].push(cpu() - t0);
  }
}
if (only !== null) {
  console.log(`${only}: ${(times[only].reduce((p, q) => p + q, 0) / times[only].length).toFixed(3)} CPU ms mean`);
  process.exit(0);
}
let worst = 0;
for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
const median = (xs) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
console.log(`${asConv ? `1x1 conv over ${rows} pixels` : `Linear over ${rows} rows`}, ${inF} -> ${outF}, ${kind}, ISA ${native.getIsa()}, 1 thread, ${describeCpu()}, load ${os.loadavg()[0].toFixed(1)}`);
for (const [name, ts] of Object.entries(times)) console.log(`  ${name.padEnd(20)} ${median(ts).toFixed(3)} CPU ms (median of ${ts.length})`);
console.log(`  fused vs separate: max |diff| / max(1, |value|) = ${worst.toExponential(1)}`);
