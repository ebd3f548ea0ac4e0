#!/usr/bin/env node
// `prepack`: refuses to pack a package whose users would have to compile. Every platform we
// promise a prebuild for (scripts/prebuild-targets.mjs) must have one in prebuilds/, and its
// container must be right for that platform (ELF with the glibc / musl floor, Mach-O, PE).
// `npm run prebuilds` makes them, with the full checks (ISA split, kernel tests, wine).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS, shippedPath } from './prebuild-targets.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const missing = Object.keys(TARGETS).filter((name) => !existsSync(join(root, shippedPath(name))));
// The wasm backend's module (prebuilds/wasm32-wasi), for every platform none of those serves.
const wasm = join(root, 'prebuilds', 'wasm32-wasi', 'convnode.wasm');
if (!existsSync(wasm)) missing.push('wasm32-wasi');
// Its threaded build (the default where the host allows threads).
const wasmThreads = join(root, 'prebuilds', 'wasm32-wasi', 'convnode-threads.wasm');
if (!existsSync(wasmThreads)) missing.push('wasm32-wasi (convnode-threads.wasm)');
if (missing.length > 0) {
  console.error(
    `prebuild-verify: no prebuilt binary for ${missing.join(', ')}; ` +
      'run `npm run prebuilds` before packing (users without a compiler would get the slow pure-JS path)',
  );
  process.exit(1);
}
for (const [name, t] of Object.entries(TARGETS)) {
  const file = join(root, shippedPath(name));
  const [script, args] =
    t.platform === 'linux'
      ? ['check-elf-addon.mjs', ['--arch', t.arch, ...(t.libc === 'glibc' ? ['--glibc-floor', t.glibcFloor, '--no-libstdcxx'] : ['--musl'])]]
      : t.platform === 'darwin'
        ? ['check-macho-addon.mjs', ['--arch', t.arch, '--min-macos', t.macosFloor]]
        : ['check-pe-addon.mjs', []];
  execFileSync(process.execPath, [join(root, 'scripts', script), ...args, file], { stdio: 'inherit' });
}
for (const file of [wasm, wasmThreads]) {
  execFileSync(process.execPath, [join(root, 'scripts', 'check-wasm-module.mjs'), file], { stdio: 'inherit' });
}
