// What the A/B kernel benches (bench/maxpool.mjs, bench/pointwise.mjs, ...) share: the addon
// builds they compare in one process, and the interleaved rounds that time them. Their flags are
// read by bench/harness.mjs's parseFlags.
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * This checkout's addon, then one per path (the `--addon` flags): each is loaded with
 * process.dlopen (every binary has its own thread pool), so an A/B comparison shares the
 * machine's load.
 */
export function loadAddons(paths) {
  const addons = [{ name: 'this checkout', addon: createRequire(import.meta.url)('node-gyp-build')(root) }];
  paths.forEach((given) => {
    const path = resolve(given);
    const module = { exports: {} };
    process.dlopen(module, path);
    addons.push({ name: path, addon: module.exports });
  });
  return addons;
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * One sample of `run` for a case `c`: on the first call for it (`c[key]` 0) one timed run fixes
 * how many runs make a sample of ~targetMs (at least 3; a run counted as at least `floorMs`, so a
 * run below the timer's grain does not ask for millions), then that many are timed. Returns wall
 * ms and process CPU ms (all threads) per run.
 */
export function calibratedSample(run, c, targetMs, { key = 'runs', floorMs = 0.01 } = {}) {
  if (!c[key]) {
    const t = performance.now();
    run();
    c[key] = Math.max(3, Math.round(targetMs / Math.max(floorMs, performance.now() - t)));
  }
  const used = process.cpuUsage();
  const t = performance.now();
  for (let r = 0; r < c[key]; r++) run();
  const wallMs = (performance.now() - t) / c[key];
  const spent = process.cpuUsage(used);
  return { wallMs, cpuMs: (spent.user + spent.system) / 1000 / c[key] };
}

/** Calls measure(case, addonIndex) for every case and addon, `rounds` times; odd rounds reverse the addons' order. */
export function interleavedRounds(rounds, cases, addonCount, measure) {
  for (let round = 0; round < rounds; round++) {
    for (const c of cases) {
      const order = Array.from({ length: addonCount }, (_, i) => i);
      if (round % 2) order.reverse();
      for (const a of order) measure(c, a);
    }
  }
}
