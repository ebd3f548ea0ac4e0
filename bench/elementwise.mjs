// The element-wise engine in GB/s (bytes each kernel must read and write / time), beside a copy
// of the same bytes (TypedArray.set: memcpy) and the pure-JS kernels, at 1 thread; then 1 vs 2
// threads over sizes, to place the threading cutoff (native/ops/elementwise.cc). Medians of
// interleaved rounds, one process. Prints the CPU; run on an idle machine.
//   node bench/elementwise.mjs [--rounds 9] [--isa avx2]
import { cpus } from 'node:os';
import { median } from './ab-addons.mjs';
import { parseFlags } from './harness.mjs';
import { loadNativeBackend, setIsa, getIsa, setNumThreads } from '../dist/backends/native.js';
import { jsBackend } from '../dist/backends/js.js';

const flags = parseFlags(import.meta.url, { '--rounds': 9, '--isa': String });
const rounds = flags['--rounds'];
const native = loadNativeBackend();
if (native instanceof Error) throw native;
const isa = flags['--isa'];
if (isa) setIsa(isa);

function time(fn, minMs = 20) {
  fn();
  let reps = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= minMs) return ms / reps;
    reps *= 2;
  }
}

const fill = (n, seed) => {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = (s / 2 ** 32) * 8 - 4;
  }
  return a;
};

// 64 x 56 x 56 (a MobileNet / EfficientNet block at 56: 0.8 MB, in L2 of Zen 4) and
// 32 x 112 x 112 (1.6 MB: spills to L3).
const shapes = [[1, 64, 56, 56], [1, 32, 112, 112], [8, 32, 112, 112]];
const kinds = ['relu', 'hardSwish', 'sigmoid', 'silu', 'tanh', 'gelu', 'exp', 'mish'];

console.log(`CPU: ${cpus()[0].model}, ${cpus().length} logical cores; native ISA ${getIsa()}; 1 thread`);
setNumThreads(1);
for (const shape of shapes) {
  const [n, c, h, w] = shape;
  const total = n * c * h * w;
  const x = fill(total, 1);
  const y = new Float32Array(total);
  const gate = fill(n * c, 2);
  const scale = fill(c, 3);
  const shift = fill(c, 4);
  const cases = [
    { name: 'copy (TypedArray.set)', bytes: 8, run: () => y.set(x) },
    ...kinds.map((kind) => ({ name: `unary ${kind}`, bytes: 8, run: (b) => b.unarySync(x, y, { kind }) })),
    { name: 'add (same shapes)', bytes: 12, run: (b) => b.binarySync('add', x, shape, x, shape, y, shape) },
    { name: 'mul by SE gate N x C x 1 x 1', bytes: 8, run: (b) => b.binarySync('mul', x, shape, gate, [n, c, 1, 1], y, shape) },
    {
      name: 'channelAffine + relu (BN)',
      bytes: 8,
      run: (b) => b.channelAffineSync(x, { batch: n, channels: c, plane: h * w, scale, shift, activation: { kind: 'relu' } }, y),
    },
  ];
  const results = cases.map(() => ({ native: [], js: [] }));
  for (let r = 0; r < rounds; r++) {
    cases.forEach((k, i) => {
      results[i].native.push(time(() => k.run(native)));
      if (r < 3 && k.name !== 'copy (TypedArray.set)') results[i].js.push(time(() => k.run(jsBackend), 10));
    });
  }
  console.log(`\n${shape.join('x')} (${(total * 4) / 2 ** 20} MiB per tensor)`);
  console.log('kernel                          native ms   GB/s   vs copy   JS ms   native speed-up');
  const copyGbs = (8 * total) / median(results[0].native) / 1e6;
  cases.forEach((k, i) => {
    const ms = median(results[i].native);
    const gbs = (k.bytes * total) / ms / 1e6;
    const js = results[i].js.length ? median(results[i].js) : NaN;
    console.log(
      `${k.name.padEnd(32)}${ms.toFixed(3).padStart(9)}${gbs.toFixed(1).padStart(7)}${(gbs / copyGbs).toFixed(2).padStart(9)}` +
        `${Number.isNaN(js) ? '       -' : js.toFixed(2).padStart(8)}${Number.isNaN(js) ? '' : `${(js / ms).toFixed(1).padStart(10)}x`}`,
    );
  });
}

// Threading: 1 vs 2 threads, relu (memory-bound) and sigmoid (compute-bound), interleaved.
console.log('\nthreads: time at 2 threads / time at 1 (below 1: two threads win)');
console.log('elements    relu 1t us  relu 2t/1t   sigmoid 1t us  sigmoid 2t/1t');
for (const total of [4096, 16384, 65536, 131072, 262144, 524288, 1048576]) {
  const x = fill(total, 5);
  const y = new Float32Array(total);
  const t = { relu: [[], []], sigmoid: [[], []] };
  for (let r = 0; r < rounds; r++) {
    for (const kind of ['relu', 'sigmoid']) {
      for (const threads of r % 2 ? [2, 1] : [1, 2]) {
        setNumThreads(threads);
        t[kind][threads - 1].push(time(() => native.unarySync(x, y, { kind }), 10) * 1000);
      }
    }
  }
  const m = (k, i) => median(t[k][i]);
  console.log(
    `${String(total).padStart(8)}${m('relu', 0).toFixed(1).padStart(13)}${(m('relu', 1) / m('relu', 0)).toFixed(2).padStart(12)}` +
      `${m('sigmoid', 0).toFixed(1).padStart(16)}${(m('sigmoid', 1) / m('sigmoid', 0)).toFixed(2).padStart(14)}`,
  );
}
