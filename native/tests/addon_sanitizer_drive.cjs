// Drives the addon built with -fsanitize=address,undefined (scripts/test-native-kernels.sh,
// stage "addon-sanitizers") through every op, ISA, thread count, the async path and the error
// paths, so AddressSanitizer / UBSan see the N-API layer and not just the plain-C++ kernels.
// Correctness is the vitest suites' job; this only has to run clean. Usage:
//   LD_PRELOAD=<libasan.so>:<libubsan.so> node native/tests/addon_sanitizer_drive.cjs <addon.node>
const addon = require(require('node:path').resolve(process.argv[2]));
const rnd = (n) => new Float32Array(n).map(() => Math.random() * 2 - 1);
function geom(batch, cin, cout, groups, h, w, k, s, d, p) {
  const out = (i, pb, pa) => Math.floor((i + pb + pa - (d * (k - 1) + 1)) / s) + 1;
  return { batch, inChannels: cin, outChannels: cout, groups, inH: h, inW: w, kernelH: k, kernelW: k, strideH: s, strideW: s, dilationH: d, dilationW: d,
    pads: { top: p[0], left: p[1], bottom: p[2], right: p[3] }, outH: out(h, p[0], p[2]), outW: out(w, p[1], p[3]) };
}
const cases = [
  [2, 3, 5, 1, 9, 11, 3, 1, 1, [1, 1, 1, 1]], [1, 300, 13, 1, 7, 9, 1, 1, 1, [0, 0, 0, 0]], [1, 40, 70, 1, 20, 20, 3, 1, 1, [1, 1, 1, 1]],
  [1, 3, 16, 1, 33, 31, 7, 2, 1, [3, 3, 3, 3]], [1, 12, 12, 12, 37, 41, 3, 1, 1, [1, 1, 1, 1]], [2, 12, 24, 12, 37, 41, 3, 2, 1, [0, 1, 1, 0]],
  [1, 6, 10, 2, 15, 17, 3, 2, 2, [2, 0, 1, 2]], [1, 32, 24, 4, 9, 13, 3, 1, 2, [2, 1, 2, 1]], [1, 4, 4, 4, 5, 5, 5, 1, 2, [4, 4, 4, 4]], [1, 1, 6, 1, 28, 28, 5, 1, 1, [0, 0, 0, 0]],
];
(async () => {
  for (const isa of ['scalar', 'avx2']) {
    addon.setIsa(isa);
    for (const threads of [1, 2]) {
      addon.setNumThreads(threads);
      for (const [batch, cin, cout, groups, h, w, k, s, d, p] of cases) {
        const g = geom(batch, cin, cout, groups, h, w, k, s, d, p);
        // Each conv is planned for its window; 3x3 stride-1 ungrouped ones also run both Winograd tiles,
        // grouped stride-1 ones the direct grouped kernel.
        const winograd = k === 3 && s === 1 && d === 1 && groups === 1;
        const grouped = groups > 1 && groups !== cin && s === 1;
        const plans = winograd ? [undefined, 'winograd-f2x2-3x3', 'winograd-f4x4-3x3'] : grouped ? [undefined, 'grouped-direct'] : [undefined];
        for (const [i, act] of ['none', 'relu', 'sigmoid', 'hardSwish'].entries()) {
          const algorithm = plans[i % plans.length];
          const conv = new addon.Conv2d(rnd(cout * cin / groups * k * k), rnd(cout), { inChannels: cin, outChannels: cout, groups, kernelH: k, kernelW: k,
            strideH: s, strideW: s, dilationH: d, dilationW: d, ...(algorithm ? { algorithm } : {}), activation: act, alpha: 0.1 });
          const outLen = batch * cout * g.outH * g.outW;
          conv.runSync(rnd(batch * cin * h * w), g, new Float32Array(outLen), rnd(outLen));
          await conv.run(rnd(batch * cin * h * w), g, new Float32Array(outLen));
        }
      }
      for (const [h, w, k, s, d, p, ceil] of [[112, 112, 3, 2, 1, 1, false], [57, 45, 3, 2, 1, 1, true], [13, 17, 2, 2, 1, 0, true], [10, 11, 3, 1, 2, 1, false]]) {
        for (const kind of ['max', 'avg']) {
          const o = (i) => { const span = i + 2 * p - (d * (k - 1) + 1); let r = ceil ? Math.ceil(span / s) + 1 : Math.floor(span / s) + 1; if (ceil && (r - 1) * s >= i + p) r--; return r; };
          const g = { batch: 2, channels: 3, kind, countIncludePad: true, inH: h, inW: w, kernelH: k, kernelW: k, strideH: s, strideW: s, dilationH: d, dilationW: d, pads: { top: p, left: p, bottom: p, right: p }, outH: o(h), outW: o(w) };
          addon.pool2dSync(rnd(6 * h * w), g, new Float32Array(6 * g.outH * g.outW));
          await addon.pool2d(rnd(6 * h * w), g, new Float32Array(6 * g.outH * g.outW));
        }
      }
      addon.globalPool2dSync(rnd(60), 'avg', 6, 10, new Float32Array(6));
      const lin = new addon.Linear(rnd(300 * 37), rnd(37), { inFeatures: 300, outFeatures: 37, activation: 'relu' });
      lin.runSync(rnd(5 * 300), 5, new Float32Array(5 * 37));
      await lin.run(rnd(5 * 300), 5, new Float32Array(5 * 37));
    }
  }
  // Strided copies (a transpose, a gather table, a negative-step slice), a batch of queued calls
  // and a recording replayed twice: the run-loop paths of a model (native/napi/async_job.h).
  for (const threads of [1, 2]) {
    addon.setNumThreads(threads);
    const src = rnd(2 * 3 * 4 * 5);
    const transpose = { base: 0, dstBase: 0, axes: [{ extent: 5, stride: 1, dstStride: 24 }, { extent: 2, stride: 60, dstStride: 12 }, { extent: 3, stride: 20, dstStride: 4 }, { extent: 4, stride: 5, dstStride: 1 }], tables: [] };
    addon.stridedCopySync(src, new Float32Array(120), transpose);
    await addon.stridedCopy(src, new Float32Array(120), transpose);
    const gather = { base: 0, dstBase: 0, axes: [{ extent: 3, stride: 0, dstStride: 20 }, { extent: 20, stride: 1, dstStride: 1 }], tables: [Int32Array.of(100, 0, 40), undefined] };
    addon.stridedCopySync(src, new Float32Array(60), gather);
    addon.stridedCopySync(src, new Float32Array(60), { base: 119, dstBase: 0, axes: [{ extent: 60, stride: -2, dstStride: 1 }], tables: [] });
    const big = rnd(1 << 18);
    await addon.stridedCopy(big, new Float32Array(1 << 18), { base: 0, dstBase: 0, axes: [{ extent: 512, stride: 512, dstStride: 1 }, { extent: 512, stride: 1, dstStride: 512 }], tables: [] });
    const lin = new addon.Linear(rnd(64 * 64), rnd(64), { inFeatures: 64, outFeatures: 64, activation: 'relu' });
    const a = rnd(64), b = new Float32Array(64);
    const queued = [];
    addon.beginBatch();
    for (let i = 0; i < 20; i++) queued.push(i % 2 ? lin.run(b, 1, a) : lin.run(a, 1, b));
    addon.endBatch();
    await Promise.all(queued);
    addon.beginRecord();
    const recorded = [lin.run(a, 1, b), addon.stridedCopy(b, a, { base: 0, dstBase: 0, axes: [{ extent: 64, stride: 1, dstStride: 1 }], tables: [] })];
    const recording = addon.endRecord();
    await Promise.all(recorded);
    await addon.replay(recording);
    addon.beginBatch();
    const replays = [addon.replay(recording), addon.replay(recording)];
    addon.endBatch();
    await Promise.all(replays);
  }
  let copyErrors = 0;
  for (const bad of [() => addon.stridedCopySync(rnd(10), new Float32Array(10), { base: 0, dstBase: 0, axes: [{ extent: 11, stride: 1, dstStride: 1 }], tables: [] }),
    () => addon.stridedCopySync(rnd(10), new Float32Array(10), { base: 0, dstBase: 0, axes: [{ extent: 2, stride: 0, dstStride: 1 }], tables: [Int32Array.of(0, -1)] }),
    () => addon.replay({}), () => addon.endRecord()]) {
    try { bad(); } catch { copyErrors++; }
  }
  if (copyErrors !== 4) throw new Error(`expected 4 copy / recording errors, got ${copyErrors}`);

  // packLater and release: packing on the pool, a release while a run is in flight and while
  // a packing job runs, a packing error, and calls after release (each must throw).
  {
    const options = { inChannels: 64, outChannels: 64, groups: 1, kernelH: 3, kernelW: 3, packLater: true };
    const g2 = geom(1, 64, 64, 1, 20, 20, 3, 1, 1, [1, 1, 1, 1]);
    const heldBefore = addon.heldWeightBytes(); // the convs above are alive until collected
    const late = new addon.Conv2d(rnd(64 * 64 * 9), rnd(64), options);
    let refused = 0;
    const count = (f) => { try { f(); } catch { refused++; } };
    count(() => late.runSync(rnd(64 * 400), g2, new Float32Array(64 * 400))); // not packed yet
    await late.pack();
    late.finishPack();
    const inFlight = late.run(rnd(64 * 400), g2, new Float32Array(64 * 400));
    late.release(); // the run keeps its own reference to the packed weights
    await inFlight;
    count(() => late.runSync(rnd(64 * 400), g2, new Float32Array(64 * 400)));
    count(() => late.describe());
    count(() => late.finishPack());
    late.release();
    const dropped = new addon.Conv2d(rnd(64 * 64 * 9), null, options);
    const packing = dropped.pack();
    dropped.release(); // while the job may still be packing: its result is dropped on its thread
    await packing;
    count(() => dropped.finishPack());
    const broken = new addon.Conv2d(rnd(5), null, options);
    await broken.pack();
    count(() => broken.finishPack()); // the op's RangeError, thrown on the JS thread
    const lin = new addon.Linear(rnd(300 * 37), null, { inFeatures: 300, outFeatures: 37, activation: 'none', packLater: true });
    await lin.pack();
    lin.finishPack();
    const linRun = lin.run(rnd(2 * 300), 2, new Float32Array(2 * 37));
    lin.release();
    await linRun;
    count(() => lin.runSync(rnd(300), 1, new Float32Array(37)));
    if (refused !== 7) throw new Error(`expected 7 refusals around packLater / release, got ${refused}`);
    if (addon.heldWeightBytes() !== heldBefore) throw new Error(`${addon.heldWeightBytes() - heldBefore} packed bytes held after every release`);
  }

  // error paths
  const conv = new addon.Conv2d(rnd(4 * 3 * 9), null, { inChannels: 3, outChannels: 4, groups: 1, kernelH: 3, kernelW: 3 });
  const g = geom(2, 3, 4, 1, 6, 5, 3, 1, 1, [1, 1, 1, 1]);
  let errors = 0;
  for (const bad of [() => conv.runSync(new Float64Array(180), g, new Float32Array(240)), () => conv.runSync(new Float32Array(179), g, new Float32Array(240)),
    () => conv.runSync(new Float32Array(180), { ...g, outH: 9 }, new Float32Array(240)), () => conv.runSync(new Float32Array(180), null, new Float32Array(240)),
    () => new addon.Conv2d(rnd(5), null, { inChannels: 3, outChannels: 4, groups: 1, kernelH: 3, kernelW: 3 }),
    () => conv.runSync(new Float32Array(180), { ...g, strideH: 2, outH: 3 }, new Float32Array(120)), // not the planned stride
    () => new addon.Conv2d(rnd(36), null, { inChannels: 3, outChannels: 4, groups: 1, kernelH: 3, kernelW: 3, strideH: 2, algorithm: 'winograd-f4x4-3x3' })]) {
    try { bad(); } catch { errors++; }
  }
  try { await conv.run(new Float32Array(3), g, new Float32Array(240)); } catch { errors++; }
  if (errors !== 8) throw new Error(`expected 8 argument errors, got ${errors}`);
  console.log('addon_sanitizer_drive: PASS');
})();
