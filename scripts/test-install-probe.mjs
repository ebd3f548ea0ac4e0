#!/usr/bin/env node
// Runs inside the temporary project of scripts/test-install.sh, against the installed tarball.
// Asserts which backend convnode picked, which binary it loaded, that a conv gives the lecture's
// Sobel numbers, and how many fallback warnings were emitted. Prints one JSON line on success;
// exits 1 with the reason otherwise.
//
// Usage: node probe.mjs native <expected .node path fragment> [expected ISA] | node probe.mjs wasm | node probe.mjs js
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';

const [expectBackend, expectBinary, expectIsa] = process.argv.slice(2);
if (expectBackend !== 'native' && expectBackend !== 'wasm' && expectBackend !== 'js') {
  console.error('usage: node probe.mjs native <binary path fragment> | wasm | js');
  process.exit(2);
}

const warnings = [];
process.on('warning', (w) => warnings.push(w));

function fail(reason) {
  console.error(`probe: ${reason}`);
  process.exit(1);
}

/** The .node files this process has mapped: proof of which binary node-gyp-build chose. */
function loadedAddons() {
  const lines = readFileSync('/proc/self/maps', 'utf8').split('\n');
  return [...new Set(lines.map((l) => l.split(/\s+/)[5]).filter((p) => p && p.endsWith('.node')))];
}

const convnode = await import('convnode');
const { Conv2d, Tensor, getBackend } = convnode;

const backend = getBackend();
if (backend !== expectBackend) fail(`getBackend() is '${backend}', expected '${expectBackend}'`);

// The lecture's example: a bright/dark 5x5 image and the Sobel vertical edge filter.
const image = Tensor.from([[Array.from({ length: 5 }, () => [255, 255, 0, 0, 0])]]);
const conv = new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, bias: false });
conv.weight = Tensor.from([[[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]]]);
const expected = JSON.stringify([[[[-1020, -1020, 0], [-1020, -1020, 0], [-1020, -1020, 0]]]]);
for (const [how, out] of [
  ['forward', await conv.forward(image)],
  ['forwardSync', conv.forwardSync(image)],
  ['forward again', await conv.forward(image)],
]) {
  const got = JSON.stringify(out.toArray());
  if (got !== expected) fail(`Sobel conv (${how}) gave ${got}, expected ${expected}`);
}

// process.emitWarning delivers on a later tick.
await new Promise((resolve) => setTimeout(resolve, 20));
const fallbackWarnings = warnings.filter((w) => w.code === 'CONVNODE_NATIVE_FALLBACK');
let isa = null;
let threads = null;
const addons = loadedAddons().filter((p) => p.includes('/node_modules/convnode/'));

if (expectBackend === 'native') {
  if (fallbackWarnings.length !== 0) fail(`native backend, yet ${fallbackWarnings.length} fallback warning(s): ${fallbackWarnings[0].message}`);
  if (addons.length !== 1) fail(`expected exactly one convnode .node mapped, found ${JSON.stringify(addons)}`);
  if (!addons[0].includes(expectBinary)) fail(`loaded ${addons[0]}, expected a path containing ${expectBinary}`);
  // The same module object the backend holds (require caches by path): which kernels it dispatched to.
  isa = createRequire(import.meta.url)(addons[0]).getIsa();
  if (expectIsa && isa !== expectIsa) fail(`the addon runs its '${isa}' kernels, expected '${expectIsa}'`);
} else if (expectBackend === 'wasm') {
  if (fallbackWarnings.length !== 1) fail(`expected exactly one CONVNODE_NATIVE_FALLBACK warning, got ${fallbackWarnings.length}`);
  const message = fallbackWarnings[0].message;
  if (!/using the wasm backend/.test(message)) fail(`the fallback warning does not name the wasm backend: ${message}`);
  if (!/npm rebuild convnode/.test(message)) fail(`the fallback warning does not say how to get the native path: ${message}`);
  if (addons.length !== 0) fail(`wasm fallback, yet a convnode addon is mapped: ${JSON.stringify(addons)}`);
  // By default the threaded build (prebuilds/wasm32-wasi/convnode-threads.wasm) on one thread per
  // core, up to 16 (issue 17); CONVNODE_WASM_THREADS=N asks for N (1: the one-thread build,
  // prebuilds/wasm32-wasi/convnode.wasm). The warning names the count, and getNumThreads() gives it.
  const asked = process.env.CONVNODE_WASM_THREADS;
  const expected = asked ? Number(asked) : Math.min(availableParallelism(), 16);
  threads = convnode.getNumThreads();
  if (threads !== expected) fail(`the wasm backend runs on ${threads} thread(s), expected ${expected}`);
  const named = expected > 1 ? `on ${expected} threads` : 'on 1 thread';
  if (!message.includes(named)) fail(`the fallback warning does not say '${named}': ${message}`);
} else {
  if (fallbackWarnings.length !== 1) fail(`expected exactly one CONVNODE_NATIVE_FALLBACK warning, got ${fallbackWarnings.length}`);
  const message = fallbackWarnings[0].message;
  if (!/npm rebuild convnode/.test(message)) fail(`the fallback warning does not say how to get the native path: ${message}`);
  if (addons.length !== 0) fail(`js fallback, yet a convnode addon is mapped: ${JSON.stringify(addons)}`);
}

console.log(JSON.stringify({ backend, binary: addons[0] ?? null, isa, threads, sobel: 'ok', fallbackWarnings: fallbackWarnings.map((w) => w.message) }));
