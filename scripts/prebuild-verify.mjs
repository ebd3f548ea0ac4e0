#!/usr/bin/env node
// `prepack`: refuses to pack a package whose users would have to compile. Every platform we
// promise a prebuild for must have one in prebuilds/, and it must be a loadable-looking addon
// for that machine (scripts/check-elf-addon.mjs). `npm run prebuilds` makes them.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PROMISED = ['x64', 'arm64'];

const missing = PROMISED.filter((arch) => !existsSync(join(root, 'prebuilds', `linux-${arch}`, 'convnode.glibc.node')));
if (missing.length > 0) {
  console.error(
    `prebuild-verify: no prebuilt binary for ${missing.map((a) => `linux-${a}`).join(', ')}; ` +
      'run `npm run prebuilds` before packing (users without a compiler would get the slow pure-JS path)',
  );
  process.exit(1);
}
for (const arch of PROMISED) {
  execFileSync(process.execPath, [join(root, 'scripts', 'check-elf-addon.mjs'), '--arch', arch, join(root, 'prebuilds', `linux-${arch}`, 'convnode.glibc.node')], {
    stdio: 'inherit',
  });
}
