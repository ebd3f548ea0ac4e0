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
