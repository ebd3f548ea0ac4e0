#!/usr/bin/env node
// Loads the linux-x64 musl prebuild with a real musl dynamic loader: Debian's `musl` package is
// musl 1.2.3, the version Alpine 3.17 ships, so this is the floor the README promises. No musl
// Node runs here, so a small C host (built with musl-tools' musl-gcc) stands in for one: it
// defines every N-API function (stubs from node-api-headers' def file, exported to the addon
// with --export-dynamic, as node exports the real ones) and dlopen()s the addon with RTLD_NOW,
// so every libc / C++ runtime symbol the addon needs must resolve in musl 1.2.3 or the load
// fails; then it looks up napi_register_module_v1. The addon's code is not run here (the kernel
// test over the same objects runs in check-prebuild-kernels.mjs).
//
// Usage: node scripts/check-musl-addon.mjs <convnode.musl.node for x64>
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const LOADER = '/lib/ld-musl-x86_64.so.1';
const require = createRequire(import.meta.url);

/** The N-API function names node.exe exports, from node-api-headers' def file. */
export function napiNames() {
  const def = readFileSync(join(dirname(require.resolve('node-api-headers/package.json')), 'def', 'node_api.def'), 'utf8');
  return def.split('\n').map((l) => l.trim()).filter((l) => /^(napi|node_api)_\w+$/.test(l));
}

function hostSource(names) {
  // Each stub reports napi_generic_failure (9); nothing calls them in this check.
  const stubs = names.map((n) => `int ${n}(void) { return 9; }`).join('\n');
  return `#include <dlfcn.h>
#include <stdio.h>
${stubs}
int main(int argc, char** argv) {
  if (argc != 2) return 2;
  void* addon = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!addon) { printf("musl-host: dlopen failed: %s\\n", dlerror()); return 1; }
  if (!dlsym(addon, "napi_register_module_v1")) { printf("musl-host: no napi_register_module_v1\\n"); return 1; }
  printf("musl-host: loaded with RTLD_NOW, napi_register_module_v1 found\\n");
  return 0;
}
`;
}

function main(argv) {
  const file = argv.find((a) => !a.startsWith('--'));
  if (!file) {
    console.error('usage: node scripts/check-musl-addon.mjs <convnode.musl.node>');
    return 2;
  }
  if (!existsSync(LOADER) || spawnSync('musl-gcc', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.error(`check-musl-addon: needs musl's loader ${LOADER} and musl-gcc (apt-get install musl musl-tools)`);
    return 1;
  }
  const version = spawnSync(LOADER, [], { encoding: 'utf8' }).stderr.match(/Version ([\d.]+)/)?.[1] ?? 'unknown';
  const dir = mkdtempSync(join(tmpdir(), 'convnode-musl-host-'));
  try {
    writeFileSync(join(dir, 'host.c'), hostSource(napiNames()));
    execFileSync('musl-gcc', ['-O1', '-o', join(dir, 'host'), join(dir, 'host.c'), '-Wl,--export-dynamic'], { stdio: 'inherit' });
    const r = spawnSync(join(dir, 'host'), [resolve(file)], { encoding: 'utf8' });
    const out = `${r.stdout}${r.stderr}`.trim();
    if (r.status !== 0) {
      console.error(`check-musl-addon: ${file} does not load under musl ${version}: ${out || `exit ${r.status ?? r.signal}`}`);
      return 1;
    }
    console.log(`check-musl-addon: ok: ${file} under musl ${version} (${LOADER}): ${out}`);
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
